"""Pages of the central laboratory and the data manager: receive a shipment, upload a genotype
batch (or check it with a dry run) and read its report, resolve conflicting results.

The laboratory sees kit IDs and shipments only: the services it calls never give a participant,
her identity or her arm (:mod:`pebs.services.samples.views`, :mod:`pebs.services.laboratory`),
and these pages show nothing else. Conflicts, which name her study ID, are the data manager's
(:data:`~pebs.services.actor.Action.RESOLVE_GENOTYPES`).

A batch is uploaded as ``multipart/form-data`` and is subject to the site's body limit
(``PEBS_MAX_BODY_BYTES``); larger files go through the API's upload route or ``pebs lab
import``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path as FilePath
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from pebs.http.deps import KeysDep, SessionMakerDep
from pebs.services.actor import Action, require
from pebs.services.errors import Conflict, InvalidInput, NotFound
from pebs.services.field_rules import (
    KIT_ID_CHARS,
    LAB_BATCH_REFERENCE_CHARS,
    LAB_FILE_NAME_CHARS,
    REASON_CHARS,
    SHIPMENT_REFERENCE_CHARS,
    STUDY_NAME_CHARS,
)
from pebs.services.laboratory import (
    KEEP_CHOICES,
    Outcome,
    genotype_batch,
    import_genotype_batch,
    open_genotype_conflicts,
    resolve_genotype_conflict,
)
from pebs.services.samples import receive_shipment, shipment_by_reference
from pebs.web.forms import FieldError, FormReader, place_refusal, refusal_text
from pebs.web.rendering import catalogue_for, render
from pebs.web.viewer import PostedForm, PostedUpload, Viewer, ViewerDep

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

BatchReference = Annotated[str, Path(min_length=1, max_length=LAB_BATCH_REFERENCE_CHARS)]
ShipmentReference = Annotated[str, Path(min_length=1, max_length=SHIPMENT_REFERENCE_CHARS)]
KitId = Annotated[str, Path(min_length=1, max_length=KIT_ID_CHARS)]

_UPLOAD_FIELDS = ("study", "file", "file_name", "dry_run")
_RESOLUTION_FIELDS = ("keep", "reason")
OUTCOMES = tuple(outcome.value for outcome in Outcome)
"""The batch report's outcomes, in the order the report page lists them."""


