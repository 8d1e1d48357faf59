"""Record a participant's death (date and cause); the pathway moves to ``died`` (terminal)."""

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
from pebs.store.models import Death
from pebs.trial import Event
from pebs.trial.vocabularies import DEATH_CAUSES

__all__ = ["DeathRecorded", "record_death"]


@dataclass(frozen=True)
class DeathRecorded:
    study_id: str
    death_id: int
    date_of_death: date
    cause: str
    pathway_state: str


@refuses_unstorable_text
def record_death(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study_id: str,
    *,
    date_of_death: date,
    cause: str,
    cause_icd10: str | None = None,
    at: datetime | None = None,
) -> DeathRecorded:
    """Record her death; ``cause`` is one of :data:`pebs.store.models.DEATH_CAUSES`.

    Allowed from any state of a woman in the study, and after a withdrawal from contact only
    (:func:`pebs.trial.transition`); :class:`Conflict` otherwise or if a death is recorded.
    """
    require(actor, Action.RECORD_FOLLOW_UP)
    if cause not in DEATH_CAUSES:
        raise unknown_choice("cause", cause, DEATH_CAUSES)
    if cause_icd10 is not None and not 3 <= len(cause_icd10.strip()) <= 8:
        raise InvalidInput(
            f"{cause_icd10!r} is not an ICD-10 code such as C50.9", field="cause_icd10"
        )
    recorded_at = instant(at)
    with transaction(session_maker) as session:
        subject = find_participant(session, actor, study_id, for_update=True)
        participant = subject.participant
        if date_of_death > local_date(recorded_at, subject.country.time_zone):
            raise in_the_future("date_of_death", date_of_death)
        if session.scalar(select(Death.id).where(Death.participant_id == participant.id)):
            raise Conflict(f"a death is already recorded for {study_id}")
        old_state, new_state = subject.apply(Event.DIED)
        death = Death(
            participant_id=participant.id, date_of_death=date_of_death, cause=cause,
            cause_icd10=None if cause_icd10 is None else cause_icd10.strip(),
            recorded_at=recorded_at, recorded_by_id=actor.user_id,
        )  # fmt: skip
        session.add(death)
        session.flush()
        append_event(
            session, actor=actor.username, action="record", entity="death", entity_id=death.id,
            reason="death", old={"status": old_state},
            new={"participant": study_id, "date_of_death": date_of_death, "cause": cause,
                 "cause_icd10": death.cause_icd10, "status": new_state},
            at=recorded_at,
        )  # fmt: skip
    return DeathRecorded(study_id, death.id, date_of_death, cause, new_state)
