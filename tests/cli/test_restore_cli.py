"""`pebs db restore` on a SQLite file: signed manifests, the lock `pebs serve` holds, a file that
is not a pebs database, and the deep verification it reports.

The services below are tested on SQLite and PostgreSQL in tests/services/operations.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from pebs.cli import main
from pebs.config import Settings
from pebs.services.operations import BackupManifest, manifest_path


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


@pytest.fixture
def backup(loaded: Path, tmp_path: Path, capsys) -> Path:
    path = tmp_path / "backup.db"
    assert main(["db", "backup", str(path)]) == 0
    assert "(signed, key id " in capsys.readouterr().out
    return path


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("pebs: error: ")
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    return err


def test_restore_reports_the_deep_verification(backup: Path, capsys) -> None:
    assert main(["db", "restore", str(backup), "--force"]) == 0
    out = capsys.readouterr().out
    assert "signature ok, sha256 ok" in out
    assert "  tables: " in out
    assert "match the audit trail" in out


def test_an_unsigned_manifest_is_refused(backup: Path, capsys) -> None:
    manifest = json.loads(manifest_path(backup).read_text(encoding="utf-8"))
    manifest["signature"] = ""
    manifest_path(backup).write_text(json.dumps(manifest), encoding="utf-8")
    assert main(["db", "restore", str(backup), "--force"]) == 65
    assert "the manifest is not signed" in _one_line_error(capsys)


def test_an_edited_backup_with_a_recomputed_sha256_is_refused(backup: Path, capsys) -> None:
    """The probe's attack: edit a table in the backup, recompute the manifest's SHA-256."""
    with closing(sqlite3.connect(backup)) as connection, connection:
        connection.execute("UPDATE users SET role = 'data_manager' WHERE username = 'demo-monitor'")
    manifest = json.loads(manifest_path(backup).read_text(encoding="utf-8"))
    manifest["sha256"] = hashlib.sha256(backup.read_bytes()).hexdigest()
    manifest_path(backup).write_text(json.dumps(manifest), encoding="utf-8")
    assert main(["db", "restore", str(backup), "--force"]) == 65
    assert "signature does not match its content" in _one_line_error(capsys)

    # Someone holding the installation key signs it again: restored, and reported (exit 1).
    manifest_path(backup).unlink()
    BackupManifest(**manifest).signed(Settings().hmac_key_bytes()).write(manifest_path(backup))
    assert main(["db", "restore", str(backup), "--force"]) == 1
    out = capsys.readouterr().out
    assert "users: account demo-monitor: fields differ: role" in out
    assert "do not match their audit trail" in out
    assert main(["audit", "verify", "--deep"]) == 1


def test_a_sqlite_file_that_is_not_a_pebs_database_is_refused(
    loaded: Path, tmp_path: Path, capsys
) -> None:
    other = tmp_path / "notes.db"
    with closing(sqlite3.connect(other)) as connection, connection:
        connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    BackupManifest(
        file=other.name, backend="sqlite", pebs_version="0", schema_revision="0002",
        audit_head="pebs-audit-head id=0 hash=" + "0" * 64, audit_head_id=0,
        audit_head_hash="0" * 64, n_audit_events=0, audit_chain_ok=True,
        created_at="2025-01-01T00:00:00.000000Z",
        sha256=hashlib.sha256(other.read_bytes()).hexdigest(), size_bytes=other.stat().st_size,
        source="sqlite:///notes.db",
    ).signed(Settings().hmac_key_bytes()).write(manifest_path(other))  # fmt: skip
    assert main(["db", "restore", str(other), "--force"]) == 65
    assert "not a pebs database backup" in _one_line_error(capsys)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_restore_refuses_while_pebs_serve_runs(
    backup: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """While the server runs (here: while uvicorn.run is called), a restore is refused unless
    --while-serving; once it has stopped, the restore runs."""
    import uvicorn

    codes: list[int] = []

    def server_running(*args, **kwargs) -> None:
        codes.append(main(["db", "restore", str(backup), "--force"]))
        codes.append(main(["db", "restore", str(backup), "--force", "--while-serving"]))

    monkeypatch.setattr(uvicorn, "run", server_running)
    assert main(["serve", "--port", str(_free_port())]) == 0
    assert codes == [65, 0]
    err = capsys.readouterr().err
    assert "a pebs server is using" in err
    assert "--while-serving" in err
    assert main(["db", "restore", str(backup), "--force"]) == 0  # the server stopped
