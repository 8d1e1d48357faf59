"""Monitoring pages: her forms' verification, locks and signature on her page (the forms post
here), the monitor's source data verification worklist, and the study lock page. The services
refuse what a role may not do; a refusal is shown as the error page of its family."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session, sessionmaker

from pebs.http.deps import KeysDep, SessionMakerDep, StateDep, client_address
from pebs.http.study_lock import lock_study_here
from pebs.services.actor import Action, Actor, require
from pebs.services.errors import InvalidInput, NotAuthenticated
from pebs.services.monitoring import (
    MEANING_VERSION,
    MonitoringView,
    lock_form,
    lock_participant,
    meaning_text,
    monitoring_view,
    sdv_worklist,
    sign_casebook,
    study_lock_status,
    unlock_form,
    unlock_participant,
    unlock_study,
    verify_source_data,
)
from pebs.services.records import ParticipantRecord, can
from pebs.web.forms import FormReader
from pebs.web.rendering import catalogue_for, render
from pebs.web.routes._params import StudyId
from pebs.web.routes._study_choice import chosen_study
from pebs.web.viewer import PostedForm, ViewerDep

router = APIRouter(include_in_schema=False)

REASON_CHARS = 500


@dataclass(frozen=True)
class MonitoringPanel:
    """Her page's monitoring section: the view, what the viewer may do, the meaning to sign."""

    view: MonitoringView
    may_verify: bool
    may_lock: bool
    may_sign: bool
    meaning: str
    meaning_version: str


def monitoring_panel(
    sessions: sessionmaker[Session], actor: Actor, record: ParticipantRecord, language: str
) -> MonitoringPanel:
    """Her forms' verification flags and locks, and the viewer's actions, for her page."""
    return MonitoringPanel(
        monitoring_view(sessions, actor, record.study_id), can(actor, Action.VERIFY_SOURCE_DATA),
        can(actor, Action.LOCK_DATA), can(actor, Action.SIGN_CASEBOOK), meaning_text(language),
        MEANING_VERSION,
    )  # fmt: skip


def _instance(reader: FormReader) -> tuple[str | None, int | None]:
    form = reader.text("form", max_length=32)
    key = reader.text("key", max_length=12)
    if key is not None and not key.isdigit():
        raise InvalidInput("must be a whole number", field="key")
    return form, None if key is None else int(key)


def _back(study_id: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/participants/{study_id}?done={done}#monitoring", status_code=303)


@router.post("/participants/{study_id}/monitoring/verify")
def verify_submit(study_id: StudyId, viewer: ViewerDep, form: PostedForm,
                  sessions: SessionMakerDep) -> Response:  # fmt: skip
    """Mark one of her forms verified against the source documents."""
    name, key = _instance(FormReader(form))
    verify_source_data(sessions, viewer.actor, study_id, name or "", key)
    return _back(study_id, "sdv_verified")


@router.post("/participants/{study_id}/monitoring/lock")
def lock_submit(study_id: StudyId, viewer: ViewerDep, form: PostedForm,
                sessions: SessionMakerDep) -> Response:  # fmt: skip
    """Lock one of her forms, or (no form) her whole casebook."""
    name, key = _instance(FormReader(form))
    if name is None:
        lock_participant(sessions, viewer.actor, study_id)
    else:
        lock_form(sessions, viewer.actor, study_id, name, key)
    return _back(study_id, "mon_locked")


@router.post("/participants/{study_id}/monitoring/unlock")
def unlock_submit(study_id: StudyId, viewer: ViewerDep, form: PostedForm,
                  sessions: SessionMakerDep) -> Response:  # fmt: skip
    """Unlock one of her forms, or her whole casebook, with a reason."""
    reader = FormReader(form)
    name, key = _instance(reader)
    reason = reader.text("reason", max_length=REASON_CHARS) or ""
    if name is None:
        unlock_participant(sessions, viewer.actor, study_id, reason=reason)
    else:
        unlock_form(sessions, viewer.actor, study_id, name, key, reason=reason)
    return _back(study_id, "mon_unlocked")


@router.post("/participants/{study_id}/signature")
def sign_submit(request: Request, study_id: StudyId, viewer: ViewerDep, form: PostedForm,
                state: StateDep, keys: KeysDep) -> Response:  # fmt: skip
    """Sign her casebook: password, current TOTP code, the meaning confirmed. A wrong password
    or code is a refused form (422), not a lost session."""
    try:
        sign_casebook(
            state.writers, keys.cipher, state.policy, viewer.actor, study_id,
            password=str(form.get("password") or ""), totp_code=str(form.get("totp_code") or ""),
            accept=form.get("accept") == "yes",
            meaning_version=str(form.get("meaning_version") or ""),
            language=catalogue_for(request).code, client=client_address(request),
        )  # fmt: skip
    except NotAuthenticated as error:
        raise InvalidInput(str(error), field="password",
                           message_code="error.signature_refused") from None  # fmt: skip
    return _back(study_id, "signed")


@router.get("/monitoring/sdv")
def sdv_page(
    request: Request, viewer: ViewerDep, sessions: SessionMakerDep,
    study: Annotated[str | None, Query(max_length=64)] = None,
    site: Annotated[str | None, Query(max_length=16)] = None,
) -> HTMLResponse:  # fmt: skip
    """The monitor's worklist: each woman's forms verified, changed since and to verify."""
    require(viewer.actor, Action.READ_PARTICIPANT)
    name = chosen_study(sessions, viewer.actor, study)
    worklist = sdv_worklist(sessions, viewer.actor, name, site=site or None)
    return render(request, "sdv.html", viewer=viewer, study=name, site=site or "",
                  worklist=worklist)  # fmt: skip


@router.get("/study-lock")
def study_lock_page(
    request: Request, viewer: ViewerDep, sessions: SessionMakerDep,
    study: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:  # fmt: skip
    """Whether the study is locked, its snapshot, and (data managers) lock and unlock."""
    name = chosen_study(sessions, viewer.actor, study)
    return render(request, "study_lock.html", viewer=viewer, study=name,
                  lock=study_lock_status(sessions, viewer.actor, name),
                  may_lock=can(viewer.actor, Action.LOCK_STUDY),
                  reason_chars=REASON_CHARS)  # fmt: skip


@router.post("/study-lock")
def study_lock_submit(viewer: ViewerDep, form: PostedForm, state: StateDep,
                      sessions: SessionMakerDep) -> Response:  # fmt: skip
    """Lock (writing the snapshot) or unlock the study."""
    reader = FormReader(form)
    name = chosen_study(sessions, viewer.actor, reader.text("study", max_length=64))
    reason = reader.text("reason", max_length=REASON_CHARS) or ""
    if form.get("action") == "unlock":
        unlock_study(sessions, viewer.actor, name, reason=reason)
        done = "study_unlocked"
    else:
        require(viewer.actor, Action.LOCK_STUDY)
        lock_study_here(state, viewer.actor, name, reason)
        done = "study_locked"
    return RedirectResponse(f"/study-lock?study={name}&done={done}", status_code=303)
