"""Consultations: her risk result explained to her, at a visit or by phone, and by whom.

A consultation is recorded once held (its day is not in the future where she is, nor before her
randomisation), for a woman of the study in the caller's scope; each record is audited
(``consultation``/``record``) with every value, and never changed afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import Conflict, InvalidInput
from pebs.services.field_rules import in_the_future, unknown_choice
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.subject import find_participant
from pebs.services.transaction import instant, local_date, transaction
from pebs.store.audit import append_event
from pebs.store.models import Allocation, Consultation
from pebs.trial.vocabularies import CONSULTATION_MODES

__all__ = ["HELD_BY_CHARS", "QUESTIONS_CHARS", "ConsultationView", "consultations",
           "record_consultation"]  # fmt: skip

HELD_BY_CHARS = 200
"""The clinician's name (the column's length)."""
QUESTIONS_CHARS = 4000
"""Her questions and notes."""


@dataclass(frozen=True)
class ConsultationView:
    consultation_id: int
    study_id: str
    held_on: date
    mode: str
    held_by: str
    questions: str | None
    recorded_at: datetime


def _text(value: object, name: str, limit: int, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidInput("must be a non-empty text", field=name, message_code="error.required")
    text = value.strip()
    if len(text) > limit:
        raise InvalidInput(f"give at most {limit} characters", field=name,
                           message_code="error.too_long", values={"max": limit})  # fmt: skip
    return text or None


@refuses_unstorable_text
def record_consultation(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study_id: str,
    held_on: date,
    mode: str,
    held_by: str,
    questions: str | None = None,
    *,
    at: datetime | None = None,
) -> ConsultationView:
    """Record that her risk result was explained to her on ``held_on`` (``mode``: ``visit`` or
    ``phone``) by ``held_by``, with her ``questions``.

    :class:`InvalidInput` (the field named) for a day in the future or before her
    randomisation, an unknown mode, an empty ``held_by`` or texts too long;
    :class:`Conflict` for a woman not randomised.
    """
    require(actor, Action.RECORD_CONSULTATION)
    if isinstance(held_on, datetime) or not isinstance(held_on, date):
        raise InvalidInput(f"must be a date, got {held_on!r}", field="held_on")
    if mode not in CONSULTATION_MODES:
        raise unknown_choice("mode", mode, CONSULTATION_MODES)
    clinician = _text(held_by, "held_by", HELD_BY_CHARS, required=True)
    notes = _text(questions, "questions", QUESTIONS_CHARS, required=False)
    recorded_at = instant(at)
    with transaction(session_maker) as session:
        subject = find_participant(session, actor, study_id, for_update=True)
        p = subject.participant
        if held_on > local_date(recorded_at, subject.country.time_zone):
            raise in_the_future("held_on", held_on)
        allocated = session.scalar(
            select(Allocation.allocated_at).where(Allocation.participant_id == p.id)
        )
        if allocated is None:
            raise Conflict(f"{study_id} is not randomised: no result to explain yet")
        randomised_on = local_date(allocated, subject.country.time_zone)
        if held_on < randomised_on:
            raise InvalidInput(
                f"{held_on} is before her randomisation on {randomised_on}", field="held_on",
                message_code="error.before_randomisation",
                values={"day": held_on.isoformat(), "randomised": randomised_on.isoformat()},
            )  # fmt: skip
        row = Consultation(participant_id=p.id, held_on=held_on, mode=mode, held_by=clinician,
                           questions=notes, recorded_at=recorded_at,
                           recorded_by_id=actor.user_id)  # fmt: skip
        session.add(row)
        session.flush()
        append_event(
            session, actor=actor.username, action="record", entity="consultation",
            entity_id=row.id, reason="risk result explained",
            new={"participant": study_id, "held_on": held_on, "mode": mode,
                 "held_by": clinician, "questions": notes},
            at=recorded_at,
        )  # fmt: skip
        return ConsultationView(row.id, study_id, held_on, mode, clinician, notes, recorded_at)


@refuses_unstorable_text
def consultations(
    session_maker: sessionmaker[Session], actor: Actor, study_id: str
) -> tuple[ConsultationView, ...]:
    """Her consultations, newest first (the roles that read her record, in their scope)."""
    require(actor, Action.READ_PARTICIPANT)
    with session_maker() as session, session.begin():
        subject = find_participant(session, actor, study_id)
        rows = session.scalars(
            select(Consultation).where(Consultation.participant_id == subject.participant.id)
            .order_by(Consultation.held_on.desc(), Consultation.id.desc())
        )  # fmt: skip
        return tuple(ConsultationView(r.id, study_id, r.held_on, r.mode, r.held_by, r.questions,
                                      r.recorded_at) for r in rows)  # fmt: skip
