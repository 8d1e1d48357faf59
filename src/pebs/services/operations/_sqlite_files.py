"""SQLite files for backup and restore, with the ``sqlite3`` online backup API.

The backup API copies a database page by page inside one read transaction of the source: on a
WAL database writers carry on meanwhile, and the copy is the database as of that transaction,
including commits still in ``-wal``. Copies are written in rollback-journal mode (one
self-contained file, no ``-wal``/``-shm`` beside it) and checked with ``PRAGMA integrity_check``.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import NullPool

from pebs.services.errors import BackupRejected

__all__ = ["copy_database", "has_tables", "read_only_engine", "replace_database"]

_BUSY_TIMEOUT_S = 60.0
_PRIVATE = 0o600


def _read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection; never creates ``path``."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=_BUSY_TIMEOUT_S)


def copy_database(source: Path, target: Path) -> None:
    """Copy the database ``source`` (may be live) to the new file ``target``, fsynced.

    ``target`` is created readable by its owner only (mode 0600): it holds the trial data.

    :class:`BackupRejected` if the copy fails ``PRAGMA integrity_check`` (``source`` is damaged or
    not a database).
    """
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE))  # 0600 from birth
    try:
        with closing(_read_only(source)) as reader, closing(sqlite3.connect(target)) as writer:
            reader.backup(writer)  # one step: one read transaction, a consistent copy
            writer.execute("PRAGMA journal_mode = DELETE").fetchall()  # WAL folded: one file
            problems = [row[0] for row in writer.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as error:
        raise BackupRejected(f"{source}: cannot be copied as a SQLite database: {error}") from None
    if problems != ["ok"]:
        raise BackupRejected(f"{source}: integrity check failed: {'; '.join(problems[:3])}")
    _fsync(target)


def replace_database(staged: Path, target: Path) -> None:
    """Make ``target`` the database ``staged``, atomically; ``staged`` is consumed.

    A missing ``target`` is a rename. An existing one is overwritten through the backup API in a
    single write transaction of ``target``: readers see the old or the new database, never a
    mixture, and its ``-wal``/``-shm`` files stay consistent (renaming over a database file
    would leave a stale ``-wal`` to be replayed into the new file, and connections still open
    would keep writing to the old one).
    """
    if not target.exists():
        _fsync(staged)
        os.replace(staged, target)
        _fsync_folder(target.parent)
        return
    try:
        with closing(_read_only(staged)) as reader, closing(_writer(target)) as writer:
            reader.backup(writer)
    finally:
        staged.unlink(missing_ok=True)


def _writer(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S)
    connection.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")
    return connection


def has_tables(path: Path) -> bool:
    """True when the SQLite file ``path`` exists and holds at least one table."""
    if not path.exists() or path.stat().st_size == 0:
        return False
    with closing(_read_only(path)) as connection:
        query = "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
        return connection.execute(query).fetchone()[0] > 0


@contextmanager
def read_only_engine(path: Path) -> Iterator[Engine]:
    """An SQLAlchemy engine that only reads ``path`` (no WAL switch, no side files created on a
    rollback-journal file)."""
    engine = create_engine("sqlite://", creator=lambda: _read_only(path), poolclass=NullPool)
    try:
        yield engine
    finally:
        engine.dispose()


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_folder(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # some platforms cannot open folders; the rename is still atomic
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
