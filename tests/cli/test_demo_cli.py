"""`pebs demo seed` and `pebs export` on a SQLite file (what `make run` does first)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from pebs.cli import main
from pebs.store.crypto import IdentityCipher


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "demo.db"
    monkeypatch.setenv("PEBS_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("PEBS_ENVIRONMENT", "development")
    return path


@pytest.mark.slow
def test_demo_seed_then_if_empty_keeps_the_data(database: Path, tmp_path: Path, capsys) -> None:
    assert main(["db", "upgrade"]) == 0
    assert main(["demo", "seed", "-n", "40", "--today", "2025-03-03"]) == 0
    out = capsys.readouterr().out
    assert "40 demo participants entered in mypebs-demo" in out
    # Again: refused (the study has participants) unless --if-empty, which changes nothing.
    assert main(["demo", "seed", "-n", "40"]) == 65
    assert "already has 40 participants" in capsys.readouterr().err
    assert main(["demo", "seed", "-n", "40", "--if-empty"]) == 0
    assert "already has 40 participants; kept" in capsys.readouterr().out
    # The export sees the same 40 women, pseudonymised (no identity columns).
    target = tmp_path / "participants.csv"
    assert main(["export", "participants", "-o", str(target), "--user", "demo-data-manager"]) == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert len(rows) == 40
    assert "name" not in rows[0]
    assert len({row["study_id"] for row in rows}) == 40


def test_demo_seed_is_refused_in_production(database: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PEBS_ENVIRONMENT", "production")
    monkeypatch.setenv("PEBS_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("PEBS_IDENTITY_KEY", IdentityCipher.generate_key())
    monkeypatch.setenv("PEBS_HMAC_KEY", "h" * 40)
    assert main(["demo", "seed"]) == 77
    assert "never entered in production" in capsys.readouterr().err


def test_the_dictionary_is_written_in_the_format_asked(tmp_path: Path, capsys) -> None:
    target = tmp_path / "dictionary.csv"
    assert main(["export", "dictionary", "-o", str(target), "--format", "csv", "--identity"]) == 0
    lines = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert lines[0]["column"] == "study_id"
    assert (lines[0]["type"], lines[0]["identifying"]) == ("string", "false")
    identifying = {line["column"] for line in lines if line["identifying"] == "true"}
    assert identifying == {"name", "birth_date", "contact", "national_id"}
    assert f"pebs: {len(lines)} columns described in {target}" in capsys.readouterr().out
