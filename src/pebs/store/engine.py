"""Engines and sessions for SQLite (the default) and PostgreSQL (psycopg 3).

SQLite connections get ``journal_mode=WAL``, ``foreign_keys=ON``, a busy timeout and
``synchronous=FULL``; every transaction starts with ``BEGIN IMMEDIATE``, so it holds the single
writer lock from its first statement: concurrent writers queue (up to the busy timeout) instead of
failing half-way with "database is locked", and a read-then-write (next free slot, audit chain
head) cannot be overtaken. Sessions that only read can ask for a plain deferred ``BEGIN`` with
:func:`session_factory` (``read_only=True``).

PostgreSQL URLs (``postgresql://``, ``postgres://``) use the psycopg 3 driver. Transactions run at
READ COMMITTED; serialisation where it matters is explicit (row locks, the audit advisory lock).
A pooled connection that the server closed while it sat idle (a restart, an administrator ending
it) is replaced when next taken from the pool, before any statement runs on it
(:func:`_replace_dropped_connections`), so the first request after a database restart does not
fail; a healthy connection is not pinged, which would cost a round trip per transaction.

An engine keeps up to :data:`POOL_SIZE` connections open (of a file database or PostgreSQL),
and opens no more: a server answering many requests at once reuses them instead of opening and
closing one per request beyond the pool.

Services own transactions::

    Session = session_factory(create_engine_for(settings.database_url))
    with Session.begin() as session:      # commit on success, rollback on error
        ...
"""

from __future__ import annotations

import select
import threading
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["POOL_SIZE", "READ_ONLY_OPTION", "create_engine_for", "session_factory"]

READ_ONLY_OPTION = "pebs_read_only"
"""Execution option: on SQLite, begin with a deferred ``BEGIN`` (readers never block writers)."""

_SQLITE_BUSY_TIMEOUT_S = 60.0
POOL_SIZE = 15
"""Connections an engine keeps open, and the most it opens at once (SQLAlchemy's default pool
allowed 15 too, but kept only 5 and closed the others after each use). A request waits for a
free one (up to 30 s) when all are in use."""


def normalise_url(url: str | URL) -> URL:
    """Return ``url`` with the psycopg 3 driver for PostgreSQL; reject other databases.

    >>> normalise_url("postgres://u@h/db").drivername
    'postgresql+psycopg'
    >>> normalise_url("sqlite:///pebs.db").drivername
    'sqlite'
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend in ("postgres", "postgresql"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return parsed
    raise ValueError(f"database URL: unsupported database {backend!r}; use sqlite or postgresql")


def create_engine_for(
    url: str | URL,
    *,
    sqlite_foreign_keys: bool = True,
    sqlite_synchronous: str = "FULL",
    echo: bool = False,
) -> Engine:
    """Create the engine for ``url`` (SQLite or PostgreSQL) with pebs' connection settings.

    Nothing connects until the engine is first used.
    ``sqlite_foreign_keys=False`` is for migrations only (table rebuilds in batch mode);
    ``sqlite_synchronous="NORMAL"`` trades durability of the last commits on power loss for speed.

    >>> from sqlalchemy import text
    >>> engine = create_engine_for("sqlite://")
    >>> with session_factory(engine).begin() as session:
    ...     session.execute(text("PRAGMA foreign_keys")).scalar_one()
    1
    """
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, sqlite_foreign_keys, sqlite_synchronous, echo)
    engine = create_engine(parsed, pool_size=POOL_SIZE, max_overflow=0, echo=echo)
    _replace_dropped_connections(engine)
    return engine


def _replace_dropped_connections(engine: Engine) -> None:
    """Check a PostgreSQL connection as it leaves the pool, without a round trip.

    An idle connection has nothing to read: the server speaks only when asked. If its socket is
    readable, the server closed it (a restart or ``pg_terminate_backend`` sends a last message,
    then end-of-file) or sent a notice: then, and only then, a ``SELECT 1`` decides, and a
    connection that fails it is replaced by a new one (SQLAlchemy retries the checkout).
    """

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if not _has_input(dbapi_connection.fileno()):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise DisconnectionError(f"the database closed the connection: {error}") from error


def _has_input(fileno: int) -> bool:
    """Whether the socket ``fileno`` has bytes (or end-of-file) to read now (no waiting)."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fileno, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([fileno], [], [], 0)[0])


