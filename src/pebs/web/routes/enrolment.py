"""Pages of the enrolment flow: register -> eligibility -> consent -> randomise.

Each step is a plain form; a refused step shows the form again with a message next to each
field (or the service's reasons), and a successful one goes on to the next step.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from pebs.http.deps import KeysDep, SessionMakerDep
from pebs.services.errors import (
    AllocationRefused,
    Conflict,
    DuplicateParticipant,
    InvalidInput,
    StratumExhausted,
)
from pebs.services.field_rules import (
    CONTACT_CHARS,
    DOCUMENT_VERSION_CHARS,
    NATIONAL_ID_CHARS,
    PARTICIPANT_NAME_CHARS,
)
from pebs.services.records import (
    eligibility_questions,
    participant_record,
    registration_sites,
    study_wording,
)
from pebs.services.trial import (
    NewParticipant,
    allocate,
    assess_eligibility,
    record_consent,
    register_participant,
)
from pebs.trial.vocabularies import LANGUAGES
from pebs.web.forms import FieldError, FormReader, place_refusal, refusal_error, refusal_text
from pebs.web.rendering import catalogue_for, render
from pebs.web.routes._params import StudyId
from pebs.web.viewer import PostedForm, ViewerDep

router = APIRouter(include_in_schema=False)

_REGISTER_FIELDS = ("site", "name", "birth_date", "national_id", "contact")


def _see(study_id: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/participants/{study_id}?done={done}", status_code=303)


@router.get("/participants/new")
def register_page(request: Request, viewer: ViewerDep, sessions: SessionMakerDep):
    """The registration form."""
    sites = registration_sites(sessions, viewer.actor)
    return render(request, "register.html", viewer=viewer, sites=sites, values={}, errors={},
                  problem=None)  # fmt: skip


@router.post("/participants/new")
def register_submit(
    request: Request, viewer: ViewerDep, form: PostedForm, sessions: SessionMakerDep,
    keys: KeysDep,
) -> Response:  # fmt: skip
    """Register her; on to eligibility."""
    sites = registration_sites(sessions, viewer.actor)
    reader = FormReader(form)
    choice = reader.choice("site", [f"{s.study}/{s.code}" for s in sites], required=True)
    name = reader.text("name", required=True, max_length=PARTICIPANT_NAME_CHARS)
    born = reader.day("birth_date", required=True)
    national_id = reader.text("national_id", max_length=NATIONAL_ID_CHARS)
    contact = reader.text("contact", max_length=CONTACT_CHARS)
    language = reader.choice("her_language", LANGUAGES)
    problem = None
    if not reader.errors:
        assert choice is not None
        assert name is not None
        assert born is not None
        study, site = choice.split("/", 1)
        new = NewParticipant(site=site, name=name, birth_date=born, national_id=national_id,
                             contact=contact, is_test=reader.flag("is_test"),
                             language=language)  # fmt: skip
        try:
            registered = register_participant(sessions, viewer.actor, keys, study, new)
        except DuplicateParticipant as error:
            problem = str(error)
            reader.errors["national_id"] = FieldError("error.already_registered")
        except InvalidInput as error:
            if error.field == "language":  # her language: one of her site country's
                reader.errors["her_language"] = refusal_error(error)
            else:
                problem = place_refusal(reader, error, _REGISTER_FIELDS, catalogue_for(request))
        else:
            return RedirectResponse(
                f"/participants/{registered.study_id}/eligibility?done=registered",
                status_code=303,
            )
    values = {k: form.get(k, "") for k in (*_REGISTER_FIELDS, "is_test", "her_language")}
    return render(request, "register.html", viewer=viewer, sites=sites, values=values,
                  errors=reader.errors, problem=problem, status=422)  # fmt: skip


def _eligibility_page(request, viewer, sessions, study_id, *, answers, result=None, problem=None,
                      status=200):  # fmt: skip
    record = participant_record(sessions, viewer.actor, study_id)
    version, min_age, max_age, questions = eligibility_questions(sessions, viewer.actor, study_id)
    return render(request, "eligibility.html", viewer=viewer, p=record, version=version,
                  min_age=min_age, max_age=max_age, questions=questions, answers=answers,
                  wording=study_wording(sessions, viewer.actor, record.study),
                  result=result, problem=problem, status=status)  # fmt: skip


@router.get("/participants/{study_id}/eligibility")
def eligibility_page(request: Request, study_id: StudyId, viewer: ViewerDep,
                     sessions: SessionMakerDep):  # fmt: skip
    """The eligibility criteria of the protocol in force, as yes / no / unknown questions."""
    return _eligibility_page(request, viewer, sessions, study_id, answers={})


@router.post("/participants/{study_id}/eligibility")
def eligibility_submit(
    request: Request, study_id: StudyId, viewer: ViewerDep, form: PostedForm,
    sessions: SessionMakerDep, keys: KeysDep,
) -> Response:  # fmt: skip
    """Assess her eligibility; eligible women go on to consent."""
    _, _, _, questions = eligibility_questions(sessions, viewer.actor, study_id)
    reader = FormReader(form)
    answers = {q.id: reader.answer(q.id) for q in questions}
    shown = {q.id: str(form.get(q.id) or "unknown") for q in questions}
    if reader.errors:
        return _eligibility_page(request, viewer, sessions, study_id, answers=shown, status=422)
    try:
        outcome = assess_eligibility(sessions, viewer.actor, keys, study_id, answers)
    except (InvalidInput, Conflict) as error:
        return _eligibility_page(request, viewer, sessions, study_id, answers=shown,
                                 problem=refusal_text(error, catalogue_for(request)),
                                 status=409)  # fmt: skip
    if outcome.status == "eligible":
        return RedirectResponse(f"/participants/{study_id}/consent?done=eligible",
                                status_code=303)  # fmt: skip
    if outcome.status == "screen_failure":
        return _see(study_id, "screen_failure")
    return _eligibility_page(request, viewer, sessions, study_id, answers=shown, result=outcome,
                             status=422)  # fmt: skip


def _consent_page(request, viewer, sessions, study_id, *, errors, problem=None, status=200):
    record = participant_record(sessions, viewer.actor, study_id)
    return render(request, "consent.html", viewer=viewer, p=record, errors=errors,
                  problem=problem, status=status)  # fmt: skip


@router.get("/participants/{study_id}/consent")
def consent_page(request: Request, study_id: StudyId, viewer: ViewerDep,
                 sessions: SessionMakerDep):  # fmt: skip
    """Record her informed consent."""
    return _consent_page(request, viewer, sessions, study_id, errors={})


@router.post("/participants/{study_id}/consent")
def consent_submit(
    request: Request, study_id: StudyId, viewer: ViewerDep, form: PostedForm,
    sessions: SessionMakerDep,
) -> Response:  # fmt: skip
    """Record her consent on the document in force; on to randomisation."""
    record = participant_record(sessions, viewer.actor, study_id)
    reader = FormReader(form)
    language = reader.choice("language", record.languages, required=True)
    version = reader.text("document_version", max_length=DOCUMENT_VERSION_CHARS)
    if not reader.flag("signed"):
        reader.errors["signed"] = FieldError("error.confirm")
    if reader.errors:
        return _consent_page(request, viewer, sessions, study_id, errors=reader.errors,
                             status=422)  # fmt: skip
    assert language is not None
    try:
        record_consent(sessions, viewer.actor, study_id, language=language,
                       document_version=version)  # fmt: skip
    except (InvalidInput, Conflict) as error:
        return _consent_page(request, viewer, sessions, study_id, errors={},
                             problem=refusal_text(error, catalogue_for(request)),
                             status=409)  # fmt: skip
    return RedirectResponse(f"/participants/{study_id}/allocation?done=consented",
                            status_code=303)  # fmt: skip


@router.get("/participants/{study_id}/allocation")
def allocation_page(request: Request, study_id: StudyId, viewer: ViewerDep,
                    sessions: SessionMakerDep):  # fmt: skip
    """Confirm her randomisation."""
    record = participant_record(sessions, viewer.actor, study_id)
    return render(request, "allocation.html", viewer=viewer, p=record, reasons=(), problem=None)


@router.post("/participants/{study_id}/allocation")
def allocation_submit(
    request: Request, study_id: StudyId, viewer: ViewerDep, form: PostedForm,
    sessions: SessionMakerDep, keys: KeysDep,
) -> Response:  # fmt: skip
    """Randomise her (or show her existing allocation)."""
    del form  # checked for its CSRF token
    try:
        allocate(sessions, viewer.actor, keys, study_id)
    except (AllocationRefused, StratumExhausted) as error:
        record = participant_record(sessions, viewer.actor, study_id)
        reasons = error.reasons if isinstance(error, AllocationRefused) else ()
        return render(request, "allocation.html", viewer=viewer, p=record, reasons=reasons,
                      problem=str(error), status=409)  # fmt: skip
    return _see(study_id, "randomised")
