"""Record a risk-based participant's risk questionnaire; her risk follows when her data is complete.

The questionnaire holds the inputs she answers (:data:`._risk_factors.QUESTIONNAIRE_INPUTS`): each
a value or ``"unknown"``, checked like a clinician's assessment (the same kinds, and the study's
``[risk_assessment] required`` rules: an absent required answer is refused, naming it). Density
comes from her baseline mammogram and the PRS from the laboratory, never from the questionnaire.
The latest questionnaire counts; in the same transaction :func:`.risk_completion.complete_risk_in`
computes her assessment and plan if nothing else is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import InvalidFields, InvalidInput
from pebs.services.field_rules import in_the_future
from pebs.services.keys import IdentityKeys
from pebs.services.queries.edit_check_runs import run_edit_checks_in
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.subject import Subject, find_participant
from pebs.services.transaction import instant, local_date, transaction
from pebs.services.trial._risk_factors import QUESTIONNAIRE_INPUTS, RiskFactors
from pebs.services.trial.risk_assessment import RISK_ARM_STATES, check_answers, risk_rules
from pebs.services.trial.risk_completion import complete_risk_in, inputs_of
from pebs.store.audit import append_event
from pebs.store.models import RiskQuestionnaire

__all__ = [
    "RiskQuestionnaireRecorded",
    "checked_answers_in",
    "record_risk_questionnaire",
    "record_risk_questionnaire_in",
]

_MEASURED = {
    "density": "comes from her baseline mammogram (record it with the visit), not the "
    "questionnaire",
    "prs_z": "comes from the laboratory (her saliva sample), not the questionnaire",
}


@dataclass(frozen=True)
class RiskQuestionnaireRecorded:
    study_id: str
    questionnaire_id: int
    answered_on: date
    risk_level: str | None
    """Her level if this questionnaire completed her data and her risk was computed."""
    missing: tuple[str, ...]
    """What her final assessment still waits for (``questionnaire``, ``density``, ``prs``)."""


def _check(factors: RiskFactors, answered_on: date) -> None:
    if isinstance(answered_on, datetime) or not isinstance(answered_on, date):
        raise InvalidInput(f"must be a date, got {answered_on!r}", field="answered_on")
    measured = {
        name: text for name, text in _MEASURED.items() if getattr(factors, name) is not None
    }
    if measured:
        parts = "; ".join(f"{name}: {text}" for name, text in measured.items())
        raise InvalidFields(f"risk questionnaire: {parts}", measured)


@refuses_unstorable_text
def record_risk_questionnaire(
    session_maker: sessionmaker[Session],
    actor: Actor,
    keys: IdentityKeys,
    study_id: str,
    factors: RiskFactors,
    *,
    answered_on: date,
    at: datetime | None = None,
) -> RiskQuestionnaireRecorded:
    """Store her answers (``answered_on``: the day she answered) and, if her data is now
    complete, her risk assessment and plan.

    :class:`Conflict` for a woman not in the risk-based arm; :class:`InvalidFields` for an answer
    of the wrong kind, a required answer absent, or a density or PRS given (each named);
    :class:`InvalidInput` for ``answered_on`` in the future.
    """
    require(actor, Action.RECORD_RISK)
    recorded_at = instant(at)
    with transaction(session_maker) as session:
        subject = find_participant(session, actor, study_id, for_update=True)
        recorded = record_risk_questionnaire_in(
            session, actor, keys, subject, factors, answered_on=answered_on,
            recorded_at=recorded_at, reason="risk questionnaire",
        )  # fmt: skip
        run_edit_checks_in(session, subject.participant.id, at=recorded_at)
    return recorded


def checked_answers_in(
    session: Session, subject: Subject, factors: RiskFactors, *, answered_on: date,
    recorded_at: datetime,
) -> dict[str, Any]:  # fmt: skip
    """Her answers as :func:`record_risk_questionnaire` would store them, checked as it checks
    them (her arm, ``answered_on`` not after her local day, the study's rules); stores
    nothing."""
    _check(factors, answered_on)
    subject.require_state(RISK_ARM_STATES, "record a risk questionnaire (risk-based arm)")
    if answered_on > local_date(recorded_at, subject.country.time_zone):
        raise in_the_future("answered_on", answered_on)
    check_answers(factors, risk_rules(session, subject.study(session)), QUESTIONNAIRE_INPUTS)
    return {name: getattr(factors, name) for name in QUESTIONNAIRE_INPUTS}


def record_risk_questionnaire_in(
    session: Session, actor: Actor, keys: IdentityKeys, subject: Subject, factors: RiskFactors,
    *, answered_on: date, recorded_at: datetime, reason: str,
    source: Mapping[str, Any] | None = None,
) -> RiskQuestionnaireRecorded:  # fmt: skip
    """:func:`record_risk_questionnaire` in the caller's transaction, for a woman it found
    with her row locked (``actor`` holds the permission; ``reason`` is the audit event's,
    ``source`` what the answers came from, added to it when given)."""
    answers = checked_answers_in(
        session, subject, factors, answered_on=answered_on, recorded_at=recorded_at
    )
    participant_id = subject.participant.id
    study_id = subject.participant.study_id
    row = RiskQuestionnaire(
        participant_id=participant_id, answers=answers, answered_on=answered_on,
        recorded_at=recorded_at, recorded_by_id=actor.user_id,
    )  # fmt: skip
    session.add(row)
    session.flush()
    new = {"participant": study_id, "answers": answers, "answered_on": answered_on}
    append_event(
        session, actor=actor.username, action="record", entity="risk_questionnaire",
        entity_id=row.id, reason=reason,
        new=new if source is None else {**new, "source": dict(source)}, at=recorded_at,
    )  # fmt: skip
    level = complete_risk_in(
        session, participant_id=participant_id, actor=actor, keys=keys, at=recorded_at
    )
    rules = risk_rules(session, subject.study(session))
    missing = inputs_of(session, participant_id).missing(rules, final=True)
    return RiskQuestionnaireRecorded(study_id, row.id, answered_on, level, missing)
