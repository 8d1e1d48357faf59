"""`pebs db backup`, `pebs db restore` and `pebs check` on a SQLite file.

The services below them are tested on SQLite and PostgreSQL in tests/services/operations.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from factories import born_aged
from pebs.cli import main
from pebs.cli.db import load_settings
from pebs.cli.demo import identity_keys
from pebs.services.actor import actor_for
from pebs.services.trial import NewParticipant, open_database, register_participant

IDENTITY_KEYS = "identity keys open stored data"


@pytest.fixture
def loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Path:
    path = tmp_path / "trial.db"
    monkeypatch.setenv("PEBS_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("PEBS_ENVIRONMENT", "development")
    assert main(["db", "upgrade"]) == 0
    assert main(["study", "load", "mypebs-demo", "--demo-users"]) == 0
    os.chmod(path, 0o600)
    capsys.readouterr()
    return path


def test_backup_then_restore(loaded: Path, tmp_path: Path, capsys) -> None:
    backup = tmp_path / "backup.db"
    assert main(["db", "backup", str(backup)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("pebs: backed up sqlite:///")
    assert "backup.db" in out[0]
    assert "  audit chain in the backup: ok, 44 events" in out
    head = next(line.strip() for line in out if "pebs-audit-head id=44 " in line)
    digest = hashlib.sha256(backup.read_bytes()).hexdigest()
    assert f"  sha256: {digest}" in out
    assert out[-1] == "  audit event 45: backup"

    assert main(["db", "backup", str(backup)]) == 74  # never overwrites
    assert "never overwrites" in capsys.readouterr().err

    assert main(["db", "restore", str(backup)]) == 65  # the database is not empty
    err = capsys.readouterr().err
    assert "is not empty" in err
    assert "--force" in err
    assert len(err.splitlines()) == 1

    assert main(["db", "restore", str(backup), "--force"]) == 0
    out = capsys.readouterr().out
    assert "sha256 ok" in out
    assert f"audit chain ok: 44 events; matches {head}" in out
    assert "audit event 45: restore" in out  # the backup's own event is not in the backup
    assert main(["audit", "verify", "--head", head]) == 0


def test_a_tampered_backup_is_refused(loaded: Path, tmp_path: Path, capsys) -> None:
    backup = tmp_path / "backup.db"
    assert main(["db", "backup", str(backup)]) == 0
    backup.write_bytes(backup.read_bytes()[:-1] + b"\x01")
    capsys.readouterr()
    assert main(["db", "restore", str(backup), "--force"]) == 65
    err = capsys.readouterr().err
    assert err.startswith("pebs: error: ")
    assert "altered or damaged; refused" in err


def test_check_passes_then_names_the_broken_chain(loaded: Path, capsys) -> None:
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "PASS  audit chain intact" in out
    assert out.rstrip().splitlines()[-1].startswith("pebs: qualified: all ")
    assert main(["check", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert report["failed"] == []

    with closing(sqlite3.connect(loaded)) as connection, connection:
        connection.execute("DROP TRIGGER audit_events_no_update")
        connection.execute("UPDATE audit_events SET reason = 'edited' WHERE id = 2")
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  audit chain intact" in out
    assert "BROKEN at event 2" in out
    assert "NOT qualified: 1 of" in out
    assert out.rstrip().endswith(": audit chain intact")
    assert main(["check", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["failed"] == ["audit chain intact"]


def test_check_reports_refused_settings_as_a_failed_check(loaded: Path, monkeypatch, capsys):
    monkeypatch.setenv("PEBS_ENVIRONMENT", "production")
    monkeypatch.setenv("PEBS_SECRET_KEY", "s" * 40)
    assert main(["check", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["failed"] == ["settings", "database reachable"]
    settings = next(c for c in report["checks"] if c["name"] == "settings")
    assert "PEBS_IDENTITY_KEY is required in production" in settings["detail"]
    assert "s" * 40 not in json.dumps(report)


def _register_one_woman() -> None:
    """One woman, registered with the keys of the current settings."""
    settings = load_settings()
    database = open_database(settings.database_url)
    try:
        manager = actor_for(database.sessions, "demo-data-manager")
        new = NewParticipant(site="IT-TO", name="Anna Example", birth_date=born_aged(55),
                             national_id="RSSNNA70A55L219X")  # fmt: skip
        register_participant(database.sessions, manager, identity_keys(settings), "mypebs-demo",
                             new)  # fmt: skip
    finally:
        database.close()


def test_check_fails_when_the_identity_key_does_not_open_the_identities(
    loaded: Path, monkeypatch, capsys
) -> None:
    assert main(["check", "--json"]) == 0
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert checks[IDENTITY_KEYS]["status"] == "pass"
    assert checks[IDENTITY_KEYS]["detail"] == "no identities stored yet"
    _register_one_woman()
    assert main(["check"]) == 0
    assert re.search(rf"^  PASS  {IDENTITY_KEYS} +the identity key opens the 1 identity tried",
                     capsys.readouterr().out, re.M)  # fmt: skip

    other_key = Fernet.generate_key().decode()
    monkeypatch.setenv("PEBS_IDENTITY_KEY", other_key)
    assert main(["check"]) == 1
    captured = capsys.readouterr()
    assert captured.err == ""
    assert re.search(rf"^  FAIL  {IDENTITY_KEYS} +the identity key does not open the stored "
                     r"identities: 1 of 1 tried \(PEBS_IDENTITY_KEY [^\n]*$", captured.out,
                     re.M)  # fmt: skip
    assert captured.out.rstrip().endswith(f"required checks did not pass: {IDENTITY_KEYS}")
    assert other_key not in captured.out
    assert main(["check", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["failed"] == [IDENTITY_KEYS]
