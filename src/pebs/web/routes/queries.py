"""Pages of data queries: the worklist of each role (to answer, to review), one query with its
thread and the forms of the next step, the form raising a query on her record (her page's
query panel links to it), the study's edit checks run in bulk, and the missing-forms report
(with its CSV)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from pebs.http.deps import KeysDep, SessionMakerDep
from pebs.services.actor import Action, Actor, require
from pebs.services.errors import Conflict, InvalidInput, NotFound
from pebs.services.field_rules import SITE_CODE_CHARS, STUDY_NAME_CHARS
from pebs.services.queries.edit_check_runs import check_study
from pebs.services.queries.listing import list_queries, worklist_state
from pebs.services.queries.panel import QueryPanel, query_panel
from pebs.services.queries.workflow import (
    TEXT_CHARS,
    answer_query,
    close_query,
    get_query,
    raise_query,
    reopen_query,
)
from pebs.services.records import can, study_wording, worklist_sites
from pebs.services.trial.missing_forms import missing_forms_csv, missing_forms_report
from pebs.trial.forms import FORMS
from pebs.trial.item_values import MAX_TEXT
from pebs.trial.vocabularies import QUERY_STATES
from pebs.web.forms import FormReader, refusal_error, refusal_text
from pebs.web.rendering import catalogue_for, render
from pebs.web.routes._params import StudyId
from pebs.web.viewer import PostedForm, Viewer, ViewerDep

__all__ = ["queries_panel", "router"]

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
QueryId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_FIELDS = {"form": "query_instance", "key": "query_instance", "item": "query_item",
           "question": "question", "proposed_value": "proposed_value", "text": "answer",
           "corrected_value": "corrected_value"}  # fmt: skip
"""The service's field -> the page's form field."""


def _refused(reader: FormReader, error: InvalidInput | Conflict | NotFound, request: Request,
             fields: Mapping[str, str] = _FIELDS) -> str | None:  # fmt: skip
    """Put the refusal next to its form field; what names none is the page's message."""
    name = fields.get(error.field or "") if isinstance(error, InvalidInput) else None
    if name is None:
        return refusal_text(error, catalogue_for(request))
    reader.errors[name] = refusal_error(error)
    return None


