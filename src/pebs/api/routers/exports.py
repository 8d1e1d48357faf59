"""``/exports``: streamed CSV of participant data, pseudonymised by default, audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from pebs.api.deps import CurrentActor, KeysDep, SessionMakerDep
from pebs.api.errors import error_responses
from pebs.api.routers._text import Text
from pebs.services.trial.errors import NotFound
from pebs.services.trial.exports import export_participants_csv

router = APIRouter(prefix="/exports", tags=["exports"])


@router.get(
    "/participants.csv",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV"},
        **error_responses(NotFound),
    },
)
def participants_csv(
    actor: CurrentActor,
    sessions: SessionMakerDep,
    keys: KeysDep,
    study: Annotated[Text, Query(min_length=1, max_length=64, examples=["mypebs-demo"])],
    include_identity: bool = False,
    include_test: bool = False,
) -> StreamingResponse:
    """Your participants as CSV, streamed page by page (identifying columns on request only)."""
    chunks = export_participants_csv(
        sessions, actor, study, include_identity=include_identity, keys=keys,
        include_test=include_test,
    )  # fmt: skip
    filename = f"{study}-participants.csv".replace('"', "")
    return StreamingResponse(
        chunks, media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )  # fmt: skip
