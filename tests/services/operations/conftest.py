"""Fixtures: the operations use cases on SQLite *and* PostgreSQL, on a database with the demo
study loaded.

The database fixtures (``backend``, ``empty_url``, ``url``, ``postgres_admin``) come from
``tests/conftest.py``: a new SQLite file or a new PostgreSQL schema per test, dropped
afterwards. PostgreSQL being unreachable fails these tests unless ``PEBS_TEST_POSTGRES=skip``;
``pg_dump``/``pg_restore`` missing fails them (:class:`ToolMissing`), never skips.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from pebs.services.actor import Actor
from pebs.services.trial import load_study_config
from pebs.store.engine import create_engine_for, session_factory

OPERATOR = "cli:tester"


def load_demo(database_url: str, *, demo_users: bool = False) -> None:
    """Load the shipped demo study (36 audit events; with demo users, more)."""
    engine = create_engine_for(database_url)
    try:
        load_study_config(
            session_factory(engine), Actor.system("ops"), "mypebs-demo", demo_users=demo_users
        )
    finally:
        engine.dispose()
    path = sqlite_path(database_url)
    if path is not None:
        os.chmod(path, 0o600)  # as an installation must (pebs check)


def sqlite_path(database_url: str) -> Path | None:
    """The SQLite file of a URL (``None`` for PostgreSQL)."""
    parsed = make_url(database_url)
    return Path(parsed.database) if parsed.get_backend_name() == "sqlite" else None


@pytest.fixture
def demo_loader():
    """``demo_loader(url)``: load the demo study into a migrated database."""
    return load_demo


@pytest.fixture
def loaded_url(url: str) -> str:
    """A migrated database (SQLite file or PostgreSQL schema) with the demo study loaded."""
    load_demo(url)
    return url
