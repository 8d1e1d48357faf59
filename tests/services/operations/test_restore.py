"""``restore_database``: round trips on SQLite and PostgreSQL; altered backups refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

from pebs.services.errors import BackupRejected, Conflict
from pebs.services.operations import (
    BackupManifest,
    backup_database,
    manifest_path,
    restore_database,
)
from pebs.store import migrate
from pebs.store.audit import append_event
from pebs.store.engine import create_engine_for, session_factory
from pebs.store.models import AuditEvent, Site, Study, User

OPERATOR = "cli:tester"
KEY = b"installation hmac key of the tests, 32+ bytes"
_AUDIT = select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id)


def _state(database_url: str) -> dict[str, object]:
    """What the database holds, read directly: counts, user names and the audit hashes."""
    engine = create_engine_for(database_url)
    try:
        with session_factory(engine, read_only=True).begin() as session:
            return {
                "studies": session.scalar(select(func.count()).select_from(Study)),
                "sites": session.scalar(select(func.count()).select_from(Site)),
                "users": sorted(session.scalars(select(User.username))),
                "audit": [tuple(row) for row in session.execute(_AUDIT)],
            }
    finally:
        engine.dispose()


def _change(database_url: str) -> None:
    """Work done after the backup, which the restore must undo."""
    engine = create_engine_for(database_url)
    try:
        with session_factory(engine).begin() as session:
            session.add(User(username="late-user", full_name="Late", role="monitor"))
            append_event(session, actor="ops", action="create", entity="user", new={"u": 1})
    finally:
        engine.dispose()


def _empty_schema(database_url: str, admin: Engine) -> None:
    schema = make_url(database_url).query["options"].removeprefix("-csearch_path=")
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))


@pytest.mark.parametrize("how", ["over the changed database", "into an emptied one"])
def test_restore_round_trip(
    loaded_url: str, backend: str, how: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    original = _state(loaded_url)
    backup = tmp_path / "backup.dump"
    done = backup_database(loaded_url, backup, operator=OPERATOR, installation_key=KEY)
    _change(loaded_url)
    assert _state(loaded_url) != original

    if how == "over the changed database":
        with pytest.raises(Conflict, match=r"is not empty.*--force"):
            restore_database(loaded_url, backup, operator=OPERATOR, installation_key=KEY)
        assert "late-user" in _state(loaded_url)["users"]  # refused: nothing touched
        restored = restore_database(
            loaded_url, backup, operator=OPERATOR, installation_key=KEY, force=True
        )
    else:
        if backend == "sqlite":
            Path(make_url(loaded_url).database).unlink()
        else:
            _empty_schema(loaded_url, request.getfixturevalue("postgres_admin"))
        restored = restore_database(loaded_url, backup, operator=OPERATOR, installation_key=KEY)

    assert restored.chain.ok, restored.chain.reason
    assert restored.chain.n_events == done.manifest.n_audit_events
    assert restored.revision == migrate.head()
    assert not restored.needs_upgrade
    after = _state(loaded_url)
    n = len(original["audit"])
    assert after["audit"][:n] == original["audit"]  # the backup's chain, event by event
    assert [event_id for event_id, _ in after["audit"][n:]] == [restored.audit_event_id]
    assert restored.audit_event_id == n + 1
    assert {k: v for k, v in after.items() if k != "audit"} == {
        k: v for k, v in original.items() if k != "audit"
    }


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_altered_backup_is_refused_before_anything_changes(
    loaded_url: str, tmp_path: Path
) -> None:
    backup = tmp_path / "backup.db"
    backup_database(loaded_url, backup, operator=OPERATOR, installation_key=KEY)
    _change(loaded_url)
    before = _state(loaded_url)
    data = bytearray(backup.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit
    backup.write_bytes(bytes(data))
    with pytest.raises(BackupRejected, match=r"SHA-256 .* differs .* altered or damaged"):
        restore_database(loaded_url, backup, operator=OPERATOR, installation_key=KEY, force=True)
    assert _state(loaded_url) == before


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_backup_rewritten_with_a_matching_manifest_fails_the_chain_check(
    loaded_url: str, tmp_path: Path
) -> None:
    """Someone alters an audit event in the backup *and* updates the manifest's SHA-256: the
    signature no longer matches. Had she the installation's key to sign it again, the recorded
    head no longer verifies, and the database is not touched."""
    import hashlib
    import sqlite3
    from contextlib import closing

    backup = tmp_path / "backup.db"
    backup_database(loaded_url, backup, operator=OPERATOR, installation_key=KEY)
    with closing(sqlite3.connect(backup)) as connection, connection:
        connection.execute("DROP TRIGGER audit_events_no_update")
        connection.execute("UPDATE audit_events SET actor = 'mallory' WHERE id = 3")
    manifest = json.loads(manifest_path(backup).read_text(encoding="utf-8"))
    manifest["sha256"] = hashlib.sha256(backup.read_bytes()).hexdigest()
    manifest["size_bytes"] = backup.stat().st_size
    manifest_path(backup).write_text(json.dumps(manifest), encoding="utf-8")
    _change(loaded_url)
    before = _state(loaded_url)
    with pytest.raises(BackupRejected, match=r"signature does not match its content"):
        restore_database(loaded_url, backup, operator=OPERATOR, installation_key=KEY, force=True)
    manifest_path(backup).unlink()
    BackupManifest(**manifest).signed(KEY).write(manifest_path(backup))
    with pytest.raises(BackupRejected, match=r"BROKEN at event 3.*was not touched"):
        restore_database(loaded_url, backup, operator=OPERATOR, installation_key=KEY, force=True)
    assert _state(loaded_url) == before


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_backup_without_its_manifest_or_of_another_kind_is_refused(
    loaded_url: str, tmp_path: Path
) -> None:
    backup = tmp_path / "backup.db"
    backup_database(loaded_url, backup, operator=OPERATOR, installation_key=KEY)
    manifest = manifest_path(backup).read_text(encoding="utf-8")
    manifest_path(backup).unlink()
    with pytest.raises(BackupRejected, match=r"manifest\.json is missing"):
        restore_database(loaded_url, backup, operator=OPERATOR, installation_key=KEY, force=True)
    manifest_path(backup).write_text(manifest, encoding="utf-8")
    with pytest.raises(
        BackupRejected, match="is a sqlite backup; PEBS_DATABASE_URL is a postgresql"
    ):
        restore_database(
            "postgresql://u@127.0.0.1:1/x", backup, operator=OPERATOR, installation_key=KEY
        )
