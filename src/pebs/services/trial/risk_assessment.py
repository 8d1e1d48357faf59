"""Record a risk-based participant's risk assessment and give her the plan for her risk level.

The model is the study's (``[risk_assessment] model``, default the personalised model): a
:class:`~pebs.risk.protocol.FiveYearModel` of :mod:`pebs.risk.registry` calibrated to her
country; age is her completed years on the assessment date. Each input is a value,
``"unknown"`` (she does not know: the model's missing-covariate rule applies) or absent
(:class:`RiskFactors`). The study's ``[risk_assessment]`` rules
(:class:`pebs.trial.RiskInputRules`) say which inputs must be answered: an absent required input
is refused (:class:`InvalidFields` naming each), never scored as unknown or as the lowest
category; without the PRS an assessment is *provisional*, allowed only if the study says so. A
woman with no classical factor known is refused before the model is asked (it would give no risk),
the four factors named.

Stored: the model's id and version, every input (value, ``"unknown"`` or ``null``, with the country
of calibration), the outputs (five-year risk as a proportion and in percent, the relative-risk
components, ``null`` where unknown, the unknown inputs, whether provisional) and the MyPeBS level. A
new level below her current one (low < average < high < very_high) is refused with
:class:`LevelLowered` unless the caller confirms it (``confirm_lower=True``) and gives a reason;
both go into the audit event. In the same transaction her plan is made under the risk-based arm's
policy (:func:`.screening_plan.store_plan`) and the pathway moves ``randomised_risk_based`` ->
``risk_assessed`` -> ``plan_given``. A later re-assessment records a new assessment and supersedes
the plan without moving the pathway.

:func:`evaluate_risks` and :func:`store_risks` do the same for many women at once (one model call
per country, each kind of row written by one multi-row statement, each woman's audit events as
for her alone); :func:`evaluate_risk` and :func:`store_risk` are them for one woman. The study's
rules and its arms' policies are read once per configuration digest (``config_sha256``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from pebs.risk.inputs import RiskInputs
from pebs.risk.protocol import FiveYearModel, FiveYearResult
from pebs.risk.registry import UnknownModelError, five_year_model
from pebs.screening import Woman, age_on
from pebs.services.actor import Action, Actor, require
from pebs.services.errors import Conflict, InvalidFields, LevelLowered, ServiceError
from pebs.services.keys import IdentityKeys
from pebs.services.queries.edit_check_runs import run_edit_checks_on
from pebs.services.storable_text import refuse_unstorable, refuses_unstorable_text
from pebs.services.subject import (
    Subject,
    birth_dates,
    find_participants,
    one_found,
)
from pebs.services.transaction import instant, local_date, transaction
from pebs.services.trial._latest_rows import FirstPer
from pebs.services.trial._returned_ids import ids_in_order
from pebs.services.trial._risk_factors import (
    DENSITIES,
    NULLIPAROUS,
    UNKNOWN,
    RiskFactors,
    field_errors,
    model_inputs,
    no_classical_known,
    platform_names,
)
from pebs.services.trial._study_version import StudyVersion, study_config, study_version
from pebs.services.trial.screening_plan import (
    DEFAULT_PLAN_YEARS,
    PlanCreated,
    PlanRequest,
    store_plans,
)
from pebs.store.audit import append_event
from pebs.store.models import RiskAssessment, Study
from pebs.trial import Event, State
from pebs.trial.risk_inputs import RISK_INPUTS, RiskInputRules, is_lower, rules_from_json

__all__ = [
    "NULLIPAROUS",
    "RISK_ARM_STATES",
    "UNKNOWN",
    "AssessmentWanted",
    "RiskEvaluation",
    "RiskFactors",
    "RiskRecorded",
    "RiskToStore",
    "RiskWanted",
    "check_answers",
    "evaluate_risk",
    "evaluate_risks",
    "latest_assessments",
    "record_risk_assessment",
    "record_risk_assessment_in",
    "risk_rules",
    "store_risk",
    "store_risks",
]

_ABSENT = 'not answered: give a value, or "unknown" if she does not know'


@dataclass(frozen=True)
class RiskRecorded:
    study_id: str
    assessment_id: int
    model: str
    model_version: str
    risk_5y: float
    """Five-year absolute risk, proportion (0.012 = 1.2%)."""
    risk_5y_pct: float
    """The same risk in percent."""
    level: str
    rr_classical: float | None
    """Relative risk of the questionnaire factors; ``None`` (unknown) if one of them is unknown."""
    rr_prs: float | None
    """Relative risk of the polygenic score; ``None`` if unknown."""
    rr_density: float | None
    """Relative risk of breast density; ``None`` if unknown."""
    unknown_inputs: tuple[str, ...]
    """Inputs scored as unknown (the model's missing-covariate rule), platform names."""
    provisional: bool
    """True for an assessment without the PRS (allowed by the study): to be replaced."""
    previous_level: str | None
    """Her level before this assessment (``None`` for her first)."""
    plan: PlanCreated
    pathway_state: str


def _finite(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


_RULES: dict[tuple[int, str | None], RiskInputRules] = {}
"""(study key, configuration digest) -> the study's rules."""


def risk_rules(session: Session, study: Study | StudyVersion) -> RiskInputRules:
    """The study's ``[risk_assessment]`` rules, read once per configuration digest."""
    key = (study.id, study.config_sha256)
    rules = _RULES.get(key)
    if rules is None:
        rules = rules_from_json(study_config(session, study).get("risk_assessment"))
        if study.config_sha256 is not None:  # a study stored without a digest is read each time
            if len(_RULES) > 64:  # a handful of studies and their versions per installation
                _RULES.clear()
            _RULES[key] = rules
    return rules


def check_answers(
    factors: RiskFactors, rules: RiskInputRules, inputs: tuple[str, ...] = RISK_INPUTS
) -> bool:
    """Refuse bad or absent required ``inputs`` (every one named); whether provisional."""
    problems = {name: text for name, text in factors.problems().items() if name in inputs}
    answers = factors.answers()
    absent = [name for name in rules.absent_required(answers)
              if name in inputs and name not in problems]  # fmt: skip
    if problems or absent:
        parts = [f"{name}: {message}" for name, message in problems.items()]
        if absent:
            parts.append(f"not answered: {', '.join(absent)} (give a value, or \"unknown\" if "
                         "she does not know)")  # fmt: skip
        raise InvalidFields(
            f"risk factors: {'; '.join(parts)}", {**problems, **dict.fromkeys(absent, _ABSENT)},
            absent=tuple(absent),
        )  # fmt: skip
    return rules.is_provisional(answers)


def _model(rules: RiskInputRules, country: str) -> FiveYearModel:
    try:
        return five_year_model(rules.model, country)
    except UnknownModelError as error:
        raise Conflict(f"the study's risk_assessment.{error}") from None
    except (KeyError, ValueError) as error:
        raise Conflict(
            f"no calibration of risk model {rules.model!r} for {country}: {error}"
        ) from None


def _outputs(model: FiveYearModel, result: FiveYearResult, i: int) -> dict[str, Any]:
    """Woman ``i``'s outputs as stored (``result.is_valid[i]``)."""
    risk = float(result.risk_5y[i])
    unknown = platform_names(model, result.unknown_inputs(i))
    return {
        "risk_5y": risk, "risk_5y_pct": risk * 100.0, "level": str(result.level[i]),
        "rr_classical": _finite(result.rr_classical[i]), "rr_prs": _finite(result.rr_prs[i]),
        "rr_density": _finite(result.rr_density[i]), "unknown_inputs": list(unknown),
        "missing_prs": "prs_z" in unknown, "missing_density": "density" in unknown,
        "country": result.country, "model": model.name,
    }  # fmt: skip


def _stacked(inputs: Sequence[RiskInputs]) -> RiskInputs:
    """Several women's model inputs (one woman each) as one set of arrays."""
    return RiskInputs(**{field.name: [value for one in inputs for value in getattr(one, field.name)]
                         for field in fields(RiskInputs)})  # fmt: skip


def _lowering(study_id: str, previous: str | None, level: str, confirm: bool,
              reason: str | None) -> str | None:  # fmt: skip
    """The reason of a confirmed lowering; :class:`LevelLowered` if it is not confirmed."""
    if not is_lower(previous, level):
        return None
    assert previous is not None
    given = reason.strip() if isinstance(reason, str) else ""
    if confirm is not True or not given:
        raise LevelLowered(
            f"{study_id}: this assessment would lower her risk level from {previous} to {level} "
            "(and her screening); confirm it (confirm_lower) and give a reason", previous, level,
        )  # fmt: skip
    return given


@dataclass(frozen=True)
class RiskEvaluation:
    """An assessment computed for her, not yet stored (:func:`evaluate_risk`)."""

    model: FiveYearModel
    factors: RiskFactors
    inputs: dict[str, Any]
    """Every input as stored: her answers, age (completed years), date and country."""
    outputs: dict[str, Any]
    provisional: bool
    previous: RiskAssessment | None
    """Her latest assessment, if any."""
    born: date
    day: date
    """The assessment date (also the plan's start)."""

    @property
    def level(self) -> str:
        return str(self.outputs["level"])

    @property
    def previous_level(self) -> str | None:
        return None if self.previous is None else self.previous.level

    @property
    def lowers(self) -> bool:
        """Whether the new level is below her current one."""
        return is_lower(self.previous_level, self.level)


RISK_ARM_STATES = (State.RANDOMISED_RISK_BASED, State.RISK_ASSESSED, State.PLAN_GIVEN,
                   State.IN_FOLLOW_UP)  # fmt: skip
"""Pathway states in which a risk assessment may be recorded (the risk-based arm)."""


_LATEST = FirstPer(RiskAssessment, RiskAssessment.participant_id,
                   (RiskAssessment.assessed_at.desc(), RiskAssessment.id.desc()))  # fmt: skip


def latest_assessments(
    session: Session, participant_ids: Iterable[int]
) -> dict[int, RiskAssessment]:
    """Each woman's latest risk assessment (the one that sets her level), by row id."""
    return _LATEST(session, participant_ids)


def evaluate_risk(
    session: Session, keys: IdentityKeys, subject: Subject, study: Study | StudyVersion,
    factors: RiskFactors, *, day: date,
) -> RiskEvaluation:  # fmt: skip
    """Her assessment on ``day`` from ``factors`` under the study's rules, not stored.

    :class:`InvalidFields` for inputs absent though required, of the wrong kind, or rejected by
    the model (each named); :class:`Conflict` for a study model without her country's
    calibration.
    """
    [evaluation] = evaluate_risks(session, keys, study, [RiskWanted(subject, factors, day)])
    if isinstance(evaluation, InvalidFields | Conflict):
        raise evaluation
    return evaluation


@dataclass(frozen=True)
class RiskWanted:
    """A woman whose assessment is wanted (:func:`evaluate_risks`)."""

    subject: Subject
    factors: RiskFactors
    day: date
    """The assessment date."""


def evaluate_risks(
    session: Session, keys: IdentityKeys, study: Study | StudyVersion,
    wanted: Sequence[RiskWanted], *, previous: Mapping[int, RiskAssessment] | None = None,
) -> list[RiskEvaluation | InvalidFields | Conflict]:  # fmt: skip
    """:func:`evaluate_risk` for several women of ``study``, one model call per country; in
    ``wanted`` order, each her evaluation or the error that refuses it.

    A fixed number of queries whatever the number of women (their latest assessments and their
    identity records, each read in one). Nothing is written. The caller holds the transaction
    in which it stores the evaluations (:func:`store_risks`) and each woman's row lock, so that
    her latest assessment cannot change in between; it checks her pathway state
    (:data:`RISK_ARM_STATES`). At most a few hundred women per call (their ids are bound
    parameters). ``previous``: each woman's latest assessment by row id, when the caller has
    read them (a woman absent from it has none); otherwise they are read here.
    """
    rules = risk_rules(session, study)
    owners = [one.subject.participant.id for one in wanted]
    if previous is None:
        previous = latest_assessments(session, owners)
    births = birth_dates(session, keys, [one.subject.participant for one in wanted])
    outcomes: list[RiskEvaluation | InvalidFields | Conflict | None] = [None] * len(wanted)
    models: dict[str, FiveYearModel | Conflict] = {}
    ready: dict[str, list[tuple[int, int, bool, date]]] = {}
    for i, one in enumerate(wanted):
        country = one.subject.country.code
        try:
            provisional = check_answers(one.factors, rules)
            refused = no_classical_known(one.factors)
            if refused is not None:
                raise refused
            if country not in models:
                models[country] = _model_or_refusal(rules, country)
            if isinstance(models[country], Conflict):
                raise models[country]
            born = births[one.subject.participant.id]
            if isinstance(born, Conflict):
                raise born
        except (InvalidFields, Conflict) as error:
            outcomes[i] = error
            continue
        ready.setdefault(country, []).append((i, age_on(born, one.day), provisional, born))
    for country, group in ready.items():
        model = models[country]
        assert not isinstance(model, Conflict)  # refused above
        result = model.assess(_stacked([model_inputs(wanted[i].factors, age)
                                        for i, age, _, _ in group]))  # fmt: skip
        for j, (i, age, provisional, born) in enumerate(group):
            if not result.is_valid[j]:
                outcomes[i] = field_errors(model, result, j)
                continue
            one = wanted[i]
            inputs = {**one.factors.answers(), "age": age, "assessed_on": one.day.isoformat(),
                      "country": country}  # fmt: skip
            outputs = {**_outputs(model, result, j), "provisional": provisional}
            outcomes[i] = RiskEvaluation(
                model, one.factors, inputs, outputs, provisional,
                previous.get(one.subject.participant.id), born, one.day,
            )  # fmt: skip
    done = [outcome for outcome in outcomes if outcome is not None]
    assert len(done) == len(wanted)  # each woman evaluated or refused
    return done


def _model_or_refusal(rules: RiskInputRules, country: str) -> FiveYearModel | Conflict:
    try:
        return _model(rules, country)
    except Conflict as refusal:
        return refusal


def store_risk(
    session: Session,
    actor: Actor,
    subject: Subject,
    study: Study | StudyVersion,
    evaluation: RiskEvaluation,
    *,
    last_screen: date | None,
    plan_years: float,
    at: datetime,
    reason: str,
    audit: Mapping[str, Any] | None = None,
) -> RiskRecorded:
    """Store ``evaluation``, give her the plan for its level and move her pathway, audited.

    The caller holds her row lock and has decided about a lowered level (``audit`` adds its
    record, and any other facts, to the assessment's audit event).
    """
    stored = RiskToStore(subject, evaluation, last_screen, audit)
    [recorded] = store_risks(session, actor, study, [stored], plan_years=plan_years, at=at,
                             reason=reason)  # fmt: skip
    return recorded


@dataclass(frozen=True)
class RiskToStore:
    """An evaluated assessment to store (:func:`store_risks`)."""

    subject: Subject
    evaluation: RiskEvaluation
    last_screen: date | None
    """Her latest mammogram, if any (the plan counts from it)."""
    audit: Mapping[str, Any] | None = None
    """Added to the assessment's audit event."""


def store_risks(
    session: Session, actor: Actor, study: Study | StudyVersion, stored: Sequence[RiskToStore], *,
    plan_years: float, at: datetime, reason: str,
) -> list[RiskRecorded]:  # fmt: skip
    """:func:`store_risk` for several women of ``study``: the assessments, plans, exams and
    visits each written by one multi-row statement (per backend page) whatever their number;
    each woman's audit events as :func:`store_risk` writes them, in ``stored`` order.

    The caller holds the transaction and each woman's row lock, has checked that each is in a
    state of :data:`RISK_ARM_STATES` and evaluated her in this transaction (:func:`evaluate_risks`:
    her ``previous`` assessment is still her latest), and has decided about lowered levels. Each
    woman appears once (``ValueError`` otherwise); at most a few hundred women per call (their
    ids are bound parameters). Her pathway moves as for :func:`store_risk`.
    """
    if not stored:
        return []
    owners = [one.subject.participant.id for one in stored]
    if len(set(owners)) != len(owners):
        raise ValueError("risk assessments: a woman may be assessed once per call")
    rows = session.connection().execute(_INSERT_ASSESSMENT, [
        {"participant_id": owner, "model_name": one.evaluation.model.id,
         "model_version": one.evaluation.model.version, "inputs": one.evaluation.inputs,
         "outputs": one.evaluation.outputs, "level": one.evaluation.level, "assessed_at": at,
         "assessed_by_id": actor.user_id} for owner, one in zip(owners, stored, strict=True)
    ])  # fmt: skip
    ids = ids_in_order(rows, [(owner,) for owner in owners])
    old_states = []
    for one in stored:
        old_states.append(one.subject.participant.status)
        if one.subject.state is State.RANDOMISED_RISK_BASED:
            one.subject.apply(Event.RISK_ASSESSED)
    with session.no_autoflush:  # her state is written once, after the plan
        plans = store_plans(session, actor, study, [
            PlanRequest(one.subject, _woman(one), one.evaluation.day, row_id)
            for one, row_id in zip(stored, ids, strict=True)
        ], years=plan_years, at=at)  # fmt: skip
    for one in stored:
        if one.subject.state is State.RISK_ASSESSED:
            one.subject.apply(Event.PLAN_GIVEN)
    session.flush()
    recorded = []
    for one, row_id, old_state, (plan, plan_audit) in zip(stored, ids, old_states, plans,
                                                           strict=True):  # fmt: skip
        recorded.append(_audited(session, actor, one, row_id, old_state, plan, plan_audit, at,
                                 reason))  # fmt: skip
    return recorded


_INSERT_ASSESSMENT = insert(RiskAssessment.__table__).returning(
    RiskAssessment.id, RiskAssessment.participant_id
)


def _woman(stored: RiskToStore) -> Woman:
    """Her as the planner takes her, at the evaluated level."""
    evaluation = stored.evaluation
    density = evaluation.factors.density
    return Woman(
        evaluation.born, arm="risk-based", level=evaluation.level,
        risk_5y=evaluation.outputs["risk_5y"], density=density if density in DENSITIES else None,
        last_screen=stored.last_screen,
    )  # fmt: skip


def _audited(
    session: Session, actor: Actor, stored: RiskToStore, row_id: int, old_state: str,
    plan: PlanCreated, plan_audit: dict, at: datetime, reason: str,
) -> RiskRecorded:  # fmt: skip
    """Her assessment's and plan's audit events; what was recorded."""
    participant, evaluation = stored.subject.participant, stored.evaluation
    model, outputs, level = evaluation.model, evaluation.outputs, evaluation.level
    previous, new_state = evaluation.previous, participant.status
    append_event(
        session, actor=actor.username, action="assess", entity="risk_assessment",
        entity_id=row_id, reason=reason,
        old=None if previous is None else {"level": previous.level,
                                           "risk_assessment": previous.id},
        new={"participant": participant.study_id, "model": model.id,
             "model_version": model.version, "inputs": evaluation.inputs, "outputs": outputs,
             "level": level, "provisional": evaluation.provisional,
             "unknown_inputs": outputs["unknown_inputs"], **(stored.audit or {})},
        at=at,
    )  # fmt: skip
    append_event(
        session, actor=actor.username, action="plan", entity="screening_plan",
        entity_id=plan.plan_id, reason=f"screening plan for risk level {level}",
        old={"status": old_state}, new={**plan_audit, "status": new_state}, at=at,
    )  # fmt: skip
    return RiskRecorded(
        participant.study_id, row_id, model.id, model.version, outputs["risk_5y"],
        outputs["risk_5y_pct"], level, outputs["rr_classical"], outputs["rr_prs"],
        outputs["rr_density"], tuple(outputs["unknown_inputs"]), evaluation.provisional,
        evaluation.previous_level, replace(plan, pathway_state=new_state), new_state,
    )  # fmt: skip


@refuses_unstorable_text
def record_risk_assessment(
    session_maker: sessionmaker[Session],
    actor: Actor,
    keys: IdentityKeys,
    study_id: str,
    factors: RiskFactors,
    *,
    on_date: date | None = None,
    last_screen: date | None = None,
    plan_years: float = DEFAULT_PLAN_YEARS,
    confirm_lower: bool = False,
    reason: str | None = None,
    at: datetime | None = None,
) -> RiskRecorded:
    """Assess her five-year risk, store it, and give her the plan for her level.

    ``on_date`` (default: today in her country) is the assessment date and the plan start;
    ``last_screen`` the date of her last mammogram, if any. :class:`Conflict` for a woman who is
    not in the risk-based arm; :class:`InvalidFields` for inputs that are absent though required,
    of the wrong kind, or that the model rejects (each named); :class:`LevelLowered` for a level
    below her current one without ``confirm_lower=True`` and a ``reason`` (nothing is stored).
    """
    wanted = AssessmentWanted(study_id, factors, on_date=on_date, last_screen=last_screen,
                              confirm_lower=confirm_lower, reason=reason, at=at)  # fmt: skip
    with transaction(session_maker) as session:
        [outcome] = record_risk_assessment_in(session, actor, keys, [wanted],
                                              plan_years=plan_years)  # fmt: skip
        if not isinstance(outcome, ServiceError):
            run_edit_checks_on(session, study_id, at=at)
    if isinstance(outcome, ServiceError):
        raise outcome
    return outcome


@dataclass(frozen=True)
class AssessmentWanted:
    """A woman to assess (:func:`record_risk_assessment_in`)."""

    study_id: str
    factors: RiskFactors
    on_date: date | None = None
    last_screen: date | None = None
    confirm_lower: bool = False
    reason: str | None = None
    at: datetime | None = None


def record_risk_assessment_in(
    session: Session, actor: Actor, keys: IdentityKeys, wanted: Sequence[AssessmentWanted], *,
    plan_years: float = DEFAULT_PLAN_YEARS,
) -> list[RiskRecorded | ServiceError]:  # fmt: skip
    """:func:`record_risk_assessment` for several women in the caller's transaction; in
    ``wanted`` order, each her result or the error that refuses it (nothing is written for her).

    One model evaluation per country (:func:`evaluate_risks`); the women assessed at the same
    instant for the same reason are stored together (:func:`store_risks`). A woman may appear
    once; at most a few hundred women per call. An error that is not a refusal (the database's)
    propagates: the caller rolls back.
    """
    require(actor, Action.RECORD_RISK)
    outcomes: list[RiskRecorded | ServiceError | None] = [None] * len(wanted)
    checked: list[tuple[int, datetime]] = []
    for i, one in enumerate(wanted):
        try:
            refuse_unstorable({"study_id": one.study_id, "factors": one.factors,
                               "reason": one.reason})  # fmt: skip
            checked.append((i, instant(one.at)))
        except ServiceError as error:
            outcomes[i] = error
    subjects = find_participants(
        session, actor, [wanted[i].study_id for i, _ in checked], for_update=True
    )
    found: list[tuple[int, Subject, datetime]] = []
    for i, assessed_at in checked:
        try:
            subject = one_found(subjects, wanted[i].study_id)
            subject.require_state(RISK_ARM_STATES, "record a risk assessment (risk-based arm)")
        except ServiceError as error:
            outcomes[i] = error
            continue
        found.append((i, subject, assessed_at))
    by_study: dict[int, list[tuple[int, Subject, datetime]]] = {}
    for item in found:
        by_study.setdefault(item[1].country.study_id, []).append(item)
    for study_key, group in by_study.items():
        study = study_version(session, study_key)
        evaluations = evaluate_risks(session, keys, study, [
            RiskWanted(subject, wanted[i].factors,
                       wanted[i].on_date or local_date(assessed_at, subject.country.time_zone))
            for i, subject, assessed_at in group
        ])  # fmt: skip
        to_store: dict[tuple[datetime, str], list[tuple[int, RiskToStore]]] = {}
        for (i, subject, assessed_at), evaluation in zip(group, evaluations, strict=True):
            one = wanted[i]
            try:
                if isinstance(evaluation, ServiceError):
                    raise evaluation
                lowered = _lowering(one.study_id, evaluation.previous_level, evaluation.level,
                                    one.confirm_lower, one.reason)  # fmt: skip
            except ServiceError as error:
                outcomes[i] = error
                continue
            given = (
                one.reason.strip() if isinstance(one.reason, str) and one.reason.strip() else None
            )
            audit = {"lowered_from": evaluation.previous_level, "confirm_lower": True}
            stored = RiskToStore(subject, evaluation, one.last_screen, audit if lowered else None)
            reason = given or "risk assessment"
            to_store.setdefault((assessed_at, reason), []).append((i, stored))
        for (assessed_at, reason), items in to_store.items():
            recorded = store_risks(
                session, actor, study, [s for _, s in items], plan_years=plan_years,
                at=assessed_at, reason=reason,
            )  # fmt: skip
            for (i, _), result in zip(items, recorded, strict=True):
                outcomes[i] = result
    done = [outcome for outcome in outcomes if outcome is not None]
    assert len(done) == len(wanted)  # each woman assessed or refused
    return done
