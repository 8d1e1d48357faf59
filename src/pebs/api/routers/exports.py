"""``/exports``: streamed files of participant data (CSV, Parquet; casebooks as CDISC ODM or a
FHIR R4 Bundle), pseudonymised by default, audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from fastapi.responses import StreamingResponse

from pebs.api.deps import CurrentActor
from pebs.api.errors import error_responses
from pebs.api.routers._router import Router
from pebs.api.routers._text import Text
from pebs.http.deps import KeysDep, SessionMakerDep
from pebs.io.exports import CASEBOOK_WRITERS, WRITERS
from pebs.services.errors import NotFound
from pebs.services.trial.exports import export_participants

router = Router(prefix="/exports", tags=["exports"])

_BUNDLE = {
    "type": "object",
    "description": "An HL7 FHIR R4 Bundle of type collection",
    "required": ["resourceType", "type", "entry"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["Bundle"]},
        "type": {"type": "string", "enum": ["collection"]},
        "entry": {"type": "array", "items": {"type": "object"}},
    },
}


def _body(media_type: str) -> dict[str, object]:
    if media_type.endswith("json"):
        return _BUNDLE
    if media_type.startswith("text/") or media_type.endswith("xml"):
        return {"type": "string"}
    return {"type": "string", "format": "binary"}


_FILES = {
    writer.media_type.split(";")[0]: {"schema": _body(writer.media_type.split(";")[0])}
    for writer in (*WRITERS.values(), *CASEBOOK_WRITERS.values())
}
"""Each format's media type (without its parameters) and body: text (CSV, XML), bytes
(Parquet), or a JSON object (the FHIR Bundle)."""


@router.get(
    "/participants.{format}",
    response_class=StreamingResponse,
    responses={
        200: {"content": _FILES, "description": "The file, in the format named by the path"},
        **error_responses(NotFound),
    },
)
def participants_export(
    actor: CurrentActor,
    sessions: SessionMakerDep,
    keys: KeysDep,
    format: Annotated[Text, Path(description="File format", examples=["csv"])],
    study: Annotated[Text, Query(min_length=1, max_length=64, examples=["mypebs-demo"])],
    include_identity: bool = False,
    include_test: bool = False,
) -> StreamingResponse:
    """Your participants as a file in the format its extension names (``participants.csv``,
    ``participants.parquet``; ``participants.odm``: CDISC ODM 1.3.2 XML; ``participants.fhir``: a
    FHIR R4 Bundle), streamed page by page (identifying columns on request only, in table
    formats)."""
    export = export_participants(
        sessions, actor, study, format=format, include_identity=include_identity, keys=keys,
        include_test=include_test,
    )  # fmt: skip
    filename = f"{study}-participants.{export.extension}".replace('"', "")
    return StreamingResponse(
        export.chunks, media_type=export.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )  # fmt: skip
