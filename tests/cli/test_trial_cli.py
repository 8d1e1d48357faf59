"""`pebs db upgrade`, `pebs study load` and `pebs audit verify` on a SQLite file.

The services below them are tested on SQLite and PostgreSQL in tests/services/trial.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pebs.cli import main


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "trial.db"
    monkeypatch.setenv("PEBS_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("PEBS_ENVIRONMENT", "development")
    return path


@pytest.fixture
def loaded(database: Path, capsys) -> Path:
    assert main(["db", "upgrade"]) == 0
    assert main(["study", "load", "mypebs-demo", "--demo-users"]) == 0
    capsys.readouterr()
    return database


def test_db_upgrade_migrates_once(database: Path, capsys) -> None:
    assert main(["db", "upgrade"]) == 0
    first = capsys.readouterr().out
    assert "upgraded from empty to" in first
    assert "trial.db" in first
    assert main(["db", "upgrade"]) == 0
    assert "is already at revision" in capsys.readouterr().out


def test_study_load_creates_then_changes_nothing(database: Path, capsys) -> None:
    assert main(["db", "upgrade"]) == 0
    assert main(["study", "load", "mypebs-demo", "--demo-users"]) == 0
    out = capsys.readouterr().out
    assert "study mypebs-demo loaded" in out
    assert "16 site(s)" in out
    assert "8 user(s)" in out
    assert "6 country(s)" in out
    assert "demo-statistician" in out
    assert main(["study", "load", "mypebs-demo"]) == 0
    assert "already loaded; nothing changed" in capsys.readouterr().out
    with sqlite3.connect(database) as connection:
        actors = {row[0] for row in connection.execute("SELECT DISTINCT actor FROM audit_events")}
    assert len(actors) == 1
    assert actors.pop().startswith("cli:")


def test_study_load_needs_a_migrated_database(database: Path, capsys) -> None:
    assert main(["study", "load", "mypebs-demo"]) == 69
    assert "run 'pebs db upgrade'" in capsys.readouterr().err


def test_a_bad_study_file_is_a_data_error(database: Path, tmp_path: Path, capsys) -> None:
    assert main(["db", "upgrade"]) == 0
    bad = tmp_path / "broken.toml"
    bad.write_text('name = "broken"\ntitle = "x"\n', encoding="utf-8")
    assert main(["study", "load", str(bad)]) == 65
    err = capsys.readouterr().err
    assert err.startswith("pebs: error: ")
    assert "broken.toml" in err
    assert len(err.splitlines()) == 1


def test_an_unsupported_database_url_is_reported(monkeypatch, capsys) -> None:
    monkeypatch.setenv("PEBS_DATABASE_URL", "mysql://u@h/db")
    assert main(["db", "upgrade"]) == 65
    assert "unsupported database 'mysql'" in capsys.readouterr().err


def test_audit_verify_prints_the_length_and_head(loaded: Path, capsys) -> None:
    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "pebs: audit chain ok: 44 events"
    assert out[1].startswith("pebs-audit-head id=44 hash=")
    assert main(["audit", "verify", "--head", out[1]]) == 0
    digest = out[1].split("hash=")[1][:64]
    forged = f"pebs-audit-head id=44 hash={'0' * 64 if digest != '0' * 64 else '1' * 64}"
    assert main(["audit", "verify", "--head", forged]) == 1
    assert "BROKEN at event 44" in capsys.readouterr().out


def test_audit_verify_reports_the_first_broken_event(loaded: Path, capsys) -> None:
    with sqlite3.connect(loaded) as connection:
        connection.execute("DROP TRIGGER audit_events_no_update")
        connection.execute("UPDATE audit_events SET actor = 'mallory' WHERE id = 7")
    assert main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert "audit chain BROKEN at event 7: content does not match its hash" in out
    assert "(44 events stored)" in out


def test_a_bad_head_line_is_a_data_error(loaded: Path, capsys) -> None:
    assert main(["audit", "verify", "--head", "nonsense"]) == 65
    assert "is not 'pebs-audit-head" in capsys.readouterr().err


def test_unsafe_settings_are_a_configuration_error(database: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PEBS_ENVIRONMENT", "production")
    monkeypatch.setenv("PEBS_SECRET_KEY", "too-short-but-secret")
    assert main(["db", "upgrade"]) == 78
    err = capsys.readouterr().err
    assert err.startswith("pebs: error: PEBS_SECRET_KEY is a placeholder or shorter")
    assert len(err.splitlines()) == 1
    assert "too-short-but-secret" not in err
    assert not database.exists()
    monkeypatch.setenv("PEBS_ENVIRONMENT", "staging")
    assert main(["audit", "verify"]) == 78
    assert "PEBS_ENVIRONMENT: Input should be" in capsys.readouterr().err
