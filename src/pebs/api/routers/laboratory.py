"""The central laboratory: genotype batch uploads, their list and reports, conflicting results.

A batch is a VCF (``.vcf`` or ``.vcf.gz``) whose sample names are kit IDs, uploaded as
``multipart/form-data``; its body may be up to :data:`MAX_UPLOAD_BYTES` (this route and the
upload page only: the rest of the site keeps ``PEBS_MAX_BODY_BYTES``). A 10,000-sample batch of
the 313 PRS313 variants is about 1 MB gzipped with GT only, and about 35 MB uncompressed with GT
and DS. The report names kit IDs only. Conflicts are for the data manager.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime
from pathlib import Path as FilePath
from typing import Annotated, Literal

from fastapi import File, Form, Path, Query, Response, UploadFile
from pydantic import BaseModel, Field

from pebs.api.deps import CurrentActor
from pebs.api.errors import error_responses
from pebs.api.routers._body import Body
from pebs.api.routers._router import Router
from pebs.api.routers._text import Text
from pebs.http.deps import KeysDep, SessionMakerDep
from pebs.services.errors import Conflict, NotFound
from pebs.services.field_rules import (
    KIT_ID_CHARS,
    LAB_BATCH_REFERENCE_CHARS,
    LAB_FILE_NAME_CHARS,
    REASON_CHARS,
    STUDY_NAME_CHARS,
)
from pebs.services.laboratory import (
    MAX_BATCHES_PER_PAGE,
    BatchPage,
    BatchReport,
    ConflictResolved,
    GenotypeConflict,
    genotype_batch,
    import_genotype_batch,
    list_batches,
    open_genotype_conflicts,
    resolve_genotype_conflict,
)

__all__ = ["BATCHES_PATH", "MAX_UPLOAD_BYTES", "router"]

router = Router(prefix="/lab", tags=["laboratory"])

BATCHES_PATH = "/lab/batches"
"""The upload route, under the API prefix (its body limit is :data:`MAX_UPLOAD_BYTES`)."""
MAX_UPLOAD_BYTES = 128 * 1024 * 1024
"""128 MiB: a 10,000-sample batch uncompressed with GT and DS (about 35 MB), with room."""

Reference = Annotated[
    Text,
    Path(min_length=1, max_length=LAB_BATCH_REFERENCE_CHARS, description="A batch's reference",
         examples=["LB-20250303-7QX2K9"]),
]  # fmt: skip
KitId = Annotated[
    Text,
    Path(min_length=1, max_length=KIT_ID_CHARS, description="The kit ID on the tube",
         examples=["MP-7QX2K9ZDL"]),
]  # fmt: skip


class BatchReportOut(BaseModel):
    """What an import did with every sample of the file (kit IDs only)."""

    reference: str | None = Field(description="The stored batch; null when nothing was stored")
    study: str
    file_name: str
    file_sha256: str = Field(description="SHA-256 of the file as uploaded")
    score_id: str = Field(examples=["PGS000004"])
    score_version: str = Field(description="SHA-256 of the scoring file")
    normalisation: str = Field(description="Source of the z-score's mean and SD")
    imported_at: datetime
    dry_run: bool
    min_call_rate: float = Field(description="The study's least call rate (a proportion)")
    max_imputed: int = Field(description="The study's most variants absent from the file")
    n_variants: int = Field(description="Variants of the score")
    absent_variants: list[str] = Field(description="Score variants the file does not carry")
    n_samples: int = Field(description="Sample columns of the file")
    counts: dict[str, int] = Field(description="Samples per outcome")
    kits: dict[str, list[str]] = Field(
        description="Kit IDs per outcome: accepted, failed_qc, unknown_kit, not_shipped, "
        "duplicate, unchanged, conflict, already_failed, abandoned"
    )
    n_risks_completed: int = Field(description="Women whose risk and plan were completed")
    previous_imports: list[str] = Field(description="Earlier batches of the same file")

    @classmethod
    def of(cls, report: BatchReport) -> BatchReportOut:
        return cls(**report.as_json())


class ResolutionIn(Body):
    keep: Literal["stored", "new"] = Field(
        description="Keep the kit's stored result, or the new conflicting one"
    )
    reason: Text = Field(min_length=1, max_length=REASON_CHARS, examples=["re-genotyped"])


_FILE = "The VCF (.vcf or .vcf.gz); its sample names are kit IDs"
_STORED_NOTE = "A dry run, or a file with nothing new to store: nothing was stored"


@router.post(
    "/batches", response_model=BatchReportOut, status_code=201,
    responses={200: {"model": BatchReportOut, "description": _STORED_NOTE},
               **error_responses(NotFound, Conflict)},
)  # fmt: skip
def import_batch(
    file: Annotated[UploadFile, File(description=_FILE)],
    study: Annotated[Text, Form(min_length=1, max_length=STUDY_NAME_CHARS)],
    actor: CurrentActor,
    sessions: SessionMakerDep,
    keys: KeysDep,
    response: Response,
    dry_run: Annotated[bool, Form(description="Do everything, then store nothing")] = False,
):
    """Import a genotype batch: score, check and store every sample (201), or report what it
    would do (200: a dry run, or nothing new)."""
    name = FilePath(file.filename or "upload.vcf").name[:LAB_FILE_NAME_CHARS] or "upload.vcf"
    with tempfile.TemporaryDirectory(prefix="pebs-lab-") as folder:
        path = FilePath(folder) / "genotypes"
        with path.open("wb") as target:
            shutil.copyfileobj(file.file, target)
        report = import_genotype_batch(
            sessions, actor, keys, study, path, file_name=name, dry_run=dry_run
        )
    if not report.stored:
        response.status_code = 200
    return BatchReportOut.of(report)


@router.get("/batches", response_model=BatchPage, responses=error_responses(NotFound))
def batches(
    actor: CurrentActor,
    sessions: SessionMakerDep,
    study: Annotated[Text, Query(min_length=1, max_length=STUDY_NAME_CHARS,
                                 examples=["mypebs-demo"])],
    limit: Annotated[int, Query(ge=1, le=MAX_BATCHES_PER_PAGE)] = 50,
    after: Annotated[
        Text | None,
        Query(min_length=1, max_length=LAB_BATCH_REFERENCE_CHARS,
              description="The previous page's next_after (the reference of its last batch)"),
    ] = None,
):  # fmt: skip
    """One page of the study's stored batches, latest import first, each with its file, SHA-256
    and samples per outcome (its report: ``GET /lab/batches/{reference}``)."""
    return list_batches(sessions, actor, study, limit=limit, after=after)


@router.get("/batches/{reference}", response_model=BatchReportOut)
def batch(reference: Reference, actor: CurrentActor, sessions: SessionMakerDep):
    """A stored batch's report."""
    return BatchReportOut.of(genotype_batch(sessions, actor, reference))


@router.get("/conflicts", response_model=list[GenotypeConflict])
def conflicts(actor: CurrentActor, sessions: SessionMakerDep):
    """Genotype results that conflict with a kit's accepted one, oldest first (data managers)."""
    return list(open_genotype_conflicts(sessions, actor))


@router.post("/conflicts/{kit_id}/resolution", response_model=ConflictResolved)
def resolve(
    kit_id: KitId, body: ResolutionIn, actor: CurrentActor, sessions: SessionMakerDep,
    keys: KeysDep,
):  # fmt: skip
    """Keep the kit's stored or new result; the others are set aside with the reason."""
    return resolve_genotype_conflict(
        sessions, actor, keys, kit_id, keep=body.keep, reason=body.reason
    )
