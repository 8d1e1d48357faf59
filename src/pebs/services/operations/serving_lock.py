"""The serving lock: ``pebs db restore`` refuses to replace a database that a server is using.

``pebs serve`` holds the lock *shared* for as long as it runs (several servers may serve one
database); a restore takes it *exclusively*, without waiting, for the whole restore. So a
restore refuses while a server runs (unless told ``while_serving``), and a server refuses to
start while a restore runs.

- **SQLite**: an ``flock`` on the file ``<database>.serving-lock`` beside the database (mode
  0600). The operating system releases it when the process ends, however it ends.
- **PostgreSQL**: a session-level advisory lock (``pg_try_advisory_lock_shared`` /
  ``pg_try_advisory_lock``) on a connection of its own, keyed by the database and the
  ``search_path`` (two pebs schemas in one database do not share it). The server releases it
  when the connection closes.

The lock protects against pebs processes of this installation; it cannot stop someone who
writes to the database by other means (the deep verification reports that).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from pebs.services.errors import Conflict
from pebs.services.operations._database_state import backend_of, safe_url, unreachable
from pebs.store.engine import create_engine_for

__all__ = ["LOCK_SUFFIX", "ServingLock", "exclusive_lock", "hold_serving_lock", "lock_file"]

LOCK_SUFFIX = ".serving-lock"


class ServingLock:
    """A held serving lock; :meth:`release` it (or let the process end)."""

    def __init__(self, release: list) -> None:
        self._release = release

    def release(self) -> None:
        """Give the lock back (idempotent)."""
        while self._release:
            self._release.pop()()

    def __del__(self) -> None:
        self.release()


def lock_file(url: str) -> Path | None:
    """``<database>.serving-lock`` of a SQLite URL (``None``: in memory, or PostgreSQL)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(f"{parsed.database}{LOCK_SUFFIX}")


def hold_serving_lock(url: str) -> ServingLock:
    """Take the serving lock, shared, for a server; :class:`Conflict` while a restore runs."""
    refused = (
        f"a restore of {safe_url(url)} is running ('pebs db restore'); start the server when "
        "it is done"
    )
    return ServingLock(_take(url, shared=True, refused=refused))


@contextmanager
def exclusive_lock(url: str, *, while_serving: bool = False) -> Iterator[None]:
    """Hold the serving lock exclusively (a restore); :class:`Conflict` while a server holds it.

    ``while_serving`` skips the lock: the operator says the servers may carry on (they will not
    notice that the data was replaced).
    """
    if while_serving:
        yield
        return
    refused = (
        f"a pebs server is using {safe_url(url)} ('pebs serve'): stop it before restoring, or "
        "give --while-serving to restore under it"
    )
    held = ServingLock(_take(url, shared=False, refused=refused))
    try:
        yield
    finally:
        held.release()


def _take(url: str, *, shared: bool, refused: str) -> list:
    """Take the lock; the list of functions that release it."""
    if backend_of(url) == "postgresql":
        return _take_postgres(url, shared=shared, refused=refused)
    path = lock_file(url)
    if path is None or not path.parent.is_dir():
        return []  # nothing that another process could use
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise Conflict(refused) from None
    except OSError:
        os.close(descriptor)
        raise
    return [lambda: os.close(descriptor)]  # closing the file releases the lock


_KEY_QUERY = text("SELECT current_database(), current_setting('search_path')")


def _take_postgres(url: str, *, shared: bool, refused: str) -> list:
    engine = create_engine_for(url)
    try:
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    except OperationalError as error:
        engine.dispose()
        raise unreachable(url, error) from None
    try:
        key = _key(connection)
        function = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
        taken = connection.execute(text(f"SELECT {function}(:key)"), {"key": key}).scalar_one()
    except OperationalError as error:
        _close(connection, engine)
        raise unreachable(url, error) from None
    if not taken:
        _close(connection, engine)
        raise Conflict(refused)
    return [lambda: _close(connection, engine)]  # the session's advisory locks end with it


def _key(connection: Connection) -> int:
    database, search_path = connection.execute(_KEY_QUERY).one()
    digest = hashlib.sha256(f"pebs.serving\0{database}\0{search_path}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _close(connection: Connection, engine: Engine) -> None:
    try:
        connection.close()
    finally:
        engine.dispose()
