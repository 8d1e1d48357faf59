"""Importing a whole trial: a data manager uploads the files of the system the trial migrates
from (``multipart/form-data``, up to :data:`MAX_UPLOAD_BYTES`); the answer is the counts and
every refused row (file, line, step, column, reason)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import File, Path, Query, Response, UploadFile
from pydantic import BaseModel, Field

from pebs.api.deps import CurrentActor
from pebs.api.errors import error_responses
from pebs.api.routers._router import Router
from pebs.api.routers._text import Text
from pebs.http.deps import KeysDep, SessionMakerDep
from pebs.services.errors import NotFound
from pebs.services.field_rules import STUDY_NAME_CHARS
from pebs.services.trial.import_report import ImportReport, collect_import
from pebs.services.trial.trial_import import import_files

__all__ = ["IMPORTS_PATH", "MAX_UPLOAD_BYTES", "router"]

router = Router(tags=["imports"])

IMPORTS_PATH = "/studies/{study}/imports"
"""The upload route, under the API prefix (its body limit is :data:`MAX_UPLOAD_BYTES`)."""
MAX_UPLOAD_BYTES = 512 * 1024 * 1024
"""512 MiB: the files of 85,000 women (an enrolment file of about 40 MB, an ODM file of a few
hundred MB with their visits)."""


class RowRefusedOut(BaseModel):
    """A row of the files refused (or one of her records): where, at which step, and why."""

    file: Literal["women", "visits", "diagnoses", "odm", "identities"]
    line: int = Field(description="Line in the file (ODM: the SubjectData's line)")
    study_id: str | None = Field(description="Her study ID if she was registered")
    step: str = Field(examples=["read", "register", "allocate", "visit"])
    field: str | None = Field(description="The column (or item) refused", examples=["birads"])
    message: str = Field(description="The value, the reason and the allowed values")


class ImportOut(BaseModel):
    """What an import did (or would do: a dry run)."""

    dry_run: bool = Field(description="Nothing was stored")
    rows: int = Field(description="Rows of the women's file (ODM: subjects) and refused records")
    reached: dict[str, int] = Field(description="Women per last step done")
    skipped: int = Field(description="Women stored before (by source_id or national ID)")
    recorded: dict[str, int] = Field(description="Follow-up records stored per kind")
    refused: dict[str, int] = Field(description="Refusals per 'step: field'")
    commits: int
    seconds: float
    stopped: str | None = Field(description="Why the import stopped before the end")
    n_errors: int = Field(description="Rows refused in all")
    errors: list[RowRefusedOut] = Field(
        description="The rows refused, in file order (the first 10,000)"
    )

    @classmethod
    def of(cls, report: ImportReport) -> ImportOut:
        return cls(**report.as_json())


Study = Annotated[
    Text,
    Path(min_length=1, max_length=STUDY_NAME_CHARS, description="Study name",
         examples=["mypebs-demo"]),
]  # fmt: skip
_UPLOADS = ("visits", "diagnoses", "identities")
NO_FILE: Any = None
"""The default of an optional upload: no file. Typed ``UploadFile`` (not ``| None``) so that its
schema is a file only: a form sends no part for a file not given, never a null."""


@router.post(
    IMPORTS_PATH, response_model=ImportOut, status_code=201,
    responses={200: {"model": ImportOut, "description": "A dry run: nothing was stored"},
               **error_responses(NotFound)},
)  # fmt: skip
def import_trial(
    study: Study,
    file: Annotated[UploadFile, File(description="The women (CSV) or the ODM file")],
    actor: CurrentActor,
    sessions: SessionMakerDep,
    keys: KeysDep,
    response: Response,
    file_format: Annotated[Literal["csv", "odm"], Query(alias="format")] = "csv",
    dry_run: Annotated[bool, Query(description="Check everything, store nothing")] = False,
    visits: Annotated[UploadFile, File(description="CSV: her visits")] = NO_FILE,
    diagnoses: Annotated[UploadFile, File(description="CSV: her diagnoses")] = NO_FILE,
    identities: Annotated[
        UploadFile, File(description="ODM: the women's identities (CSV)")
    ] = NO_FILE,
):
    """Import a whole trial: every woman through the ordinary use cases (201), or check every
    row and store nothing (200: a dry run)."""
    uploads = dict(zip(_UPLOADS, (visits, diagnoses, identities), strict=True))
    with tempfile.TemporaryDirectory(prefix="pebs-import-") as folder:
        paths = {name: _saved(upload, FilePath(folder) / name) for name, upload in
                 {"file": file, **uploads}.items() if upload is not None}  # fmt: skip
        report = collect_import(lambda on_outcome: import_files(
            sessions, actor, keys, study, paths["file"], file_format=file_format,
            visits=paths.get("visits"), diagnoses=paths.get("diagnoses"),
            identities=paths.get("identities"), dry_run=dry_run, on_outcome=on_outcome,
        ))  # fmt: skip
    if dry_run:
        response.status_code = 200
    return ImportOut.of(report)


def _saved(upload: UploadFile, path: FilePath) -> FilePath:
    with path.open("wb") as target:
        shutil.copyfileobj(upload.file, target)
    return path
