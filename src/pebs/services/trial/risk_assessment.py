"""Record a risk-based participant's risk assessment and give her the plan for her risk level.

The model is :mod:`pebs.risk.personalised` calibrated to her country
(:func:`~pebs.risk.personalised.country_model`); age is her completed years on the assessment
date. Stored: model id and version, every input (with the country of calibration), the outputs
(five-year risk as a proportion and in percent, the relative-risk components, which inputs were
missing) and the MyPeBS level. In the same transaction her plan is made under the risk-based
arm's policy (:func:`.screening_plan.store_plan`) and the pathway moves
``randomised_risk_based`` -> ``risk_assessed`` -> ``plan_given``. A later re-assessment records
a new assessment and supersedes the plan without moving the pathway.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker

from pebs.risk.personalised import (
    MODEL_ID,
    MODEL_NAME,
    MODEL_VERSION,
    assess,
    country_model,
    describe,
)
from pebs.risk.personalised.levels import LEVELS
from pebs.screening import Woman, age_on
from pebs.services.trial._participants import birth_date, find_participant
from pebs.services.trial._transaction import instant, local_date, transaction
from pebs.services.trial.actor import Action, Actor, require
from pebs.services.trial.errors import Conflict, InvalidInput
from pebs.services.trial.keys import IdentityKeys
from pebs.services.trial.screening_plan import DEFAULT_PLAN_YEARS, PlanCreated, store_plan
from pebs.store.audit import append_event
from pebs.store.models import RiskAssessment
from pebs.trial import Event, State

__all__ = ["RiskFactors", "RiskRecorded", "record_risk_assessment"]

_DENSITIES = ("a", "b", "c", "d")


@dataclass(frozen=True)
class RiskFactors:
    """Her answers and measurements; ``None`` means unknown (scored as the model says)."""

    n_biopsies: int | None = None
    atypical_hyperplasia: bool | None = None
    age_at_menarche: int | None = None
    age_at_first_birth: int | None = None
    nulliparous: bool = False
    n_relatives: int | None = None
    """First-degree relatives with breast cancer."""
    density: str | None = None
    """BI-RADS density a, b, c or d."""
    prs_z: float | None = None
    """Standardised PRS313."""


@dataclass(frozen=True)
class RiskRecorded:
    study_id: str
    assessment_id: int
    model: str
    model_version: str
    risk_5y: float
    """Five-year absolute risk, proportion (0.012 = 1.2%)."""
    level: str
    plan: PlanCreated
    pathway_state: str


def _finite(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _assess(country: str, age: int, factors: RiskFactors) -> tuple[dict, str, float]:
    if factors.density is not None and factors.density not in _DENSITIES:
        raise InvalidInput(f"density: {factors.density!r} is not a BI-RADS density a, b, c or d")
    try:
        model = country_model(country)
    except (KeyError, ValueError) as error:
        raise Conflict(f"no calibration of the personalised model for {country}: {error}") from None
    result = assess(
        model, age=[age], n_biopsies=[factors.n_biopsies],
        atypical_hyperplasia=[factors.atypical_hyperplasia],
        age_at_menarche=[factors.age_at_menarche], age_at_first_birth=[factors.age_at_first_birth],
        n_relatives=[factors.n_relatives], nulliparous=[factors.nulliparous],
        density=[factors.density or ""], prs_z=[factors.prs_z],
    )  # fmt: skip
    if int(result.error[0]):
        raise InvalidInput(f"risk factors: {describe(int(result.error[0]))}")
    level = str(result.level[0])
    if level not in LEVELS:  # pragma: no cover - the model returns a level for valid rows
        raise InvalidInput(f"risk factors: the model gave no level ({level!r})")
    risk = float(result.risk_5y[0])
    outputs = {
        "risk_5y": risk, "risk_5y_pct": risk * 100.0, "level": level,
        "rr_classical": _finite(result.rr_classical[0]), "rr_prs": _finite(result.rr_prs[0]),
        "rr_density": _finite(result.rr_density[0]),
        "missing_prs": bool(result.missing_prs[0]),
        "missing_density": bool(result.missing_density[0]),
        "country": result.country, "model": MODEL_NAME,
    }  # fmt: skip
    return outputs, level, risk


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
    at: datetime | None = None,
) -> RiskRecorded:
    """Assess her five-year risk, store it, and give her the plan for her level.

    ``on_date`` (default: today in her country) is the assessment date and the plan start;
    ``last_screen`` the date of her last mammogram, if any. :class:`Conflict` for a woman who is
    not in the risk-based arm; :class:`InvalidInput` for factors the model rejects (the message
    gives each reason).
    """
    require(actor, Action.RECORD_RISK)
    assessed_at = instant(at)
    with transaction(session_maker) as session:
        subject = find_participant(session, actor, study_id, for_update=True)
        participant = subject.participant
        allowed = (State.RANDOMISED_RISK_BASED, State.RISK_ASSESSED, State.PLAN_GIVEN,
                   State.IN_FOLLOW_UP)  # fmt: skip
        subject.require_state(allowed, "record a risk assessment (risk-based arm)")
        day = on_date or local_date(assessed_at, subject.country.time_zone)
        born = birth_date(session, keys, participant)
        age = age_on(born, day)
        outputs, level, risk = _assess(subject.country.code, age, factors)
        inputs = {
            **asdict(factors),
            "age": age,
            "assessed_on": day,
            "country": subject.country.code,
        }
        row = RiskAssessment(
            participant_id=participant.id, model_name=MODEL_ID, model_version=MODEL_VERSION,
            inputs=_json_safe(inputs), outputs=outputs, level=level, assessed_at=assessed_at,
            assessed_by_id=actor.user_id,
        )  # fmt: skip
        session.add(row)
        session.flush()
        old_state = participant.status
        if subject.state is State.RANDOMISED_RISK_BASED:
            subject.apply(Event.RISK_ASSESSED)
        woman = Woman(born, arm="risk-based", level=level, risk_5y=risk,
                      density=factors.density, last_screen=last_screen)  # fmt: skip
        plan, plan_audit = store_plan(
            session, actor, subject, subject.study(session), woman, start=day,
            years=plan_years, risk_assessment_id=row.id, at=assessed_at,
        )  # fmt: skip
        if subject.state is State.RISK_ASSESSED:
            subject.apply(Event.PLAN_GIVEN)
        new_state = participant.status
        session.flush()
        append_event(
            session, actor=actor.username, action="assess", entity="risk_assessment",
            entity_id=row.id, reason="risk assessment",
            new={"participant": study_id, "model": MODEL_ID, "model_version": MODEL_VERSION,
                 "inputs": row.inputs, "outputs": outputs, "level": level},
            at=assessed_at,
        )  # fmt: skip
        append_event(
            session, actor=actor.username, action="plan", entity="screening_plan",
            entity_id=plan.plan_id, reason=f"screening plan for risk level {level}",
            old={"status": old_state}, new={**plan_audit, "status": new_state}, at=assessed_at,
        )  # fmt: skip
    return RiskRecorded(
        study_id, row.id, MODEL_ID, MODEL_VERSION, risk, level,
        replace(plan, pathway_state=new_state), new_state,
    )  # fmt: skip


def _json_safe(values: dict) -> dict:
    """Dates as ISO text, NaN as null: what the JSON column and the audit hash accept."""
    safe = {}
    for key, value in values.items():
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, float) and not math.isfinite(value):
            value = None
        safe[key] = value
    return safe
