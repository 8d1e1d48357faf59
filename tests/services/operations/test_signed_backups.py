"""Backups that cannot be tampered with: signed manifests, the serving lock, private dump files,
a SQLite file that is not a pebs database, and the deep verification after a restore."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from pebs.services.errors import BackupRejected, Conflict, SignatureRejected
from pebs.services.operations import (
    BackupManifest,
    backup_database,
    hold_serving_lock,
    manifest_path,
    restore_database,
)
from pebs.services.operations.serving_lock import exclusive_lock
from pebs.store.engine import create_engine_for, session_factory
from pebs.store.models import AuditEvent, User

OPERATOR = "cli:tester"
KEY = b"installation hmac key of the tests, 32+ bytes"
OTHER_KEY = b"another installation's hmac key, 32+ bytes"
MONITOR, ELEVATED = "demo-monitor", "data_manager"


def _n_events(database_url: str) -> int:
    engine = create_engine_for(database_url)
    try:
        with session_factory(engine, read_only=True).begin() as session:
            return session.scalar(select(func.count()).select_from(AuditEvent))
    finally:
        engine.dispose()


def _manifest(backup: Path) -> dict:
    return json.loads(manifest_path(backup).read_text(encoding="utf-8"))


def _write(backup: Path, manifest: dict) -> None:
    manifest_path(backup).write_text(json.dumps(manifest), encoding="utf-8")


def test_the_manifest_is_signed_with_a_key_derived_from_the_installation_key(
    loaded_url: str, tmp_path: Path
) -> None:
    backup = tmp_path / "b.dump"
    backup_database(loaded_url, backup, operator=OPERATOR, installation_key=KEY)
    manifest = _manifest(backup)
    assert manifest["format"] == "pebs-backup/2"
    # The documented construction, computed here from its definition.
    key = hmac.new(KEY, b"pebs backup manifest signing key v1", hashlib.sha256).digest()
    signed = {name: value for name, value in manifest.items() if name != "signature"}
    text = json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert manifest["signature"] == hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
    assert KEY.hex() not in json.dumps(manifest)
    assert key.hex() not in json.dumps(manifest)
    assert manifest_path(backup).stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    "how", ["earlier unsigned format", "signature removed", "another installation's key",
            "a field altered"],
)  # fmt: skip
def test_a_manifest_this_installation_did_not_sign_as_it_is_is_refused(
    loaded_url: str, tmp_path: Path, how: str
) -> None:
    backup = tmp_path / "b.dump"
    backup_database(loaded_url, backup, operator=OPERATOR, installation_key=KEY)
    manifest = _manifest(backup)
    key = KEY
    if how == "earlier unsigned format":
        manifest["format"] = "pebs-backup/1"
        del manifest["signature"], manifest["signature_key_id"]
        expected = "unsigned manifest"
    elif how == "signature removed":
        manifest["signature"] = ""
        expected = "the manifest is not signed"
    elif how == "another installation's key":
        key = OTHER_KEY
        expected = "signed with another key"
    else:
        manifest["audit_head_id"] -= 1  # an older head: would hide the last event
        expected = "signature does not match its content"
    _write(backup, manifest)
    before = _n_events(loaded_url)
    with pytest.raises(SignatureRejected, match=expected) as refused:
        restore_database(loaded_url, backup, operator=OPERATOR, installation_key=key, force=True)
    assert "\n" not in str(refused.value)
    assert _n_events(loaded_url) == before  # nothing touched, not even an audit event


def test_a_backup_edited_and_signed_again_is_restored_but_its_tables_are_reported(
    url: str, tmp_path: Path, backend: str, demo_loader
) -> None:
    """Only someone holding the installation key can sign again; then the deep verification
    after the restore still finds the edited row. SQLite: the backup file is edited directly;
    PostgreSQL: the edit is made before the backup, outside pebs."""
    demo_loader(url, demo_users=True)
    backup = tmp_path / "b.dump"
    if backend == "postgresql":
        engine = create_engine_for(url)
        with engine.begin() as connection:
            connection.execute(
                User.__table__.update().where(User.username == MONITOR).values(role=ELEVATED)
            )
        engine.dispose()
    backup_database(url, backup, operator=OPERATOR, installation_key=KEY)
    if backend == "sqlite":
        with closing(sqlite3.connect(backup)) as connection, connection:
            connection.execute("UPDATE users SET role = ? WHERE username = ?", (ELEVATED, MONITOR))
        manifest = _manifest(backup)
        manifest["sha256"] = hashlib.sha256(backup.read_bytes()).hexdigest()
        manifest_path(backup).unlink()
        BackupManifest(**manifest).signed(KEY).write(manifest_path(backup))
    done = restore_database(url, backup, operator=OPERATOR, installation_key=KEY, force=True)
    assert done.chain.ok
    assert done.deep is not None
    assert not done.ok
    assert [(m.table, m.row) for m in done.deep.mismatches] == [("users", f"account {MONITOR}")]
    assert "role" in done.deep.mismatches[0].problem


def test_restore_refuses_while_a_server_holds_the_lock(loaded_url: str, tmp_path: Path) -> None:
    backup = tmp_path / "b.dump"
    backup_database(loaded_url, backup, operator=OPERATOR, installation_key=KEY)
    serving = hold_serving_lock(loaded_url)
    also_serving = hold_serving_lock(loaded_url)  # shared: several servers may serve
    try:
        before = _n_events(loaded_url)
        with pytest.raises(Conflict, match=r"pebs server is using .*--while-serving"):
            restore_database(loaded_url, backup, operator=OPERATOR, installation_key=KEY,
                             force=True)  # fmt: skip
        assert _n_events(loaded_url) == before
        done = restore_database(
            loaded_url, backup, operator=OPERATOR, installation_key=KEY, force=True,
            while_serving=True,
        )  # fmt: skip
        assert done.ok
    finally:
        serving.release()
        also_serving.release()
    assert restore_database(
        loaded_url, backup, operator=OPERATOR, installation_key=KEY, force=True
    ).ok


def test_a_server_does_not_start_while_a_restore_runs(loaded_url: str) -> None:
    with exclusive_lock(loaded_url), pytest.raises(Conflict, match=r"a restore of .* is running"):
        hold_serving_lock(loaded_url)
    hold_serving_lock(loaded_url).release()  # free again


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgres_dump_files_are_private(loaded_url: str, tmp_path: Path) -> None:
    previous = os.umask(0o022)  # a usual umask: new files would be readable by others
    try:
        done = backup_database(loaded_url, tmp_path / "b.dump", operator=OPERATOR,
                               installation_key=KEY)  # fmt: skip
    finally:
        os.umask(previous)
    assert done.path.read_bytes()[:5] == b"PGDMP"
    assert done.path.stat().st_mode & 0o777 == 0o600
    assert manifest_path(done.path).stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_sqlite_file_that_is_not_a_pebs_database_is_refused(
    loaded_url: str, tmp_path: Path
) -> None:
    other = tmp_path / "notes.db"
    with closing(sqlite3.connect(other)) as connection, connection:
        connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    digest = hashlib.sha256(other.read_bytes()).hexdigest()
    BackupManifest(
        file=other.name, backend="sqlite", pebs_version="0", schema_revision="0002",
        audit_head="pebs-audit-head id=0 hash=" + "0" * 64, audit_head_id=0,
        audit_head_hash="0" * 64, n_audit_events=0, audit_chain_ok=True,
        created_at="2025-01-01T00:00:00.000000Z", sha256=digest,
        size_bytes=other.stat().st_size, source="sqlite:///notes.db",
    ).signed(KEY).write(manifest_path(other))  # fmt: skip
    before = _n_events(loaded_url)
    with pytest.raises(BackupRejected, match="not a pebs database backup") as refused:
        restore_database(loaded_url, other, operator=OPERATOR, installation_key=KEY, force=True)
    assert "\n" not in str(refused.value)
    assert _n_events(loaded_url) == before
    assert Path(make_url(loaded_url).database).exists()
