"""``/participants/{study_id}/canrisk``: her CanRisk pedigree file, imported or exported.

The import is ``multipart/form-data`` (the file, ``dry_run``, ``answered_on``), as the
laboratory's batch upload; the file is refused above
:data:`~pebs.io.canrisk_format.MAX_FILE_BYTES` (the request itself keeps
``PEBS_MAX_BODY_BYTES``). The export answers the file as ``text/tab-separated-values``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import File, Form, Response, UploadFile
from pydantic.json_schema import SkipJsonSchema

from pebs.api.deps import CurrentActor
from pebs.api.errors import error_responses
from pebs.api.routers._dates import IsoDate
from pebs.api.routers._params import StudyId
from pebs.api.routers._router import Router
from pebs.http.deps import KeysDep, SessionMakerDep
from pebs.io.canrisk_format import MAX_FILE_BYTES
from pebs.services.errors import Conflict, InvalidFields
from pebs.services.trial.canrisk import (
    CANRISK_MEDIA_TYPE,
    CanRiskImported,
    export_canrisk,
    import_canrisk,
)

__all__ = ["router"]

router = Router(prefix="/participants/{study_id}", tags=["risk and plans"])

_FILE = "Her CanRisk pedigree file (version 2 to 4, UTF-8, TAB-separated)"
_DRY_RUN = "A dry run: everything was checked, nothing was stored"


@router.post(
    "/canrisk", response_model=CanRiskImported, status_code=201,
    responses={
        200: {"model": CanRiskImported, "description": _DRY_RUN},
        **error_responses(Conflict, InvalidFields, notes={
            409: "She is not in the risk-based arm, or the file's target was born in another "
                 "year",
            422: "Also: a problem of the file, each named by its line and column "
                 "(file.line_7.Sex), or a required answer absent",
        }),
    },
)  # fmt: skip
def canrisk_import(
    study_id: StudyId,
    file: Annotated[UploadFile, File(description=_FILE)],
    actor: CurrentActor,
    sessions: SessionMakerDep,
    keys: KeysDep,
    response: Response,
    dry_run: Annotated[bool, Form(description="Check everything, store nothing")] = False,
    answered_on: Annotated[
        IsoDate | SkipJsonSchema[None],
        Form(description="The day the answers were given (omitted: today)"),
    ] = None,
):
    """Record the risk questionnaire answers her CanRisk file carries (201), or check them
    (200: a dry run); the report says what was taken, kept, left and ignored."""
    data = file.file.read(MAX_FILE_BYTES + 1)
    report = import_canrisk(sessions, actor, keys, study_id, data, dry_run=dry_run,
                            answered_on=answered_on)  # fmt: skip
    if report.dry_run:
        response.status_code = 200
    return report


@router.get(
    "/canrisk", response_class=Response,
    responses={
        200: {"content": {CANRISK_MEDIA_TYPE: {"schema": {"type": "string"}}},
              "description": "Her CanRisk v4 pedigree file"},
        **error_responses(Conflict),
    },
)  # fmt: skip
def canrisk_export(
    study_id: StudyId, actor: CurrentActor, sessions: SessionMakerDep, keys: KeysDep
) -> Response:
    """Her CanRisk v4 file, to open in CanRisk (the read is audited)."""
    export = export_canrisk(sessions, actor, keys, study_id)
    headers = {"Content-Disposition": f'attachment; filename="{export.file_name}"',
               "Cache-Control": "no-store"}  # fmt: skip
    return Response(export.text, media_type=export.media_type, headers=headers)
