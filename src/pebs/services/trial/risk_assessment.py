"""Record a risk-based participant's risk assessment and give her the plan for her risk level.

The model is the study's (``[risk_assessment] model``, default the personalised model): a
:class:`~pebs.risk.protocol.FiveYearModel` of :mod:`pebs.risk.registry` calibrated to her
country; age is her completed years on the assessment date. Each input is a value,
``"unknown"`` (she does not know: the model's missing-covariate rule applies) or absent
(:class:`RiskFactors`). The study's ``[risk_assessment]`` rules
(:class:`pebs.trial.RiskInputRules`) say which inputs must be answered: an absent required input
is refused (:class:`InvalidFields` naming each), never scored as unknown or as the lowest
category; without the PRS an assessment is *provisional*, allowed only if the study says so. A
woman with no classical factor known is refused (the model gives no risk).

Stored: the model's id and version, every input (value, ``"unknown"`` or ``null``, with the country
of calibration), the outputs (five-year risk as a proportion and in percent, the relative-risk
components, ``null`` where unknown, the unknown inputs, whether provisional) and the MyPeBS level. A
new level below her current one (low < average < high < very_high) is refused with
:class:`LevelLowered` unless the caller confirms it (``confirm_lower=True``) and gives a reason;
both go into the audit event. In the same transaction her plan is made under the risk-based arm's
policy (:func:`.screening_plan.store_plan`) and the pathway moves ``randomised_risk_based`` ->
``risk_assessed`` -> ``plan_given``. A later re-assessment records a new assessment and supersedes
the plan without moving the pathway.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from pebs.risk.protocol import FiveYearModel
from pebs.risk.registry import UnknownModelError, five_year_model
from pebs.screening import Woman, age_on
from pebs.services.actor import Action, Actor, require
from pebs.services.errors import Conflict, InvalidFields, LevelLowered
from pebs.services.keys import IdentityKeys
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.subject import Subject, birth_date, find_participant
from pebs.services.transaction import instant, local_date, transaction
from pebs.services.trial._latest_rows import first_per
from pebs.services.trial._risk_factors import (
    DENSITIES,
    NULLIPAROUS,
    UNKNOWN,
    RiskFactors,
    field_errors,
    model_inputs,
    platform_names,
)
from pebs.services.trial.screening_plan import DEFAULT_PLAN_YEARS, PlanCreated, store_plan
from pebs.store.audit import append_event
from pebs.store.models import RiskAssessment, Study
from pebs.trial import Event, State
from pebs.trial.risk_inputs import RISK_INPUTS, RiskInputRules, is_lower, rules_from_json

__all__ = [
    "NULLIPAROUS",
    "RISK_ARM_STATES",
    "UNKNOWN",
    "RiskEvaluation",
    "RiskFactors",
    "RiskRecorded",
    "check_answers",
    "evaluate_risk",
    "latest_assessment",
    "latest_assessments",
    "record_risk_assessment",
    "risk_rules",
    "store_risk",
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


def risk_rules(study: Study) -> RiskInputRules:
    """The study's ``[risk_assessment]`` rules."""
    return rules_from_json((study.config or {}).get("risk_assessment"))


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


def _assess(model: FiveYearModel, age: int, factors: RiskFactors) -> dict[str, Any]:
    result = model.assess(model_inputs(factors, age))
    if not result.is_valid[0]:
        raise field_errors(model, result)
    risk = float(result.risk_5y[0])
    unknown = platform_names(model, result.unknown_inputs(0))
    return {
        "risk_5y": risk, "risk_5y_pct": risk * 100.0, "level": str(result.level[0]),
        "rr_classical": _finite(result.rr_classical[0]), "rr_prs": _finite(result.rr_prs[0]),
        "rr_density": _finite(result.rr_density[0]), "unknown_inputs": list(unknown),
        "missing_prs": "prs_z" in unknown, "missing_density": "density" in unknown,
        "country": result.country, "model": model.name,
    }  # fmt: skip


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


def latest_assessments(
    session: Session, participant_ids: Iterable[int]
) -> dict[int, RiskAssessment]:
    """Each woman's latest risk assessment (the one that sets her level), by row id."""
    return first_per(
        session, RiskAssessment, RiskAssessment.participant_id, participant_ids,
        (RiskAssessment.assessed_at.desc(), RiskAssessment.id.desc()),
    )  # fmt: skip


def latest_assessment(session: Session, participant_id: int) -> RiskAssessment | None:
    """Her latest risk assessment, if any."""
    return latest_assessments(session, [participant_id]).get(participant_id)


