"""Database fixtures shared by every suite: each test runs on SQLite *and* PostgreSQL.

SQLite: a new file in ``tmp_path``. PostgreSQL: a new schema ``pebs_test_<random>`` in the
database at ``PEBS_TEST_POSTGRES_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``),
selected with ``search_path`` in the URL and dropped after the test, so tests are independent, may
run beside other developers' runs on the same server, and leave the database as they found it.

If PostgreSQL is unreachable the PostgreSQL tests **fail** with a clear message; only an explicit
``PEBS_TEST_POSTGRES=skip`` (a laptop without PostgreSQL) turns that into a skip.
``PEBS_TEST_BACKENDS`` (comma-separated, default ``sqlite,postgresql``) chooses the backends: the
tests of a backend left out are deselected (``make test-fast`` runs ``sqlite`` only).

Fixtures: ``backend`` (parametrised: sqlite, postgresql), ``empty_url`` (a database with no
tables), ``url`` (migrated to the latest revision), ``engine``, ``session_maker``, and the
session-scoped ``postgres_admin``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from pebs.store import migrate
from pebs.store.engine import create_engine_for, session_factory

POSTGRES_URL = os.environ.get(
    "PEBS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ALL_BACKENDS = ("sqlite", "postgresql")
BACKENDS = tuple(os.environ.get("PEBS_TEST_BACKENDS", ",".join(ALL_BACKENDS)).split(","))
"""The backends the tests run on (``PEBS_TEST_BACKENDS``)."""


def pytest_configure(config: pytest.Config) -> None:
    unknown = sorted(set(BACKENDS) - set(ALL_BACKENDS))
    if unknown:
        raise pytest.UsageError(
            f"PEBS_TEST_BACKENDS: unknown backend(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(ALL_BACKENDS)} (comma-separated)"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the tests whose ``backend`` parameter is not in :data:`BACKENDS` (a module may
    parametrise ``backend`` itself)."""
    kept, left_out = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec is not None else None
        (left_out if backend is not None and backend not in BACKENDS else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An engine on the PostgreSQL test database (public schema), checked once per session."""
    engine = create_engine(make_url(POSTGRES_URL).set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        engine.dispose()
        message = (
            f"PostgreSQL is unreachable at {POSTGRES_URL} ({error.orig}). The store tests need it: "
            "start PostgreSQL, set PEBS_TEST_POSTGRES_URL, or set PEBS_TEST_POSTGRES=skip to skip "
            "the PostgreSQL half on a laptop (never in CI)."
        )
        if os.environ.get("PEBS_TEST_POSTGRES") == "skip":
            pytest.skip(message)
        pytest.fail(message, pytrace=False)
    yield engine
    engine.dispose()


@pytest.fixture(params=ALL_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def empty_url(backend: str, request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """URL of an empty database (never migrated) on ``backend``."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'pebs.db'}"
        return
    admin: Engine = request.getfixturevalue("postgres_admin")
    schema = f"pebs_test_{uuid.uuid4().hex[:16]}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "pebs.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _postgres_migration_sql() -> str:
    return migrate.upgrade_sql(POSTGRES_URL)


@pytest.fixture
def url(empty_url: str, backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of a database migrated to the latest revision.

    For speed the migration runs once per session: SQLite copies a migrated file, PostgreSQL
    replays the migration's own SQL (``migrate.upgrade_sql``) in the new schema. The online
    path is exercised by ``test_migrations.py``.
    """
    if backend == "sqlite":
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), tmp_path / "pebs.db")
        return empty_url
    script: str = request.getfixturevalue("_postgres_migration_sql")
    schema = make_url(empty_url).query["options"].removeprefix("-csearch_path=")
    assert script.startswith("BEGIN;")
    script = script.replace("BEGIN;", f'BEGIN;\nSET LOCAL search_path TO "{schema}";', 1)
    admin: Engine = request.getfixturevalue("postgres_admin")
    with admin.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(script)
    return empty_url


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = create_engine_for(url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_maker(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)
