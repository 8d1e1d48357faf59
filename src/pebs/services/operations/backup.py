"""``pebs db backup``: a consistent online backup of the trial database, with its manifest.

SQLite: the ``sqlite3`` backup API copies the live database in one read transaction (writers
carry on; commits still in ``-wal`` are included) into a single self-contained file.
PostgreSQL: ``pg_dump --format=custom`` of the URL's schema, run on a snapshot exported from a
``REPEATABLE READ`` transaction in which pebs also reads the schema revision and verifies the
audit chain, so the manifest describes exactly what the archive holds.

The backup is written to a temporary file beside ``FILE``, created readable by its owner only
(mode 0600, on both databases: it holds the trial data), and renamed when complete; then the
manifest ``FILE.manifest.json`` (:mod:`~pebs.services.operations.manifest`) is signed with the
installation's key and written, and then
a ``backup`` audit event in the live database names the operator, the file, its SHA-256 and the
chain head it contains. The event is written *after* the backup so that it can pin the finished
file (its hash and head, the live chain vouching for the backup) and so that no event claims a
backup that failed; the price is that a backup does not contain the record of itself (the live
chain does, and ``restore`` records its own event).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from pebs import __version__
from pebs.io.errors import FileAccessError
from pebs.services.errors import DatabaseNotReady, InvalidInput
from pebs.services.operations import _postgres_tools as pg
from pebs.services.operations._database_state import (
    ChainState,
    backend_of,
    read_chain,
    record_event,
    revision_of,
    safe_url,
    unreachable,
)
from pebs.services.operations._sqlite_files import copy_database, read_only_engine
from pebs.services.operations.manifest import BackupManifest, file_sha256, manifest_path
from pebs.store.engine import create_engine_for

__all__ = ["BackupResult", "backup_database"]

_PRIVATE = 0o600


@dataclass(frozen=True)
class BackupResult:
    """A finished backup: the file, its manifest, and the ``backup`` event in the live chain."""

    path: Path
    manifest_path: Path
    manifest: BackupManifest
    audit_event_id: int


@dataclass(frozen=True)
class _Snapshot:
    revision: str
    chain: ChainState
    schema: str | None = None


def backup_database(
    url: str, target: Path, *, operator: str, installation_key: bytes
) -> BackupResult:
    """Back up the database at ``url`` to the new file ``target`` (never overwritten).

    ``operator`` is named in the ``backup`` audit event (``cli:<login>``); the manifest is
    signed with a key derived from ``installation_key`` (the installation's HMAC key,
    :func:`~.manifest.signing_key`). Raises
    :class:`FileAccessError` (``target`` or its manifest exists, or cannot be written),
    :class:`DatabaseNotReady` (unreachable, missing or never migrated) and, on PostgreSQL,
    :class:`~.errors.ToolMissing` / :class:`~.errors.ToolFailed` for ``pg_dump``.
    """
    target = Path(target)
    backend = backend_of(url)
    _check_target(target)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        if backend == "sqlite":
            snapshot = _sqlite_snapshot(url, partial)
        else:
            snapshot = _postgres_snapshot(url, partial)
        digest, size = file_sha256(partial)
        os.replace(partial, target)
    except OSError as error:
        raise FileAccessError(f"{target}: cannot write the backup: {error}") from None
    finally:
        partial.unlink(missing_ok=True)
    head = snapshot.chain.head
    manifest = BackupManifest(
        file=target.name,
        backend=backend,
        pebs_version=__version__,
        schema_revision=snapshot.revision,
        audit_head=head.export_line(),
        audit_head_id=head.id,
        audit_head_hash=head.hash,
        n_audit_events=snapshot.chain.n_events,
        audit_chain_ok=snapshot.chain.ok,
        created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        sha256=digest,
        size_bytes=size,
        source=safe_url(url),
        postgres_schema=snapshot.schema,
    ).signed(installation_key)
    written = manifest_path(target)
    manifest.write(written)
    event_id = record_event(
        url,
        actor=operator,
        action="backup",
        reason="pebs db backup",
        new={
            "file": target.name,
            "sha256": digest,
            "size_bytes": size,
            "schema_revision": snapshot.revision,
            "audit_head_id": head.id,
            "audit_head_hash": head.hash,
            "audit_chain_ok": snapshot.chain.ok,
        },
    )
    return BackupResult(target, written, manifest, event_id)


def _check_target(target: Path) -> None:
    for path in (target, manifest_path(target)):
        if path.exists():
            raise FileAccessError(f"{path} exists: a backup never overwrites; choose a new name")
    if not target.parent.is_dir():
        raise FileAccessError(f"{target.parent} is not a folder")


def _sqlite_snapshot(url: str, partial: Path) -> _Snapshot:
    database = make_url(url).database
    if database in (None, "", ":memory:"):
        raise InvalidInput(
            "an in-memory SQLite database cannot be backed up", field="PEBS_DATABASE_URL"
        )
    source = Path(database)
    if not source.is_file():
        raise DatabaseNotReady(f"database {source} does not exist: nothing to back up")
    copy_database(source, partial)
    with read_only_engine(partial) as engine, engine.connect() as connection:
        revision = revision_of(connection)
        if revision is None:
            raise DatabaseNotReady(f"database {source} was never migrated: nothing to back up")
        return _Snapshot(revision, read_chain(connection))


def _postgres_snapshot(url: str, partial: Path) -> _Snapshot:
    pg_dump = pg.find_tool("pg_dump")
    connection_info = pg.connection_for(url)
    # pg_dump truncates and writes the file it is given: created here first, it keeps mode 0600.
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE))
    engine = create_engine_for(url)
    try:
        with engine.connect() as raw:
            connection = raw.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            with connection.begin():
                snapshot_id = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                schema = connection.execute(text("SELECT current_schema()")).scalar_one_or_none()
                if schema is None:
                    raise DatabaseNotReady(
                        f"database {safe_url(url)}: the schema of its search_path does not exist"
                    )
                revision = revision_of(connection)
                if revision is None:
                    raise DatabaseNotReady(
                        f"database {safe_url(url)} was never migrated: nothing to back up"
                    )
                chain = read_chain(connection)
                pg.run_tool(
                    [
                        pg_dump,
                        "--format=custom",
                        "--no-password",
                        f"--schema={_pattern(schema)}",
                        f"--snapshot={snapshot_id}",
                        f"--file={partial}",
                        f"--dbname={connection_info.conninfo}",
                    ],
                    connection_info,
                )
    except OperationalError as error:
        raise unreachable(url, error) from None
    finally:
        engine.dispose()
    return _Snapshot(revision, chain, schema)


def _pattern(schema: str) -> str:
    """``schema`` as an exact ``pg_dump --schema`` pattern (quoted: no case folding, no wildcards).

    A double quote inside the name is doubled.

    >>> print(_pattern("Trial_A"))
    "Trial_A"
    """
    return '"' + schema.replace('"', '""') + '"'
