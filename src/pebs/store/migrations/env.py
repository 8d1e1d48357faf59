"""Alembic environment for pebs, driven by :mod:`pebs.store.migrate` (no alembic.ini).

:mod:`pebs.store.migrate` passes an open connection in ``config.attributes["connection"]``; the
``alembic`` command line can be used by developers with
``-x url=sqlite:///pebs.db`` and ``-c`` pointing to an ini file that names this directory.
SQLite migrations run in batch mode (table rebuilds), which needs foreign keys off.
"""

from __future__ import annotations

from alembic import context

from pebs.store.engine import create_engine_for
from pebs.store.models import Base

TARGET_METADATA = Base.metadata


def _configure(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=TARGET_METADATA,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    """Run the migrations Alembic asked for (called when Alembic loads this file)."""
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise RuntimeError("pebs migrations: give the database URL (-x url=...)")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=TARGET_METADATA, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine_for(url, sqlite_foreign_keys=False)
    try:
        with engine.connect() as connection:
            _configure(connection)
            connection.commit()
    finally:
        engine.dispose()


if hasattr(context, "config"):  # Alembic is running us (not a tool merely importing the file)
    run()
