"""A data manager locks one form instance of a woman, or her whole casebook; unlocking needs a
reason. Every lock and unlock is audited about her (``entity="participant"``).

A lock is enforced where every write about her passes, the writing lookup
(:mod:`pebs.services.data_locks`): a locked casebook refuses every write, a locked form
instance refuses a write that changes its values (compared by SHA-256 with the values as
locked). Locks are refused while her study is locked (the study lock covers everything).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.casebook_content import instance_sha256
from pebs.services.data_locks import refuse_if_study_locked
from pebs.services.errors import Conflict, InvalidInput
from pebs.services.form_instance import checked_form
from pebs.services.monitoring._her import Her, find_her, instance_of, label
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.transaction import instant, transaction
from pebs.store.audit import append_event
from pebs.store.models import FormLock, ParticipantLock

__all__ = ["LockChange", "lock_form", "lock_participant", "unlock_form", "unlock_participant"]

REASON_CHARS = 500


@dataclass(frozen=True)
class LockChange:
    """A lock taken or released: what (``*`` for her whole casebook), by whom, when (UTC)."""

    study_id: str
    form: str
    key: int
    locked: bool
    by: str
    at: datetime


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text or len(text) > REASON_CHARS:
        raise InvalidInput(
            f"give the reason for unlocking (1 to {REASON_CHARS} characters)", field="reason",
            message_code="error.reason_needed", values={"max": REASON_CHARS},
        )  # fmt: skip
    return text


def _her_for_lock(session: Session, actor: Actor, study_id: str) -> Her:
    her = find_her(session, actor, study_id)
    refuse_if_study_locked(session, her.study_pk)
    return her


def _event(session: Session, actor: Actor, her: Her, action: str, what: str, at: datetime,
           new: dict, *, reason: str) -> None:  # fmt: skip
    append_event(session, actor=actor.username, action=action, entity="participant",
                 entity_id=her.study_id, reason=reason, new={"what": what, **new},
                 at=at)  # fmt: skip


@refuses_unstorable_text
def lock_form(
    session_maker: sessionmaker[Session], actor: Actor, study_id: str, form: str,
    key: int | None = None, *, at: datetime | None = None,
) -> LockChange:  # fmt: skip
    """Lock her instance ``key`` of ``form``: no write may change its values until unlocked."""
    require(actor, Action.LOCK_DATA, needs_account=True)
    form, key = checked_form(form, key)
    now = instant(at)
    with transaction(session_maker) as session:
        her = _her_for_lock(session, actor, study_id)
        digest = instance_sha256(instance_of(her, form, key))
        if session.scalar(select(FormLock.id).where(
                FormLock.participant_id == her.participant_id, FormLock.form == form,
                FormLock.form_key == key)) is not None:  # fmt: skip
            raise Conflict(f"the {label(form, key)} form of {her.study_id} is already locked",
                           message_code="error.already_locked",
                           values={"what": label(form, key)})  # fmt: skip
        session.add(FormLock(participant_id=her.participant_id, form=form, form_key=key,
                             values_sha256=digest, locked_at=now,
                             locked_by_id=actor.user_id))  # fmt: skip
        _event(
            session,
            actor,
            her,
            "form_locked",
            label(form, key),
            now,
            {"form": form, "key": key, "values_sha256": digest},
            reason="form locked",
        )
    return LockChange(her.study_id, form, key, True, actor.username, now)


@refuses_unstorable_text
def unlock_form(
    session_maker: sessionmaker[Session], actor: Actor, study_id: str, form: str,
    key: int | None = None, *, reason: str, at: datetime | None = None,
) -> LockChange:  # fmt: skip
    """Unlock her instance ``key`` of ``form``, for ``reason`` (audited)."""
    require(actor, Action.LOCK_DATA, needs_account=True)
    form, key = checked_form(form, key)
    why = _reason(reason)
    now = instant(at)
    with transaction(session_maker) as session:
        her = _her_for_lock(session, actor, study_id)
        lock = session.scalar(select(FormLock).where(
            FormLock.participant_id == her.participant_id, FormLock.form == form,
            FormLock.form_key == key))  # fmt: skip
        if lock is None:
            raise Conflict(f"the {label(form, key)} form of {her.study_id} is not locked",
                           message_code="error.not_locked",
                           values={"what": label(form, key)})  # fmt: skip
        session.delete(lock)
        _event(
            session,
            actor,
            her,
            "form_unlocked",
            label(form, key),
            now,
            {"form": form, "key": key, "locked_at": lock.locked_at},
            reason=why,
        )
    return LockChange(her.study_id, form, key, False, actor.username, now)


@refuses_unstorable_text
def lock_participant(
    session_maker: sessionmaker[Session], actor: Actor, study_id: str, *,
    at: datetime | None = None,
) -> LockChange:  # fmt: skip
    """Lock her whole casebook: no write about her is accepted until unlocked."""
    require(actor, Action.LOCK_DATA, needs_account=True)
    now = instant(at)
    with transaction(session_maker) as session:
        her = _her_for_lock(session, actor, study_id)
        if session.get(ParticipantLock, her.participant_id) is not None:
            raise Conflict(f"the casebook of {her.study_id} is already locked",
                           message_code="error.already_locked",
                           values={"what": her.study_id})  # fmt: skip
        session.add(ParticipantLock(participant_id=her.participant_id, locked_at=now,
                                    locked_by_id=actor.user_id))  # fmt: skip
        _event(session, actor, her, "participant_locked", "*", now, {}, reason="casebook locked")
    return LockChange(her.study_id, "*", 0, True, actor.username, now)


@refuses_unstorable_text
def unlock_participant(
    session_maker: sessionmaker[Session], actor: Actor, study_id: str, *, reason: str,
    at: datetime | None = None,
) -> LockChange:  # fmt: skip
    """Unlock her whole casebook, for ``reason`` (audited); her form locks stay."""
    require(actor, Action.LOCK_DATA, needs_account=True)
    why = _reason(reason)
    now = instant(at)
    with transaction(session_maker) as session:
        her = _her_for_lock(session, actor, study_id)
        lock = session.get(ParticipantLock, her.participant_id)
        if lock is None:
            raise Conflict(
                f"the casebook of {her.study_id} is not locked",
                message_code="error.not_locked",
                values={"what": her.study_id},
            )
        session.delete(lock)
        _event(
            session,
            actor,
            her,
            "participant_unlocked",
            "*",
            now,
            {"locked_at": lock.locked_at},
            reason=why,
        )
    return LockChange(her.study_id, "*", 0, False, actor.username, now)