def _see(path: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{path}{'&' if '?' in path else '?'}done={done}", status_code=303)


# --- shipments arriving at the laboratory -------------------------------------------------


def _shipments_page(request: Request, viewer: Viewer, sessions: SessionMakerDep,
                    reference: str | None, *, problem: str | None = None,
                    status: int = 200) -> HTMLResponse:  # fmt: skip
    shipment = None if reference is None else shipment_by_reference(sessions, viewer.actor,
                                                                     reference)  # fmt: skip
    return render(request, "lab_shipments.html", viewer=viewer, shipment=shipment,
                  reference=reference or "", problem=problem, status=status,
                  reference_chars=SHIPMENT_REFERENCE_CHARS)  # fmt: skip


@router.get("/lab/shipments")
def shipments_page(
    request: Request, viewer: ViewerDep, sessions: SessionMakerDep,
    reference: Annotated[str | None, Query(max_length=SHIPMENT_REFERENCE_CHARS)] = None,
) -> HTMLResponse:  # fmt: skip
    """Find a shipment by the reference on its box; its kits, and the button that records its
    arrival."""
    require(viewer.actor, Action.RECEIVE_SHIPMENT)
    return _shipments_page(request, viewer, sessions, (reference or "").strip() or None)


@router.post("/lab/shipments/{reference}/receipt")
def receipt_submit(
    request: Request, reference: ShipmentReference, viewer: ViewerDep, form: PostedForm,
    sessions: SessionMakerDep,
) -> Response:  # fmt: skip
    """Record the shipment's arrival now: its shipped kits become received."""
    try:
        done = receive_shipment(sessions, viewer.actor, reference)
    except (InvalidInput, Conflict) as error:
        problem = refusal_text(error, catalogue_for(request))
        return _shipments_page(request, viewer, sessions, reference, problem=problem,
                               status=409 if isinstance(error, Conflict) else 422)  # fmt: skip
    return _see(f"/lab/shipments?reference={quote(done.reference)}", "received")


# --- genotype batches -----------------------------------------------------------------------


def _batches_page(request: Request, viewer: Viewer, *, values: dict | None = None,
                  errors: dict | None = None, problem: str | None = None,
                  status: int = 200) -> HTMLResponse:  # fmt: skip
    return render(request, "lab_batches.html", viewer=viewer, values=values or {},
                  errors=errors or {}, problem=problem, status=status,
                  study_chars=STUDY_NAME_CHARS, batch_chars=LAB_BATCH_REFERENCE_CHARS)  # fmt: skip


@router.get("/lab/batches")
def batches_page(
    request: Request, viewer: ViewerDep,
    reference: Annotated[str | None, Query(max_length=LAB_BATCH_REFERENCE_CHARS)] = None,
) -> Response:  # fmt: skip
    """The upload form, and the form that opens a stored batch's report by its reference."""
    require(viewer.actor, Action.IMPORT_GENOTYPES)
    if reference and reference.strip():
        return RedirectResponse(f"/lab/batches/{quote(reference.strip())}", status_code=303)
    return _batches_page(request, viewer)


@router.post("/lab/batches")
def batch_submit(
    request: Request, viewer: ViewerDep, form: PostedUpload, sessions: SessionMakerDep,
    keys: KeysDep,
) -> Response:  # fmt: skip
    """Import the uploaded VCF (or check it: dry run) and show its report."""
    reader = FormReader(form)
    study = reader.text("study", required=True, max_length=STUDY_NAME_CHARS)
    dry_run = reader.flag("dry_run")
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        reader.errors["file"] = FieldError("error.choose_file")
    problem = None
    if not reader.errors:
        assert study is not None
        assert isinstance(upload, UploadFile)
        name = FilePath(upload.filename or "").name[:LAB_FILE_NAME_CHARS] or "upload.vcf"
        try:
            with tempfile.TemporaryDirectory(prefix="pebs-lab-") as folder:
                path = FilePath(folder) / "genotypes"
                with path.open("wb") as target:
                    shutil.copyfileobj(upload.file, target)
                report = import_genotype_batch(sessions, viewer.actor, keys, study, path,
                                               file_name=name, dry_run=dry_run)  # fmt: skip
        except (InvalidInput, Conflict, NotFound) as error:
            problem = place_refusal(reader, error, _UPLOAD_FIELDS, catalogue_for(request))
        else:
            if report.stored:
                return _see(f"/lab/batches/{quote(report.reference or '')}", "imported")
            return render(request, "lab_batch.html", viewer=viewer, report=report,
                          outcomes=OUTCOMES)  # fmt: skip
    values = {"study": form.get("study", ""), "dry_run": form.get("dry_run", "")}
    return _batches_page(request, viewer, values=values, errors=reader.errors, problem=problem,
                         status=422)  # fmt: skip


@router.get("/lab/batches/{reference}")
def batch_page(
    request: Request, reference: BatchReference, viewer: ViewerDep, sessions: SessionMakerDep
) -> HTMLResponse:
    """A stored batch's report: counts per outcome and the kit IDs of each."""
    report = genotype_batch(sessions, viewer.actor, reference)
    return render(request, "lab_batch.html", viewer=viewer, report=report, outcomes=OUTCOMES)


# --- conflicting results (data manager) -----------------------------------------------------


def _conflicts_page(request: Request, viewer: Viewer, sessions: SessionMakerDep, *,
                    failed: str | None = None, values: dict | None = None,
                    errors: dict | None = None, problem: str | None = None,
                    status: int = 200) -> HTMLResponse:  # fmt: skip
    conflicts = open_genotype_conflicts(sessions, viewer.actor)
    return render(request, "lab_conflicts.html", viewer=viewer, conflicts=conflicts,
                  keep_choices=KEEP_CHOICES, failed=failed, values=values or {},
                  errors=errors or {}, problem=problem, status=status,
                  reason_chars=REASON_CHARS)  # fmt: skip


@router.get("/lab/conflicts")
def conflicts_page(request: Request, viewer: ViewerDep, sessions: SessionMakerDep) -> HTMLResponse:
    """Open conflicts: a genotyped kit that a later batch scored differently."""
    return _conflicts_page(request, viewer, sessions)


@router.post("/lab/conflicts/{kit_id}/resolution")
def resolution_submit(
    request: Request, kit_id: KitId, viewer: ViewerDep, form: PostedForm,
    sessions: SessionMakerDep, keys: KeysDep,
) -> Response:  # fmt: skip
    """Keep the kit's stored result or take the new one, with a reason (audited)."""
    reader = FormReader(form)
    keep = reader.choice("keep", KEEP_CHOICES, required=True)
    reason = reader.text("reason", required=True, max_length=REASON_CHARS)
    problem = None
    if not reader.errors:
        assert keep is not None
        assert reason is not None
        try:
            resolve_genotype_conflict(sessions, viewer.actor, keys, kit_id, keep=keep,
                                      reason=reason)  # fmt: skip
        except InvalidInput as error:
            problem = place_refusal(reader, error, _RESOLUTION_FIELDS, catalogue_for(request))
        else:
            return _see("/lab/conflicts", "resolved")
    values = {name: form.get(name, "") for name in _RESOLUTION_FIELDS}
    return _conflicts_page(request, viewer, sessions, failed=kit_id, values=values,
                           errors=reader.errors, problem=problem, status=422)  # fmt: skip
