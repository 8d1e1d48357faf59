"""Engines: SQLite pragmas and writer serialisation; URL handling; PostgreSQL driver."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from pebs.store.engine import create_engine_for, normalise_url, session_factory


@pytest.fixture
def sqlite_engine(tmp_path) -> Engine:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'pebs.db'}")
    yield engine
    engine.dispose()


def test_sqlite_connection_settings(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as connection:
        pragma = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar_one()
            for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
        }
    assert pragma == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 60000,
        "synchronous": 2,
    }


def test_sqlite_writers_queue_instead_of_failing(sqlite_engine: Engine) -> None:
    """A second writer waits for the first to commit, then sees its write (no lost update)."""
    with sqlite_engine.begin() as connection:
        connection.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        connection.execute(text("INSERT INTO counter VALUES (0)"))
    Session = session_factory(sqlite_engine)
    n_threads, n_each = 6, 20
    errors: list[BaseException] = []

    def increment() -> None:
        try:
            for _ in range(n_each):
                with Session.begin() as session:  # read, then write: a lost update if unserialised
                    n = session.execute(text("SELECT n FROM counter")).scalar_one()
                    time.sleep(0.0005)
                    session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=increment) for _ in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sqlite_engine.connect() as connection:
        assert connection.execute(text("SELECT n FROM counter")).scalar_one() == n_threads * n_each


def test_sqlite_read_only_sessions_do_not_wait_for_writers(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
    writer = session_factory(sqlite_engine)()
    writer.execute(text("UPDATE t SET n = 2"))  # holds the writer lock, not committed
    try:
        started = time.perf_counter()
        with session_factory(sqlite_engine, read_only=True)() as reader:
            assert reader.execute(text("SELECT n FROM t")).scalar_one() == 1  # snapshot
        assert time.perf_counter() - started < 5
    finally:
        writer.rollback()
        writer.close()


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("sqlite:///pebs.db", "sqlite"),
    ],
)
def test_urls_are_normalised(url: str, driver: str) -> None:
    assert normalise_url(url).drivername == driver


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(ValueError, match="mysql"):
        create_engine_for("mysql://u@h/db")
    with pytest.raises(ValueError, match="sqlite_synchronous"):
        create_engine_for("sqlite://", sqlite_synchronous="sometimes")


def test_both_backends_connect(engine: Engine, backend: str) -> None:
    assert engine.dialect.name == backend
    if backend == "postgresql":
        assert engine.dialect.driver == "psycopg"
    with session_factory(engine).begin() as session:
        assert session.execute(text("SELECT 1")).scalar_one() == 1


def test_read_only_sessions_on_postgresql_refuse_writes(engine: Engine, backend: str) -> None:
    read_only = session_factory(engine, read_only=True)
    with read_only() as session:
        assert session.execute(text("SELECT count(*) FROM studies")).scalar_one() == 0
    if backend == "postgresql":
        with read_only() as session, pytest.raises(DBAPIError, match="read-only"):
            session.execute(
                text("INSERT INTO studies (name, title, created_at) VALUES ('x', 'x', now())")
            )
    with session_factory(
        engine
    ).begin() as session:  # the pool hands out writable connections again
        session.execute(
            text("INSERT INTO studies (name, title, created_at) VALUES ('y', 'y', :at)"),
            {"at": "2025-01-01 00:00:00"},
        )


def test_connections_are_kept_for_reuse(engine: Engine) -> None:
    """More connections at once than SQLAlchemy's default pool keeps (5): all stay open for the
    next requests instead of being closed after use."""
    connections = [engine.connect() for _ in range(8)]
    for connection in connections:
        connection.execute(text("SELECT 1"))
        connection.close()
    assert engine.pool.checkedin() == 8


def test_a_connection_the_server_ended_is_replaced_before_use(
    engine: Engine, backend: str, postgres_admin: Engine
) -> None:
    """The server ends an idle pooled connection (as a restart does): the next session gets a
    working connection, not an error."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL connections only")
    sessions = session_factory(engine)
    with sessions() as session:
        ended = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with postgres_admin.connect() as admin:
        assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": ended}).scalar()
    for _ in range(100):  # the server closes the socket just after answering the admin
        with postgres_admin.connect() as admin:
            gone = not admin.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": ended}
            ).scalar_one()
        if gone:
            break
        time.sleep(0.01)
    with sessions() as session:
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    assert pid != ended
