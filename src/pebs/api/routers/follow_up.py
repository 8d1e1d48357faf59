"""Follow-up: visit results and breast cancer outcomes."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from pebs.api.deps import CurrentActor, SessionMakerDep
from pebs.api.routers._params import SiteCode, StudyId
from pebs.api.routers._text import Text
from pebs.services.trial import (
    OutcomeRecord,
    OutcomeRecorded,
    VisitRecord,
    VisitRecorded,
    WorklistPage,
    record_outcome,
    record_visit,
    worklist,
)

router = APIRouter(tags=["follow-up"])


class VisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    visit_id: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="The expected visit (omit: an unplanned visit)",
    )
    performed_date: date
    birads: int | None = Field(default=None, ge=0, le=6)
    recall: bool | None = None
    biopsy: bool | None = None
    histology: Text | None = Field(default=None, max_length=32)
    histology_detail: Text | None = Field(default=None, max_length=2000)
    modality: Text | None = Field(default=None, max_length=32)
    visit_type: Text = Field(default="recall", max_length=32)


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    diagnosis_date: date
    detection_mode: Text = Field(max_length=32)
    behaviour: Text = Field(max_length=16)
    t: Text | None = Field(default=None, max_length=8)
    n: Text | None = Field(default=None, max_length=8)
    m: Text | None = Field(default=None, max_length=8)


@router.post("/participants/{study_id}/visits", response_model=VisitRecorded, status_code=201)
def visits(study_id: StudyId, body: VisitIn, actor: CurrentActor, sessions: SessionMakerDep):
    """Record the results of a visit."""
    record = VisitRecord(**body.model_dump(exclude={"visit_id"}))
    return record_visit(sessions, actor, study_id, record, visit_id=body.visit_id)


@router.post("/participants/{study_id}/outcomes", response_model=OutcomeRecorded, status_code=201)
def outcomes(study_id: StudyId, body: OutcomeIn, actor: CurrentActor, sessions: SessionMakerDep):
    """Record a breast cancer diagnosis (TNM -> AJCC 8th stage group)."""
    return record_outcome(sessions, actor, study_id, OutcomeRecord(**body.model_dump()))


@router.get("/worklists/{site}", response_model=WorklistPage, tags=["worklists"])
def site_worklist(
    site: SiteCode,
    actor: CurrentActor,
    sessions: SessionMakerDep,
    study: Annotated[str, Query(min_length=1, max_length=64)],
    on: date,
    overdue_only: bool = False,
    after_date: date | None = None,
    after_id: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
):
    """The site's due (or overdue) visits on a date, by due date (keyset-paged)."""
    after = None if after_date is None or after_id is None else (after_date, after_id)
    return worklist(sessions, actor, study, site, on=on, overdue_only=overdue_only, after=after,
                    limit=limit)  # fmt: skip
