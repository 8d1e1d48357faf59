"""Pages of letters and consultations: the "Letters" section of her page (issue or preview her
letter or her doctor's copy in a chosen language, the letters issued, her consultations, the
language of her letters), the form that records a consultation, and the study's letters due
with the button that downloads them all (a ZIP, each letter issued as it is written).

Every page calls :mod:`pebs.services.letters` with the viewer's actor: their role and scope
apply (a woman of another site is "Not found").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from pebs.http.deps import KeysDep, SessionMakerDep
from pebs.io.zip_stream import zip_stream
from pebs.services.actor import Action, Actor
from pebs.services.errors import Conflict, InvalidInput
from pebs.services.field_rules import STUDY_NAME_CHARS
from pebs.services.letters import (
    FORMATS,
    HELD_BY_CHARS,
    QUESTIONS_CHARS,
    ConsultationView,
    IssuedLetterView,
    LetterPreview,
    consultations,
    issue_batch,
    issued_letters,
    letters_due,
    record_consultation,
    render_letter,
    set_language,
)
from pebs.services.records import ParticipantRecord, can, participant_record, studies_for
from pebs.trial.vocabularies import CONSULTATION_MODES, LETTER_KINDS, LETTER_RECIPIENTS
from pebs.web.forms import FieldError, FormReader, refusal_error, refusal_text
from pebs.web.rendering import catalogue_for, render
from pebs.web.routes._params import StudyId
from pebs.web.viewer import PostedForm, Viewer, ViewerDep

__all__ = ["LettersPanel", "letters_panel", "router"]

router = APIRouter(include_in_schema=False)

StudyQuery = Annotated[str | None, Query(max_length=STUDY_NAME_CHARS)]
DUE_SHOWN = 200
"""Due letters listed on the study's page (the counts cover them all)."""

_FIELDS = {"kind": "letter_kind", "recipient": "letter_recipient", "language": "letter_language",
           "format": "letter_format"}  # fmt: skip
"""A service field -> the issue form's field."""
_CONSULTATION = {name: f"consultation_{name}" for name in ("held_on", "mode", "held_by",
                                                          "questions")}  # fmt: skip


@dataclass(frozen=True)
class LettersPanel:
    """The "Letters" section of her page."""

    letters: tuple[IssuedLetterView, ...]
    consultations: tuple[ConsultationView, ...]
    may_issue: bool
    may_consult: bool
    may_set_language: bool


def letters_panel(
    sessions: sessionmaker[Session], actor: Actor, record: ParticipantRecord
) -> LettersPanel | None:
    """Her letters and consultations for her page; ``None`` for a woman not randomised (no
    letter is written before), or a role that issues none and has none to read."""
    if record.arm is None:
        return None
    return LettersPanel(
        issued_letters(sessions, actor, record.study_id),
        consultations(sessions, actor, record.study_id),
        can(actor, Action.ISSUE_LETTER), can(actor, Action.RECORD_CONSULTATION),
        can(actor, Action.REGISTER),
    )  # fmt: skip


def _choices(record: ParticipantRecord) -> dict:
    return {"kinds": LETTER_KINDS, "recipients": LETTER_RECIPIENTS, "formats": FORMATS,
            "her_languages": record.languages, "modes": CONSULTATION_MODES,
            "held_by_chars": HELD_BY_CHARS, "questions_chars": QUESTIONS_CHARS}  # fmt: skip


def _form_page(request: Request, viewer: Viewer, sessions: SessionMakerDep, study_id: str,
               template: str, *, values: dict, errors: dict, problem: str | None = None,
               status: int = 200) -> HTMLResponse:  # fmt: skip
    record = participant_record(sessions, viewer.actor, study_id)
    return render(request, template, viewer=viewer, p=record, values=values, errors=errors,
                  problem=problem, status=status, **_choices(record))  # fmt: skip


def _place(reader: FormReader, error: InvalidInput | Conflict, fields: dict[str, str],
           request: Request) -> str | None:  # fmt: skip
    """A service refusal next to the form's field that matches the one it names."""
    name = fields.get(error.field or "") if isinstance(error, InvalidInput) else None
    if name is None:
        return refusal_text(error, catalogue_for(request))
    assert isinstance(error, InvalidInput)
    reader.errors[name] = refusal_error(error)
    return None


def _to_her_page(study_id: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/participants/{quote(study_id)}?done={done}#letters",
                            status_code=303)  # fmt: skip


@router.get("/participants/{study_id}/letters")
def letters_page(
    request: Request, study_id: StudyId, viewer: ViewerDep, sessions: SessionMakerDep
) -> HTMLResponse:
    """The form that issues her letter (or previews it), and the language of her letters."""
    record = participant_record(sessions, viewer.actor, study_id)
    values = {"letter_language": record.language, "her_language": record.language}
    return _form_page(request, viewer, sessions, study_id, "letters_issue.html", values=values,
                      errors={})  # fmt: skip


