"""Questionnaire responses at 0, 3, 12 and 48 months."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from pebs.api.deps import CurrentActor
from pebs.api.errors import error_responses
from pebs.api.routers._body import Body
from pebs.api.routers._dates import IsoDate
from pebs.api.routers._params import StudyId
from pebs.api.routers._router import Router
from pebs.api.routers._text import Text
from pebs.http.deps import SessionMakerDep
from pebs.services.errors import Conflict
from pebs.services.field_rules import INSTRUMENT_CHARS
from pebs.services.trial import QuestionnaireRecorded, record_questionnaire

router = Router(prefix="/participants/{study_id}", tags=["follow-up"])


class QuestionnaireIn(Body):
    instrument: Text = Field(
        min_length=1, max_length=INSTRUMENT_CHARS, examples=["EQ-5D-5L"],
        description="One of the study's instruments (the study file's [[instrument]] tables)",
    )  # fmt: skip
    timepoint_months: int = Field(description="Months since consent: 0, 3, 12 or 48")
    answers: dict[str, Any] = Field(
        description="Item -> answer: items of the instrument, each a value of the item's type "
        "(null: not answered)",
        min_length=1,
        max_length=1000,
        examples=[{"mobility": 1, "vas": 85}],
    )
    completed_on: IsoDate


@router.post(
    "/questionnaires", response_model=QuestionnaireRecorded, status_code=201,
    responses=error_responses(Conflict),
)  # fmt: skip
def questionnaire(
    study_id: StudyId, body: QuestionnaireIn, actor: CurrentActor, sessions: SessionMakerDep
):
    """Record one instrument's answers at a time point (once per instrument and time point)."""
    return record_questionnaire(
        sessions, actor, study_id, instrument=body.instrument,
        timepoint_months=body.timepoint_months, answers=body.answers,
        completed_on=body.completed_on,
    )  # fmt: skip
