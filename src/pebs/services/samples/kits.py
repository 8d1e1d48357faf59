"""A woman's saliva kit at her site: assigned by hand, collected, abandoned, or replaced after a
failed quality control.

Every use case works on a kit through its woman's site (the caller's scope), moves it with
:func:`pebs.trial.samples.next_state` (an event its state does not allow is a
:class:`~pebs.services.errors.Conflict` with the transition's message) and writes an audit event
``entity="sample"``, ``entity_id=<kit ID>`` in the same transaction.

A woman has at most one kit that counts: a new kit (by hand, or to replace a failed one) is
refused while she has a kit that is not abandoned, failed or replaced
(:data:`~pebs.services.samples._kits.CLOSED_STATES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import Conflict, InvalidInput
from pebs.services.field_rules import REASON_CHARS, in_the_future
from pebs.services.samples._kits import FoundKit, canonical_kit_id, find_kit, move, open_kit
from pebs.services.samples.at_randomisation import KIT_ARM
from pebs.services.samples.kit_assignment import assign_kit_in
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.subject import Subject, find_participant
from pebs.services.transaction import instant, local_date, transaction
from pebs.services.trial.study_rules import sample_rules_of
from pebs.store.audit import append_event
from pebs.store.models import Participant
from pebs.store.repositories import get_allocation
from pebs.trial import COLLECTING, State
from pebs.trial.samples import SampleEvent

__all__ = [
    "KIT_PATHWAY_STATES",
    "KitAssigned",
    "KitMoved",
    "Recollection",
    "abandon_sample",
    "assign_kit",
    "record_collection",
    "request_recollection",
]

KIT_PATHWAY_STATES = (State.RANDOMISED_RISK_BASED, State.RISK_ASSESSED, State.PLAN_GIVEN,
              State.IN_FOLLOW_UP)  # fmt: skip
"""Pathway states in which a woman of the risk-based arm may be given a kit: randomised and
still in the study (not withdrawn, not completed)."""


@dataclass(frozen=True)
class KitAssigned:
    """A new kit: its ID goes on the tube label."""

    study_id: str
    kit_id: str
    state: str
    assigned_at: datetime


@dataclass(frozen=True)
class KitMoved:
    """A kit after a collection or an abandonment."""

    kit_id: str
    study_id: str
    previous_state: str
    state: str
    collected_on: date | None
    abandoned_reason: str | None


@dataclass(frozen=True)
class Recollection:
    """A failed kit replaced by a new one."""

    study_id: str
    failed_kit_id: str
    failed_state: str
    """``recollection_requested``."""
    kit_id: str
    """The new kit."""
    assigned_at: datetime


def _reason(reason: str) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput(
            "give a reason (it is audited)", field="reason", message_code="error.required"
        )
    if len(reason) > REASON_CHARS:
        raise InvalidInput(
            f"at most {REASON_CHARS} characters, got {len(reason)}",
            field="reason",
            message_code="error.too_long",
            values={"max": REASON_CHARS},
        )
    return reason.strip()


def _require_kit_arm(session: Session, subject: Subject, doing: str) -> None:
    """:class:`Conflict` unless she was allocated the risk-based arm and is still in it."""
    allocation = get_allocation(session, subject.participant.id)
    if allocation is None or allocation.arm != KIT_ARM:
        arm = "not randomised" if allocation is None else f"in the {allocation.arm} arm"
        raise Conflict(
            f"{subject.participant.study_id} is {arm}: only women of the {KIT_ARM} arm {doing}",
            message_code="error.kit_arm",
        )
    subject.require_state(KIT_PATHWAY_STATES, doing)


def _no_open_kit(session: Session, participant: Participant) -> None:
    existing = open_kit(session, participant.id)
    if existing is not None:
        raise Conflict(
            f"{participant.study_id} already has kit {existing.kit_id} ({existing.state}); a new "
            "kit is possible once it is abandoned, failed or replaced",
            message_code="error.kit_exists", values={"kit_id": existing.kit_id},
        )  # fmt: skip


def _audit(
    session: Session, actor: Actor, found: FoundKit, action: str, old: dict, new: dict, *,
    at: datetime, reason: str | None = None,
) -> None:  # fmt: skip
    append_event(
        session, actor=actor.username, action=action, entity="sample",
        entity_id=found.sample.kit_id, reason=reason, old=old,
        new={"participant": found.participant.study_id, **new}, at=at,
    )  # fmt: skip


@refuses_unstorable_text
def assign_kit(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study_id: str,
    *,
    reason: str | None = None,
    at: datetime | None = None,
) -> KitAssigned:
    """Give her a new kit by hand (studies that assign kits manually, or after her kit was
    abandoned). :class:`Conflict` unless she is in the risk-based arm
    (:data:`KIT_PATHWAY_STATES`), or while she has a kit that counts."""
    require(actor, Action.RECORD_SAMPLE)
    why = "kit assigned by hand" if reason is None or not reason.strip() else _reason(reason)
    assigned_at = instant(at)
    with transaction(session_maker) as session:
        subject = find_participant(session, actor, study_id, for_update=True)
        _require_kit_arm(session, subject, "are given saliva kits")
        participant = subject.participant
        _no_open_kit(session, participant)
        sample = assign_kit_in(
            session, participant_id=participant.id, study_id=participant.study_id,
            rules=sample_rules_of(subject.study(session)), actor=actor.username,
            user_id=actor.user_id, at=assigned_at, reason=why,
        )  # fmt: skip
        return KitAssigned(participant.study_id, sample.kit_id, sample.state, assigned_at)


@refuses_unstorable_text
def record_collection(
    session_maker: sessionmaker[Session],
    actor: Actor,
    kit_id: str,
    collected_on: date,
    *,
    at: datetime | None = None,
) -> KitMoved:
    """Record that she gave saliva in the kit on ``collected_on`` (a date at her site: not in the
    future, not before her randomisation)."""
    require(actor, Action.RECORD_SAMPLE)
    recorded_at = instant(at)
    if isinstance(collected_on, datetime) or not isinstance(collected_on, date):
        raise InvalidInput(
            f"must be a date, got {collected_on!r}", field="collected_on", message_code="error.date"
        )
    with transaction(session_maker) as session:
        found = find_kit(session, actor, canonical_kit_id(kit_id), for_update=True)
        subject = Subject(found.participant, found.site, found.country)
        subject.require_state(COLLECTING, "give a saliva sample")
        time_zone = found.country.time_zone
        if collected_on > local_date(recorded_at, time_zone):
            raise in_the_future("collected_on", collected_on)
        allocation = get_allocation(session, found.participant.id)
        randomised_on = None if allocation is None else local_date(allocation.allocated_at,
                                                                   time_zone)  # fmt: skip
        if randomised_on is not None and collected_on < randomised_on:
            raise InvalidInput(
                f"{collected_on} is before her randomisation on {randomised_on}",
                field="collected_on", message_code="error.before_randomisation",
                values={"day": collected_on, "randomised": randomised_on},
            )  # fmt: skip
        sample = found.sample
        old, new = move(sample, SampleEvent.COLLECT)
        sample.collected_on = collected_on
        sample.collected_by_id = actor.user_id
        sample.updated_at = recorded_at
        _audit(session, actor, found, "collect", {"state": old, "collected_on": None},
               {"state": new, "collected_on": collected_on}, at=recorded_at)  # fmt: skip
        return KitMoved(sample.kit_id, found.participant.study_id, old, new, collected_on, None)


@refuses_unstorable_text
def abandon_sample(
    session_maker: sessionmaker[Session],
    actor: Actor,
    kit_id: str,
    *,
    reason: str,
    at: datetime | None = None,
) -> KitMoved:
    """Give up a kit that will bring no result (lost, broken, she declined), with a reason; a
    kit with a result (genotyped) or already replaced cannot be abandoned."""
    require(actor, Action.RECORD_SAMPLE)
    why = _reason(reason)
    abandoned_at = instant(at)
    with transaction(session_maker) as session:
        found = find_kit(session, actor, canonical_kit_id(kit_id), for_update=True)
        sample = found.sample
        old, new = move(sample, SampleEvent.ABANDON)
        sample.abandoned_reason = why
        sample.updated_at = abandoned_at
        _audit(session, actor, found, "abandon", {"state": old}, {"state": new}, at=abandoned_at,
               reason=why)  # fmt: skip
        return KitMoved(sample.kit_id, found.participant.study_id, old, new,
                        sample.collected_on, why)  # fmt: skip


@refuses_unstorable_text
def request_recollection(
    session_maker: sessionmaker[Session],
    actor: Actor,
    kit_id: str,
    *,
    reason: str,
    at: datetime | None = None,
) -> Recollection:
    """Replace a kit that failed quality control: it becomes ``recollection_requested`` and she
    is given a new kit that names it (:class:`Conflict` for a kit that did not fail, or while she
    has another kit that counts)."""
    require(actor, Action.RECORD_SAMPLE)
    why = _reason(reason)
    requested_at = instant(at)
    with transaction(session_maker) as session:
        found = find_kit(session, actor, canonical_kit_id(kit_id))
        participant = found.participant
        # her row first, then the kit's (the order of every use case that gives her a kit)
        subject = find_participant(session, actor, participant.study_id, for_update=True)
        failed = found.sample
        session.refresh(failed, with_for_update=True)
        old, new = move(failed, SampleEvent.REQUEST_RECOLLECTION)
        _require_kit_arm(session, subject, "are given a new kit")
        _no_open_kit(session, participant)
        failed.updated_at = requested_at
        replacement = assign_kit_in(
            session, participant_id=participant.id, study_id=participant.study_id,
            rules=sample_rules_of(subject.study(session)), actor=actor.username,
            user_id=actor.user_id, at=requested_at, replaces=failed, reason=why,
        )  # fmt: skip
        _audit(session, actor, found, "request_recollection", {"state": old},
               {"state": new, "replaced_by": replacement.kit_id}, at=requested_at,
               reason=why)  # fmt: skip
        return Recollection(participant.study_id, failed.kit_id, new, replacement.kit_id,
                            requested_at)  # fmt: skip
