"""Study (database) lock: no write in the study is accepted until it is unlocked; the lock
produces a snapshot of the locked database, whose SHA-256 the audit trail records.

Locking, in order:

1. the lock is recorded (a ``study_locks`` row and a ``study_locked`` event, entity ``study``):
   from then on every writing lookup, registration and genotype batch of the study is refused
   (:mod:`pebs.services.data_locks`);
2. the snapshot is written by the backup machinery
   (:func:`pebs.services.operations.backup_database`): on SQLite a self-contained SQLite copy
   of the database (the file a statistician opens with any SQLite reader), on PostgreSQL a
   ``pg_dump`` custom-format archive; with its signed manifest and the ``backup`` event;
3. the snapshot's file name and SHA-256 are stored with the lock and in a
   ``study_lock_snapshot`` event.

If the snapshot cannot be written, the lock is released again (``study_unlocked``, the reason
naming the failure) and the error is raised: a lock always has its snapshot. Unlocking needs a
reason and is audited; the snapshot stays as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from pebs.io.errors import FileAccessError
from pebs.services.actor import Action, Actor, require
from pebs.services.data_locks import study_locked
from pebs.services.errors import Conflict, InvalidInput, ServiceError
from pebs.services.operations import backup_database
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.transaction import instant, transaction
from pebs.services.trial.study_rules import study_named
from pebs.store.audit import append_event
from pebs.store.models import StudyLock

__all__ = [
    "StudyLockView",
    "lock_study",
    "snapshot_name",
    "study_lock_status",
    "unlock_study",
]

REASON_CHARS = 500


@dataclass(frozen=True)
class StudyLockView:
    """A study's lock: open (``locked``) or the last one released, or none (``locked_at``
    ``None``)."""

    study: str
    locked: bool
    locked_by: str | None = None
    locked_at: datetime | None = None
    reason: str | None = None
    snapshot_file: str | None = None
    snapshot_sha256: str | None = None
    """SHA-256 (hex) of the snapshot file, as recorded in the audit trail."""
    unlocked_by: str | None = None
    unlocked_at: datetime | None = None
    unlock_reason: str | None = None


def snapshot_name(study: str, database_url: str, at: datetime) -> str:
    """``<study>-<UTC time>.sqlite`` (``.dump``: a pg_dump archive on PostgreSQL): the file the
    API and the pages write a study's snapshot to, in the installation's snapshot folder."""
    suffix = "sqlite" if make_url(database_url).get_backend_name() == "sqlite" else "dump"
    return f"{study}-{at.astimezone(UTC).strftime('%Y%m%dT%H%M%S.%fZ')}.{suffix}"


def _view(study: str, row: StudyLock | None) -> StudyLockView:
    if row is None:
        return StudyLockView(study, False)
    return StudyLockView(
        study, row.unlocked_at is None, row.locked_by, row.locked_at, row.reason,
        row.snapshot_file, row.snapshot_sha256, row.unlocked_by, row.unlocked_at,
        row.unlock_reason,
    )  # fmt: skip


def _reason(reason: str | None, what: str) -> str:
    text = (reason or "").strip()
    if not text or len(text) > REASON_CHARS:
        raise InvalidInput(f"give the reason for {what} (1 to {REASON_CHARS} characters)",
                           field="reason", message_code="error.reason_needed",
                           values={"max": REASON_CHARS})  # fmt: skip
    return text


def _latest(session: Session, study_pk: int) -> StudyLock | None:
    return session.scalar(
        select(StudyLock).where(StudyLock.study_id == study_pk)
        .order_by(StudyLock.id.desc()).limit(1)
    )  # fmt: skip


@refuses_unstorable_text
def study_lock_status(
    session_maker: sessionmaker[Session], actor: Actor, study: str
) -> StudyLockView:
    """Whether ``study`` is locked, by whom, since when, and its snapshot."""
    require(actor, Action.READ_PARTICIPANT)
    with session_maker() as session, session.begin():
        return _view(study, _latest(session, study_named(session, study).id))


@refuses_unstorable_text
def lock_study(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study: str,
    *,
    reason: str,
    snapshot: Path,
    database_url: str,
    installation_key: bytes,
    at: datetime | None = None,
) -> StudyLockView:
    """Lock ``study`` and write its snapshot to the new file ``snapshot`` (module docstring)."""
    require(actor, Action.LOCK_STUDY)
    why = _reason(reason, "locking the study")
    now = instant(at)
    with transaction(session_maker) as session:
        found = study_named(session, study)
        latest = _latest(session, found.id)
        if latest is not None and latest.unlocked_at is None:
            raise study_locked(study, latest.locked_by, latest.locked_at)
        row = StudyLock(study_id=found.id, locked_at=now, locked_by=actor.username, reason=why)
        session.add(row)
        session.flush()
        lock_id = row.id
        append_event(session, actor=actor.username, action="study_locked", entity="study",
                     entity_id=study, reason=why, new={"lock_id": lock_id}, at=now)  # fmt: skip
    try:
        done = backup_database(database_url, Path(snapshot), operator=actor.username,
                               installation_key=installation_key)  # fmt: skip
    except (ServiceError, FileAccessError) as error:
        _release(session_maker, actor, study, lock_id,
                 why=f"the snapshot could not be written: {error}")  # fmt: skip
        raise
    with transaction(session_maker) as session:
        row = session.get_one(StudyLock, lock_id)
        row.snapshot_file = done.path.name
        row.snapshot_sha256 = done.manifest.sha256
        append_event(
            session, actor=actor.username, action="study_lock_snapshot", entity="study",
            entity_id=study, reason="snapshot of the locked study",
            new={"lock_id": lock_id, "file": done.path.name, "sha256": done.manifest.sha256,
                 "size_bytes": done.manifest.size_bytes, "backend": done.manifest.backend,
                 "backup_event_id": done.audit_event_id},
        )  # fmt: skip
        return _view(study, row)


def _release(
    session_maker: sessionmaker[Session], actor: Actor, study: str, lock_id: int, *, why: str
) -> StudyLock:
    with transaction(session_maker) as session:
        row = session.get_one(StudyLock, lock_id)
        row.unlocked_at, row.unlocked_by, row.unlock_reason = instant(None), actor.username, why
        append_event(session, actor=actor.username, action="study_unlocked", entity="study",
                     entity_id=study, reason=why, new={"lock_id": lock_id})  # fmt: skip
        return row


@refuses_unstorable_text
def unlock_study(
    session_maker: sessionmaker[Session], actor: Actor, study: str, *, reason: str
) -> StudyLockView:
    """Unlock ``study`` for ``reason`` (audited); :class:`Conflict` if it is not locked."""
    require(actor, Action.LOCK_STUDY)
    why = _reason(reason, "unlocking the study")
    with session_maker() as session, session.begin():
        latest = _latest(session, study_named(session, study).id)
        if latest is None or latest.unlocked_at is not None:
            raise Conflict(f"study {study} is not locked", message_code="error.study_not_locked",
                           values={"study": study})  # fmt: skip
        lock_id = latest.id
    return _view(study, _release(session_maker, actor, study, lock_id, why=why))
