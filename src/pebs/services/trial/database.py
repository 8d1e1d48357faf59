"""Open the trial database, and migrate it (``pebs db upgrade``), for the entry points.

Entry points pass the URL from their settings; nothing here reads the environment.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.errors import DatabaseNotReady, InvalidInput
from pebs.store import migrate
from pebs.store.engine import create_engine_for, session_factory

__all__ = ["Database", "Migrated", "open_database", "upgrade_database"]


@dataclass(frozen=True)
class Migrated:
    database: str
    """The URL, without its password."""
    before: str | None
    """Revision before (``None``: an empty database)."""
    after: str


@dataclass(frozen=True)
class Database:
    """An engine and its sessionmaker; :meth:`close` when done."""

    engine: Engine
    sessions: sessionmaker[Session]

    def close(self) -> None:
        self.engine.dispose()


def _unreachable(url: str, error: OperationalError) -> DatabaseNotReady:
    shown = _safe(url)
    return DatabaseNotReady(f"database {shown} cannot be used: {str(error.orig).strip()}")


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # a malformed URL is shown as "the configured URL"
        return "(the configured URL)"


def upgrade_database(url: str) -> Migrated:
    """Migrate the database at ``url`` to this release's schema (idempotent)."""
    try:
        _create_private_sqlite_file(url)
        before = migrate.current(url)
        migrate.upgrade(url)
        return Migrated(_safe(url), before, migrate.current(url) or "")
    except OperationalError as error:
        raise _unreachable(url, error) from None
    except ValueError as error:  # an unsupported or malformed URL
        raise InvalidInput(str(error), field="PEBS_DATABASE_URL") from None


def _create_private_sqlite_file(url: str) -> None:
    """Create a new SQLite database file readable by its owner only (mode 0600).

    It holds encrypted identities and the audit trail; SQLite gives its ``-wal`` and ``-shm``
    files the same mode. An existing file is left as it is (``pebs check`` reports its mode).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    path = Path(parsed.database)
    if path.exists() or not path.parent.is_dir():
        return  # an existing file, or a missing directory SQLite will report itself
    with contextlib.suppress(FileExistsError):  # created by a concurrent upgrade meanwhile
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def open_database(url: str, *, read_only: bool = False) -> Database:
    """Engine and sessions on a database migrated to this release.

    :class:`DatabaseNotReady` if it cannot be reached or is not at the latest revision (run
    ``pebs db upgrade``). ``read_only`` sessions never take SQLite's writer lock.
    """
    try:
        revision = migrate.current(url)
    except OperationalError as error:
        raise _unreachable(url, error) from None
    except ValueError as error:
        raise InvalidInput(str(error), field="PEBS_DATABASE_URL") from None
    if revision != migrate.head():
        state = "is empty" if revision is None else f"is at revision {revision}"
        raise DatabaseNotReady(
            f"database {_safe(url)} {state}, not {migrate.head()}: run 'pebs db upgrade'"
        )
    engine = create_engine_for(url)
    return Database(engine, session_factory(engine, read_only=read_only))
