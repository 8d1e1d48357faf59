"""The DSMB reports page: produce the open report (statisticians, data managers) or the closed
report (statisticians) on the live database or the study's lock snapshot, see a report's cover
and monitoring result, download its files (ZIP)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pebs.http.deps import SessionMakerDep, StateDep
from pebs.http.dsmb import dsmb_archive_here, dsmb_here, dsmb_runs_here, dsmb_tables_here
from pebs.services.actor import PERMISSIONS, Action, require
from pebs.services.errors import InvalidInput
from pebs.services.monitoring import study_lock_status
from pebs.web.forms import FormReader
from pebs.web.rendering import render
from pebs.web.routes._study_choice import chosen_study
from pebs.web.viewer import PostedForm, ViewerDep

router = APIRouter(include_in_schema=False)


@router.get("/dsmb")
def dsmb_page(
    request: Request, viewer: ViewerDep, sessions: SessionMakerDep, state: StateDep,
    study: Annotated[str | None, Query(max_length=64)] = None,
    run: Annotated[str | None, Query(max_length=110)] = None,
) -> HTMLResponse:  # fmt: skip
    """Produce a report; the study's reports; the cover of one."""
    require(viewer.actor, Action.DSMB_OPEN_REPORT)
    name = chosen_study(sessions, viewer.actor, study)
    lock = study_lock_status(sessions, viewer.actor, name)
    runs = dsmb_runs_here(state, viewer.actor, name)
    shown = run or (runs[0] if runs else None)
    document = None if shown is None else dsmb_tables_here(state, viewer.actor, name, shown)
    return render(request, "dsmb.html", viewer=viewer, study=name, runs=runs, run=shown,
                  document=document, snapshot=lock.snapshot_file,
                  closed=viewer.actor.role in PERMISSIONS[Action.DSMB_CLOSED_REPORT])  # fmt: skip


@router.post("/dsmb")
def dsmb_submit(viewer: ViewerDep, form: PostedForm, state: StateDep,
                sessions: SessionMakerDep) -> Response:  # fmt: skip
    """Produce the report; show it."""
    reader = FormReader(form)
    name = chosen_study(sessions, viewer.actor, reader.text("study", max_length=64))
    kind = reader.text("kind", max_length=16) or "open"
    if kind not in ("open", "closed"):
        raise InvalidInput(f"{kind!r} is not allowed; allowed: open, closed", field="kind")
    source = reader.text("source", max_length=16) or "live"
    if source not in ("live", "snapshot"):
        raise InvalidInput(f"{source!r} is not allowed; allowed: live, snapshot", field="source")
    done = dsmb_here(state, viewer.actor, name, kind, snapshot=source == "snapshot")
    return RedirectResponse(f"/dsmb?study={name}&run={done.folder.name}", status_code=303)


@router.get("/dsmb/files.zip")
def dsmb_download(
    viewer: ViewerDep, sessions: SessionMakerDep, state: StateDep,
    study: Annotated[str | None, Query(max_length=64)] = None,
    run: Annotated[str | None, Query(max_length=110)] = None,
) -> Response:  # fmt: skip
    """A report's files as one ZIP file (no report named: the page)."""
    require(viewer.actor, Action.DSMB_OPEN_REPORT)
    name = chosen_study(sessions, viewer.actor, study)
    if run is None:
        return RedirectResponse(f"/dsmb?study={name}", status_code=303)
    data = dsmb_archive_here(state, viewer.actor, name, run)
    disposition = f'attachment; filename="{run}.zip"'
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": disposition})  # fmt: skip
