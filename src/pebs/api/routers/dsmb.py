"""``/studies/{study}/dsmb-reports``: the data monitoring committee's reports: the open report
(pooled over arms; statisticians and data managers) and the closed report (by arm;
statisticians), on the live database or the study's lock snapshot, and a report's files as a
ZIP (docs/trial/dsmb.md)."""

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
from pebs.http.deps import StateDep
from pebs.http.dsmb import dsmb_archive_here, dsmb_here
from pebs.services.errors import Conflict, InvalidInput, NotFound

router = Router(tags=["analysis"])

StudyName = Annotated[Text, Path(min_length=1, max_length=64, examples=["mypebs-demo"])]


class DsmbIn(Body):
    kind: Literal["open", "closed"] = Field(
        description="open: pooled over arms (statistician, data manager); closed: by arm "
        "(statistician)"
    )
    source: Literal["live", "snapshot"] = Field(
        default="live",
        description="live: the database now (data cut today, UTC); snapshot: the file of the "
        "study's latest lock (data cut: its lock time)",
    )


class DsmbSourceOut(BaseModel):
    kind: str = Field(description="live or snapshot")
    name: str = Field(description="The snapshot's file name, or the database backend")
    sha256: str | None = Field(description="SHA-256 (hex) of the snapshot file; null if live")
    study_lock: str | None = Field(description="The recorded lock of this snapshot: who, when")


class DsmbOut(BaseModel):
    run: str = Field(description="The report's name: its files are at .../dsmb-reports/{run}.zip")
    kind: Literal["open", "closed"]
    source: DsmbSourceOut
    data_cut: str = Field(description="The data cut-off, YYYY-MM-DD")
    files: dict[str, str] = Field(description="Each output file's SHA-256 (hex), as audited")
    document: dict[str, Any] = Field(
        description="tables.json: the cover (software, source, seed, data cut), the tables and, "
        "in a closed report, the primary endpoint and the monitoring (docs/trial/dsmb.md)"
    )


@router.post("/studies/{study}/dsmb-reports", response_model=DsmbOut, status_code=201,
             responses=error_responses(NotFound, InvalidInput, Conflict))  # fmt: skip
def dsmb_report(study: StudyName, body: DsmbIn, actor: CurrentActor, state: StateDep):
    """Produce a DSMB report (open: statisticians and data managers; closed: statisticians)."""
    report = dsmb_here(state, actor, study, body.kind, snapshot=body.source == "snapshot")
    document = report.document
    return DsmbOut(run=report.folder.name, kind=report.kind,
                   source=DsmbSourceOut(**document["source"]), data_cut=document["data_cut"],
                   files=report.files, document=document)  # fmt: skip


@router.get(
    "/studies/{study}/dsmb-reports/{run}.zip",
    response_class=Response,
    responses={
        200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
              "description": "tables.json, the CSV tables, the plots, report.html and report.pdf"},
        **error_responses(NotFound),
    },
)  # fmt: skip
def dsmb_report_files(
    study: StudyName,
    run: Annotated[Text, Path(min_length=1, max_length=110,
                              examples=["open-mypebs-demo-20260630T120000.000000Z"])],
    actor: CurrentActor,
    state: StateDep,
) -> Response:  # fmt: skip
    """A DSMB report's files as one ZIP file (the roles that may produce its kind)."""
    data = dsmb_archive_here(state, actor, study, run)
    disposition = f'attachment; filename="{run}.zip"'
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": disposition})  # fmt: skip
