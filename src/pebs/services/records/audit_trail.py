"""The audit events about one participant, in chain order.

Events are found by the rows they name: the participant herself (``entity="participant"``,
her study ID) and her eligibility assessments, consents, allocation, risk assessments,
screening plans, visits, outcomes, death, questionnaires and data queries. Roles below the
central data manager do not see list internals (``allocation_slot_id``): the audit view never
helps to predict an allocation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.subject import find_participant
from pebs.store.models import (
    Allocation,
    AuditEvent,
    Consent,
    DataQuery,
    Death,
    EligibilityAssessment,
    Outcome,
    QuestionnaireResponse,
    RiskAssessment,
    ScreeningPlan,
    Visit,
)

__all__ = ["AuditEntry", "about_her", "participant_audit_events"]

_CHILDREN = {
    "eligibility_assessment": EligibilityAssessment, "consent": Consent,
    "allocation": Allocation, "risk_assessment": RiskAssessment,
    "screening_plan": ScreeningPlan, "visit": Visit, "outcome": Outcome, "death": Death,
    "questionnaire_response": QuestionnaireResponse, "data_query": DataQuery,
}  # fmt: skip
_LIST_INTERNALS = frozenset({"allocation_slot_id"})
_SEES_INTERNALS = frozenset({"data_manager", "monitor"})


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    reason: str | None
    old: dict[str, Any] | None
    new: dict[str, Any] | None


def _redact(values: dict[str, Any] | None, role: str) -> dict[str, Any] | None:
    if values is None or role in _SEES_INTERNALS:
        return values
    return {k: v for k, v in values.items() if k not in _LIST_INTERNALS}


def about_her(session: Session, participant_id: int, study_id: str) -> ColumnElement[bool]:
    """The condition on :class:`AuditEvent` of the events about her (module docstring)."""
    clauses = [and_(AuditEvent.entity == "participant", AuditEvent.entity_id == study_id)]
    for entity, model in _CHILDREN.items():
        ids = [str(i) for i in session.scalars(
            select(model.id).where(model.participant_id == participant_id))]  # fmt: skip
        if ids:
            clauses.append(and_(AuditEvent.entity == entity, AuditEvent.entity_id.in_(ids)))
    return or_(*clauses)


@refuses_unstorable_text
def participant_audit_events(
    session_maker: sessionmaker[Session], actor: Actor, study_id: str, *, limit: int = 1000
) -> tuple[AuditEntry, ...]:
    """Her audit events (oldest first, at most ``limit``); NotFound outside the actor's scope."""
    require(actor, Action.READ_PARTICIPANT)
    with session_maker() as session:
        participant = find_participant(session, actor, study_id).participant
        events = session.scalars(
            select(AuditEvent).where(about_her(session, participant.id, study_id))
            .order_by(AuditEvent.id).limit(limit)
        )  # fmt: skip
        return tuple(
            AuditEntry(e.id, e.at, e.actor, e.action, e.entity, e.entity_id, e.reason,
                       _redact(e.old, actor.role), _redact(e.new, actor.role))
            for e in events
        )  # fmt: skip
