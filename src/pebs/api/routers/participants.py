"""``/participants``: register, list (paged, filtered, searched), read, identity, audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import Field

from pebs.api.deps import CurrentActor
from pebs.api.errors import error_responses
from pebs.api.routers._body import Body
from pebs.api.routers._dates import IsoDate
from pebs.api.routers._json import json_response
from pebs.api.routers._params import MAX_ID, StudyId
from pebs.api.routers._router import Router
from pebs.api.routers._text import Text
from pebs.http.deps import KeysDep, ReadSessionsDep, SessionMakerDep
from pebs.services.errors import Conflict, DuplicateParticipant, NotFound
from pebs.services.field_rules import (
    CONTACT_CHARS,
    NATIONAL_ID_CHARS,
    PARTICIPANT_NAME_CHARS,
    SITE_CODE_CHARS,
    STUDY_NAME_CHARS,
)
from pebs.services.records import (
    AuditEntry,
    IdentityView,
    ParticipantPage,
    get_identity,
    list_participants,
    participant_audit_events,
)
from pebs.services.trial import (
    NewParticipant,
    ParticipantSummary,
    Registered,
    get_participant_summary,
    register_participant,
)

router = Router(prefix="/participants", tags=["participants"])


class RegisterIn(Body):
    study: Text = Field(min_length=1, max_length=STUDY_NAME_CHARS, examples=["mypebs-demo"])
    site: Text = Field(min_length=1, max_length=SITE_CODE_CHARS, examples=["IT-TO"])
    name: Text = Field(min_length=1, max_length=PARTICIPANT_NAME_CHARS)
    birth_date: IsoDate
    national_id: Text | None = Field(default=None, min_length=1, max_length=NATIONAL_ID_CHARS)
    contact: Text | None = Field(default=None, max_length=CONTACT_CHARS)
    is_test: bool = False
    language: Text | None = Field(
        default=None, min_length=2, max_length=8, examples=["it"],
        description="The language of her letters: one of her country's study languages "
        "(default: its first)",
    )  # fmt: skip


@router.post(
    "", response_model=Registered, status_code=201,
    responses=error_responses(NotFound, DuplicateParticipant, Conflict),
)  # fmt: skip
def register(body: RegisterIn, actor: CurrentActor, sessions: SessionMakerDep, keys: KeysDep):
    """Register a woman at a site; returns her pseudonymous study ID."""
    new = NewParticipant(
        site=body.site, name=body.name, birth_date=body.birth_date, national_id=body.national_id,
        contact=body.contact, is_test=body.is_test, language=body.language,
    )  # fmt: skip
    return register_participant(sessions, actor, keys, body.study, new)


@router.get("", response_model=ParticipantPage, responses=error_responses(NotFound))
def list_(
    actor: CurrentActor,
    sessions: ReadSessionsDep,
    site: Annotated[Text | None, Query(max_length=16)] = None,
    status: Annotated[Text | None, Query(max_length=32)] = None,
    arm: Annotated[Text | None, Query(max_length=32)] = None,
    q: Annotated[Text | None, Query(max_length=32, description="Part of the study ID")] = None,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
):
    """One page of your participants (pseudonymised), in registration order."""
    page = list_participants(sessions, actor, site=site, status=status, arm=arm, search=q,
                             after=after, limit=limit)  # fmt: skip
    return json_response(page)


@router.get("/{study_id}", response_model=ParticipantSummary)
def get(study_id: StudyId, actor: CurrentActor, sessions: ReadSessionsDep):
    """Her pseudonymised record."""
    return get_participant_summary(sessions, actor, study_id)


@router.get(
    "/{study_id}/identity", response_model=IdentityView, responses=error_responses(Conflict)
)
def identity(study_id: StudyId, actor: CurrentActor, sessions: SessionMakerDep, keys: KeysDep):
    """Her identifying data (roles that need it only; every read is audited)."""
    return get_identity(sessions, actor, keys, study_id)


@router.get("/{study_id}/audit-events", response_model=list[AuditEntry])
def audit_events(study_id: StudyId, actor: CurrentActor, sessions: SessionMakerDep):
    """The audit events about her, oldest first."""
    return list(participant_audit_events(sessions, actor, study_id))
