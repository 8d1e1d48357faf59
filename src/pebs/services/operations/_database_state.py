"""What backup, restore and the installation check read from a database: its revision, its
audit chain (verified, with its head) and a password-free name for messages."""

from __future__ import annotations

from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from pebs.services.errors import DatabaseNotReady, InvalidInput
from pebs.store.audit import ChainHead, append_event, chain_head, verify_chain
from pebs.store.engine import create_engine_for, normalise_url, session_factory

__all__ = [
    "ChainState",
    "backend_of",
    "read_chain",
    "record_event",
    "revision_of",
    "safe_url",
    "unreachable",
]


@dataclass(frozen=True)
class ChainState:
    """The audit chain as verified: ``ok``, its length and head, or the first break and why."""

    ok: bool
    n_events: int
    head: ChainHead
    first_broken_id: int | None = None
    reason: str | None = None

    @property
    def summary(self) -> str:
        """``ok: N events`` or ``BROKEN at event K: why``."""
        if self.ok:
            return f"ok: {self.n_events:,} events"
        return f"BROKEN at event {self.first_broken_id}: {self.reason}"


def safe_url(url: str) -> str:
    """``url`` without its password, for messages and manifests.

    >>> safe_url("postgresql://ops:s3cret@db/pebs")
    'postgresql://ops:***@db/pebs'
    """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # a malformed URL is named, never echoed
        return "(the configured URL)"


def backend_of(url: str) -> str:
    """``sqlite`` or ``postgresql``; :class:`InvalidInput` for anything else."""
    try:
        return normalise_url(url).get_backend_name()
    except ValueError as error:
        raise InvalidInput(str(error), field="PEBS_DATABASE_URL") from None


def unreachable(url: str, error: OperationalError) -> DatabaseNotReady:
    """The error for a database that cannot be connected to (the driver's reason kept)."""
    reason = str(error.orig).strip() if error.orig is not None else str(error)
    return DatabaseNotReady(f"database {safe_url(url)} cannot be used: {reason}")


def revision_of(connection: Connection) -> str | None:
    """The Alembic revision of the connected database (``None``: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


def read_chain(connection: Connection, expected_head: ChainHead | None = None) -> ChainState:
    """Verify the audit chain read through ``connection`` (in its current transaction)."""
    with Session(bind=connection) as session:
        result = verify_chain(session, expected_head=expected_head)
        head = chain_head(session)
    return ChainState(result.ok, result.n_events, head, result.first_broken_id, result.reason)


def record_event(url: str, *, actor: str, action: str, new: dict[str, object], reason: str) -> int:
    """Append one ``database`` event to the chain at ``url``; return its id."""
    engine = create_engine_for(url)
    try:
        with session_factory(engine).begin() as session:
            head = append_event(
                session, actor=actor, action=action, entity="database", reason=reason, new=new
            )
    except OperationalError as error:
        raise unreachable(url, error) from None
    finally:
        engine.dispose()
    return head.id
