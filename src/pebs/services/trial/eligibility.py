"""Assess eligibility under the protocol version in force on the assessment date.

The answers and the result are stored (:class:`~pebs.store.models.EligibilityAssessment`) with
the protocol version; a screen failure records every reason. The pathway moves to ``eligible`` or
``screen_failure``; an incomplete assessment (unanswered criteria) is stored and leaves the state
as it was. Re-assessment is allowed until consent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import InvalidInput
from pebs.services.keys import IdentityKeys
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.subject import advance, decrypt_birth_date, participant_facts, require_state
from pebs.services.transaction import instant, local_date, transaction
from pebs.services.trial.study_rules import criteria_of, protocol_in_force
from pebs.store.audit import append_event
from pebs.store.models import EligibilityAssessment
from pebs.trial import EligibilityError, Event, State, assess

__all__ = ["EligibilityOutcome", "assess_eligibility"]

_ASSESSABLE = (State.REGISTERED, State.ELIGIBLE, State.SCREEN_FAILURE)
_INSERT_ASSESSMENT = insert(EligibilityAssessment).returning(EligibilityAssessment.id)


@dataclass(frozen=True)
class EligibilityOutcome:
    study_id: str
    protocol_version: str
    assessed_on: date
    status: str
    """``eligible``, ``screen_failure`` or ``incomplete``."""
    reasons: tuple[str, ...]
    """Screen-failure reasons, one per failed criterion."""
    missing: tuple[str, ...]
    """Criteria not answered."""
    pathway_state: str


@refuses_unstorable_text
def assess_eligibility(
    session_maker: sessionmaker[Session],
    actor: Actor,
    keys: IdentityKeys,
    study_id: str,
    answers: Mapping[str, bool | None],
    *,
    on_date: date | None = None,
    at: datetime | None = None,
) -> EligibilityOutcome:
    """Assess a registered woman against the criteria in force on ``on_date``.

    ``on_date`` defaults to today in her country. Age comes from her (encrypted) date of birth.
    :class:`InvalidInput` for an answer to an unknown criterion; :class:`Conflict` once she has
    consented (eligibility is then settled).
    """
    require(actor, Action.ASSESS_ELIGIBILITY)
    assessed_at = instant(at)
    with transaction(session_maker) as session:
        her = participant_facts(session, actor, study_id, for_update=True)
        require_state(study_id, her.status, _ASSESSABLE, "assess eligibility")
        day = on_date or local_date(assessed_at, her.time_zone)
        protocol = protocol_in_force(session, her.study_pk, day)
        criteria = criteria_of(protocol)
        born = decrypt_birth_date(keys, study_id, her.date_of_birth_enc)
        try:
            result = assess(criteria, answers, born, day)
        except EligibilityError as error:
            raise InvalidInput(str(error)) from None
        reasons = [{"criterion": f.criterion, "reason": f.reason} for f in result.failed]
        assessment_id = session.connection().execute(_INSERT_ASSESSMENT, {
            "participant_id": her.participant_id, "protocol_version_id": protocol.id,
            "answers": dict(answers), "result": result.status, "reasons": reasons,
            "assessed_at": assessed_at, "assessed_by_id": actor.user_id,
        }).scalar_one()  # fmt: skip
        old_state = new_state = her.status
        if result.status != "incomplete":
            event = Event.ASSESSED_ELIGIBLE if result.eligible else Event.ASSESSED_INELIGIBLE
            old_state, new_state = advance(session, her, event)
        append_event(
            session, actor=actor.username, action="assess", entity="eligibility_assessment",
            entity_id=assessment_id, reason=f"eligibility under protocol {protocol.version}",
            old={"status": old_state},
            new={"participant": study_id, "protocol_version": protocol.version,
                 "assessed_on": day, "answers": dict(answers), "result": result.status,
                 "reasons": reasons, "missing": list(result.missing), "status": new_state},
            at=assessed_at,
        )  # fmt: skip
    return EligibilityOutcome(
        study_id=study_id,
        protocol_version=protocol.version,
        assessed_on=day,
        status=result.status,
        reasons=tuple(f.reason for f in result.failed),
        missing=result.missing,
        pathway_state=new_state,
    )
