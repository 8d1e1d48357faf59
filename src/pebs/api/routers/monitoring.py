"""Monitoring: source data verification, the investigator's signature, form and casebook locks,
and the study (database) lock with its snapshot."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request
from pydantic import BaseModel, Field

from pebs.api.deps import CurrentActor
from pebs.api.errors import error_responses
from pebs.api.routers._body import Body
from pebs.api.routers._params import MAX_ID, SiteCode, StudyId
from pebs.api.routers._router import Router
from pebs.api.routers._text import Text
from pebs.http.deps import KeysDep, SessionMakerDep, StateDep, client_address
from pebs.http.study_lock import lock_study_here
from pebs.services.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    TooManyAttempts,
    TotpCodeReused,
)
from pebs.services.monitoring import (
    MEANING,
    MEANING_VERSION,
    FormMonitoring,
    LockChange,
    MonitoringView,
    SdvWorklist,
    SignatureView,
    StudyLockView,
    casebook_signature,
    lock_form,
    lock_participant,
    monitoring_view,
    sdv_worklist,
    sign_casebook,
    study_lock_status,
    unlock_form,
    unlock_participant,
    unlock_study,
    verify_source_data,
)

router = Router(tags=["monitoring"])

StudyName = Annotated[Text, Path(min_length=1, max_length=64, examples=["mypebs-demo"])]
FormName = Annotated[
    Text, Field(min_length=1, max_length=32, description="A form of the casebook",
                examples=["visit"]),
]  # fmt: skip
FormKey = Annotated[
    int | None,
    Field(default=None, ge=1, le=MAX_ID,
          description="A repeating form's instance (its row id); none for a form that does not "
          "repeat", examples=[12]),
]  # fmt: skip
Reason = Annotated[Text, Field(min_length=1, max_length=500, examples=["value corrected"])]


class FormIn(Body):
    form: FormName
    key: FormKey = None


class LockIn(Body):
    form: Text | None = Field(
        default=None, min_length=1, max_length=32,
        description="The form to lock; none: her whole casebook", examples=["visit"],
    )  # fmt: skip
    key: FormKey = None


class UnlockIn(LockIn):
    reason: Reason


class SignatureIn(Body):
    password: str = Field(min_length=1, max_length=1024)
    totp_code: str = Field(min_length=1, max_length=16, examples=["123456"])
    meaning: str = Field(default=MEANING, max_length=64, examples=[MEANING])
    meaning_version: str = Field(default=MEANING_VERSION, max_length=16,
                                 examples=[MEANING_VERSION])  # fmt: skip
    language: str = Field(default="en", max_length=8, examples=["fr"])
    accept: bool = Field(description="She has read the meaning and signs with it")


class SignatureStatus(BaseModel):
    signed: bool
    signature: SignatureView | None


class StudyLockIn(Body):
    reason: Reason


@router.get("/participants/{study_id}/monitoring", response_model=MonitoringView,
            responses=error_responses(NotFound))  # fmt: skip
def her_monitoring(study_id: StudyId, actor: CurrentActor, sessions: SessionMakerDep):
    """Her forms' source data verification and locks, her casebook's and her study's lock."""
    return monitoring_view(sessions, actor, study_id)


@router.post("/participants/{study_id}/source-verification", response_model=FormMonitoring,
             responses=error_responses(NotFound, Conflict))  # fmt: skip
def verify(study_id: StudyId, body: FormIn, actor: CurrentActor, sessions: SessionMakerDep):
    """Mark her form instance as verified against the source documents (a monitor)."""
    return verify_source_data(sessions, actor, study_id, body.form, body.key)


@router.get("/studies/{study}/source-verification", response_model=SdvWorklist,
            responses=error_responses(NotFound))  # fmt: skip
def worklist(
    study: StudyName, actor: CurrentActor, sessions: SessionMakerDep,
    site: Annotated[SiteCode | None, Query()] = None,
):  # fmt: skip
    """Each woman's form instances verified, changed since verification and to verify, and the
    totals per site, in the caller's scope."""
    return sdv_worklist(sessions, actor, study, site=site)


