"""The data manager's page that imports a whole trial: the files of the system the trial moves
from (CSV women with their visits and diagnoses, or a CDISC ODM file with the women's
identities), a dry run or the import, and the report (counts and every refused row).

The upload goes to :data:`~pebs.http.paths.TRIAL_IMPORT_PAGE`, whose body may be as large as the
API's import (limits set in :func:`pebs.api.create_app`).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path as FilePath

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from pebs.http.deps import KeysDep, SessionMakerDep
from pebs.http.paths import TRIAL_IMPORT_PAGE
from pebs.services.actor import Action, require
from pebs.services.errors import InvalidInput, NotFound, PermissionDenied
from pebs.services.field_rules import STUDY_NAME_CHARS
from pebs.services.trial.import_report import collect_import
from pebs.services.trial.trial_import import FORMATS, import_files
from pebs.web.forms import FieldError, FormReader, place_refusal
from pebs.web.rendering import catalogue_for, render
from pebs.web.viewer import PostedUpload, Viewer, ViewerDep

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_FILES = ("file", "visits", "diagnoses", "identities")
_FIELDS = ("study", "format", *_FILES)


def _page(request: Request, viewer: Viewer, *, values: dict | None = None,
          errors: dict | None = None, problem: str | None = None, report=None,
          status: int = 200) -> HTMLResponse:  # fmt: skip
    return render(request, "imports.html", viewer=viewer, formats=FORMATS,
                  values=values or {"format": "csv", "dry_run": "on"}, errors=errors or {},
                  problem=problem, report=report, status=status,
                  upload_page=TRIAL_IMPORT_PAGE)  # fmt: skip


@router.get(TRIAL_IMPORT_PAGE)
def imports_page(request: Request, viewer: ViewerDep) -> HTMLResponse:
    """The upload form (a dry run ticked by default)."""
    require(viewer.actor, Action.IMPORT_TRIAL)
    return _page(request, viewer)


@router.post(TRIAL_IMPORT_PAGE)
def import_submit(
    request: Request, viewer: ViewerDep, form: PostedUpload, sessions: SessionMakerDep,
    keys: KeysDep,
) -> Response:  # fmt: skip
    """Import the uploaded files (or check them: dry run) and show the report."""
    require(viewer.actor, Action.IMPORT_TRIAL)
    reader = FormReader(form)
    study = reader.text("study", required=True, max_length=STUDY_NAME_CHARS)
    file_format = reader.choice("format", FORMATS, required=True)
    dry_run = reader.flag("dry_run")
    uploads = {name: upload for name in _FILES
               if isinstance(upload := form.get(name), UploadFile) and upload.filename}  # fmt: skip
    if "file" not in uploads:
        reader.errors["file"] = FieldError("error.choose_file")
    values = {name: form.get(name, "") for name in ("study", "format", "dry_run")}
    problem = None
    if not reader.errors:
        try:
            with tempfile.TemporaryDirectory(prefix="pebs-import-") as folder:
                paths = {name: _saved(upload, FilePath(folder) / name)
                         for name, upload in uploads.items()}  # fmt: skip
                report = collect_import(lambda on_outcome: import_files(
                    sessions, viewer.actor, keys, study or "", paths["file"],
                    file_format=file_format or "csv", visits=paths.get("visits"),
                    diagnoses=paths.get("diagnoses"), identities=paths.get("identities"),
                    dry_run=dry_run, on_outcome=on_outcome,
                ))  # fmt: skip
        except PermissionDenied:
            raise
        except (InvalidInput, NotFound) as error:
            problem = place_refusal(reader, error, _FIELDS, catalogue_for(request))
        else:
            return _page(request, viewer, values=values, report=report)
    return _page(request, viewer, values=values, errors=reader.errors, problem=problem,
                 status=422)  # fmt: skip


def _saved(upload: UploadFile, path: FilePath) -> FilePath:
    with path.open("wb") as target:
        shutil.copyfileobj(upload.file, target)
    return path
