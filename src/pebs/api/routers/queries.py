"""Data queries: raise one on an item of her record, answer (or correct), close, re-open; lists
and worklists; the study's edit checks in bulk; query ages per site; the missing-forms report."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query
from fastapi.responses import StreamingResponse
from pydantic import Field

from pebs.api.deps import CurrentActor
from pebs.api.errors import error_responses
from pebs.api.routers._body import Body
from pebs.api.routers._dates import IsoDate
from pebs.api.routers._params import MAX_ID, StudyId
from pebs.api.routers._router import Router
from pebs.api.routers._text import Text
from pebs.http.deps import KeysDep, SessionMakerDep
from pebs.services.errors import Conflict, NotFound
from pebs.services.field_rules import SITE_CODE_CHARS, STUDY_ID_CHARS, STUDY_NAME_CHARS
from pebs.services.queries.ages import QueryAges, query_ages
from pebs.services.queries.edit_check_runs import EditCheckReport, check_study
from pebs.services.queries.listing import MAX_PAGE, list_queries, worklist_state
from pebs.services.queries.views import QueryDetail, QueryPage
from pebs.services.queries.workflow import (
    TEXT_CHARS,
    answer_query,
    close_query,
    get_query,
    raise_query,
    reopen_query,
)
from pebs.services.trial.missing_forms import (
    MAX_ENTRIES,
    MissingFormsReport,
    missing_forms_csv,
    missing_forms_report,
)
from pebs.trial.forms import form_names
from pebs.trial.item_values import MAX_TEXT
from pebs.trial.vocabularies import QUERY_KINDS, QUERY_STATES

router = Router(tags=["queries"])

FormName = Literal[form_names()]  # type: ignore[valid-type]
QueryId = Annotated[int, Path(ge=1, le=MAX_ID, description="The query's id")]
StudyName = Annotated[
    Text, Path(min_length=1, max_length=STUDY_NAME_CHARS, examples=["mypebs-demo"])
]
SiteFilter = Annotated[Text | None, Query(min_length=1, max_length=SITE_CODE_CHARS)]
QueryText = Annotated[Text, Field(min_length=1, max_length=TEXT_CHARS)]


class QueryIn(Body):
    form: FormName = Field(description="The form (case report form catalogue)")  # type: ignore[valid-type]
    item: Text = Field(min_length=1, max_length=64, description="An item of the form")
    key: int | None = Field(
        default=None, ge=1, le=MAX_ID,
        description="A repeating form's instance (its row id); omit for a form that does not "
        "repeat",
    )  # fmt: skip
    question: QueryText
    proposed_value: Text | None = Field(
        default=None, min_length=1, max_length=MAX_TEXT,
        description="A value you propose, as text (checked against the item)",
    )  # fmt: skip


class AnswerIn(Body):
    text: QueryText
    corrected_value: Text | None = Field(
        default=None, min_length=1, max_length=MAX_TEXT,
        description="The corrected value, as text: recorded by the use case that records the "
        "form, where one exists (otherwise 422)",
    )  # fmt: skip


class CloseIn(Body):
    text: QueryText | None = None


class ReopenIn(Body):
    text: QueryText


@router.post(
    "/participants/{study_id}/queries", response_model=QueryDetail, status_code=201,
    responses=error_responses(Conflict, notes={404: "No such participant (in your sites), or "
                                               "no such instance of a repeating form"}),
)  # fmt: skip
def raise_route(study_id: StudyId, body: QueryIn, actor: CurrentActor, sessions: SessionMakerDep):
    """Raise a query on an item of her record (data manager, monitor)."""
    return raise_query(sessions, actor, study_id, **body.model_dump())


_NO_SITE = error_responses(NotFound, notes={404: "No such site or participant (in your sites)"})


@router.get("/queries", response_model=QueryPage, responses=_NO_SITE)
def list_route(
    actor: CurrentActor,
    sessions: SessionMakerDep,
    state: Literal[QUERY_STATES] | None = None,  # type: ignore[valid-type]
    site: SiteFilter = None,
    study_id: Annotated[Text | None, Query(min_length=1, max_length=STUDY_ID_CHARS)] = None,
    form: FormName | None = None,  # type: ignore[valid-type]
    kind: Literal[QUERY_KINDS] | None = None,  # type: ignore[valid-type]
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
):
    """Queries in your sites, filtered, by id (keyset-paged: ``after`` is ``next_after``)."""
    return list_queries(sessions, actor, state=state, site=site, study_id=study_id, form=form,
                        kind=kind, after=after, limit=limit)  # fmt: skip


@router.get("/queries/worklist", response_model=QueryPage, tags=["worklists"], responses=_NO_SITE)
def worklist_route(
    actor: CurrentActor,
    sessions: SessionMakerDep,
    site: SiteFilter = None,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
):
    """Your worklist: open queries to answer (site roles), answered queries to review (data
    manager, monitor)."""
    return list_queries(sessions, actor, state=worklist_state(actor) or "open", site=site,
                        after=after, limit=limit)  # fmt: skip


@router.get("/queries/{query_id}", response_model=QueryDetail)
def get_route(query_id: QueryId, actor: CurrentActor, sessions: SessionMakerDep):
    """One query: the item's value then and now, and its thread."""
    return get_query(sessions, actor, query_id)


