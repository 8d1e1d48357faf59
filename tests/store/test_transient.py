"""The classification of database failures as transient, against failures the databases really
raise: SQLite's writer lock held past the busy timeout, and PostgreSQL's lock timeout, deadlock,
serialisation failure and a connection ended by an administrator (the SQLSTATEs of the
PostgreSQL documentation, appendix A); integrity and programming errors are not transient.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import QueuePool

from pebs.store import engine as engine_module
from pebs.store.engine import WriterQueueTimeoutError, create_engine_for
from pebs.store.group_commit import GroupCommitError
from pebs.store.transient import is_transient, transient_reason


def _raised(run: Callable[[], object]) -> DBAPIError:
    with pytest.raises(DBAPIError) as caught:
        run()
    return caught.value


# -- SQLite -------------------------------------------------------------------------------------


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    path = tmp_path / "locks.db"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode = WAL")
        setup.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)")
        setup.execute("INSERT INTO t (v) VALUES ('a')")
    setup.close()
    return path


def _sqlite_engine(path: Path) -> Engine:
    """Plain SQLAlchemy on the file, with a 50 ms busy timeout."""
    return create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.05})


def test_sqlite_writer_lock_held_past_the_busy_timeout_is_transient(sqlite_file: Path) -> None:
    holder = sqlite3.connect(sqlite_file, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's writing transaction
    engine = _sqlite_engine(sqlite_file)
    try:
        with engine.connect() as connection:
            error = _raised(lambda: connection.exec_driver_sql("BEGIN IMMEDIATE"))
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()
    assert isinstance(error, OperationalError)
    assert isinstance(error.orig, sqlite3.OperationalError)
    assert error.orig.sqlite_errorname == "SQLITE_BUSY"
    assert is_transient(error)
    assert transient_reason(error) == "database is locked"


def test_sqlite_integrity_and_programming_errors_are_not_transient(sqlite_file: Path) -> None:
    engine = _sqlite_engine(sqlite_file)
    try:
        with engine.connect() as connection:
            duplicate = _raised(lambda: connection.execute(text("INSERT INTO t (v) VALUES ('a')")))
            connection.rollback()
            no_table = _raised(lambda: connection.execute(text("SELECT * FROM missing")))
    finally:
        engine.dispose()
    assert isinstance(duplicate, IntegrityError)
    assert not is_transient(duplicate)
    # SQLite reports a missing table as an OperationalError too: the class alone does not decide.
    assert isinstance(no_table, OperationalError)
    assert not is_transient(no_table)
    assert transient_reason(no_table) is None


@pytest.mark.parametrize(
    "message", ["database is locked", "database table is locked", "database is busy"]
)
def test_sqlite_busy_messages_are_transient_without_an_error_code(message: str) -> None:
    """A driver exception that carries no SQLite error code is judged by SQLite's words."""
    error = OperationalError("COMMIT", {}, sqlite3.OperationalError(message))
    assert is_transient(error)


def test_a_group_commit_that_failed_transiently_is_transient() -> None:
    locked = OperationalError("COMMIT", {}, sqlite3.OperationalError("database is locked"))
    duplicate = IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed"))
    for cause, transient in ((locked, True), (duplicate, False)):
        with pytest.raises(GroupCommitError) as caught:
            raise GroupCommitError("the shared commit failed") from cause
        assert is_transient(caught.value) is transient
    assert not is_transient(RuntimeError("database is locked"))  # not a database error


def test_no_free_pooled_connection_within_the_pool_timeout_is_transient(
    sqlite_file: Path,
) -> None:
    engine = create_engine(f"sqlite:///{sqlite_file}", poolclass=QueuePool, pool_size=1,
                           max_overflow=0, pool_timeout=0.05)  # fmt: skip
    try:
        with engine.connect(), pytest.raises(PoolTimeout) as caught:
            engine.connect()  # the only connection is taken
    finally:
        engine.dispose()
    assert is_transient(caught.value)
    assert "QueuePool limit" in (transient_reason(caught.value) or "")


