"""Record questionnaire responses at 0, 3, 12 or 48 months (one per instrument and time point).

The instrument must be one of the study's (``[[instrument]]`` in the study file, see
:mod:`pebs.trial.instruments`) and every answer an item of it, of the item's type: an unknown
instrument, an unknown item or a value of the wrong type is refused with
:class:`~.errors.InvalidFields` naming each one, and nothing is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import Conflict, InvalidFields, InvalidInput
from pebs.services.field_rules import INSTRUMENT_CHARS, in_the_future
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.subject import find_participant
from pebs.services.transaction import instant, local_date, transaction
from pebs.store.audit import append_event, canonical_json
from pebs.store.models import QuestionnaireResponse, Study
from pebs.trial import COLLECTING, State
from pebs.trial.instruments import Instrument, instruments_from_json
from pebs.trial.vocabularies import QUESTIONNAIRE_TIMEPOINTS

__all__ = [
    "QuestionnaireForms",
    "QuestionnaireRecorded",
    "questionnaire_forms",
    "record_questionnaire",
]


@dataclass(frozen=True)
class QuestionnaireRecorded:
    study_id: str
    response_id: int
    instrument: str
    timepoint_months: int
    completed_on: date


@dataclass(frozen=True)
class QuestionnaireForms:
    """What a questionnaire form needs: her study's instruments and what is recorded already."""

    study_id: str
    instruments: tuple[Instrument, ...]
    recorded: frozenset[tuple[str, int]]
    """(instrument, time point in months) already recorded for her."""


@refuses_unstorable_text
def questionnaire_forms(
    session_maker: sessionmaker[Session], actor: Actor, study_id: str
) -> QuestionnaireForms:
    """Her study's instruments (``[[instrument]]`` of the study file) and the (instrument, time
    point) pairs recorded for her; :class:`NotFound` outside the actor's scope."""
    require(actor, Action.RECORD_FOLLOW_UP)
    with session_maker() as session:
        subject = find_participant(session, actor, study_id)
        config = subject.study(session).config or {}
        recorded = session.execute(
            select(QuestionnaireResponse.instrument, QuestionnaireResponse.timepoint_months).where(
                QuestionnaireResponse.participant_id == subject.participant.id
            )
        ).all()
    return QuestionnaireForms(
        study_id,
        instruments_from_json(config.get("instruments")),
        frozenset((name, months) for name, months in recorded),
    )


@refuses_unstorable_text
def record_questionnaire(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study_id: str,
    *,
    instrument: str,
    timepoint_months: int,
    answers: Mapping[str, Any],
    completed_on: date,
    at: datetime | None = None,
) -> QuestionnaireRecorded:
    """Store one instrument's answers at a time point, from consent on.

    :class:`InvalidFields` if the study has no such instrument, or an answer is not one of its
    items or not of the item's type; :class:`Conflict` if that instrument is already recorded
    at that time point.
    """
    require(actor, Action.RECORD_FOLLOW_UP)
    if timepoint_months not in QUESTIONNAIRE_TIMEPOINTS or isinstance(timepoint_months, bool):
        raise InvalidInput(
            f"{timepoint_months!r} is not a time point; allowed: "
            + ", ".join(str(t) for t in QUESTIONNAIRE_TIMEPOINTS),
            field="timepoint_months",
        )
    if (
        not isinstance(instrument, str)
        or not instrument.strip()
        or len(instrument) > INSTRUMENT_CHARS
    ):
        raise InvalidInput(
            f"give the instrument's name (at most {INSTRUMENT_CHARS} characters)",
            field="instrument",
        )
    if not isinstance(answers, Mapping) or not answers:
        raise InvalidInput("give at least one answer (item -> value)", field="answers")
    try:
        canonical_json(dict(answers))
    except (TypeError, ValueError) as error:
        raise InvalidInput(str(error), field="answers") from None
    recorded_at = instant(at)
    with transaction(session_maker) as session:
        subject = find_participant(session, actor, study_id, for_update=True)
        subject.require_state((State.CONSENTED, *COLLECTING), "record a questionnaire")
        _check_answers(subject.study(session), instrument.strip(), answers)
        if completed_on > local_date(recorded_at, subject.country.time_zone):
            raise in_the_future("completed_on", completed_on)
        participant_id = subject.participant.id
        existing = session.scalar(
            select(QuestionnaireResponse.id).where(
                QuestionnaireResponse.participant_id == participant_id,
                QuestionnaireResponse.timepoint_months == timepoint_months,
                QuestionnaireResponse.instrument == instrument.strip(),
            )
        )
        if existing is not None:
            raise Conflict(
                f"{study_id}: {instrument} at {timepoint_months} months is already recorded"
            )
        response = QuestionnaireResponse(
            participant_id=participant_id, timepoint_months=timepoint_months,
            instrument=instrument.strip(), answers=dict(answers), completed_on=completed_on,
            recorded_at=recorded_at, recorded_by_id=actor.user_id,
        )  # fmt: skip
        session.add(response)
        session.flush()
        append_event(
            session, actor=actor.username, action="record", entity="questionnaire_response",
            entity_id=response.id, reason="questionnaire",
            new={"participant": study_id, "instrument": response.instrument,
                 "timepoint_months": timepoint_months, "completed_on": completed_on,
                 "answers": dict(answers)},
            at=recorded_at,
        )  # fmt: skip
    return QuestionnaireRecorded(
        study_id, response.id, response.instrument, timepoint_months, completed_on
    )


def _check_answers(study: Study, name: str, answers: Mapping[str, Any]) -> None:
    """:class:`InvalidFields` unless ``answers`` are items of the study's instrument ``name``,
    each of its type."""
    instruments = {
        i.name: i for i in instruments_from_json((study.config or {}).get("instruments"))
    }
    instrument = instruments.get(name)
    if instrument is None:
        known = ", ".join(instruments) or "none (load the study file again: pebs study load)"
        message = f"{name!r} is not an instrument of study {study.name}; instruments: {known}"
        raise InvalidFields(f"instrument: {message}", {"instrument": message})
    problems = {
        f"answers.{item}": message for item, message in instrument.problems(answers).items()
    }
    if problems:
        raise InvalidFields(
            "; ".join(f"{field}: {message}" for field, message in problems.items()), problems
        )