@router.post("/participants/{study_id}/letters")
def letter_submit(
    request: Request, study_id: StudyId, viewer: ViewerDep, form: PostedForm,
    sessions: SessionMakerDep, keys: KeysDep,
) -> Response:  # fmt: skip
    """Her letter as a download: a PDF is issued (recorded), HTML is a preview."""
    reader = FormReader(form)
    values = {name: reader.text(name, max_length=32) for name in _FIELDS.values()}
    for name in ("letter_kind", "letter_recipient", "letter_format"):
        if not values[name]:
            reader.errors[name] = FieldError("error.required")
    problem = None
    if not reader.errors:
        try:
            made = render_letter(
                sessions, viewer.actor, keys, study_id, str(values["letter_kind"]),
                str(values["letter_recipient"]), values["letter_language"] or None,
                str(values["letter_format"]),
            )  # fmt: skip
        except (InvalidInput, Conflict) as error:
            problem = _place(reader, error, _FIELDS, request)
        else:
            disposition = {"Content-Disposition": f'attachment; filename="{made.file_name}"'}
            if isinstance(made, LetterPreview):
                return Response(made.html, media_type="text/html; charset=utf-8",
                                headers=disposition)  # fmt: skip
            return Response(
                made.pdf,
                media_type="application/pdf",
                headers={**disposition, "X-Letter-SHA256": made.sha256},
            )
    shown = {name: value or "" for name, value in values.items()}
    return _form_page(request, viewer, sessions, study_id, "letters_issue.html", values=shown,
                      errors=reader.errors, problem=problem, status=422)  # fmt: skip


@router.post("/participants/{study_id}/language")
def language_submit(
    request: Request, study_id: StudyId, viewer: ViewerDep, form: PostedForm,
    sessions: SessionMakerDep,
) -> Response:  # fmt: skip
    """Change the language of her letters."""
    reader = FormReader(form)
    language = reader.text("her_language", required=True, max_length=8)
    problem = None
    if not reader.errors:
        assert language is not None
        try:
            set_language(sessions, viewer.actor, study_id, language)
        except InvalidInput as error:
            problem = _place(reader, error, {"language": "her_language"}, request)
        else:
            return _to_her_page(study_id, "letter_language_set")
    return _form_page(request, viewer, sessions, study_id, "letters_issue.html",
                      values={"her_language": language or ""}, errors=reader.errors,
                      problem=problem, status=422)  # fmt: skip


@router.get("/participants/{study_id}/consultation")
def consultation_page(
    request: Request, study_id: StudyId, viewer: ViewerDep, sessions: SessionMakerDep
) -> HTMLResponse:
    """The form that records a consultation."""
    return _form_page(request, viewer, sessions, study_id, "consultation.html", values={},
                      errors={})  # fmt: skip


@router.post("/participants/{study_id}/consultation")
def consultation_submit(
    request: Request, study_id: StudyId, viewer: ViewerDep, form: PostedForm,
    sessions: SessionMakerDep,
) -> Response:  # fmt: skip
    """Record that her risk result was explained to her."""
    reader = FormReader(form)
    held_on = reader.day("consultation_held_on", required=True)
    mode = reader.choice("consultation_mode", CONSULTATION_MODES, required=True)
    held_by = reader.text("consultation_held_by", required=True, max_length=HELD_BY_CHARS)
    questions = reader.text("consultation_questions", max_length=QUESTIONS_CHARS)
    problem = None
    if not reader.errors:
        assert held_on is not None
        assert mode is not None
        assert held_by is not None
        try:
            record_consultation(sessions, viewer.actor, study_id, held_on, mode, held_by,
                                questions)  # fmt: skip
        except (InvalidInput, Conflict) as error:
            problem = _place(reader, error, _CONSULTATION, request)
        else:
            return _to_her_page(study_id, "consultation_recorded")
    values = {name: form.get(name, "") for name in _CONSULTATION.values()}
    return _form_page(request, viewer, sessions, study_id, "consultation.html", values=values,
                      errors=reader.errors, problem=problem, status=422)  # fmt: skip


def _study(sessions: SessionMakerDep, actor: Actor, study: str | None) -> tuple[tuple, str]:
    studies = studies_for(sessions, actor)
    return studies, study if study else (studies[0] if studies else "")


@router.get("/letters")
def letters_due_page(
    request: Request, viewer: ViewerDep, sessions: SessionMakerDep, study: StudyQuery = None
) -> HTMLResponse:
    """The letters due to the women of your sites, counted by kind and language."""
    studies, chosen = _study(sessions, viewer.actor, study)
    due = letters_due(sessions, viewer.actor, chosen) if chosen else ()
    counts: dict[tuple[str, str], int] = {}
    for letter in due:
        counts[(letter.kind, letter.language)] = counts.get((letter.kind, letter.language), 0) + 1
    return render(request, "letters.html", viewer=viewer, studies=studies, study=chosen,
                  due=due[:DUE_SHOWN], n_due=len(due), counts=sorted(counts.items()),
                  zones={}, may_issue=can(viewer.actor, Action.ISSUE_LETTER))  # fmt: skip


@router.post("/letters/batch")
def batch_submit(
    viewer: ViewerDep, form: PostedForm, sessions: SessionMakerDep, keys: KeysDep
) -> StreamingResponse:
    """Issue every letter due and download them as one ZIP (streamed)."""
    reader = FormReader(form)
    study = reader.text("study", required=True, max_length=STUDY_NAME_CHARS) or ""
    issued = issue_batch(sessions, viewer.actor, keys, study)
    files = ((letter.file_name, letter.pdf) for letter in issued)
    name = f"{study}-letters.zip".replace('"', "")
    return StreamingResponse(
        zip_stream(files),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
