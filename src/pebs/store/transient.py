"""Transient database failures: the database was busy, not the request wrong.

A failure is transient when the same transaction, run again a moment later, may well succeed,
and its transaction was rolled back (nothing of it is stored):

- PostgreSQL, by SQLSTATE (PostgreSQL documentation, appendix A, "PostgreSQL Error Codes"):
  ``40001`` serialization_failure and ``40P01`` deadlock_detected (the server chose this
  transaction as the one to roll back), ``55P03`` lock_not_available (``lock_timeout`` or
  ``NOWAIT``), ``57P01`` admin_shutdown, ``57P02`` crash_shutdown, ``57P03`` cannot_connect_now,
  and class ``08`` (connection exception); also a connection that SQLAlchemy found lost
  (``connection_invalidated``) and psycopg's own failures of the connection, which carry no
  SQLSTATE (the server could not be reached or stopped answering);
- SQLite: ``SQLITE_BUSY`` ("database is locked": another connection held the write lock past the
  busy timeout) and ``SQLITE_LOCKED`` ("database table is locked"), by the driver's error code
  or, without one, by the message;
- both: no connection free in the engine's pool within its timeout (every connection busy:
  SQLAlchemy's pool ``TimeoutError``), and no SQLite write lock within the busy timeout because
  another writing transaction of this process did not end
  (:class:`~pebs.store.engine.WriterQueueTimeoutError`): the transaction never started.

Integrity and programming errors, and every other database error, are not transient: they say
something about the request or the code. :func:`transient_reason` looks at the error and at
what it was raised from (a :class:`~pebs.store.group_commit.GroupCommitError` is raised from its
shared commit's failure), so the entry points classify whatever reaches them.

>>> import sqlite3
>>> from sqlalchemy.exc import IntegrityError, OperationalError
>>> is_transient(OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError(
...     "database is locked")))
True
>>> is_transient(IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed")))
False
"""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from pebs.store.engine import WriterQueueTimeoutError
from pebs.store.group_commit import GroupCommitError

__all__ = [
    "MAY_BE_TRANSIENT",
    "SQLITE_MESSAGES",
    "TRANSIENT_SQLSTATES",
    "is_transient",
    "transient_reason",
]

TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03", "57P01", "57P02", "57P03"})
"""PostgreSQL's transient SQLSTATEs besides those of class ``08`` (connection exception)."""

SQLITE_MESSAGES = ("database is locked", "database table is locked", "database is busy")
"""How SQLite words its busy and locked results (a driver without error codes)."""

_SQLITE_CODES = ("SQLITE_BUSY", "SQLITE_LOCKED")  # primary codes; extended ones add a suffix

_WAITED_TOO_LONG: tuple[type[Exception], ...] = (PoolTimeout, WriterQueueTimeoutError)
"""Waits for a connection or for this process's SQLite writer that ran out: always transient."""

MAY_BE_TRANSIENT: tuple[type[Exception], ...] = (DBAPIError, GroupCommitError, *_WAITED_TOO_LONG)
"""The exceptions a transient failure reaches a caller as: SQLAlchemy's wrapper of the
driver's error, the group commit's report that the shared commit failed, or a wait for a
connection or for the writer lock that ran out."""


def transient_reason(error: BaseException) -> str | None:
    """The first line of the driver's message if ``error`` (or an error it was raised from) is
    a transient database failure, for a log or an operator; ``None`` if it is not one."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _WAITED_TOO_LONG) or (
            isinstance(current, DBAPIError) and _is_transient(current)
        ):
            failure = getattr(current, "orig", None) or current
            lines = str(failure).strip().splitlines()
            return lines[0] if lines else type(failure).__name__
        current = current.__cause__
    return None


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` is a transient database failure (:func:`transient_reason`)."""
    return transient_reason(error) is not None


def _is_transient(error: DBAPIError) -> bool:
    if error.connection_invalidated:
        return True
    orig = error.orig
    if isinstance(orig, sqlite3.Error):
        name = getattr(orig, "sqlite_errorname", None)
        if name is not None:
            return any(name == code or name.startswith(f"{code}_") for code in _SQLITE_CODES)
        return str(orig).strip().lower().startswith(SQLITE_MESSAGES)
    if not hasattr(orig, "sqlstate"):  # not psycopg: no rule for this driver
        return False
    sqlstate = orig.sqlstate
    if sqlstate is None:  # psycopg's own failure to reach the server or to hear from it
        import psycopg  # already imported: the error is one of its own

        return isinstance(orig, psycopg.OperationalError)
    return sqlstate in TRANSIENT_SQLSTATES or sqlstate.startswith("08")
