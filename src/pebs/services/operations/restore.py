"""``pebs db restore``: put a backup made by ``pebs db backup`` back into the configured database.

In order: read the manifest and refuse one that this installation did not sign (unsigned, signed
with another key, or altered since: :mod:`.manifest`), a file whose SHA-256 or size differs
(altered or damaged) or whose kind does not match the database; refuse while a pebs server uses
the database (:mod:`.serving_lock`; ``while_serving`` overrides) and a target that holds tables
unless ``force``; restore; verify the restored audit chain against the head recorded in the
manifest; compare every audited table with the restored chain (:mod:`.deep_audit`); on success of
the chain, append a ``restore`` event (operator, file, SHA-256, head, the tables' mismatches) to
the restored chain.

SQLite: the backup is first copied (backup API) to a staging file beside the database, checked
(``integrity_check``, a pebs database at the manifest's revision, audit chain against the
recorded head) *before* the database is touched, then made the database atomically
(:func:`~._sqlite_files.replace_database`).

PostgreSQL: ``pg_restore --clean --if-exists --single-transaction`` into the URL's database; the
archive recreates the schema it was dumped from (same name), all or nothing. A target schema with
tables the backup does not have (a newer release's) makes it fail and roll back: restore into an
empty schema or database instead.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError, OperationalError

from pebs.services.errors import BackupRejected, Conflict, InvalidInput
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
from pebs.services.operations.deep_audit import DeepReport, deep_verify, read_only
from pebs.services.operations.manifest import BackupManifest, file_sha256, read_manifest
from pebs.services.operations.serving_lock import exclusive_lock
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
    deep: DeepReport | None = None
    """The restored tables compared with the restored chain (``None``: the backup is of an
    older revision; run ``pebs db upgrade``, then ``pebs audit verify --deep``)."""

    @property
    def needs_upgrade(self) -> bool:
        return self.revision != self.head_revision

    @property
    def ok(self) -> bool:
        """The chain verifies against the manifest's head and no table contradicts it."""
        return self.chain.ok and (self.deep is None or self.deep.tables_ok)


def restore_database(
    url: str,
    source: Path,
    *,
    operator: str,
    installation_key: bytes,
    force: bool = False,
    while_serving: bool = False,
) -> RestoreResult:
    """Restore the backup ``source`` into the database at ``url``.

    ``installation_key`` is the installation's HMAC key: the manifest must be signed with the
    key derived from it. Raises :class:`~.errors.SignatureRejected` (unsigned or wrongly signed
    manifest), :class:`~.errors.BackupRejected` (no manifest, altered file, wrong kind or
    schema, not a pebs database), :class:`Conflict` (a pebs server uses the database and
    ``while_serving`` is false; the target holds tables and ``force`` is false), and the errors
    of ``pg_restore`` on PostgreSQL. A chain that does not verify against the recorded head, and
    tables that do not match the chain, are reported in the result (``ok`` false), not raised:
    the data is restored and must be looked at.
    """
    source = Path(source)
    backend = backend_of(url)
    manifest = _checked_manifest(source, backend, installation_key)
    expected = ChainHead(manifest.audit_head_id, manifest.audit_head_hash)
    with exclusive_lock(url, while_serving=while_serving):
        if backend == "sqlite":
            _restore_sqlite(url, source, manifest, force=force)
        else:
            _restore_postgres(url, source, manifest, force=force)
        revision, chain, deep = _verify_restored(url, backend, expected)
        event_id = None
        if chain.ok:
            new: dict[str, object] = {
                "file": source.name,
                "sha256": manifest.sha256,
                "backup_created_at": manifest.created_at,
                "audit_head_id": manifest.audit_head_id,
                "audit_head_hash": manifest.audit_head_hash,
            }
            if deep is not None:
                new["table_mismatches"] = deep.n_mismatches
            event_id = record_event(
                url, actor=operator, action="restore", reason="pebs db restore", new=new
            )
    return RestoreResult(manifest, chain, revision, migrate.head(), event_id, deep)


def _verify_restored(
    url: str, backend: str, expected: ChainHead
) -> tuple[str | None, ChainState, DeepReport | None]:
    """The restored revision, its chain against ``expected`` and, at this release's revision,
    the deep verification, read in one snapshot."""
    engine = create_engine_for(url)
    try:
        with engine.connect() as raw:
            connection = read_only(raw, backend)
            with connection.begin():
                revision = revision_of(connection)
                if revision != migrate.head():  # older tables: the chain alone
                    return revision, read_chain(connection, expected_head=expected), None
                deep = deep_verify(connection, expected_head=expected)  # one walk of the chain
                head = ChainHead(deep.head_id, deep.head_hash)
                chain = ChainState(deep.chain_ok, deep.n_events, head, deep.first_broken_id,
                                   deep.chain_reason)  # fmt: skip
    except OperationalError as error:
        raise unreachable(url, error) from None
    finally:
        engine.dispose()
    return revision, chain, deep


def _checked_manifest(source: Path, backend: str, installation_key: bytes) -> BackupManifest:
    if not source.is_file():
        raise BackupRejected(f"{source} is not a file")
    manifest = read_manifest(source)
    manifest.check_signature(installation_key, source)  # before believing anything it says
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


def _restore_sqlite(url: str, source: Path, manifest: BackupManifest, *, force: bool) -> None:
    database = make_url(url).database
    if database in (None, "", ":memory:"):
        raise InvalidInput(
            "cannot restore into an in-memory SQLite database", field="PEBS_DATABASE_URL"
        )
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
        raise InvalidInput(f"folder {target.parent} does not exist", field="PEBS_DATABASE_URL")
    staged = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.restoring")
    try:
        copy_database(source, staged)
        with read_only_engine(staged) as engine, engine.connect() as connection:
            chain = _staged_chain(connection, source, manifest)
        if not chain.ok:
            raise BackupRejected(
                f"{source}: its audit chain does not verify against the manifest's head "
                f"({chain.summary}); the database was not touched"
            )
        replace_database(staged, target)
    finally:
        staged.unlink(missing_ok=True)


def _staged_chain(connection: Connection, source: Path, manifest: BackupManifest) -> ChainState:
    """The staged copy's chain against the manifest's head; :class:`BackupRejected` unless it
    is a pebs database at the manifest's revision."""
    refused = f"{source}: not a pebs database backup"
    try:
        revision = revision_of(connection)
        has_audit = inspect(connection).has_table("audit_events")
    except DatabaseError as error:
        raise BackupRejected(f"{refused} ({error.orig}); the database was not touched") from None
    if revision is None or not has_audit:
        raise BackupRejected(
            f"{refused} (no pebs schema revision or audit trail); the database was not touched"
        )
    if revision != manifest.schema_revision:
        raise BackupRejected(
            f"{source}: schema revision {revision} differs from the manifest's "
            f"{manifest.schema_revision}; the database was not touched"
        )
    expected = ChainHead(manifest.audit_head_id, manifest.audit_head_hash)
    try:
        return read_chain(connection, expected_head=expected)
    except DatabaseError as error:
        raise BackupRejected(f"{refused} ({error.orig}); the database was not touched") from None


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
