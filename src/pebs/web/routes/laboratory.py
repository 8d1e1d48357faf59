"""Pages of the central laboratory and the data manager: the shipments not received yet and the
receipt of one, the stored genotype batches and the upload of a new one (or a dry run) and its
report, resolve conflicting results.

The laboratory sees kit IDs and shipments only: the services it calls never give a participant,
her identity or her arm (:mod:`pebs.services.samples.views`, :mod:`pebs.services.laboratory`),
and these pages show nothing else. Conflicts, which name her study ID, are the data manager's
(:data:`~pebs.services.actor.Action.RESOLVE_GENOTYPES`).

A batch is uploaded as ``multipart/form-data`` to :data:`~pebs.http.paths.BATCH_UPLOAD_PAGE`,
whose body may be as large as the API upload's (the limits are set in
:func:`pebs.api.create_app`); every other page keeps ``PEBS_MAX_BODY_BYTES``. The study of the
lists and of an upload is chosen among :func:`~pebs.services.laboratory.laboratory_studies`.
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
from pebs.http.paths import BATCH_UPLOAD_PAGE
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
    laboratory_studies,
    list_batches,
    open_genotype_conflicts,
    resolve_genotype_conflict,
)
from pebs.services.samples import list_shipments, receive_shipment, shipment_by_reference
from pebs.web.forms import FieldError, FormReader, place_refusal, refusal_text
from pebs.web.rendering import catalogue_for, render
from pebs.web.viewer import PostedForm, PostedUpload, Viewer, ViewerDep

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

BatchReference = Annotated[str, Path(min_length=1, max_length=LAB_BATCH_REFERENCE_CHARS)]
ShipmentReference = Annotated[str, Path(min_length=1, max_length=SHIPMENT_REFERENCE_CHARS)]
KitId = Annotated[str, Path(min_length=1, max_length=KIT_ID_CHARS)]
StudyQuery = Annotated[str | None, Query(max_length=STUDY_NAME_CHARS)]

PER_PAGE = 25
"""Shipments, or batches, per page."""

_UPLOAD_FIELDS = ("study", "file", "file_name", "dry_run")
_RESOLUTION_FIELDS = ("keep", "reason")
OUTCOMES = tuple(outcome.value for outcome in Outcome)
"""The batch report's outcomes, in the order the report page lists them."""


def _see(path: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{path}{'&' if '?' in path else '?'}done={done}", status_code=303)


def _studies(sessions: SessionMakerDep, viewer: Viewer,
             study: str | None) -> tuple[tuple[str, ...], str | None]:  # fmt: skip
    """The studies the viewer may choose among, and the one asked for (default: the first;
    ``None`` when no study is loaded). A study that is not loaded is not found."""
    studies = laboratory_studies(sessions, viewer.actor)
    if study and study not in studies:
        raise NotFound(f"no study {study!r} is loaded")
    return studies, study or (studies[0] if studies else None)


# --- shipments arriving at the laboratory -------------------------------------------------


def _shipments_page(request: Request, viewer: Viewer, sessions: SessionMakerDep,
                    reference: str | None, *, study: str | None = None, after: str | None = None,
                    problem: str | None = None, status: int = 200) -> HTMLResponse:  # fmt: skip
    shipment = None if reference is None else shipment_by_reference(sessions, viewer.actor,
                                                                     reference)  # fmt: skip
    studies, chosen = _studies(sessions, viewer, study)
    waiting = None if chosen is None else list_shipments(
        sessions, viewer.actor, chosen, open_only=True, limit=PER_PAGE, after=after)  # fmt: skip
    return render(request, "lab_shipments.html", viewer=viewer, shipment=shipment,
                  reference=reference or "", studies=studies, study=chosen or "",
                  waiting=waiting, after=after or "", problem=problem, status=status,
                  reference_chars=SHIPMENT_REFERENCE_CHARS)  # fmt: skip


@router.get("/lab/shipments")
def shipments_page(
    request: Request, viewer: ViewerDep, sessions: SessionMakerDep, study: StudyQuery = None,
    reference: Annotated[str | None, Query(max_length=SHIPMENT_REFERENCE_CHARS)] = None,
    after: Annotated[str | None, Query(max_length=SHIPMENT_REFERENCE_CHARS)] = None,
) -> HTMLResponse:  # fmt: skip
    """The shipments not received yet, newest first (``after``: the reference of the previous
    page's last one), and the form that opens one by the reference on its box: its kits, and
    the button that records its arrival."""
    require(viewer.actor, Action.RECEIVE_SHIPMENT)
    return _shipments_page(request, viewer, sessions, (reference or "").strip() or None,
                           study=study or None, after=after or None)  # fmt: skip


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


def _batches_page(request: Request, viewer: Viewer, sessions: SessionMakerDep, *,
                  study: str | None = None, after: str | None = None,
                  values: dict | None = None, errors: dict | None = None,
                  problem: str | None = None, status: int = 200) -> HTMLResponse:  # fmt: skip
    studies, chosen = _studies(sessions, viewer, study)
    batches = None if chosen is None else list_batches(sessions, viewer.actor, chosen,
                                                       limit=PER_PAGE, after=after)  # fmt: skip
    return render(request, "lab_batches.html", viewer=viewer, studies=studies,
                  study=chosen or "", batches=batches, after=after or "", outcomes=OUTCOMES,
                  values=values or {"study": chosen or ""}, errors=errors or {},
                  problem=problem, status=status, upload_page=BATCH_UPLOAD_PAGE)  # fmt: skip


@router.get(BATCH_UPLOAD_PAGE)
def batches_page(
    request: Request, viewer: ViewerDep, sessions: SessionMakerDep, study: StudyQuery = None,
    after: Annotated[str | None, Query(max_length=LAB_BATCH_REFERENCE_CHARS)] = None,
) -> Response:  # fmt: skip
    """The study's stored batches, newest first (``after``: the reference of the previous page's
    last one), each linked to its report; and the upload form."""
    require(viewer.actor, Action.IMPORT_GENOTYPES)
    return _batches_page(request, viewer, sessions, study=study or None, after=after or None)


@router.post(BATCH_UPLOAD_PAGE)
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
    return _batches_page(request, viewer, sessions, values=values, errors=reader.errors,
                         problem=problem, status=422)  # fmt: skip


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
