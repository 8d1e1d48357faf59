"""Letters to participants and their doctors (issued as PDF, previewed as HTML), the letters due
in a study (listed, or issued at once as a ZIP), her language, and risk consultations."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from fastapi.responses import Response, StreamingResponse
from pydantic import Field

from pebs.api.deps import CurrentActor
from pebs.api.errors import error_responses
from pebs.api.routers._body import Body
from pebs.api.routers._dates import IsoDate
from pebs.api.routers._params import StudyId
from pebs.api.routers._router import Router
from pebs.api.routers._text import Text
from pebs.http.deps import KeysDep, SessionMakerDep
from pebs.io.zip_stream import zip_stream
from pebs.services.errors import Conflict, NotFound
from pebs.services.field_rules import STUDY_NAME_CHARS
from pebs.services.letters import (
    HELD_BY_CHARS,
    QUESTIONS_CHARS,
    ConsultationView,
    DueLetter,
    IssuedLetterView,
    LanguageSet,
    LetterPreview,
    consultations,
    issue_batch,
    issued_letters,
    letters_due,
    record_consultation,
    render_letter,
    set_language,
)

router = Router(tags=["letters"])

StudyName = Annotated[
    Text, Path(min_length=1, max_length=STUDY_NAME_CHARS, examples=["mypebs-demo"])
]
Since = Annotated[
    IsoDate | None, Query(description="Only plans and kits made on or after this day")
]
SHA256_HEADER = "X-Letter-SHA256"
"""The response header that names the SHA-256 of an issued PDF (as recorded)."""
_ATTACHMENT = {"schema": {"type": "string"}, "description": "attachment; filename=..."}


class LetterIn(Body):
    kind: Text = Field(min_length=1, max_length=32, examples=["risk_result"])
    recipient: Text = Field(default="woman", min_length=1, max_length=16, examples=["woman"])
    language: Text | None = Field(
        default=None, min_length=2, max_length=8, description="Default: hers", examples=["it"]
    )
    format: Text = Field(
        default="pdf", min_length=1, max_length=8,
        description="pdf (issued and recorded) or html (a preview, not issued)",
    )  # fmt: skip


class LanguageIn(Body):
    language: Text = Field(min_length=2, max_length=8, examples=["fr"])


class ConsultationIn(Body):
    held_on: IsoDate
    mode: Text = Field(min_length=1, max_length=16, examples=["visit"])
    held_by: Text = Field(min_length=1, max_length=HELD_BY_CHARS, examples=["Dr Rossi"])
    questions: Text | None = Field(default=None, max_length=QUESTIONS_CHARS)


@router.post(
    "/participants/{study_id}/letters",
    response_class=Response,
    responses={
        200: {
            "description": "The letter: a PDF (issued; its SHA-256 in the header) or HTML",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}},
                        "text/html": {"schema": {"type": "string"}}},
            "headers": {SHA256_HEADER: {"schema": {"type": "string"},
                                        "description": "SHA-256 of the PDF, as recorded"},
                        "Content-Disposition": _ATTACHMENT},
        },
        **error_responses(NotFound, Conflict),
    },
)  # fmt: skip
def letter(
    study_id: StudyId, body: LetterIn, actor: CurrentActor, sessions: SessionMakerDep,
    keys: KeysDep,
) -> Response:  # fmt: skip
    """Issue her letter as a PDF (recorded with its SHA-256), or preview it as HTML."""
    made = render_letter(sessions, actor, keys, study_id, body.kind, body.recipient,
                         body.language, body.format)  # fmt: skip
    if isinstance(made, LetterPreview):
        return Response(made.html, media_type="text/html; charset=utf-8",
                        headers=_attachment(made.file_name))  # fmt: skip
    return Response(
        made.pdf,
        media_type="application/pdf",
        headers={**_attachment(made.file_name), SHA256_HEADER: made.sha256},
    )


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name.replace(chr(34), "")}"'}


@router.get("/participants/{study_id}/letters", response_model=list[IssuedLetterView])
def letters(study_id: StudyId, actor: CurrentActor, sessions: SessionMakerDep):
    """The letters issued to her and her doctor, newest first (never the letters themselves)."""
    return list(issued_letters(sessions, actor, study_id))


@router.put(
    "/participants/{study_id}/language", response_model=LanguageSet,
    responses=error_responses(Conflict),
)  # fmt: skip
def language(study_id: StudyId, body: LanguageIn, actor: CurrentActor, sessions: SessionMakerDep):
    """Change the language of her letters (one of her country's study languages)."""
    return set_language(sessions, actor, study_id, body.language)


@router.get(
    "/studies/{study}/letters/due", response_model=list[DueLetter],
    responses=error_responses(NotFound),
)  # fmt: skip
def due(study: StudyName, actor: CurrentActor, sessions: SessionMakerDep, since: Since = None):
    """The letters due to the women in your sites, not issued yet."""
    return list(letters_due(sessions, actor, study, since))


@router.post(
    "/studies/{study}/letters/batch",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "A ZIP of the PDF letters issued, one per due letter, streamed",
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            "headers": {"Content-Disposition": _ATTACHMENT},
        },
        **error_responses(NotFound),
    },
)  # fmt: skip
def batch(
    study: StudyName, actor: CurrentActor, sessions: SessionMakerDep, keys: KeysDep,
    since: Since = None,
) -> StreamingResponse:  # fmt: skip
    """Issue every letter due in your sites: a ZIP streamed as the letters are issued."""
    issued = issue_batch(sessions, actor, keys, study, since)
    files = ((letter.file_name, letter.pdf) for letter in issued)
    return StreamingResponse(zip_stream(files), media_type="application/zip",
                             headers=_attachment(f"{study}-letters.zip"))  # fmt: skip


@router.post(
    "/participants/{study_id}/consultations", response_model=ConsultationView, status_code=201,
    responses=error_responses(Conflict),
)  # fmt: skip
def consultation(
    study_id: StudyId, body: ConsultationIn, actor: CurrentActor, sessions: SessionMakerDep
):
    """Record that her risk result was explained to her (the day, visit or phone, by whom)."""
    return record_consultation(sessions, actor, study_id, body.held_on, body.mode,
                               body.held_by, body.questions)  # fmt: skip


@router.get("/participants/{study_id}/consultations", response_model=list[ConsultationView])
def consultation_list(study_id: StudyId, actor: CurrentActor, sessions: SessionMakerDep):
    """Her consultations, newest first."""
    return list(consultations(sessions, actor, study_id))