def test_no_write_lock_from_this_process_s_writer_queue_is_transient(
    sqlite_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writing transaction of this process that does not end holds up the next one (pebs'
    engine queues this process's writers on a lock, then gives up after the busy timeout)."""
    monkeypatch.setattr(engine_module, "_SQLITE_BUSY_TIMEOUT_S", 0.05)
    engine = create_engine_for(f"sqlite:///{sqlite_file}")
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with engine.begin() as connection:  # BEGIN IMMEDIATE: this process's writer
            connection.execute(text("UPDATE t SET v = 'held'"))
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(5)
        with pytest.raises(WriterQueueTimeoutError) as caught, engine.begin() as connection:
            connection.execute(text("UPDATE t SET v = 'second'"))
    finally:
        release.set()
        holder.join(5)
        engine.dispose()
    assert is_transient(caught.value)
    assert not is_transient(TimeoutError("an unrelated wait ran out"))


# -- PostgreSQL ---------------------------------------------------------------------------------


@pytest.fixture
def pg_url(backend: str, empty_url: str) -> str:
    if backend != "postgresql":
        pytest.skip("PostgreSQL SQLSTATEs")
    return empty_url


@pytest.fixture
def pg(pg_url: str) -> Iterator[Engine]:
    engine = create_engine(make_url(pg_url).set(drivername="postgresql+psycopg"))
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
        connection.execute(text("INSERT INTO t VALUES (1, 'a'), (2, 'b')"))
    yield engine
    engine.dispose()


def _sqlstate(error: DBAPIError) -> str | None:
    return getattr(error.orig, "sqlstate", None)


def test_postgresql_lock_timeout_is_transient(pg: Engine) -> None:
    with pg.connect() as holder, pg.connect() as waiter:
        holder.execute(text("SELECT pg_advisory_xact_lock(7)"))
        waiter.execute(text("SET lock_timeout = '100ms'"))
        error = _raised(lambda: waiter.execute(text("SELECT pg_advisory_xact_lock(7)")))
    assert _sqlstate(error) == "55P03"  # lock_not_available
    assert is_transient(error)


def test_postgresql_deadlock_is_transient(pg: Engine) -> None:
    """Two transactions each hold one row and ask for the other's: the server rolls one back."""
    errors: list[DBAPIError] = []
    first_has_row = threading.Event()
    second_has_row = threading.Event()

    def update(connection: Connection, mine: int, theirs: int, ready: threading.Event,
               other_ready: threading.Event) -> None:  # fmt: skip
        try:
            connection.execute(text("UPDATE t SET v = v || '+' WHERE id = :id"), {"id": mine})
            ready.set()
            assert other_ready.wait(10)
            connection.execute(text("UPDATE t SET v = v || '+' WHERE id = :id"), {"id": theirs})
        except DBAPIError as error:
            errors.append(error)
            ready.set()
        finally:
            connection.rollback()

    with pg.connect() as one, pg.connect() as two:
        threads = [
            threading.Thread(target=update, args=(one, 1, 2, first_has_row, second_has_row)),
            threading.Thread(target=update, args=(two, 2, 1, second_has_row, first_has_row)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert len(errors) == 1, errors
    assert _sqlstate(errors[0]) == "40P01"  # deadlock_detected
    assert is_transient(errors[0])
    assert transient_reason(errors[0]) == "deadlock detected"


def test_postgresql_serialization_failure_is_transient(pg: Engine) -> None:
    with pg.connect() as one, pg.connect() as two:
        for connection in (one, two):
            connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            connection.execute(text("SELECT v FROM t WHERE id = 1")).scalar_one()
        one.execute(text("UPDATE t SET v = 'one' WHERE id = 1"))
        one.commit()
        error = _raised(lambda: two.execute(text("UPDATE t SET v = 'two' WHERE id = 1")))
    assert _sqlstate(error) == "40001"  # serialization_failure
    assert is_transient(error)


def test_postgresql_connection_ended_by_an_administrator_is_transient(pg: Engine) -> None:
    with pg.connect() as victim, pg.connect() as admin:
        pid = victim.execute(text("SELECT pg_backend_pid()")).scalar_one()
        victim.commit()
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.commit()
        error = _raised(lambda: victim.execute(text("SELECT 1")))
    # 57P01 admin_shutdown if the server's last message is read, else psycopg's own report
    # that the connection closed (no SQLSTATE); SQLAlchemy marks the connection lost either way.
    assert _sqlstate(error) in ("57P01", None)
    assert is_transient(error)


def test_postgresql_integrity_and_programming_errors_are_not_transient(pg: Engine) -> None:
    with pg.connect() as connection:
        duplicate = _raised(lambda: connection.execute(text("INSERT INTO t VALUES (3, 'a')")))
        connection.rollback()
        no_table = _raised(lambda: connection.execute(text("SELECT * FROM missing")))
        connection.rollback()
    assert isinstance(duplicate, IntegrityError)
    assert _sqlstate(duplicate) == "23505"  # unique_violation
    assert not is_transient(duplicate)
    assert isinstance(no_table, ProgrammingError)
    assert _sqlstate(no_table) == "42P01"  # undefined_table
    assert not is_transient(no_table)