@router.get("/participants/{study_id}/signature", response_model=SignatureStatus,
            responses=error_responses(NotFound, Conflict))  # fmt: skip
def signature(study_id: StudyId, actor: CurrentActor, sessions: SessionMakerDep):
    """Her casebook's latest signature (name, role, time, meaning) and whether it still holds."""
    found = casebook_signature(sessions, actor, study_id)
    return SignatureStatus(signed=found is not None, signature=found)


@router.post(
    "/participants/{study_id}/signature", response_model=SignatureView, status_code=201,
    responses=error_responses(NotAuthenticated, TotpCodeReused, TooManyAttempts, NotFound,
                              Conflict),
)  # fmt: skip
def sign(
    study_id: StudyId, body: SignatureIn, request: Request, actor: CurrentActor,
    state: StateDep, keys: KeysDep,
):  # fmt: skip
    """Sign her casebook (her site's investigator): password, current TOTP code and the meaning
    confirmed (21 CFR 11.50, 11.200)."""
    return sign_casebook(
        state.writers, keys.cipher, state.policy, actor, study_id, password=body.password,
        totp_code=body.totp_code, accept=body.accept, meaning=body.meaning,
        meaning_version=body.meaning_version, language=body.language,
        client=client_address(request),
    )  # fmt: skip


@router.post("/participants/{study_id}/locks", response_model=LockChange, status_code=201,
             responses=error_responses(NotFound, Conflict))  # fmt: skip
def lock(study_id: StudyId, body: LockIn, actor: CurrentActor, sessions: SessionMakerDep):
    """Lock one form instance of hers, or (no form) her whole casebook (a data manager)."""
    if body.form is None:
        if body.key is not None:
            raise InvalidInput("a key needs a form", field="key")
        return lock_participant(sessions, actor, study_id)
    return lock_form(sessions, actor, study_id, body.form, body.key)


@router.post("/participants/{study_id}/locks/release", response_model=LockChange,
             responses=error_responses(NotFound, Conflict))  # fmt: skip
def unlock(study_id: StudyId, body: UnlockIn, actor: CurrentActor, sessions: SessionMakerDep):
    """Unlock one form instance of hers, or her whole casebook, with a reason (audited)."""
    if body.form is None:
        if body.key is not None:
            raise InvalidInput("a key needs a form", field="key")
        return unlock_participant(sessions, actor, study_id, reason=body.reason)
    return unlock_form(sessions, actor, study_id, body.form, body.key, reason=body.reason)


@router.get("/studies/{study}/lock", response_model=StudyLockView,
            responses=error_responses(NotFound))  # fmt: skip
def study_lock(study: StudyName, actor: CurrentActor, sessions: SessionMakerDep):
    """Whether the study is locked, by whom and since when, and its snapshot's SHA-256."""
    return study_lock_status(sessions, actor, study)


@router.post("/studies/{study}/lock", response_model=StudyLockView, status_code=201,
             responses=error_responses(NotFound, Conflict))  # fmt: skip
def lock_whole_study(study: StudyName, body: StudyLockIn, actor: CurrentActor, state: StateDep):
    """Lock the study (no write until unlocked) and write its snapshot on the server
    (PEBS_DATA_DIR/snapshots); the snapshot's SHA-256 is in the answer and the audit trail."""
    return lock_study_here(state, actor, study, body.reason)


@router.post("/studies/{study}/unlock", response_model=StudyLockView,
             responses=error_responses(NotFound, Conflict))  # fmt: skip
def unlock_whole_study(
    study: StudyName, body: StudyLockIn, actor: CurrentActor, sessions: SessionMakerDep
):
    """Unlock the study, with a reason (audited); its snapshot stays as written."""
    return unlock_study(sessions, actor, study, reason=body.reason)
