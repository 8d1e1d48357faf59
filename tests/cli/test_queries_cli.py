"""``pebs queries ...`` and ``pebs report missing-forms`` on a SQLite file with the demo study and
two women of IT-TO. The use cases themselves are tested on SQLite and PostgreSQL in
tests/services/queries and tests/services/trial/test_missing_forms.py."""

from __future__ import annotations

import csv
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from factories import ELIGIBLE
from pebs.cli import main

STAFF = "demo-site-staff"  # site staff at IT-TO
MANAGER = "demo-data-manager"
MONITOR = "demo-monitor"


def _women(n: int) -> list[str]:
    """Women of IT-TO in the standard arm, randomised three days ago (through the services)."""
    from pebs.cli.db import load_settings
    from pebs.cli.demo import identity_keys
    from pebs.services.actor import actor_for
    from pebs.services.trial import (
        NewParticipant,
        assess_eligibility,
        open_database,
        override_allocation,
        record_consent,
        register_participant,
    )

    settings = load_settings()
    keys = identity_keys(settings)
    database = open_database(settings.database_url)
    at = datetime.now(UTC) - timedelta(days=3)
    women = []
    try:
        sessions = database.sessions
        manager = actor_for(sessions, MANAGER)
        for _ in range(n):
            new = NewParticipant(site="IT-TO", name="Test Woman", birth_date=date(1970, 1, 15))
            study_id = register_participant(sessions, manager, keys, "mypebs-demo", new,
                                            at=at).study_id  # fmt: skip
            assess_eligibility(sessions, manager, keys, study_id, ELIGIBLE, at=at)
            record_consent(sessions, manager, study_id, language="it", at=at)
            override_allocation(sessions, manager, keys, study_id, arm="standard",
                                reason="test set-up", confirm=True, at=at)  # fmt: skip
            women.append(study_id)
    finally:
        database.close()
    return women


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    path = tmp_path_factory.mktemp("queries") / "seeded.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PEBS_DATABASE_URL", f"sqlite:///{path}")
        patch.setenv("PEBS_ENVIRONMENT", "development")
        assert main(["db", "upgrade"]) == 0
        assert main(["study", "load", "mypebs-demo", "--demo-users"]) == 0
        women = _women(2)
    return path, women


@pytest.fixture
def women(seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> list[str]:
    path = tmp_path / "queries.db"
    shutil.copyfile(seeded[0], path)
    monkeypatch.setenv("PEBS_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("PEBS_ENVIRONMENT", "development")
    capsys.readouterr()
    return seeded[1]


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_query_from_raise_to_reopen(women, capsys) -> None:
    raising = ["queries", "raise", women[0], "-u", MANAGER, "--form", "allocation", "--item",
               "arm", "--question", "Same arm as on paper?"]  # fmt: skip
    code, out, err = _run(raising, capsys)
    assert code == 0, err
    assert out.startswith("pebs: query 1 raised\n")
    assert f"open      {women[0]}  allocation.arm  value standard  Same arm as on paper?" in out

    code, out, err = _run(["queries", "list", "-u", STAFF, "--worklist"], capsys)
    assert (code, err) == (0, "pebs: 1 of 1 queries listed\n")
    assert out.split()[:2] == ["1", "open"]

    code, out, err = _run(["queries", "answer", "1", "-u", STAFF, "--text", "Yes."], capsys)
    assert (code, out.splitlines()[0]) == (0, "pebs: query 1 is answered"), err
    code, out, err = _run(["queries", "close", "1", "-u", MONITOR], capsys)
    assert (code, out) == (0, "pebs: query 1 closed\n"), err
    code, out, err = _run(["queries", "reopen", "1", "-u", MANAGER, "--text", "Recheck."], capsys)
    assert (code, out) == (0, "pebs: query 1 is open again\n"), err

    code, out, err = _run(["queries", "show", "1", "-u", STAFF], capsys)
    assert code == 0, err
    steps = [line.split()[2] for line in out.splitlines()[2:]]
    assert steps == ["raise", "answer", "close", "reopen"]


def test_refusals_are_one_line(women, capsys) -> None:
    code, _, err = _run(["queries", "raise", women[0], "-u", STAFF, "--form", "allocation",
                         "--item", "arm", "--question", "?"], capsys)  # fmt: skip
    assert code != 0
    assert err.startswith("pebs: error: demo-site-staff (site_staff) may not raise a data query")
    assert len(err.splitlines()) == 1
    code, _, err = _run(["queries", "raise", women[0], "-u", MANAGER, "--form", "visit",
                         "--item", "birads", "--question", "?"], capsys)  # fmt: skip
    assert code != 0
    assert err == (
        "pebs: error: key: the visit form repeats: give the key of the instance "
        "(its row id, 1 or more)\n"
    )
    code, _, err = _run(["queries", "show", "99", "-u", STAFF], capsys)
    assert (code != 0, err) == (True, "pebs: error: no data query 99 (in your sites)\n")


def test_check_and_missing_forms(women, tmp_path: Path, capsys) -> None:
    code, out, err = _run(["queries", "check", "-u", MANAGER], capsys)
    assert code == 0, err
    assert out.startswith("pebs: 7 edit checks over 2 participants (0 not checked: data use "
                          "withdrawn): 0 findings; 0 queries raised")  # fmt: skip

    listed = tmp_path / "missing.csv"
    code, out, err = _run(["report", "missing-forms", "-u", STAFF, "--output", str(listed)],
                          capsys)  # fmt: skip
    assert code == 0, err
    # randomised three days ago: each woman misses both instruments at month 0
    assert out.splitlines()[0].split() == ["IT-TO", "month-0", "questionnaire", "4"]
    assert out.splitlines()[-1].startswith("pebs: 4 missing forms among 2 participants")
    with listed.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted({row["study_id"] for row in rows}) == sorted(women)
    code, out, err = _run(["report", "missing-forms", "-u", STAFF, "--on", "2025-13-01"], capsys)
    assert (code != 0, err) == (True, "pebs: error: --on: '2025-13-01' is not a date YYYY-MM-DD\n")