@router.get("/queries")
def queries_page(
    request: Request,
    viewer: ViewerDep,
    sessions: SessionMakerDep,
    state: Annotated[str | None, Query(max_length=16)] = None,
    site: Annotated[str | None, Query(max_length=SITE_CODE_CHARS)] = None,
    after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> HTMLResponse:
    """Her worklist of queries (to answer, or to review), or the queries of a state."""
    actor = viewer.actor
    sites = worklist_sites(sessions, actor)
    chosen = state if state in (*QUERY_STATES, "all") else worklist_state(actor) or "open"
    page = list_queries(sessions, actor, state=None if chosen == "all" else chosen,
                        site=site or None, after=after, limit=PAGE_SIZE)  # fmt: skip
    studies = sorted({s.study for s in sites})
    return render(
        request, "queries.html", viewer=viewer, page=page, state=chosen, site=site or "",
        sites=sites, after=after, studies=studies, worklist=worklist_state(actor),
        may_check=can(actor, Action.RUN_EDIT_CHECKS),
        wording=study_wording(sessions, actor, studies[0]) if studies else None,
    )  # fmt: skip


@router.post("/queries/edit-checks")
def edit_checks_run(
    request: Request, viewer: ViewerDep, sessions: SessionMakerDep, form: PostedForm
) -> HTMLResponse:
    """Run a study's edit checks over every participant; the counts."""
    study = str(form.get("study") or "")[:STUDY_NAME_CHARS]
    report = check_study(sessions, viewer.actor, study)
    return render(request, "edit_checks.html", viewer=viewer, report=report)


def _query_page(request: Request, viewer: Viewer, sessions: SessionMakerDep, query_id: int, *,
                values: Mapping[str, str] | None = None, errors: Mapping | None = None,
                problem: str | None = None, status: int = 200) -> HTMLResponse:  # fmt: skip
    actor = viewer.actor
    detail = get_query(sessions, actor, query_id)
    study = study_wording(sessions, actor, _study_of(viewer, sessions, detail.query.site))
    return render(
        request, "query.html", viewer=viewer, d=detail, q=detail.query, wording=study,
        may_answer=can(actor, Action.ANSWER_QUERY), may_close=can(actor, Action.CLOSE_QUERY),
        values=values or {}, errors=errors or {}, problem=problem, status=status,
        text_chars=TEXT_CHARS, value_chars=MAX_TEXT,
    )  # fmt: skip


def _study_of(viewer: Viewer, sessions: SessionMakerDep, site: str) -> str:
    return next((s.study for s in worklist_sites(sessions, viewer.actor) if s.code == site), "")


@router.get("/queries/{query_id}")
def query_page(
    request: Request, query_id: QueryId, viewer: ViewerDep, sessions: SessionMakerDep
) -> HTMLResponse:
    """One query: the item named, its value then and now, the thread, the next step."""
    return _query_page(request, viewer, sessions, query_id)


@router.post("/queries/{query_id}/{step}")
def query_step(
    request: Request,
    query_id: QueryId,
    step: Annotated[str, Path(pattern="^(answer|close|reopen)$")],
    viewer: ViewerDep,
    sessions: SessionMakerDep,
    keys: KeysDep,
    form: PostedForm,
) -> Response:
    """Answer (or correct), close or re-open the query."""
    reader = FormReader(form)
    actor = viewer.actor
    field = {"answer": "answer", "close": "note", "reopen": "reason"}[step]
    text = reader.text(field, required=step != "close", max_length=TEXT_CHARS)
    corrected = reader.text("corrected_value", max_length=MAX_TEXT)
    problem = None
    if not reader.errors:
        try:
            if step == "answer":
                answer_query(sessions, actor, query_id, text=text or "", corrected_value=corrected,
                             keys=keys)  # fmt: skip
            elif step == "close":
                close_query(sessions, actor, query_id, text=text)
            else:
                reopen_query(sessions, actor, query_id, text=text or "")
        except (InvalidInput, Conflict) as error:
            problem = _refused(reader, error, request, {**_FIELDS, "text": field})
        else:
            return RedirectResponse(f"/queries/{query_id}?done=query_{step}", status_code=303)
    values = {name: str(form.get(name) or "")
              for name in ("answer", "note", "reason", "corrected_value")}  # fmt: skip
    return _query_page(request, viewer, sessions, query_id, values=values, errors=reader.errors,
                       problem=problem, status=422)  # fmt: skip


def _raise_page(request: Request, viewer: Viewer, sessions: SessionMakerDep, study_id: str, *,
                values: Mapping[str, str], errors: Mapping | None = None,
                problem: str | None = None, status: int = 200) -> HTMLResponse:  # fmt: skip
    require(viewer.actor, Action.RAISE_QUERY)
    panel = query_panel(sessions, viewer.actor, study_id)
    return render(request, "query_raise.html", viewer=viewer, study_id=study_id,
                  instances=panel.instances, forms=FORMS, values=values, errors=errors or {},
                  problem=problem, status=status, text_chars=TEXT_CHARS,
                  value_chars=MAX_TEXT)  # fmt: skip


@router.get("/participants/{study_id}/query")
def raise_page(
    request: Request, study_id: StudyId, viewer: ViewerDep, sessions: SessionMakerDep,
    instance: Annotated[str | None, Query(max_length=64)] = None,
    item: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:  # fmt: skip
    """The form raising a query on an item of her record (an instance and item preselected)."""
    values = {"query_instance": instance or "", "query_item": item or ""}
    return _raise_page(request, viewer, sessions, study_id, values=values)


@router.post("/participants/{study_id}/query")
def raise_submit(
    request: Request, study_id: StudyId, viewer: ViewerDep, sessions: SessionMakerDep,
    form: PostedForm,
) -> Response:  # fmt: skip
    """Raise the query; its page follows."""
    reader = FormReader(form)
    instance = reader.text("query_instance", required=True, max_length=64) or ""
    item = reader.text("query_item", required=True, max_length=64) or ""
    question = reader.text("question", required=True, max_length=TEXT_CHARS)
    proposed = reader.text("proposed_value", max_length=MAX_TEXT)
    form_name, _, key = instance.partition(":")
    problem = None
    if not reader.errors:
        try:
            detail = raise_query(sessions, viewer.actor, study_id, form=form_name, item=item,
                                 key=int(key) if key.isdigit() else None,
                                 question=question or "", proposed_value=proposed)  # fmt: skip
        except (InvalidInput, Conflict, NotFound) as error:
            problem = _refused(reader, error, request)
        else:
            return RedirectResponse(f"/queries/{detail.query.id}?done=query_raise",
                                    status_code=303)  # fmt: skip
    values = {
        name: str(form.get(name) or "")
        for name in ("query_instance", "query_item", "question", "proposed_value")
    }
    return _raise_page(request, viewer, sessions, study_id, values=values, errors=reader.errors,
                       problem=problem, status=422)  # fmt: skip


@router.get("/missing-forms")
def missing_forms_page(
    request: Request,
    viewer: ViewerDep,
    sessions: SessionMakerDep,
    study: Annotated[str | None, Query(max_length=STUDY_NAME_CHARS)] = None,
    site: Annotated[str | None, Query(max_length=SITE_CODE_CHARS)] = None,
    on: date | None = None,
    after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> HTMLResponse:
    """The expected forms missing per site and time point, and the list (a page of women)."""
    sites = worklist_sites(sessions, viewer.actor)
    if not sites:
        raise NotFound("no site in your scope has a missing-forms report")
    chosen = study or sites[0].study
    report = missing_forms_report(sessions, viewer.actor, chosen, on=on, site=site or None,
                                  after=after, limit=PAGE_SIZE)  # fmt: skip
    return render(request, "missing_forms.html", viewer=viewer, report=report,
                  sites=[s for s in sites if s.study == chosen], site=site or "", on=on,
                  after=after, studies=sorted({s.study for s in sites}))  # fmt: skip


@router.get("/missing-forms.csv")
def missing_forms_download(
    viewer: ViewerDep,
    sessions: SessionMakerDep,
    study: Annotated[str, Query(min_length=1, max_length=STUDY_NAME_CHARS)],
    site: Annotated[str | None, Query(max_length=SITE_CODE_CHARS)] = None,
    on: date | None = None,
) -> StreamingResponse:
    """Every missing form as CSV (audited)."""
    file = missing_forms_csv(sessions, viewer.actor, study, on=on, site=site or None)
    name = f"{study}-missing-forms.csv".replace('"', "")
    disposition = f'attachment; filename="{name}"'
    return StreamingResponse(
        file.chunks, media_type=file.media_type, headers={"Content-Disposition": disposition}
    )


def queries_panel(
    sessions: sessionmaker[Session], actor: Actor, study_id: str
) -> QueryPanel | None:
    """Her queries and form instances for her page; ``None`` for a role that reads no query."""
    if not can(actor, Action.READ_QUERIES):
        return None
    return query_panel(sessions, actor, study_id)
