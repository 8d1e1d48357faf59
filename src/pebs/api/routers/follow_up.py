"""Follow-up: visit results and breast cancer outcomes; visit and risk-pending worklists."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query
from pydantic import Field

from pebs.api.deps import CurrentActor
from pebs.api.errors import error_responses
from pebs.api.routers._body import Body
from pebs.api.routers._dates import IsoDate
from pebs.api.routers._params import MAX_ID, SiteCode, StudyId
from pebs.api.routers._router import Router
from pebs.api.routers._text import Text
from pebs.http.deps import KeysDep, SessionMakerDep
from pebs.services.errors import Conflict, NotFound
from pebs.services.field_rules import (
    BIRADS,
    DEFAULT_VISIT_TYPE,
    DENSITY_READER_CHARS,
    HISTOLOGY_DETAIL_CHARS,
    SITE_CODE_CHARS,
    STUDY_ID_CHARS,
    TNM_CATEGORY_CHARS,
)
from pebs.services.trial import (
    OutcomeRecord,
    OutcomeRecorded,
    RiskPendingPage,
    VisitRecord,
    VisitRecorded,
    WorklistPage,
    record_outcome,
    record_visit,
    risk_pending,
    worklist,
)
from pebs.trial.vocabularies import BREAST_DENSITIES

router = Router(tags=["follow-up"])


class VisitIn(Body):
    visit_id: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ID,
        description="The expected visit (omit: an unplanned visit)",
    )
    performed_date: IsoDate
    birads: int | None = Field(default=None, ge=BIRADS.low, le=BIRADS.high)
    recall: bool | None = None
    biopsy: bool | None = None
    histology: Text | None = Field(default=None, max_length=32)
    histology_detail: Text | None = Field(default=None, max_length=HISTOLOGY_DETAIL_CHARS)
    modality: Text | None = Field(default=None, max_length=32)
    visit_type: Text = Field(default=DEFAULT_VISIT_TYPE, max_length=32)
    density: Literal[BREAST_DENSITIES] | None = Field(
        default=None,
        description="BI-RADS breast density read on this mammogram (her baseline one sets her "
        "risk)",
    )
    density_reader: Text | None = Field(
        default=None, max_length=DENSITY_READER_CHARS,
        description="Who read the density (a radiologist, or a tool and its version); needed "
        "with a density",
    )  # fmt: skip


class OutcomeIn(Body):
    diagnosis_date: IsoDate
    detection_mode: Text = Field(max_length=32)
    behaviour: Text = Field(max_length=16)
    t: Text | None = Field(default=None, max_length=TNM_CATEGORY_CHARS)
    n: Text | None = Field(default=None, max_length=TNM_CATEGORY_CHARS)
    m: Text | None = Field(default=None, max_length=TNM_CATEGORY_CHARS)


@router.post(
    "/participants/{study_id}/visits", response_model=VisitRecorded, status_code=201,
    responses=error_responses(Conflict),
)  # fmt: skip
def visits(
    study_id: StudyId, body: VisitIn, actor: CurrentActor, sessions: SessionMakerDep,
    keys: KeysDep,
):  # fmt: skip
    """Record the results of a visit (with a density: her risk and plan if her data is now
    complete, ``risk_level``)."""
    record = VisitRecord(**body.model_dump(exclude={"visit_id"}))
    return record_visit(sessions, actor, study_id, record, visit_id=body.visit_id, keys=keys)


@router.post(
    "/participants/{study_id}/outcomes", response_model=OutcomeRecorded, status_code=201,
    responses=error_responses(Conflict),
)  # fmt: skip
def outcomes(study_id: StudyId, body: OutcomeIn, actor: CurrentActor, sessions: SessionMakerDep):
    """Record a breast cancer diagnosis (TNM -> AJCC 8th stage group)."""
    return record_outcome(sessions, actor, study_id, OutcomeRecord(**body.model_dump()))


@router.get(
    "/worklists/risk-pending", response_model=RiskPendingPage, tags=["worklists"],
    responses=error_responses(NotFound, notes={404: "No such study, or site (in your sites)"}),
)  # fmt: skip
def risk_pending_worklist(
    actor: CurrentActor,
    sessions: SessionMakerDep,
    study: Annotated[Text, Query(min_length=1, max_length=64)],
    on: IsoDate,
    site: Annotated[Text | None, Query(min_length=1, max_length=SITE_CODE_CHARS)] = None,
    after: Annotated[Text | None, Query(min_length=1, max_length=STUDY_ID_CHARS)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
):
    """Risk-based women whose final risk assessment is pending on a date (of one site, or every
    site in scope): what each waits for, her kit, a held automatic assessment (by study ID,
    keyset-paged: ``after`` is the previous page's ``next_after``)."""
    return risk_pending(sessions, actor, study, on=on, site=site, after=after, limit=limit)


@router.get("/worklists/{site}", response_model=WorklistPage, tags=["worklists"])
def site_worklist(
    site: SiteCode,
    actor: CurrentActor,
    sessions: SessionMakerDep,
    study: Annotated[Text, Query(min_length=1, max_length=64)],
    on: IsoDate,
    overdue_only: bool = False,
    after_date: IsoDate | None = None,
    after_id: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
):
    """The site's due (or overdue) visits on a date, by due date (keyset-paged)."""
    after = None if after_date is None or after_id is None else (after_date, after_id)
    return worklist(sessions, actor, study, site, on=on, overdue_only=overdue_only, after=after,
                    limit=limit)  # fmt: skip
