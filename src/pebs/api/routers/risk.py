"""Risk assessment (risk-based arm) and screening plans (standard arm)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from pebs.api.deps import CurrentActor, KeysDep, SessionMakerDep
from pebs.api.routers._params import StudyId
from pebs.api.routers._text import Text
from pebs.services.trial import (
    PlanCreated,
    RiskFactors,
    RiskRecorded,
    create_screening_plan,
    record_risk_assessment,
)

router = APIRouter(prefix="/participants/{study_id}", tags=["risk and plans"])


class RiskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n_biopsies: int | None = Field(default=None, ge=0, le=99)
    atypical_hyperplasia: bool | None = None
    age_at_menarche: int | None = Field(default=None, ge=5, le=30)
    age_at_first_birth: int | None = Field(default=None, ge=9, le=60)
    nulliparous: bool = False
    n_relatives: int | None = Field(default=None, ge=0, le=20)
    density: Text | None = Field(default=None, description="BI-RADS density a, b, c or d")
    prs_z: float | None = Field(default=None, ge=-10, le=10, description="Standardised PRS313")
    on_date: date | None = None
    last_screen: date | None = None
    plan_years: float = Field(default=5.0, gt=0, le=30)


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: date | None = None
    last_screen: date | None = None
    years: float = Field(default=5.0, gt=0, le=30)


@router.post("/risk-assessment", response_model=RiskRecorded, status_code=201)
def risk_assessment(
    study_id: StudyId, body: RiskIn, actor: CurrentActor, sessions: SessionMakerDep,
    keys: KeysDep,
):  # fmt: skip
    """Assess her risk (risk-based arm): risk, level and her screening plan."""
    factors = RiskFactors(**body.model_dump(exclude={"on_date", "last_screen", "plan_years"}))
    return record_risk_assessment(
        sessions, actor, keys, study_id, factors, on_date=body.on_date,
        last_screen=body.last_screen, plan_years=body.plan_years,
    )  # fmt: skip


@router.post("/screening-plan", response_model=PlanCreated, status_code=201)
def screening_plan(
    study_id: StudyId, body: PlanIn, actor: CurrentActor, sessions: SessionMakerDep,
    keys: KeysDep,
):  # fmt: skip
    """Plan her screening (standard arm: her country's programme)."""
    return create_screening_plan(sessions, actor, keys, study_id, start=body.start,
                                 last_screen=body.last_screen, years=body.years)  # fmt: skip
