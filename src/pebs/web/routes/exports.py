"""Exports: the participant export (in each format of :data:`pebs.io.exports.FORMATS`,
pseudonymised unless identifying columns are asked for by a role that may) and its data
dictionary, streamed as downloads by the services the API calls
(:mod:`pebs.services.trial.exports`; the participant export is audited there, before the first
byte and when the stream ends)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse

from pebs.http.deps import KeysDep, SessionMakerDep
from pebs.io.exports import FORMATS, WRITERS
from pebs.services.auth import IDENTITY_ROLES
from pebs.services.field_rules import STUDY_NAME_CHARS
from pebs.services.records import studies_for
from pebs.services.trial.exports import export_dictionary, export_participants
from pebs.web.rendering import render
from pebs.web.viewer import ViewerDep

router = APIRouter(include_in_schema=False)

StudyQuery = Annotated[str, Query(min_length=1, max_length=STUDY_NAME_CHARS)]
FormatPath = Annotated[str, Path(max_length=16)]


@router.get("/exports")
def exports_page(request: Request, viewer: ViewerDep, sessions: SessionMakerDep):
    """The study's participant export and data dictionary, to download."""
    studies = studies_for(sessions, viewer.actor)
    return render(request, "exports.html", viewer=viewer, studies=studies, formats=FORMATS,
                  table_formats=tuple(WRITERS),
                  may_identify=viewer.actor.role in IDENTITY_ROLES)  # fmt: skip


def _download(chunks, media_type: str, filename: str) -> StreamingResponse:
    safe = filename.replace('"', "").replace("\\", "")
    headers = {"Content-Disposition": f'attachment; filename="{safe}"',
               "Cache-Control": "no-store"}  # fmt: skip
    return StreamingResponse(chunks, media_type=media_type, headers=headers)


@router.get("/exports/participants.{format}")
def participants_file(
    viewer: ViewerDep, sessions: SessionMakerDep, keys: KeysDep, format: FormatPath,
    study: StudyQuery, include_identity: bool = False, include_test: bool = False,
) -> StreamingResponse:  # fmt: skip
    """Her scope's participants of the study as a file of ``format``, streamed page by page
    (audited)."""
    export = export_participants(sessions, viewer.actor, study, format=format,
                                 include_identity=include_identity, keys=keys,
                                 include_test=include_test)  # fmt: skip
    return _download(export.chunks, export.media_type,
                     f"{study}-participants.{export.extension}")  # fmt: skip


@router.get("/exports/dictionary.{format}")
def dictionary_file(
    viewer: ViewerDep, sessions: SessionMakerDep, format: FormatPath, study: StudyQuery,
    include_identity: bool = False,
) -> StreamingResponse:  # fmt: skip
    """The data dictionary of the participant export (no participant data)."""
    studies_for(sessions, viewer.actor)  # the roles that may export may read it
    file = export_dictionary(format, include_identity=include_identity)
    return _download(file.chunks, file.media_type, f"{study}-dictionary.{file.extension}")
