"""Fixtures: the operations use cases on SQLite *and* PostgreSQL, on a database with the demo
study loaded.

The database fixtures (``backend``, ``empty_url``, ``url``, ``postgres_admin``) are the store
tests' own, imported from ``tests/store/conftest.py`` (as ``tests/services/trial`` does): a new
SQLite file or a new PostgreSQL schema per test, dropped afterwards. PostgreSQL being unreachable
fails these tests unless ``PEBS_TEST_POSTGRES=skip``; ``pg_dump``/``pg_restore`` missing fails
them (:class:`ToolMissing`), never skips.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from pebs.services.trial import Actor, load_study_config
from pebs.store.engine import create_engine_for, session_factory


def _store_fixtures() -> Any:
    name = "_pebs_store_test_fixtures"
    if name in sys.modules:  # already loaded by another suite's conftest
        return sys.modules[name]
    path = Path(__file__).resolve().parents[2] / "store" / "conftest.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


_store = _store_fixtures()
postgres_admin = _store.postgres_admin
backend = _store.backend
empty_url = _store.empty_url
_sqlite_template = _store._sqlite_template
_postgres_migration_sql = _store._postgres_migration_sql
url = _store.url

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
