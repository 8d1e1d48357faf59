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

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from pebs.screening import (
    DEFAULT_PLAN_YEARS,
    Plan,
    PlanError,
    Policy,
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
    "PlanRequest",
    "PlannedExamView",
    "create_screening_plan",
    "store_plan",
    "store_plans",
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


def _policy(name: str) -> Policy:
    try:
        return load_policy(name)
    except PolicyError as error:
        raise Conflict(f"the study's policy {name!r} cannot be used: {error}") from None


def _plan(loaded: Policy, woman: Woman, start: date, years: float) -> Plan:
    try:
        return plan(loaded, woman, start, years=None if loaded.study else years)
    except PlanError as error:
        raise InvalidInput(str(error)) from None


@dataclass(frozen=True)
class PlanRequest:
    """A woman to plan (:func:`store_plans`)."""

    subject: Subject
    woman: Woman
    start: date
    risk_assessment_id: int | None


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
    request = PlanRequest(subject, woman, start, risk_assessment_id)
    [stored] = store_plans(session, actor, study, [request], years=years, at=at)
    return stored


def store_plans(
    session: Session, actor: Actor, study: Study, requests: Sequence[PlanRequest], *,
    years: float, at: datetime,
) -> list[tuple[PlanCreated, dict]]:  # fmt: skip
    """:func:`store_plan` for several women of ``study`` at once, a few statements in all (at
    most a few hundred women: their ids are bound parameters); in ``requests`` order."""
    if not requests:
        return []
    policies: dict[tuple[str, str], Policy] = {}
    results = []
    for request in requests:
        key = (request.woman.arm, request.subject.country.code)
        if key not in policies:
            name = policy_name(session, study, request.subject, request.woman.arm)
            policies[key] = _policy(name)
        results.append(_plan(policies[key], request.woman, request.start, years))
    owners = [request.subject.participant.id for request in requests]
    superseded: dict[int, list[int]] = {owner: [] for owner in owners}
    for plan_id, owner in sorted(session.execute(
        update(ScreeningPlan)
        .where(ScreeningPlan.participant_id.in_(owners), ScreeningPlan.superseded_at.is_(None))
        .values(superseded_at=at)
        .returning(ScreeningPlan.id, ScreeningPlan.participant_id)
        .execution_options(synchronize_session=False)
    )):  # fmt: skip
        superseded[owner].append(plan_id)
    removed: Counter[int] = Counter()
    old_plans = [plan_id for ids in superseded.values() for plan_id in ids]
    if old_plans:
        old_exams = select(PlannedExam.id).where(PlannedExam.screening_plan_id.in_(old_plans))
        removed.update(session.scalars(
            delete(Visit)
            .where(Visit.planned_exam_id.in_(old_exams), Visit.performed_date.is_(None))
            .returning(Visit.participant_id)
            .execution_options(synchronize_session=False)
        ))  # fmt: skip
    plan_ids = session.scalars(
        insert(ScreeningPlan).returning(ScreeningPlan.id, sort_by_parameter_order=True),
        [{"participant_id": owner, "risk_assessment_id": request.risk_assessment_id,
          "arm": request.woman.arm, "policy": result.policy, "start_date": result.start,
          "end_date": result.end, "notes": list(result.notes), "created_at": at,
          "created_by_id": actor.user_id}
         for owner, request, result in zip(owners, requests, results, strict=True)],
    ).all()  # fmt: skip
    exams = [(owner, plan_id, exam) for owner, plan_id, result
             in zip(owners, plan_ids, results, strict=True) for exam in result.exams]  # fmt: skip
    if exams:
        exam_ids = session.scalars(
            insert(PlannedExam).returning(PlannedExam.id, sort_by_parameter_order=True),
            [{"screening_plan_id": plan_id, "due_date": e.due, "window_start": e.window_start,
              "window_end": e.window_end, "modality": e.modality, "reason": e.reason,
              "rule": e.rule} for _, plan_id, e in exams],
        ).all()  # fmt: skip
        session.execute(insert(Visit), [
            {"participant_id": owner, "planned_exam_id": exam_id,
             "visit_type": "end_of_study" if e.rule == "end-of-study" else "screening",
             "modality": e.modality, "due_date": e.due, "window_start": e.window_start,
             "window_end": e.window_end}
            for exam_id, (owner, _, e) in zip(exam_ids, exams, strict=True)
        ])  # fmt: skip
    stored = []
    for owner, plan_id, request, result in zip(owners, plan_ids, requests, results, strict=True):
        participant = request.subject.participant
        views = tuple(PlannedExamView(e.due, e.window_start, e.window_end, e.modality, e.reason)
                      for e in result.exams)  # fmt: skip
        created = PlanCreated(
            participant.study_id, plan_id, request.woman.arm, result.policy, result.start,
            result.end, views, result.notes, participant.status,
        )  # fmt: skip
        audit = {
            "participant": participant.study_id, "plan_id": plan_id, "arm": request.woman.arm,
            "risk_assessment_id": request.risk_assessment_id,
            "policy": result.policy, "start": result.start, "end": result.end,
            "n_exams": len(views), "superseded_plans": superseded[owner],
            "removed_expected_visits": removed[owner],
        }  # fmt: skip
        stored.append((created, audit))
    return stored


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
