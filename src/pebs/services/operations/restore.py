"""``pebs db restore``: put a backup made by ``pebs db backup`` back into the configured database.

In order: read the manifest and refuse a file whose SHA-256 or size differs (altered or damaged)
or whose kind does not match the database; refuse a target that holds tables unless ``force``;
restore; verify the restored audit chain against the head recorded in the manifest; on success,
append a ``restore`` event (operator, file, SHA-256, head) to the restored chain.

SQLite: the backup is first copied (backup API) to a staging file beside the database, checked
(``integrity_check``, audit chain against the recorded head) *before* the database is touched,
then made the database atomically (:func:`~._sqlite_files.replace_database`). Stop every pebs
process first: the restore is atomic, but a running server would carry on from the restored data
without being told.

PostgreSQL: ``pg_restore --clean --if-exists --single-transaction`` into the URL's database; the
archive recreates the schema it was dumped from (same name), all or nothing. A target schema with
tables the backup does not have (a newer release's) makes it fail and roll back: restore into an
empty schema or database instead.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

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
from pebs.services.operations._sqlite_files import (
    copy_database,
    has_tables,
    read_only_engine,
    replace_database,
)
from pebs.services.operations.errors import BackupRejected
from pebs.services.operations.manifest import BackupManifest, file_sha256, read_manifest
from pebs.services.trial.errors import Conflict, InvalidInput
from pebs.store import migrate
from pebs.store.audit import ChainHead
from pebs.store.engine import create_engine_for

__all__ = ["RestoreResult", "restore_database"]


@dataclass(frozen=True)
class RestoreResult:
    """A restore: the manifest used, the restored chain as verified, and what follows."""

    manifest: BackupManifest
    chain: ChainState
    """The restored chain, verified against ``manifest.audit_head``."""
    revision: str | None
    """The restored database's revision (older than :attr:`head_revision`: run the upgrade)."""
    head_revision: str
    audit_event_id: int | None
    """The ``restore`` event appended to the restored chain (``None`` if the chain is broken)."""

    @property
    def needs_upgrade(self) -> bool:
        return self.revision != self.head_revision


def restore_database(
    url: str, source: Path, *, operator: str, force: bool = False
) -> RestoreResult:
    """Restore the backup ``source`` into the database at ``url``.

    Raises :class:`~.errors.BackupRejected` (no manifest, altered file, wrong kind or schema),
    :class:`Conflict` (the target holds tables and ``force`` is false), and the errors of
    ``pg_restore`` on PostgreSQL. A chain that does not verify against the recorded head is
    reported in the result (``chain.ok`` false), not raised: the data is restored and must be
    looked at.
    """
    source = Path(source)
    backend = backend_of(url)
    manifest = _checked_manifest(source, backend)
    expected = ChainHead(manifest.audit_head_id, manifest.audit_head_hash)
    if backend == "sqlite":
        _restore_sqlite(url, source, expected, force=force)
    else:
        _restore_postgres(url, source, manifest, force=force)
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection, connection.begin():
            revision = revision_of(connection)
            chain = read_chain(connection, expected_head=expected)
    except OperationalError as error:
        raise unreachable(url, error) from None
    finally:
        engine.dispose()
    event_id = None
    if chain.ok:
        event_id = record_event(
            url,
            actor=operator,
            action="restore",
            reason="pebs db restore",
            new={
                "file": source.name,
                "sha256": manifest.sha256,
                "backup_created_at": manifest.created_at,
                "audit_head_id": manifest.audit_head_id,
                "audit_head_hash": manifest.audit_head_hash,
            },
        )
    return RestoreResult(manifest, chain, revision, migrate.head(), event_id)


def _checked_manifest(source: Path, backend: str) -> BackupManifest:
    if not source.is_file():
        raise BackupRejected(f"{source} is not a file")
    manifest = read_manifest(source)
    if manifest.backend != backend:
        raise BackupRejected(
            f"{source} is a {manifest.backend} backup; PEBS_DATABASE_URL is a {backend} database"
        )
    digest, size = file_sha256(source)
    if digest != manifest.sha256 or size != manifest.size_bytes:
        raise BackupRejected(
            f"{source}: SHA-256 {digest} ({size:,} bytes) differs from the manifest's "
            f"{manifest.sha256} ({manifest.size_bytes:,} bytes): the file was altered or damaged; "
            "refused"
        )
    return manifest


def _refuse_non_empty(shown: str) -> Conflict:
    return Conflict(
        f"database {shown} is not empty: restoring replaces its content; give --force to do so "
        "(back it up first)"
    )


def _restore_sqlite(url: str, source: Path, expected: ChainHead, *, force: bool) -> None:
    database = make_url(url).database
    if database in (None, "", ":memory:"):
        raise InvalidInput("PEBS_DATABASE_URL: cannot restore into an in-memory SQLite database")
    target = Path(database)
    if has_tables(target) and not force:
        raise _refuse_non_empty(str(target))
    leftovers = [p for p in (Path(f"{target}-wal"), Path(f"{target}-journal")) if p.exists()]
    if leftovers and not target.exists():
        raise Conflict(
            f"{leftovers[0]} is left from a removed database and would be replayed into the "
            "restored one: move it aside first"
        )
    if not target.parent.is_dir():
        raise InvalidInput(f"PEBS_DATABASE_URL: folder {target.parent} does not exist")
    staged = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.restoring")
    try:
        copy_database(source, staged)
        with read_only_engine(staged) as engine, engine.connect() as connection:
            chain = read_chain(connection, expected_head=expected)
        if not chain.ok:
            raise BackupRejected(
                f"{source}: its audit chain does not verify against the manifest's head "
                f"({chain.summary}); the database was not touched"
            )
        replace_database(staged, target)
    finally:
        staged.unlink(missing_ok=True)


def _restore_postgres(url: str, source: Path, manifest: BackupManifest, *, force: bool) -> None:
    pg_restore = pg.find_tool("pg_restore")
    schema, n_tables = _postgres_target(url)
    if manifest.postgres_schema != schema:
        raise BackupRejected(
            f"{source} holds schema {manifest.postgres_schema!r}; PEBS_DATABASE_URL uses schema "
            f"{schema!r}. pg_restore recreates a schema under its own name: restore into a "
            "database whose search_path names that schema"
        )
    if n_tables and not force:
        raise _refuse_non_empty(f"{safe_url(url)} (schema {schema})")
    connection_info = pg.connection_for(url)
    pg.run_tool(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--no-password",
            f"--dbname={connection_info.conninfo}",
            str(source),
        ],
        connection_info,
    )


def _postgres_target(url: str) -> tuple[str, int]:
    """The schema the URL works in (even if it does not exist yet) and its number of tables."""
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            schema = connection.execute(text("SELECT current_schema()")).scalar_one_or_none()
            if schema is None:  # the search_path's schema does not exist (yet)
                path = connection.execute(text("SHOW search_path")).scalar_one()
                first = path.split(",")[0].strip()
                if first == '"$user"':
                    first = connection.execute(text("SELECT current_user")).scalar_one()
                return first.strip('"'), 0
            count = text("SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = :schema")
            return schema, connection.execute(count, {"schema": schema}).scalar_one()
    except OperationalError as error:
        raise unreachable(url, error) from None
    finally:
        engine.dispose()
