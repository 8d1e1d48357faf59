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
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
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
from pebs.services.errors import Conflict, InvalidInput, ServiceError
from pebs.services.keys import IdentityKeys
from pebs.services.storable_text import refuse_unstorable, refuses_unstorable_text
from pebs.services.subject import Subject, birth_dates, find_participants, one_found
from pebs.services.transaction import instant, local_date, transaction
from pebs.services.trial._returned_ids import ids_in_order
from pebs.services.trial._study_version import StudyVersion, study_version
from pebs.services.trial.study_rules import arm_named
from pebs.store.audit import append_event
from pebs.store.bulk_insert import insert_rows
from pebs.store.inline_lists import inline_list
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
    "PlanWanted",
    "PlannedExamView",
    "create_screening_plan",
    "create_screening_plan_in",
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


_ARM_POLICIES: dict[tuple[int, str | None, str], str] = {}
"""(study key, configuration digest, arm) -> the arm's policy as stored."""


def _arm_policy(session: Session, study: Study | StudyVersion, arm: str) -> str:
    """The policy stored for the study's ``arm``, read once per configuration digest (the loader
    writes a study's arms and its digest in one transaction: a new digest is a new key)."""
    key = (study.id, study.config_sha256, arm)
    policy = _ARM_POLICIES.get(key)
    if policy is None:
        row = study if isinstance(study, Study) else session.get(Study, study.id)
        assert row is not None  # read by the caller in this transaction
        policy = arm_named(session, row, arm).policy
        if study.config_sha256 is not None:  # a study stored without a digest is read each time
            if len(_ARM_POLICIES) > 256:  # arms of a handful of studies and their versions
                _ARM_POLICIES.clear()
            _ARM_POLICIES[key] = policy
    return policy


