"""``/studies/{study}/analyses``: the trial's statistical analysis (statisticians): run it on
the live database or the study's lock snapshot, and download a run's outputs as a ZIP."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path
from fastapi.responses import Response
from pydantic import BaseModel, Field

from pebs.api.deps import CurrentActor
from pebs.api.errors import error_responses
from pebs.api.routers._body import Body
from pebs.api.routers._router import Router
from pebs.api.routers._text import Text
from pebs.http.analysis import analyse_here, archive_here
from pebs.http.deps import StateDep
from pebs.services.errors import Conflict, InvalidInput, NotFound

router = Router(tags=["analysis"])

StudyName = Annotated[Text, Path(min_length=1, max_length=64, examples=["mypebs-demo"])]


class AnalysisIn(Body):
    source: Literal["live", "snapshot"] = Field(
        default="live",
        description="live: the database now (data cut today, UTC); snapshot: the file of the "
        "study's latest lock (data cut: its lock time)",
    )


class SourceOut(BaseModel):
    kind: str = Field(description="live or snapshot")
    name: str = Field(description="The snapshot's file name, or the database backend")
    sha256: str | None = Field(description="SHA-256 (hex) of the snapshot file; null if live")
    study_lock: str | None = Field(description="The recorded lock of this snapshot: who, when")


class AnalysisOut(BaseModel):
    run: str = Field(description="The run's name: its outputs are at .../analyses/{run}.zip")
    source: SourceOut
    results_sha256: str = Field(description="SHA-256 (hex) of results.json, as audited")
    results: dict[str, Any] = Field(
        description="results.json: plan, counts, primary (intention to treat, per protocol), "
        "alternative_endpoints, time_to_event, secondary, screens, consort (docs/statistics.md)"
    )


@router.post("/studies/{study}/analyses", response_model=AnalysisOut, status_code=201,
             responses=error_responses(NotFound, InvalidInput, Conflict))  # fmt: skip
def analyse(study: StudyName, body: AnalysisIn, actor: CurrentActor, state: StateDep):
    """Run the study's analysis plan (statisticians); the results and the run's name."""
    run = analyse_here(state, actor, study, snapshot=body.source == "snapshot")
    return AnalysisOut(run=run.folder.name, source=SourceOut(**run.results["source"]),
                       results_sha256=run.results_sha256, results=run.results)  # fmt: skip


@router.get(
    "/studies/{study}/analyses/{run}.zip",
    response_class=Response,
    responses={
        200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
              "description": "results.json, the CSV tables, the plots and report.html"},
        **error_responses(NotFound),
    },
)  # fmt: skip
def analysis_outputs(
    study: StudyName,
    run: Annotated[Text, Path(min_length=1, max_length=100,
                              examples=["mypebs-demo-20260630T120000.000000Z"])],
    actor: CurrentActor,
    state: StateDep,
) -> Response:  # fmt: skip
    """A run's outputs as one ZIP file (statisticians)."""
    data = archive_here(state, actor, study, run)
    disposition = f'attachment; filename="{run}.zip"'
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": disposition})  # fmt: skip
