"""Create a randomised woman's screening plan with her arm's policy.

The policy comes from the study: the standard arm uses her country's national programme
(``standard_policy``), the risk-based arm the arm's policy (``mypebs-risk-based``) with her latest
risk level. :func:`pebs.screening.plan` turns it into dated exams; each is stored as a
:class:`~pebs.store.models.PlannedExam` and as an expected :class:`~pebs.store.models.Visit`
(which the worklists show until it is performed). A new plan supersedes the previous one: its
unperformed expected visits are removed, performed ones are kept.

Pathway: the standard arm starts follow-up with its plan (``randomised_standard`` ->
``in_follow_up``); the risk-based arm's plan is given after her risk assessment
(``risk_assessed`` -> ``plan_given``; :mod:`.risk_assessment` does both in one transaction).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from pebs.screening import (
    DEFAULT_PLAN_YEARS,
    Plan,
    PlanError,
    PolicyError,
    Woman,
    load_policy,
    plan,
)
from pebs.services.actor import Action, Actor, require
from pebs.services.errors import Conflict, InvalidInput
from pebs.services.keys import IdentityKeys
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.subject import Subject, birth_date, find_participant
from pebs.services.transaction import instant, local_date, transaction
from pebs.services.trial.study_rules import arm_named
from pebs.store.audit import append_event
from pebs.store.models import (
    Allocation,
    PlannedExam,
    RiskAssessment,
    ScreeningPlan,
    Study,
    Visit,
)
from pebs.trial import Event, State
from pebs.trial.study import COUNTRY_POLICY

__all__ = [
    "DEFAULT_PLAN_YEARS",
    "PlanCreated",
    "PlannedExamView",
    "create_screening_plan",
    "store_plan",
]
# DEFAULT_PLAN_YEARS (from the planner): the plan length of the API, the pages and the CLI.


@dataclass(frozen=True)
class PlannedExamView:
    due: date
    window_start: date
    window_end: date
    modality: str
    reason: str


@dataclass(frozen=True)
class PlanCreated:
    study_id: str
    plan_id: int
    arm: str
    policy: str
    start: date
    end: date
    exams: tuple[PlannedExamView, ...]
    notes: tuple[str, ...]
    pathway_state: str


def policy_name(session: Session, study: Study, subject: Subject, arm: str) -> str:
    """The screening policy of ``arm`` for her country."""
    name = arm_named(session, study, arm).policy
    return subject.country.standard_policy if name == COUNTRY_POLICY else name


def _plan(policy: str, woman: Woman, start: date, years: float) -> Plan:
    try:
        loaded = load_policy(policy)
    except PolicyError as error:
        raise Conflict(f"the study's policy {policy!r} cannot be used: {error}") from None
    try:
        return plan(loaded, woman, start, years=None if loaded.study else years)
    except PlanError as error:
        raise InvalidInput(str(error)) from None


def store_plan(
    session: Session,
    actor: Actor,
    subject: Subject,
    study: Study,
    woman: Woman,
    *,
    start: date,
    years: float,
    risk_assessment_id: int | None,
    at: datetime,
) -> tuple[PlanCreated, dict]:
    """Plan, supersede the current plan, store exams and expected visits.

    Returns the result and the audit values (the caller writes the event, after any state
    change, as the last write of its transaction).
    """
    participant = subject.participant
    policy = policy_name(session, study, subject, woman.arm)
    result = _plan(policy, woman, start, years)
    superseded = (
        session.execute(
            update(ScreeningPlan)
            .where(
                ScreeningPlan.participant_id == participant.id,
                ScreeningPlan.superseded_at.is_(None),
            )
            .values(superseded_at=at)
            .returning(ScreeningPlan.id)
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    n_removed = 0
    if superseded:
        old_exams = select(PlannedExam.id).where(PlannedExam.screening_plan_id.in_(superseded))
        n_removed = session.execute(
            delete(Visit)
            .where(Visit.planned_exam_id.in_(old_exams), Visit.performed_date.is_(None))
            .execution_options(synchronize_session=False)
        ).rowcount
    row = ScreeningPlan(
        participant_id=participant.id, risk_assessment_id=risk_assessment_id, arm=woman.arm,
        policy=result.policy, start_date=result.start, end_date=result.end,
        notes=list(result.notes), created_at=at, created_by_id=actor.user_id,
        exams=[
            PlannedExam(due_date=e.due, window_start=e.window_start, window_end=e.window_end,
                        modality=e.modality, reason=e.reason, rule=e.rule)
            for e in result.exams
        ],
    )  # fmt: skip
    session.add(row)
    session.flush()
    session.add_all(
        Visit(
            participant_id=participant.id,
            planned_exam_id=exam.id,
            visit_type="end_of_study" if exam.rule == "end-of-study" else "screening",
            modality=exam.modality,
            due_date=exam.due_date,
            window_start=exam.window_start,
            window_end=exam.window_end,
        )
        for exam in row.exams
    )
    exams = tuple(
        PlannedExamView(e.due, e.window_start, e.window_end, e.modality, e.reason)
        for e in result.exams
    )
    created = PlanCreated(
        participant.study_id, row.id, woman.arm, result.policy, result.start, result.end,
        exams, result.notes, participant.status,
    )  # fmt: skip
    audit = {
        "participant": participant.study_id, "plan_id": row.id, "arm": woman.arm,
        "risk_assessment_id": risk_assessment_id,
        "policy": result.policy, "start": result.start, "end": result.end,
        "n_exams": len(exams), "superseded_plans": list(superseded),
        "removed_expected_visits": n_removed,
    }  # fmt: skip
    return created, audit


def _density(stored: object) -> str | None:
    """A stored density input as the planner takes it (``"unknown"`` or absent: ``None``)."""
    return str(stored) if stored in ("a", "b", "c", "d") else None


@refuses_unstorable_text
def create_screening_plan(
    session_maker: sessionmaker[Session],
    actor: Actor,
    keys: IdentityKeys,
    study_id: str,
    *,
    start: date | None = None,
    last_screen: date | None = None,
    years: float = DEFAULT_PLAN_YEARS,
    at: datetime | None = None,
) -> PlanCreated:
    """Plan her screening under her arm's policy from ``start`` (default today in her country).

    Standard arm: her country's programme, and follow-up starts. Risk-based arm: the arm's
    policy with her latest risk assessment (:class:`Conflict` without one; use
    :func:`~.risk_assessment.record_risk_assessment`, which also plans). Re-planning supersedes
    the current plan.
    """
    require(actor, Action.RECORD_RISK)
    created_at = instant(at)
    with transaction(session_maker) as session:
        subject = find_participant(session, actor, study_id, for_update=True)
        participant = subject.participant
        allocation = session.scalar(
            select(Allocation).where(Allocation.participant_id == participant.id)
        )
        planned = (State.RANDOMISED_STANDARD, State.RANDOMISED_RISK_BASED, State.RISK_ASSESSED,
                   State.PLAN_GIVEN, State.IN_FOLLOW_UP)  # fmt: skip
        subject.require_state(planned, "plan her screening")
        assert allocation is not None  # every planned state follows an allocation
        day = start or local_date(created_at, subject.country.time_zone)
        woman = Woman(birth_date(session, keys, participant), arm=allocation.arm,
                      last_screen=last_screen)  # fmt: skip
        risk = None
        if allocation.arm == "risk-based":
            risk = session.scalar(
                select(RiskAssessment)
                .where(RiskAssessment.participant_id == participant.id)
                .order_by(RiskAssessment.assessed_at.desc(), RiskAssessment.id.desc())
                .limit(1)
            )
            if risk is None:
                raise Conflict(
                    f"{study_id} has no risk assessment: record one (which also gives her plan)"
                )
            woman = Woman(woman.birth_date, arm="risk-based", level=risk.level,
                          risk_5y=risk.outputs.get("risk_5y"),
                          density=_density(risk.inputs.get("density")),
                          last_screen=last_screen)  # fmt: skip
        created, audit = store_plan(
            session, actor, subject, subject.study(session), woman, start=day, years=years,
            risk_assessment_id=None if risk is None else risk.id, at=created_at,
        )  # fmt: skip
        old_state = new_state = participant.status
        if subject.state is State.RANDOMISED_STANDARD:
            old_state, new_state = subject.apply(Event.FOLLOW_UP_STARTED)
        elif subject.state is State.RISK_ASSESSED:
            old_state, new_state = subject.apply(Event.PLAN_GIVEN)
        session.flush()
        append_event(
            session, actor=actor.username, action="plan", entity="screening_plan",
            entity_id=created.plan_id, reason="screening plan", old={"status": old_state},
            new={**audit, "status": new_state}, at=created_at,
        )  # fmt: skip
    return replace(created, pathway_state=new_state)