def policy_name(session: Session, study: Study | StudyVersion, subject: Subject, arm: str) -> str:
    """The screening policy of ``arm`` for her country."""
    name = _arm_policy(session, study, arm)
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
    study: Study | StudyVersion,
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
    session: Session, actor: Actor, study: Study | StudyVersion, requests: Sequence[PlanRequest], *,
    years: float, at: datetime,
) -> list[tuple[PlanCreated, dict]]:  # fmt: skip
    """:func:`store_plan` for several women of ``study`` at once; in ``requests`` order.

    A fixed number of statements whatever the number of women (each insert one multi-row
    statement per backend page): the plans of each arm and country are computed with the policy
    read once. The caller holds the transaction, each woman's row lock and her pathway state
    (this moves no state); each woman appears once (``ValueError`` otherwise: two current plans
    would be made); at most a few hundred women per call (their ids are bound parameters). The
    caller writes the audit events.
    """
    if not requests:
        return []
    owners = [request.subject.participant.id for request in requests]
    if len(set(owners)) != len(owners):
        repeated = sorted({r.subject.participant.study_id for r in requests
                           if owners.count(r.subject.participant.id) > 1})  # fmt: skip
        raise ValueError(f"plans: a woman may be planned once per call ({', '.join(repeated)})")
    policies: dict[tuple[str, str], Policy] = {}
    results = []
    for request in requests:
        key = (request.woman.arm, request.subject.country.code)
        if key not in policies:
            name = policy_name(session, study, request.subject, request.woman.arm)
            policies[key] = _policy(name)
        results.append(_plan(policies[key], request.woman, request.start, years))
    connection = session.connection()  # the rows are written as they are (no ORM objects)
    superseded: dict[int, list[int]] = {owner: [] for owner in owners}
    for plan_id, owner in sorted(connection.execute(
        _SUPERSEDE, {"owners": owners, "at": at}
    )):  # fmt: skip
        superseded[owner].append(plan_id)
    removed: Counter[int] = Counter()
    old_plans = {plan_id for ids in superseded.values() for plan_id in ids}
    if old_plans:
        expected = [(row.id, row.participant_id) for row in connection.execute(
            _PLANNED_VISITS, {"owners": owners}
        ) if row.screening_plan_id in old_plans and row.performed_date is None]  # fmt: skip
        if expected:
            connection.execute(_REMOVE_VISITS, {"ids": [visit_id for visit_id, _ in expected]})
            removed.update(owner for _, owner in expected)
    rows = connection.execute(_INSERT_PLAN, [
        {"participant_id": owner, "risk_assessment_id": request.risk_assessment_id,
         "arm": request.woman.arm, "policy": result.policy, "start_date": result.start,
         "end_date": result.end, "notes": list(result.notes), "created_at": at,
         "created_by_id": actor.user_id}
        for owner, request, result in zip(owners, requests, results, strict=True)
    ])  # fmt: skip
    plan_ids = ids_in_order(rows, [(owner,) for owner in owners])
    exams = [(owner, plan_id, exam) for owner, plan_id, result
             in zip(owners, plan_ids, results, strict=True) for exam in result.exams]  # fmt: skip
    if exams:
        values = [(plan_id, e.due, e.window_start, e.window_end, e.modality, e.reason, e.rule)
                  for _, plan_id, e in exams]  # fmt: skip
        rows = connection.execute(_INSERT_EXAM, [dict(zip(_EXAM_COLUMNS, one, strict=True))
                                              for one in values])  # fmt: skip
        exam_ids = ids_in_order(rows, values)
        insert_rows(connection, Visit.__table__, [
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


_SUPERSEDE = (
    update(ScreeningPlan.__table__)
    .where(ScreeningPlan.participant_id.in_(inline_list("owners")),
           ScreeningPlan.superseded_at.is_(None))
    .values(superseded_at=bindparam("at"))
    .returning(ScreeningPlan.id, ScreeningPlan.participant_id)
)  # fmt: skip
_PLANNED_VISITS = (
    select(Visit.id, Visit.participant_id, Visit.performed_date, PlannedExam.screening_plan_id)
    .join(PlannedExam, PlannedExam.id == Visit.planned_exam_id)
    .where(Visit.participant_id.in_(inline_list("owners")))
)
"""The women's visits of a plan, found by her index: the expected ones of the plans superseded
are filtered in Python (``performed_date IS NULL`` in the query would let SQLite read every
visit not yet performed, of every woman, through that column's index)."""
_REMOVE_VISITS = delete(Visit.__table__).where(Visit.id.in_(bindparam("ids", expanding=True)))
_INSERT_PLAN = insert(ScreeningPlan.__table__).returning(
    ScreeningPlan.id, ScreeningPlan.participant_id
)
_EXAM_COLUMNS = ("screening_plan_id", "due_date", "window_start", "window_end", "modality",
                 "reason", "rule")  # fmt: skip
_INSERT_EXAM = insert(PlannedExam.__table__).returning(
    PlannedExam.id, *(PlannedExam.__table__.c[name] for name in _EXAM_COLUMNS)
)


def _density(stored: object) -> str | None:
    """A stored density input as the planner takes it (``"unknown"`` or absent: ``None``)."""
    return str(stored) if stored in ("a", "b", "c", "d") else None


_ARMS = select(Allocation.participant_id, Allocation.arm).where(
    Allocation.participant_id.in_(bindparam("participant_ids", expanding=True))
)
_LATEST_RISKS = (
    select(RiskAssessment.participant_id, RiskAssessment.id, RiskAssessment.level,
           RiskAssessment.inputs, RiskAssessment.outputs)
    .where(RiskAssessment.participant_id.in_(bindparam("participant_ids", expanding=True)))
    .order_by(RiskAssessment.participant_id, RiskAssessment.assessed_at.desc(),
              RiskAssessment.id.desc())
)  # fmt: skip
"""Their risk assessments, each woman's latest first."""
_PLANNED = (State.RANDOMISED_STANDARD, State.RANDOMISED_RISK_BASED, State.RISK_ASSESSED,
            State.PLAN_GIVEN, State.IN_FOLLOW_UP)  # fmt: skip
"""Pathway states in which her plan may be made."""


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
    wanted = PlanWanted(study_id, start=start, last_screen=last_screen, at=at)
    with transaction(session_maker) as session:
        [outcome] = create_screening_plan_in(session, actor, keys, [wanted], years=years)
    if isinstance(outcome, ServiceError):
        raise outcome
    return outcome


@dataclass(frozen=True)
class PlanWanted:
    """A woman to plan (:func:`create_screening_plan_in`)."""

    study_id: str
    start: date | None = None
    last_screen: date | None = None
    at: datetime | None = None


def create_screening_plan_in(
    session: Session, actor: Actor, keys: IdentityKeys, wanted: Sequence[PlanWanted], *,
    years: float = DEFAULT_PLAN_YEARS,
) -> list[PlanCreated | ServiceError]:  # fmt: skip
    """:func:`create_screening_plan` for several women in the caller's transaction; in
    ``wanted`` order, each her plan or the error that refuses it (nothing is written for her).

    The plans of the women planned at the same instant are stored together
    (:func:`store_plans`). A woman may appear once; at most a few hundred women per call. An
    error that is not a refusal (the database's) propagates: the caller rolls back.
    """
    require(actor, Action.RECORD_RISK)
    outcomes: list[PlanCreated | ServiceError | None] = [None] * len(wanted)
    ready: dict[datetime, list[tuple[int, PlanRequest]]] = {}
    studies: dict[int, StudyVersion] = {}
    checked: list[tuple[int, datetime]] = []
    for i, one in enumerate(wanted):
        try:
            refuse_unstorable({"study_id": one.study_id})
            checked.append((i, instant(one.at)))
        except ServiceError as error:
            outcomes[i] = error
    subjects = find_participants(
        session, actor, [wanted[i].study_id for i, _ in checked], for_update=True
    )
    located: list[tuple[int, Subject, datetime]] = []
    for i, created_at in checked:
        try:
            subject = one_found(subjects, wanted[i].study_id)
            subject.require_state(_PLANNED, "plan her screening")
        except ServiceError as error:
            outcomes[i] = error
            continue
        located.append((i, subject, created_at))
    facts = _PlanFacts.read(session, keys, [subject for _, subject, _ in located])
    for i, subject, created_at in located:
        try:
            request = facts.request(subject, wanted[i], created_at)
        except ServiceError as error:
            outcomes[i] = error
            continue
        ready.setdefault(created_at, []).append((i, request))
    for created_at, group in ready.items():
        key = group[0][1].subject.country.study_id
        if key not in studies:
            studies[key] = study_version(session, key)
        stored = store_plans(session, actor, studies[key], [r for _, r in group],
                             years=years, at=created_at)  # fmt: skip
        moves = []
        for (i, request), (created, audit) in zip(group, stored, strict=True):
            subject = request.subject
            old_state = new_state = subject.participant.status
            if subject.state is State.RANDOMISED_STANDARD:
                old_state, new_state = subject.apply(Event.FOLLOW_UP_STARTED)
            elif subject.state is State.RISK_ASSESSED:
                old_state, new_state = subject.apply(Event.PLAN_GIVEN)
            moves.append((i, created, audit, old_state, new_state))
        session.flush()
        for i, created, audit, old_state, new_state in moves:
            append_event(
                session, actor=actor.username, action="plan", entity="screening_plan",
                entity_id=created.plan_id, reason="screening plan", old={"status": old_state},
                new={**audit, "status": new_state}, at=created_at,
            )  # fmt: skip
            outcomes[i] = replace(created, pathway_state=new_state)
    done = [outcome for outcome in outcomes if outcome is not None]
    assert len(done) == len(wanted)  # each woman planned or refused
    return done


@dataclass(frozen=True)
class _PlanFacts:
    """What planning a list of women reads about them, each kind in one query: their arms,
    dates of birth and latest risk assessments."""

    arms: dict[int, str]
    births: dict[int, date | Conflict]
    risks: dict[int, Any]
    """Her latest risk assessment's row (risk-based women assessed)."""

    @classmethod
    def read(cls, session: Session, keys: IdentityKeys, subjects: Sequence[Subject]) -> _PlanFacts:
        ids = sorted({subject.participant.id for subject in subjects})
        if not ids:
            return cls({}, {}, {})
        connection = session.connection()
        arms = dict(connection.execute(_ARMS, {"participant_ids": ids}).all())
        births = birth_dates(session, keys, [subject.participant for subject in subjects])
        risk_based = [pid for pid in ids if arms.get(pid) == "risk-based"]
        risks: dict[int, Any] = {}
        if risk_based:
            for row in connection.execute(_LATEST_RISKS, {"participant_ids": risk_based}):
                risks.setdefault(row.participant_id, row)  # latest first
        return cls(arms, births, risks)

    def request(self, subject: Subject, one: PlanWanted, created_at: datetime) -> PlanRequest:
        """Her plan request; :class:`Conflict` for a missing date of birth or risk
        assessment."""
        participant = subject.participant
        arm = self.arms.get(participant.id)
        assert arm is not None  # every planned state follows an allocation
        day = one.start or local_date(created_at, subject.country.time_zone)
        born = self.births[participant.id]
        if isinstance(born, Conflict):
            raise born
        woman = Woman(born, arm=arm, last_screen=one.last_screen)
        risk = None
        if arm == "risk-based":
            risk = self.risks.get(participant.id)
            if risk is None:
                raise Conflict(
                    f"{one.study_id} has no risk assessment: record one (which also gives her plan)"
                )
            woman = Woman(born, arm="risk-based", level=risk.level,
                          risk_5y=risk.outputs.get("risk_5y"),
                          density=_density(risk.inputs.get("density")),
                          last_screen=one.last_screen)  # fmt: skip
        return PlanRequest(subject, woman, day, None if risk is None else risk.id)
