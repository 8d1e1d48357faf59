"""Group commit: many writing transactions share one database commit.

A durable commit (an ``fsync`` of SQLite's write-ahead log, PostgreSQL's WAL flush) costs about
as much as everything else a small use case does. :class:`GroupCommit` stands in for a
:class:`~sqlalchemy.orm.sessionmaker` in the use cases: each ``with group.begin() as session:``
runs in a savepoint (``SAVEPOINT``/``RELEASE``) of one shared transaction, so that a failing use
case is rolled back alone, and the shared transaction is committed

- as soon as no other writer is waiting to run (a single caller commits every use case: the
  group degrades to one transaction per use case),
- when ``max_batch`` use cases are waiting for it, or when the oldest has waited ``max_delay_s``.

A caller returns only after the commit that made its change durable (the group's leader commits
for everybody; the others wait for it), so "done" still means "on disk". If that commit fails,
every use case of the group is told so (:class:`GroupCommitError`) and none of them is stored.

Bulk work that answers nobody until the end (an import of thousands of women) holds the group
open with :meth:`GroupCommit.batch`: its use cases commit every ``max_delay_s`` or ``max_batch``,
and the last ones when the ``with`` block ends.

Writers queue on one lock (a single writer at a time, as SQLite has anyway); reads that do not
need the group's uncommitted changes use their own sessions (``group()``, like a sessionmaker).

A **rehearsal** (``GroupCommit(..., rehearsal=True)``: an import's dry run) never commits: every
use case runs in the one shared transaction, seeing the ones before it, and :meth:`close` rolls
it back, so nothing is stored and the audit trail is as before.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

__all__ = ["GroupCommit", "GroupCommitError", "GroupStats"]


class GroupCommitError(RuntimeError):
    """The shared commit failed: the use case's change was rolled back with its group's."""


@dataclass
class GroupStats:
    """What the group did: use cases stored, rolled back alone, and commits."""

    stored: int = 0
    rolled_back: int = 0
    commits: int = 0
    largest_group: int = 0
    sizes: list[int] = field(default_factory=list, repr=False)


class GroupCommit:
    """Writing transactions as savepoints of a shared transaction, committed together."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        max_delay_s: float = 0.005,
        max_batch: int = 500,
        rehearsal: bool = False,
    ) -> None:
        if max_delay_s <= 0 or max_batch < 1:
            raise ValueError("max_delay_s must be > 0 and max_batch >= 1")
        self._sessions = sessions
        self.rehearsal = rehearsal
        self.max_delay_s = max_delay_s
        self.max_batch = max_batch
        self.stats = GroupStats()
        self._writer = threading.Lock()
        self._state = threading.Condition()
        self._waiting = 0  # callers queued for the writer lock
        self._holds = 0  # open batch() blocks: no commit for lack of other writers
        self._session: Session | None = None
        self._pending = 0  # use cases in the open group
        self._opened_at = 0.0
        self._group = 0  # number of the open group
        self._committed = -1  # last group committed (or failed)
        self._failed: dict[int, BaseException] = {}
        self._bulk_failure: BaseException | None = None  # a failed commit while batch() held
        self._local = threading.local()

    def __call__(self) -> Session:
        """A session of its own (not in the group): it sees committed data only."""
        return self._sessions()

    @property
    def kw(self) -> dict:
        """The sessionmaker's settings (``sessionmaker.kw``), for code that inspects them."""
        return self._sessions.kw

    @contextmanager
    def begin(self) -> Iterator[Session]:
        """``with group.begin() as session:`` one use case in a savepoint of the open group.

        On an error inside the block only its savepoint is rolled back and the error is
        re-raised. On success the call returns once its group is committed.
        """
        with self._state:
            self._waiting += 1
        self._writer.acquire()
        with self._state:
            self._waiting -= 1
        stored = False
        try:
            session = self._shared()
            with session.begin_nested():
                yield session
            stored = True
        finally:
            group = self._leave(stored)
        if stored and not getattr(self._local, "bulk", False) and not self.rehearsal:
            self._await(group)

    @contextmanager
    def batch(self) -> Iterator[GroupCommit]:
        """Hold the group open for bulk work in this thread, then commit what is left.

        The thread's use cases return without waiting for their commit; groups are committed
        every ``max_delay_s`` or ``max_batch`` use cases, at :meth:`commit_pending` and at the
        end. If any commit fails meanwhile, :meth:`commit_pending` and the end of the block
        raise :class:`GroupCommitError`: what ran since the last successful
        :meth:`commit_pending` may be lost.
        """
        with self._state:
            self._holds += 1
            self._bulk_failure = None
        self._local.bulk = True
        try:
            yield self
        finally:
            self._local.bulk = False
            with self._state:
                self._holds -= 1
            self.commit_pending()

    def commit_pending(self) -> None:
        """Commit the open group now (no-op when empty); raise if it, or any commit since the
        last call in a :meth:`batch`, failed."""
        with self._writer:
            group = self._group
            if self._pending and not self.rehearsal:
                self._commit()
        self._raise_if_failed(group)
        with self._state:
            error, self._bulk_failure = self._bulk_failure, None
        if error is not None:
            raise GroupCommitError(
                f"a shared commit failed ({type(error).__name__}: {error}); changes made since "
                "the last successful commit may not be stored"
            ) from error

    def close(self) -> None:
        """Commit what is pending (a rehearsal: roll everything back) and release the shared
        session."""
        if self.rehearsal:
            with self._writer:
                if self._session is not None:
                    self._session.rollback()
                self._pending = 0
        self.commit_pending()
        with self._writer:
            if self._session is not None:
                self._session.close()
                self._session = None

    # -- inside the writer lock --------------------------------------------------------------

    def _shared(self) -> Session:
        if self._session is None:
            self._session = self._sessions()
        return self._session

    def _leave(self, stored: bool) -> int:
        """Account for the use case that just ran, commit if due, release the writer lock."""
        try:
            group = self._group
            if stored:
                if not self._pending:
                    self._opened_at = time.monotonic()
                self._pending += 1
                self.stats.stored += 1
            else:
                self.stats.rolled_back += 1
            if self._pending and self._due():
                self._commit()
            elif not self._pending and self._session is not None:
                self._session.close()  # nothing to keep: end the transaction and its locks
                self._session = None
            return group
        finally:
            self._writer.release()

    def _due(self) -> bool:
        if self.rehearsal:
            return False
        with self._state:
            alone = self._waiting == 0 and self._holds == 0
        return (
            alone
            or self._pending >= self.max_batch
            or time.monotonic() - self._opened_at >= self.max_delay_s
        )

    def _commit(self) -> None:
        group, size = self._group, self._pending
        session = self._session
        error: BaseException | None = None
        try:
            assert session is not None
            session.commit()
        except BaseException as caught:  # the whole group is lost: tell every member
            error = caught
            if session is not None:
                session.rollback()
        finally:
            if session is not None:
                session.close()  # a fresh identity map for the next group
            self._session = None
            self._pending = 0
            self.stats.commits += 1
            self.stats.sizes.append(size)
            self.stats.largest_group = max(self.stats.largest_group, size)
            with self._state:
                if error is not None:
                    self._failed[group] = error
                    if self._holds:
                        self._bulk_failure = self._bulk_failure or error
                self._committed = group
                self._group = group + 1
                self._state.notify_all()

    # -- outside the writer lock -------------------------------------------------------------

    def _await(self, group: int) -> None:
        """Return when ``group`` is committed; commit it ourselves if nobody does in time."""
        while True:
            with self._state:
                if self._committed >= group:
                    break
                self._state.wait(self.max_delay_s)
                if self._committed >= group:
                    break
            with self._writer:  # overdue: whoever holds the writer lock will commit, or we do
                if self._group == group and self._pending:
                    self._commit()
        self._raise_if_failed(group)

    def _raise_if_failed(self, group: int) -> None:
        with self._state:
            error = self._failed.get(group)
        if error is not None:
            raise GroupCommitError(
                f"the shared commit failed ({type(error).__name__}: {error}); this change and "
                "the others committed with it were not stored"
            ) from error
