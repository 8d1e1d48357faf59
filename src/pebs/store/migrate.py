"""Database migrations without an ``alembic.ini``: upgrade, downgrade, current revision.

The migration scripts ship inside the package (``pebs/store/migrations``). On SQLite, foreign keys
are switched off while migrating (batch-mode table rebuilds need it) and checked afterwards.

>>> import tempfile, pathlib
>>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'pebs.db'}"
>>> upgrade(url)
>>> current(url) == head()
True
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from pebs.store.engine import READ_ONLY_OPTION, create_engine_for, normalise_url

__all__ = [
    "MigrationError",
    "current",
    "downgrade",
    "head",
    "is_current",
    "upgrade",
    "upgrade_sql",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class MigrationError(RuntimeError):
    """A migration left the database inconsistent (e.g. foreign-key violations on SQLite)."""


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision`` (default: the latest)."""
    _run(url, lambda config: command.upgrade(config, revision))


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision`` (``"base"``: drop everything)."""
    _run(url, lambda config: command.downgrade(config, revision))


def upgrade_sql(url: str, revision: str = "head") -> str:
    """The SQL that :func:`upgrade` would run from an empty database (for a DBA to review/run).

    Nothing connects to ``url``; it only selects the SQL dialect.
    """
    buffer = io.StringIO()
    config = Config(output_buffer=buffer)
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", str(normalise_url(url)).replace("%", "%%"))
    command.upgrade(config, revision, sql=True)
    return buffer.getvalue()


def current(url: str) -> str | None:
    """The database's revision, or ``None`` for a database never migrated (read without taking
    SQLite's writer lock: a writer of another process does not hold it up)."""
    engine = create_engine_for(url)
    try:
        with engine.connect().execution_options(**{READ_ONLY_OPTION: True}) as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head() -> str:
    """The latest revision shipped with this version of pebs."""
    heads = ScriptDirectory.from_config(_config()).get_heads()
    if len(heads) != 1:
        raise MigrationError(f"migrations have {len(heads)} heads: {heads}")
    return heads[0]


def is_current(url: str) -> bool:
    """True when the database is at the latest revision (for ``pebs check``)."""
    return current(url) == head()


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _run(url: str, action: Callable[[Config], None]) -> None:
    engine = create_engine_for(url, sqlite_foreign_keys=False)
    try:
        with engine.connect() as connection:
            action(_config(connection))
            if connection.dialect.name == "sqlite":
                _check_foreign_keys(connection)
            connection.commit()
    finally:
        engine.dispose()


def _check_foreign_keys(connection: Connection) -> None:
    violations = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
    if violations:
        connection.rollback()
        shown = ", ".join(f"{row[0]} row {row[1]} -> {row[2]}" for row in violations[:5])
        raise MigrationError(f"{len(violations)} foreign-key violation(s) after migrating: {shown}")
