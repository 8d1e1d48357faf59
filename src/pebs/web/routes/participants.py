"""Pages: the participant list (paged, searched by study ID), one participant's page, and her
identifying data (roles that need it; each view audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from pebs.http.deps import KeysDep, SessionMakerDep
from pebs.services.actor import Action
from pebs.services.auth import IDENTITY_ROLES
from pebs.services.field_rules import REASON_CHARS, STUDY_ID_CHARS
from pebs.services.records import (
    can,
    get_identity,
    list_participants,
    participant_audit_events,
    participant_record,
    study_wording,
    study_zones,
)
from pebs.trial.vocabularies import PARTICIPANT_STATES
from pebs.web.rendering import catalogue_for, render
from pebs.web.routes._params import StudyId
from pebs.web.routes.letters import letters_panel
from pebs.web.routes.monitoring import monitoring_panel
from pebs.web.routes.queries import queries_panel
from pebs.web.routes.samples import kits_panel
from pebs.web.viewer import ViewerDep

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25


@router.get("/participants")
def participant_list(
    request: Request,
    viewer: ViewerDep,
    sessions: SessionMakerDep,
    q: Annotated[str | None, Query(max_length=STUDY_ID_CHARS)] = None,
    status: Annotated[str | None, Query(max_length=32)] = None,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> HTMLResponse:
    """One page of her participants, searched by study ID and filtered by pathway state."""
    search = (q or "").strip() or None
    state = status or None
    page = list_participants(sessions, viewer.actor, status=state, search=search, after=after,
                             limit=PAGE_SIZE)  # fmt: skip
    return render(
        request, "participants.html", viewer=viewer, page=page, q=search or "",
        state_filter=state or "", states=PARTICIPANT_STATES, after=after,
        zones=study_zones(sessions),
        may_register=can(viewer.actor, Action.REGISTER),
    )  # fmt: skip


@router.get("/participants/{study_id}")
def participant_page(
    request: Request, study_id: StudyId, viewer: ViewerDep, sessions: SessionMakerDep
) -> HTMLResponse:
    """Her pathway, risk and plan, visits, outcomes and audit trail (pseudonymised)."""
    record = participant_record(sessions, viewer.actor, study_id)
    events = participant_audit_events(sessions, viewer.actor, study_id, limit=200)
    actor = viewer.actor
    return render(
        request, "participant.html", viewer=viewer, p=record, events=events,
        may_identity=actor.role in IDENTITY_ROLES,
        may_enrol=can(actor, Action.ASSESS_ELIGIBILITY),
        may_allocate=can(actor, Action.ALLOCATE),
        may_risk=can(actor, Action.RECORD_RISK),
        may_follow=can(actor, Action.RECORD_FOLLOW_UP),
        may_withdraw=can(actor, Action.RECORD_CONSENT),
        kits=kits_panel(sessions, actor, record), reason_chars=REASON_CHARS,
        letters=letters_panel(sessions, actor, record),
        queries=queries_panel(sessions, actor, record.study_id),
        may_raise_query=can(actor, Action.RAISE_QUERY),
        wording=study_wording(sessions, actor, record.study),
        monitoring=monitoring_panel(sessions, actor, record, catalogue_for(request).code),
    )  # fmt: skip


@router.get("/participants/{study_id}/identity")
def identity_page(
    request: Request, study_id: StudyId, viewer: ViewerDep, sessions: SessionMakerDep,
    keys: KeysDep,
) -> HTMLResponse:  # fmt: skip
    """Her identifying data (the view is audited)."""
    identity = get_identity(sessions, viewer.actor, keys, study_id)
    return render(request, "identity.html", viewer=viewer, identity=identity)
