"""The statistician's analysis page: run the study's analysis plan on the live database or the
study's lock snapshot, see the primary result of a run, download a run's outputs (ZIP)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pebs.http.analysis import analyse_here, archive_here, results_here, runs_here
from pebs.http.deps import SessionMakerDep, StateDep
from pebs.services.actor import Action, require
from pebs.services.errors import InvalidInput
from pebs.services.monitoring import study_lock_status
from pebs.web.forms import FormReader
from pebs.web.rendering import render
from pebs.web.routes._study_choice import chosen_study
from pebs.web.viewer import PostedForm, ViewerDep

router = APIRouter(include_in_schema=False)


@router.get("/analysis")
def analysis_page(
    request: Request, viewer: ViewerDep, sessions: SessionMakerDep, state: StateDep,
    study: Annotated[str | None, Query(max_length=64)] = None,
    run: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:  # fmt: skip
    """Start an analysis; the study's runs; the primary result of one run."""
    require(viewer.actor, Action.ANALYSE)
    name = chosen_study(sessions, viewer.actor, study)
    lock = study_lock_status(sessions, viewer.actor, name)
    runs = runs_here(state, viewer.actor, name)
    shown = run or (runs[0] if runs else None)
    results = None if shown is None else results_here(state, viewer.actor, name, shown)
    return render(request, "analysis.html", viewer=viewer, study=name, runs=runs, run=shown,
                  results=results, snapshot=lock.snapshot_file)  # fmt: skip


@router.post("/analysis")
def analysis_submit(viewer: ViewerDep, form: PostedForm, state: StateDep,
                    sessions: SessionMakerDep) -> Response:  # fmt: skip
    """Run the analysis; show its result."""
    reader = FormReader(form)
    name = chosen_study(sessions, viewer.actor, reader.text("study", max_length=64))
    source = reader.text("source", max_length=16) or "live"
    if source not in ("live", "snapshot"):
        raise InvalidInput(f"{source!r} is not allowed; allowed: live, snapshot", field="source")
    done = analyse_here(state, viewer.actor, name, snapshot=source == "snapshot")
    return RedirectResponse(f"/analysis?study={name}&run={done.folder.name}", status_code=303)


@router.get("/analysis/outputs.zip")
def analysis_download(
    viewer: ViewerDep, sessions: SessionMakerDep, state: StateDep,
    study: Annotated[str | None, Query(max_length=64)] = None,
    run: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:  # fmt: skip
    """A run's outputs as one ZIP file (no run named: the analysis page)."""
    require(viewer.actor, Action.ANALYSE)
    name = chosen_study(sessions, viewer.actor, study)
    if run is None:
        return RedirectResponse(f"/analysis?study={name}", status_code=303)
    data = archive_here(state, viewer.actor, name, run)
    disposition = f'attachment; filename="{run}.zip"'
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": disposition})  # fmt: skip
