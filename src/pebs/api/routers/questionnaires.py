"""Questionnaire responses at 0, 3, 12 and 48 months."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from pebs.api.deps import CurrentActor, SessionMakerDep
from pebs.api.routers._params import StudyId
from pebs.api.routers._text import Text
from pebs.services.trial import QuestionnaireRecorded, record_questionnaire

router = APIRouter(prefix="/participants/{study_id}", tags=["follow-up"])


class QuestionnaireIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    instrument: Text = Field(min_length=1, max_length=64, examples=["EQ-5D-5L"])
    timepoint_months: int = Field(description="Months since consent: 0, 3, 12 or 48")
    answers: dict[str, Any] = Field(
        description="Item -> answer (any JSON value)", min_length=1, max_length=1000
    )
    completed_on: date


@router.post("/questionnaires", response_model=QuestionnaireRecorded, status_code=201)
def questionnaire(
    study_id: StudyId, body: QuestionnaireIn, actor: CurrentActor, sessions: SessionMakerDep
):
    """Record one instrument's answers at a time point (once per instrument and time point)."""
    return record_questionnaire(
        sessions, actor, study_id, instrument=body.instrument,
        timepoint_months=body.timepoint_months, answers=body.answers,
        completed_on=body.completed_on,
    )  # fmt: skip