@router.post(
    "/queries/{query_id}/answer", response_model=QueryDetail, responses=error_responses(Conflict)
)
def answer_route(
    query_id: QueryId, body: AnswerIn, actor: CurrentActor, sessions: SessionMakerDep,
    keys: KeysDep,
):  # fmt: skip
    """Answer an open query (her site), with a corrected value where a use case records it."""
    return answer_query(sessions, actor, query_id, text=body.text,
                        corrected_value=body.corrected_value, keys=keys)  # fmt: skip


@router.post(
    "/queries/{query_id}/close", response_model=QueryDetail, responses=error_responses(Conflict)
)
def close_route(query_id: QueryId, body: CloseIn, actor: CurrentActor, sessions: SessionMakerDep):
    """Close an open or answered query (data manager, monitor)."""
    return close_query(sessions, actor, query_id, text=body.text)


@router.post(
    "/queries/{query_id}/reopen", response_model=QueryDetail, responses=error_responses(Conflict)
)
def reopen_route(query_id: QueryId, body: ReopenIn, actor: CurrentActor, sessions: SessionMakerDep):
    """Re-open an answered or closed query, saying why (data manager, monitor)."""
    return reopen_query(sessions, actor, query_id, text=body.text)


@router.post(
    "/studies/{study}/edit-checks", response_model=EditCheckReport,
    responses=error_responses(NotFound, Conflict),
)  # fmt: skip
def check_route(study: StudyName, actor: CurrentActor, sessions: SessionMakerDep):
    """Run the study's edit checks over every participant: queries raised, left open, closed
    (data manager)."""
    return check_study(sessions, actor, study)


@router.get(
    "/dashboards/queries", response_model=QueryAges, tags=["dashboards"],
    responses=error_responses(NotFound),
)  # fmt: skip
def ages_route(
    actor: CurrentActor,
    sessions: SessionMakerDep,
    study: Annotated[Text, Query(min_length=1, max_length=STUDY_NAME_CHARS)],
):
    """Open and answered queries per site, and how many days the open ones have waited."""
    return query_ages(sessions, actor, study)


@router.get(
    "/studies/{study}/missing-forms", response_model=MissingFormsReport, tags=["worklists"],
    responses=error_responses(NotFound),
)  # fmt: skip
def missing_forms_route(
    study: StudyName,
    actor: CurrentActor,
    sessions: SessionMakerDep,
    on: IsoDate | None = None,
    site: SiteFilter = None,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_ENTRIES)] = 100,
):
    """Expected forms missing, counted per site and time point, and listed (a page of women,
    ``after``: ``next_after``); ``on``: the day (default: today in each woman's country)."""
    return missing_forms_report(sessions, actor, study, on=on, site=site, after=after,
                                limit=limit)  # fmt: skip


@router.get(
    "/studies/{study}/missing-forms.csv", response_class=StreamingResponse, tags=["worklists"],
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}},
              "description": "Every missing form, one per line (audited)"},
        **error_responses(NotFound),
    },
)  # fmt: skip
def missing_forms_csv_route(
    study: StudyName,
    actor: CurrentActor,
    sessions: SessionMakerDep,
    on: IsoDate | None = None,
    site: SiteFilter = None,
) -> StreamingResponse:
    """Every expected form that is missing, as CSV, streamed (the download is audited)."""
    file = missing_forms_csv(sessions, actor, study, on=on, site=site)
    name = f"{study}-missing-forms.csv".replace('"', "")
    disposition = f'attachment; filename="{name}"'
    return StreamingResponse(
        file.chunks, media_type=file.media_type, headers={"Content-Disposition": disposition}
    )
