"""Her CanRisk file on the pages: the download (``/participants/<id>/canrisk.txt``) and the
upload form of her page, whose report (or refusal, every problem of the file by line) is shown
on ``canrisk.html``; the use cases are the API's (:mod:`pebs.services.trial.canrisk`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from pebs.http.deps import KeysDep, SessionMakerDep
from pebs.io.canrisk_format import MAX_FILE_BYTES
from pebs.services.errors import Conflict, InvalidFields, InvalidInput
from pebs.services.records import participant_record
from pebs.services.trial.canrisk import export_canrisk, import_canrisk
from pebs.web.forms import FieldError, FormReader, place_refusal, refusal_text
from pebs.web.rendering import catalogue_for, render
from pebs.web.routes._params import StudyId
from pebs.web.viewer import PostedUpload, ViewerDep

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_FIELDS = ("canrisk_file", "answered_on")


@router.get("/participants/{study_id}/canrisk.txt")
def canrisk_download(
    study_id: StudyId, viewer: ViewerDep, sessions: SessionMakerDep, keys: KeysDep
) -> Response:
    """Her CanRisk v4 file, to open in CanRisk (audited)."""
    export = export_canrisk(sessions, viewer.actor, keys, study_id)
    headers = {"Content-Disposition": f'attachment; filename="{export.file_name}"',
               "Cache-Control": "no-store"}  # fmt: skip
    return Response(export.text, media_type=export.media_type, headers=headers)


@router.post("/participants/{study_id}/canrisk")
def canrisk_upload(
    request: Request, study_id: StudyId, viewer: ViewerDep, form: PostedUpload,
    sessions: SessionMakerDep, keys: KeysDep,
) -> HTMLResponse:  # fmt: skip
    """Import her CanRisk file (or check it: dry run) and show what it gave."""
    reader = FormReader(form)
    answered_on = reader.day("answered_on")
    dry_run = reader.flag("dry_run")
    upload = form.get("canrisk_file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        reader.errors["canrisk_file"] = FieldError("error.choose_file")
    problem, problems = None, []
    if not reader.errors:
        assert isinstance(upload, UploadFile)
        data = upload.file.read(MAX_FILE_BYTES + 1)
        try:
            report = import_canrisk(sessions, viewer.actor, keys, study_id, data,
                                    dry_run=dry_run, answered_on=answered_on)  # fmt: skip
        except InvalidFields as error:
            problem = refusal_text(error, catalogue_for(request)) if error.message_code else None
            problems = [f"{name}: {text}" for name, text in error.fields.items()]
        except (InvalidInput, Conflict) as error:
            problem = place_refusal(reader, error, _FIELDS, catalogue_for(request))
        else:
            record = participant_record(sessions, viewer.actor, study_id)
            return render(request, "canrisk.html", viewer=viewer, p=record, report=report,
                          problem=None, problems=[], canrisk_errors={})  # fmt: skip
    record = participant_record(sessions, viewer.actor, study_id)
    values = {"answered_on": form.get("answered_on", ""), "dry_run": form.get("dry_run", "")}
    return render(request, "canrisk.html", viewer=viewer, p=record, report=None,
                  problem=problem, problems=problems, canrisk_errors=reader.errors,
                  canrisk_values=values, status=422)  # fmt: skip
