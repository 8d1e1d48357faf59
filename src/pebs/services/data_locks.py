"""Locked data refuses every write: a locked study, a locked participant, a locked form.

Every use case that changes a woman's record finds her through the writing lookup of
:mod:`pebs.services.subject` (``for_update=True``), which calls :func:`refuse_locked_writes`:

- her **study** locked (database lock): :class:`~.errors.Conflict` at once;
- **she** is locked (all her forms): :class:`~.errors.Conflict` at once;
- a **form instance** of hers is locked: the lookup cannot know which forms the use case will
  write, so it *arms a guard*: the SHA-256 of each locked instance as it was locked
  (:mod:`pebs.services.casebook_content`) is compared with the instance as it is when the use
  case appends its audit event (every write appends one, after its change,
  :data:`pebs.store.audit.BEFORE_APPEND`); a changed instance refuses the write, and the use
  case's transaction (or savepoint) rolls back. New instances (a new visit) are not locked.

A use case that creates women or reaches them through other records (registration, the
laboratory's genotype batches) asks :func:`refuse_if_study_locked` for its study. The message
names what is locked, by whom and since when (UTC), and how to unlock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, event, literal, select, union_all
from sqlalchemy.orm import Session, SessionTransaction

from pebs.services.errors import Conflict
from pebs.store.audit import BEFORE_APPEND
from pebs.store.models import FormLock, ParticipantLock, Study, StudyLock, User
from pebs.trial.forms import form_named

__all__ = ["Writing", "refuse_if_study_locked", "refuse_locked_writes"]


@dataclass(frozen=True)
class Writing:
    """A woman a use case is about to change: her row id, study ID and study's row id."""

    participant_id: int
    study_id: str
    study_pk: int


@dataclass(frozen=True)
class _ArmedLock:
    woman: Writing
    form: str
    key: int
    values_sha256: str
    locked_at: datetime
    locked_by: str


_ARMED = "pebs.locks.armed"
"""``session.info`` key: the locked form instances of the women written in this transaction."""


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def study_locked(study: str, locked_by: str, locked_at: datetime) -> Conflict:
    """The error of a write in a locked study."""
    return Conflict(
        f"study {study} is locked by {locked_by} since {_when(locked_at)}: no change is "
        "accepted until it is unlocked (pebs study unlock, with a reason)",
        message_code="error.study_locked",
        values={"study": study, "by": locked_by, "since": _when(locked_at)},
    )


def _participant_locked(study_id: str, locked_by: str, locked_at: datetime) -> Conflict:
    return Conflict(
        f"the casebook of {study_id} is locked by {locked_by} since {_when(locked_at)}: a data "
        "manager must unlock it (with a reason) before any change",
        message_code="error.participant_locked",
        values={"study_id": study_id, "by": locked_by, "since": _when(locked_at)},
    )


def _form_locked(lock: _ArmedLock) -> Conflict:
    form = form_named(lock.form)
    instance = lock.form if not form.repeating else f"{lock.form} {lock.key}"
    return Conflict(
        f"the {instance} form of {lock.woman.study_id} is locked by {lock.locked_by} since "
        f"{_when(lock.locked_at)}: a data manager must unlock it (with a reason) before it can "
        "change",
        message_code="error.form_locked",
        values={"form": instance, "study_id": lock.woman.study_id, "by": lock.locked_by,
                "since": _when(lock.locked_at)},
    )  # fmt: skip


_OPEN_STUDY_LOCK = (
    select(Study.name, StudyLock.locked_by, StudyLock.locked_at)
    .join(Study, Study.id == StudyLock.study_id)
    .where(StudyLock.study_id.in_(bindparam("study_pks", expanding=True)))
    .where(StudyLock.unlocked_at.is_(None))
    .limit(1)
)


def refuse_if_study_locked(session: Session, study_pk: int) -> None:
    """:class:`~.errors.Conflict` if the study with row id ``study_pk`` is locked."""
    row = session.execute(_OPEN_STUDY_LOCK, {"study_pks": [study_pk]}).first()
    if row is not None:
        raise study_locked(*row)


_LOCKS = union_all(
    select(
        literal("participant").label("kind"), ParticipantLock.participant_id,
        literal("").label("form"), literal(0).label("form_key"),
        literal("").label("values_sha256"), ParticipantLock.locked_at, User.username,
    )
    .join(User, User.id == ParticipantLock.locked_by_id)
    .where(ParticipantLock.participant_id.in_(bindparam("ids", expanding=True))),
    select(
        literal("form").label("kind"), FormLock.participant_id, FormLock.form, FormLock.form_key,
        FormLock.values_sha256, FormLock.locked_at, User.username,
    )
    .join(User, User.id == FormLock.locked_by_id)
    .where(FormLock.participant_id.in_(bindparam("ids", expanding=True))),
)  # fmt: skip


def refuse_locked_writes(session: Session, women: Iterable[Writing]) -> None:
    """Refuse a write about ``women`` if their study or one of them is locked; arm the guard of
    their locked form instances (module docstring). Two statements whatever their number."""
    by_id = {woman.participant_id: woman for woman in women}
    if not by_id:
        return
    study_pks = sorted({woman.study_pk for woman in by_id.values()})
    row = session.execute(_OPEN_STUDY_LOCK, {"study_pks": study_pks}).first()
    if row is not None:
        raise study_locked(*row)
    armed: list[_ArmedLock] = []
    for lock in session.execute(_LOCKS, {"ids": list(by_id)}):
        woman = by_id[lock.participant_id]
        if lock.kind == "participant":
            raise _participant_locked(woman.study_id, lock.username, lock.locked_at)
        armed.append(_ArmedLock(woman, lock.form, lock.form_key, lock.values_sha256,
                                lock.locked_at, lock.username))  # fmt: skip
    if armed:
        _arm(session, armed)


def writing_of(row: Row[Any]) -> Writing:
    """The :class:`Writing` of a row of :func:`pebs.services.subject.participant_facts`."""
    return Writing(row.participant_id, row.study_id, row.study_pk)


def _arm(session: Session, locks: list[_ArmedLock]) -> None:
    armed: dict[tuple[int, str, int], _ArmedLock] = session.info.setdefault(_ARMED, {})
    for lock in locks:
        armed[(lock.woman.participant_id, lock.form, lock.key)] = lock
    checks = session.info.setdefault(BEFORE_APPEND, [])
    if _check_armed not in checks:
        checks.append(_check_armed)


def _check_armed(session: Session) -> None:
    """The guard: refuse if a locked instance of a woman written here has changed."""
    # Imported here: the casebook reader builds on the records services, which find women
    # through pebs.services.subject, whose writing lookup imports this module.
    from pebs.services.casebook_content import casebook_of, instance_key, instance_sha256

    armed: dict[tuple[int, str, int], _ArmedLock] = session.info.get(_ARMED, {})
    women = {lock.woman for lock in armed.values()}
    for woman in sorted(women, key=lambda w: w.participant_id):
        casebook = casebook_of(session, woman.participant_id, woman.study_pk)
        now = {instance_key(i): instance_sha256(i) for i in casebook.forms}
        for (pid, form, key), lock in armed.items():
            if pid == woman.participant_id and now.get((form, key)) != lock.values_sha256:
                raise _form_locked(lock)


@event.listens_for(Session, "after_transaction_end")
def _disarm(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the root transaction ended (commit or rollback)
        session.info.pop(_ARMED, None)
