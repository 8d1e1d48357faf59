"""``backup_database``: online, consistent, pinned by its manifest and audited."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import select

from pebs import __version__
from pebs.io.errors import FileAccessError
from pebs.services.errors import DatabaseNotReady, ToolMissing
from pebs.services.operations import backup_database, manifest_path
from pebs.services.trial import open_database, verify_audit_chain
from pebs.store import migrate
from pebs.store.audit import append_event
from pebs.store.engine import create_engine_for, session_factory
from pebs.store.models import AuditEvent

OPERATOR = "cli:tester"
KEY = b"installation hmac key of the tests, 32+ bytes"


def _events(database_url: str) -> dict[int, tuple[str, str, dict | None]]:
    """id -> (action, hash, new) of every event, read independently of the service."""
    engine = create_engine_for(database_url)
    try:
        with session_factory(engine, read_only=True).begin() as session:
            rows = session.execute(select(AuditEvent.id, AuditEvent.action, AuditEvent.hash,
                                          AuditEvent.new)).all()  # fmt: skip
    finally:
        engine.dispose()
    return {row.id: (row.action, row.hash, row.new) for row in rows}


def test_backup_writes_the_file_its_manifest_and_an_audit_event(
    loaded_url: str, tmp_path: Path
) -> None:
    target = tmp_path / "backup.dump"
    before = _events(loaded_url)
    done = backup_database(loaded_url, target, operator=OPERATOR, installation_key=KEY)

    manifest = json.loads(manifest_path(target).read_text(encoding="utf-8"))
    digest = hashlib.sha256(target.read_bytes()).hexdigest()  # independent of the service
    assert manifest["sha256"] == digest
    assert manifest["size_bytes"] == target.stat().st_size
    assert manifest["schema_revision"] == migrate.head()
    assert manifest["pebs_version"] == __version__
    head_id = max(before)
    assert (manifest["audit_head_id"], manifest["audit_head_hash"]) == (head_id, before[head_id][1])
    assert manifest["n_audit_events"] == len(before)
    assert manifest["audit_chain_ok"] is True
    assert manifest["created_at"].endswith("Z")
    assert manifest["file"] == "backup.dump"

    after = _events(loaded_url)
    assert set(after) - set(before) == {done.audit_event_id}
    action, _, new = after[done.audit_event_id]
    assert action == "backup"
    assert new["file"] == "backup.dump"
    assert new["sha256"] == digest
    assert (new["audit_head_id"], new["audit_head_hash"]) == (head_id, before[head_id][1])
    assert not list(tmp_path.glob(".*partial"))  # no temporary file left


def test_a_backup_never_overwrites(loaded_url: str, tmp_path: Path) -> None:
    target = tmp_path / "backup.dump"
    target.write_bytes(b"an older backup")
    with pytest.raises(FileAccessError, match="never overwrites"):
        backup_database(loaded_url, target, operator=OPERATOR, installation_key=KEY)
    assert target.read_bytes() == b"an older backup"
    assert not manifest_path(target).exists()


def test_an_empty_or_missing_database_is_not_backed_up(tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path / 'none.db'}"
    with pytest.raises(DatabaseNotReady, match="does not exist"):
        backup_database(missing, tmp_path / "b.db", operator=OPERATOR, installation_key=KEY)
    assert not (tmp_path / "none.db").exists()  # not created by trying
    sqlite3.connect(tmp_path / "empty.db").close()
    with pytest.raises(DatabaseNotReady, match="never migrated"):
        backup_database(
            f"sqlite:///{tmp_path / 'empty.db'}",
            tmp_path / "b.db",
            operator=OPERATOR,
            installation_key=KEY,
        )
    assert not (tmp_path / "b.db").exists()


def _writer(database_url: str, stop: threading.Event, written: list[int]) -> None:
    engine = create_engine_for(database_url)
    sessions = session_factory(engine)
    try:
        while not stop.is_set():
            with sessions.begin() as session:
                head = append_event(
                    session, actor="writer", action="update", entity="note",
                    new={"n": len(written)},
                )  # fmt: skip
            written.append(head.id)
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_backups_taken_while_another_thread_writes_are_consistent(
    loaded_url: str, tmp_path: Path
) -> None:
    stop, written = threading.Event(), []
    thread = threading.Thread(target=_writer, args=(loaded_url, stop, written))
    thread.start()
    manifests = []
    try:
        for n in range(4):
            while len(written) < 10 * (n + 1):  # the writer is busy before every backup
                stop.wait(0.005)
            done = backup_database(
                loaded_url, tmp_path / f"b{n}.db", operator=OPERATOR, installation_key=KEY
            )
            manifests.append((tmp_path / f"b{n}.db", done.manifest))
    finally:
        stop.set()
        thread.join(timeout=30)
    assert len(written) >= 40
    live = _events(loaded_url)
    for path, manifest in manifests:
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as copy:
            assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # WAL folded
            assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert not Path(f"{path}-wal").exists()
        # The copy is a prefix of the live chain: the same event at its head...
        assert live[manifest.audit_head_id][1] == manifest.audit_head_hash
        assert manifest.audit_head_id < max(live)
        # ...and its own chain verifies, read through the ordinary service on a copy of the copy.
        check = tmp_path / "check.db"
        check.write_bytes(path.read_bytes())
        database = open_database(f"sqlite:///{check}", read_only=True)
        try:
            report = verify_audit_chain(database.sessions, expected_head=manifest.audit_head)
        finally:
            database.close()
        assert report.ok, report.reason
        assert report.n_events == manifest.audit_head_id == manifest.n_audit_events
        check.unlink()
        Path(f"{check}-wal").unlink(missing_ok=True)
        Path(f"{check}-shm").unlink(missing_ok=True)
    heads = [manifest.audit_head_id for _, manifest in manifests]
    assert heads == sorted(heads)
    assert len(set(heads)) == len(heads)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_backup_files_are_private(loaded_url: str, tmp_path: Path) -> None:
    target = tmp_path / "b.db"
    backup_database(loaded_url, target, operator=OPERATOR, installation_key=KEY)
    assert target.stat().st_mode & 0o077 == 0


def test_a_missing_pg_dump_names_the_debian_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    with pytest.raises(ToolMissing, match=r"pg_dump is not on PATH.*postgresql-client"):
        backup_database(
            "postgresql://u@127.0.0.1:1/x",
            tmp_path / "b.dump",
            operator=OPERATOR,
            installation_key=KEY,
        )
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgres_backup_never_shows_the_password(url: str, tmp_path: Path, demo_loader) -> None:
    # The test server trusts local connections, so any password is accepted and must not leak.
    with_password = url.replace("postgres@", "postgres:hunter2-secret@", 1)
    assert "hunter2-secret" in with_password
    demo_loader(with_password)
    done = backup_database(
        with_password, tmp_path / "b.dump", operator=OPERATOR, installation_key=KEY
    )
    assert "hunter2-secret" not in manifest_path(done.path).read_text(encoding="utf-8")
    assert done.manifest.postgres_schema is not None
    assert done.manifest.postgres_schema.startswith("pebs_test_")
    assert done.path.read_bytes()[:5] == b"PGDMP"  # a pg_dump custom-format archive