def evaluate_risk(
    session: Session, keys: IdentityKeys, subject: Subject, study: Study, factors: RiskFactors,
    *, day: date,
) -> RiskEvaluation:  # fmt: skip
    """Her assessment on ``day`` from ``factors`` under the study's rules, not stored.

    :class:`InvalidFields` for inputs absent though required, of the wrong kind, or rejected by
    the model (each named); :class:`Conflict` for a study model without her country's
    calibration.
    """
    rules = risk_rules(study)
    provisional = check_answers(factors, rules)
    model = _model(rules, subject.country.code)
    born = birth_date(session, keys, subject.participant)
    age = age_on(born, day)
    outputs = {**_assess(model, age, factors), "provisional": provisional}
    inputs = {**factors.answers(), "age": age, "assessed_on": day.isoformat(),
              "country": subject.country.code}  # fmt: skip
    previous = latest_assessment(session, subject.participant.id)
    return RiskEvaluation(model, factors, inputs, outputs, provisional, previous, born, day)


def store_risk(
    session: Session,
    actor: Actor,
    subject: Subject,
    study: Study,
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
    participant = subject.participant
    model, outputs, level = evaluation.model, evaluation.outputs, evaluation.level
    risk = outputs["risk_5y"]
    previous = evaluation.previous
    row = RiskAssessment(
        participant_id=participant.id, model_name=model.id, model_version=model.version,
        inputs=evaluation.inputs, outputs=outputs, level=level, assessed_at=at,
        assessed_by_id=actor.user_id,
    )  # fmt: skip
    session.add(row)
    session.flush()
    old_state = participant.status
    if subject.state is State.RANDOMISED_RISK_BASED:
        subject.apply(Event.RISK_ASSESSED)
    density = evaluation.factors.density
    woman = Woman(
        evaluation.born, arm="risk-based", level=level, risk_5y=risk,
        density=density if density in DENSITIES else None, last_screen=last_screen,
    )  # fmt: skip
    plan, plan_audit = store_plan(
        session, actor, subject, study, woman, start=evaluation.day, years=plan_years,
        risk_assessment_id=row.id, at=at,
    )  # fmt: skip
    if subject.state is State.RISK_ASSESSED:
        subject.apply(Event.PLAN_GIVEN)
    new_state = participant.status
    session.flush()
    append_event(
        session, actor=actor.username, action="assess", entity="risk_assessment",
        entity_id=row.id, reason=reason,
        old=None if previous is None else {"level": previous.level,
                                           "risk_assessment": previous.id},
        new={"participant": participant.study_id, "model": model.id,
             "model_version": model.version, "inputs": row.inputs, "outputs": outputs,
             "level": level, "provisional": evaluation.provisional,
             "unknown_inputs": outputs["unknown_inputs"], **(audit or {})},
        at=at,
    )  # fmt: skip
    append_event(
        session, actor=actor.username, action="plan", entity="screening_plan",
        entity_id=plan.plan_id, reason=f"screening plan for risk level {level}",
        old={"status": old_state}, new={**plan_audit, "status": new_state}, at=at,
    )  # fmt: skip
    return RiskRecorded(
        participant.study_id, row.id, model.id, model.version, risk, outputs["risk_5y_pct"],
        level, outputs["rr_classical"], outputs["rr_prs"], outputs["rr_density"],
        tuple(outputs["unknown_inputs"]), evaluation.provisional, evaluation.previous_level,
        replace(plan, pathway_state=new_state), new_state,
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
    require(actor, Action.RECORD_RISK)
    assessed_at = instant(at)
    with transaction(session_maker) as session:
        subject = find_participant(session, actor, study_id, for_update=True)
        subject.require_state(RISK_ARM_STATES, "record a risk assessment (risk-based arm)")
        study = subject.study(session)
        day = on_date or local_date(assessed_at, subject.country.time_zone)
        evaluation = evaluate_risk(session, keys, subject, study, factors, day=day)
        lowered = _lowering(study_id, evaluation.previous_level, evaluation.level,
                            confirm_lower, reason)  # fmt: skip
        given = reason.strip() if isinstance(reason, str) and reason.strip() else None
        return store_risk(
            session, actor, subject, study, evaluation, last_screen=last_screen,
            plan_years=plan_years, at=assessed_at, reason=given or "risk assessment",
            audit={"lowered_from": evaluation.previous_level, "confirm_lower": True}
            if lowered else None,
        )  # fmt: skip