def session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    """A sessionmaker whose sessions keep loaded objects usable after commit.

    ``read_only=True`` marks the connections (:data:`READ_ONLY_OPTION`): on SQLite they begin
    deferred, so long reads do not hold the writer lock; on PostgreSQL the transactions are
    ``READ ONLY`` (the server refuses writes). :func:`pebs.store.append_event` refuses them too.
    """
    if not read_only:
        return sessionmaker(bind=engine, expire_on_commit=False)
    options: dict[str, Any] = {READ_ONLY_OPTION: True}
    if engine.dialect.name == "postgresql":
        options["postgresql_readonly"] = True
    return sessionmaker(bind=engine.execution_options(**options), expire_on_commit=False)


def _sqlite_engine(url: URL, foreign_keys: bool, synchronous: str, echo: bool) -> Engine:
    if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise ValueError(f"sqlite_synchronous: {synchronous!r} is not OFF, NORMAL, FULL or EXTRA")
    in_memory = url.database in (None, "", ":memory:")
    connect_args: dict[str, Any] = {"timeout": _SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
    pool: dict[str, Any] = {} if in_memory else {"pool_size": POOL_SIZE, "max_overflow": 0}
    engine = create_engine(url, connect_args=connect_args, echo=echo, **pool)
    pragmas = [
        f"PRAGMA busy_timeout = {int(_SQLITE_BUSY_TIMEOUT_S * 1000)}",
        f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}",
        f"PRAGMA synchronous = {synchronous.upper()}",
    ]
    if not in_memory:
        pragmas.insert(0, "PRAGMA journal_mode = WAL")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN (the driver's own implicit BEGIN is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            for pragma in pragmas:
                cursor.execute(pragma)
        finally:
            cursor.close()

    writers = _WriterQueue(engine)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY_OPTION, False):
            connection.exec_driver_sql("BEGIN")
            return
        writers.enter(connection.connection.dbapi_connection)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writers.leave(connection.connection.dbapi_connection)
            raise

    return engine


class WriterQueueTimeoutError(TimeoutError):
    """No SQLite write lock within the busy timeout: another writing transaction of this process
    did not end (:class:`_WriterQueue`); nothing was written."""


class _WriterQueue:
    """One writing transaction at a time per engine, queued on a lock instead of SQLite's busy
    handler.

    SQLite has one writer; a second ``BEGIN IMMEDIATE`` waits in the busy handler, which sleeps
    in growing steps (up to 100 ms), so under concurrent requests a waiting writer may sleep long
    after the lock is free (the tail latency of a web server's threads). Threads of this process
    wait on this lock instead and start as soon as the previous writer commits or rolls back;
    other processes still meet the busy handler. The lock is released after the driver's commit
    or rollback (the dialect's ``do_commit``/``do_rollback`` are wrapped for this engine only).
    """

    def __init__(self, engine: Engine) -> None:
        self._lock = threading.Lock()
        self._holder: Any = None
        dialect = engine.dialect
        commit, rollback = dialect.do_commit, dialect.do_rollback

        def do_commit(dbapi_connection: Any) -> None:
            try:
                commit(dbapi_connection)
            finally:
                self.leave(dbapi_connection)

        def do_rollback(dbapi_connection: Any) -> None:
            try:
                rollback(dbapi_connection)
            finally:
                self.leave(dbapi_connection)

        dialect.do_commit = do_commit  # type: ignore[method-assign]
        dialect.do_rollback = do_rollback  # type: ignore[method-assign]

    def enter(self, dbapi_connection: Any) -> None:
        if not self._lock.acquire(timeout=_SQLITE_BUSY_TIMEOUT_S):
            raise WriterQueueTimeoutError(
                f"no SQLite write lock after {_SQLITE_BUSY_TIMEOUT_S:.0f} s: another writing "
                "transaction of this process did not end"
            )
        self._holder = _raw(dbapi_connection)

    def leave(self, dbapi_connection: Any) -> None:
        if self._holder is not None and self._holder is _raw(dbapi_connection):
            self._holder = None
            self._lock.release()


def _raw(connection: Any) -> Any:
    """The driver's connection behind a pool proxy (SQLAlchemy passes either)."""
    return getattr(connection, "dbapi_connection", connection)
