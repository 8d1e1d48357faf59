"""``pebs letters ...`` on a SQLite file with the demo study and women of the standard arm with
their plan (the use cases themselves are tested on SQLite and PostgreSQL in
tests/services/letters)."""

from __future__ import annotations

import hashlib
import re
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import create_engine, select

from factories import ELIGIBLE, site_today
from pebs.cli import main
from pebs.store.models import Consultation, IssuedLetter, Participant

STAFF = "demo-site-staff"  # site staff at IT-TO
MONITOR = "demo-monitor"


def _standard_women(sites: dict[str, int]) -> None:
    """Women of the standard arm with their plan, made through the services."""
    from pebs.cli.db import load_settings
    from pebs.cli.demo import identity_keys
    from pebs.services.actor import actor_for
    from pebs.services.trial import (
        NewParticipant,
        assess_eligibility,
        create_screening_plan,
        open_database,
        override_allocation,
        record_consent,
        register_participant,
    )

    settings = load_settings()
    keys = identity_keys(settings)
    database = open_database(settings.database_url)
    at = datetime.now(UTC) - timedelta(days=2)
    try:
        sessions = database.sessions
        manager = actor_for(sessions, "demo-data-manager")
        for site, n in sites.items():
            for _ in range(n):
                new = NewParticipant(site=site, name="Test Woman", birth_date=date(1970, 1, 15))
                study_id = register_participant(sessions, manager, keys, "mypebs-demo", new,
                                                at=at).study_id  # fmt: skip
                assess_eligibility(sessions, manager, keys, study_id, ELIGIBLE, at=at)
                record_consent(sessions, manager, study_id, language=site[:2].lower(), at=at)
                override_allocation(sessions, manager, keys, study_id, arm="standard",
                                    reason="test set-up", confirm=True, at=at)  # fmt: skip
                create_screening_plan(sessions, manager, keys, study_id, at=at)
    finally:
        database.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("letters") / "seeded.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PEBS_DATABASE_URL", f"sqlite:///{path}")
        patch.setenv("PEBS_ENVIRONMENT", "development")
        assert main(["db", "upgrade"]) == 0
        assert main(["study", "load", "mypebs-demo", "--demo-users"]) == 0
        _standard_women({"IT-TO": 2, "FR-PA": 1})
    return path


@pytest.fixture
def database(seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Path:
    path = tmp_path / "letters.db"
    shutil.copyfile(seeded, path)
    monkeypatch.setenv("PEBS_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("PEBS_ENVIRONMENT", "development")
    capsys.readouterr()
    return path


def _rows(path: Path, model) -> list:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return list(connection.execute(select(model)).mappings())
    finally:
        engine.dispose()


def _women(path: Path, site: str) -> list[str]:
    return sorted(r["study_id"] for r in _rows(path, Participant) if r["study_id"].startswith(site))


def test_render_issues_a_pdf_and_prints_its_sha256(database: Path, tmp_path: Path,
                                                   capsys) -> None:  # fmt: skip
    study_id = _women(database, "IT-TO")[0]
    output = tmp_path / "letter.pdf"
    assert main(["letters", "render", "--participant", study_id, "--kind", "standard_arm",
                 "-o", str(output), "-u", STAFF]) == 0  # fmt: skip
    digest = hashlib.sha256(output.read_bytes()).hexdigest()
    assert f"SHA-256 {digest}" in capsys.readouterr().out
    [row] = _rows(database, IssuedLetter)
    assert (row["pdf_sha256"], row["language"], row["issued_by"]) == (digest, "it", STAFF)
    assert study_id in PdfReader(output).pages[0].extract_text()

    preview = tmp_path / "letter.html"
    assert (
        main(
            [
                "letters",
                "render",
                "--participant",
                study_id,
                "--kind",
                "standard_arm",
                "--format",
                "html",
                "--language",
                "he",
                "-o",
                str(preview),
                "-u",
                STAFF,
            ]
        )
        == 0
    )
    assert 'dir="rtl"' in preview.read_text("utf-8")
    assert len(_rows(database, IssuedLetter)) == 1


def test_render_refusals_are_one_line_with_their_exit_code(database: Path, tmp_path: Path,
                                                           capsys) -> None:  # fmt: skip
    study_id = _women(database, "IT-TO")[0]
    output = tmp_path / "letter.pdf"
    code = main(["letters", "render", "--participant", study_id, "--kind", "risk_result",
                 "-o", str(output), "-u", STAFF])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 65
    assert "kind:" in err
    assert "risk-based arm" in err
    assert "Traceback" not in err
    paris = _women(database, "FR-PA")[0]
    assert (
        main(
            [
                "letters",
                "render",
                "--participant",
                paris,
                "--kind",
                "standard_arm",
                "-o",
                str(output),
                "-u",
                STAFF,
            ]
        )
        == 66
    )  # another site: not found
    assert main(["letters", "render", "--participant", study_id, "--kind", "standard_arm",
                 "-o", str(output), "-u", MONITOR]) == 77  # fmt: skip
    assert not output.exists()
    assert _rows(database, IssuedLetter) == []


def test_batch_writes_the_due_letters_once_and_prints_counts(database: Path, tmp_path: Path,
                                                             capsys) -> None:  # fmt: skip
    folder = tmp_path / "out"
    assert main(["letters", "batch", "--study", "mypebs-demo", "-o", str(folder),
                 "-u", "demo-data-manager"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "issued 3 letter(s)" in out
    assert "standard_arm   it        2" in out
    assert "standard_arm   fr        1" in out
    files = sorted(folder.glob("*.pdf"))
    recorded = {r["pdf_sha256"] for r in _rows(database, IssuedLetter)}
    assert len(files) == 3
    assert {hashlib.sha256(f.read_bytes()).hexdigest() for f in files} == recorded
    assert main(["letters", "batch", "--study", "mypebs-demo", "-o", str(folder),
                 "-u", "demo-data-manager"]) == 0  # fmt: skip
    assert "issued 0 letter(s)" in capsys.readouterr().out
    assert main(["letters", "batch", "--study", "mypebs-demo", "--since", "soon",
                 "-o", str(folder), "-u", STAFF]) == 65  # fmt: skip


def test_consultation_language_and_the_deep_audit(database: Path, tmp_path: Path, capsys) -> None:
    study_id = _women(database, "IT-TO")[0]
    today = site_today("IT-TO").isoformat()
    assert main(["letters", "consultation", "--participant", study_id, "--on", today,
                 "--mode", "phone", "--by", "Dr Verdi", "-u", STAFF]) == 0  # fmt: skip
    assert "recorded" in capsys.readouterr().out
    [row] = _rows(database, Consultation)
    assert (row["mode"], row["held_by"]) == ("phone", "Dr Verdi")
    assert main(["letters", "language", "--participant", study_id, "fr", "-u", STAFF]) == 65
    assert "language: 'fr' is unknown; allowed: it" in capsys.readouterr().err
    folder = tmp_path / "out"
    assert main(["letters", "batch", "--study", "mypebs-demo", "-o", str(folder), "-u", STAFF]) == 0
    capsys.readouterr()
    # every letter and the consultation have their audit event: the deep verification agrees
    assert main(["audit", "verify", "--deep"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"issued_letters\s+2\s+0\s+0", out), out
    assert re.search(r"consultations\s+1\s+0\s+0", out), out
