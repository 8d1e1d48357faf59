"""Overrides of randomisation: manual allocation (data manager), unusable slot (statistician).

Both need a reason and ``confirm: true`` and are audited with the old and new values.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import Field

from pebs.api.deps import CurrentActor
from pebs.api.errors import error_responses
from pebs.api.routers._body import Body
from pebs.api.routers._dates import IsoDate
from pebs.api.routers._params import MAX_ID, StudyId
from pebs.api.routers._router import Router
from pebs.api.routers._text import Text
from pebs.http.deps import KeysDep, SessionMakerDep
from pebs.services.errors import AllocationRefused, Conflict
from pebs.services.field_rules import REASON_CHARS
from pebs.services.trial import Allocated, SlotMarked, mark_slot_unusable, override_allocation

router = Router(tags=["allocation"])


class ConfirmedIn(Body):
    reason: Text = Field(min_length=1, max_length=REASON_CHARS)
    confirm: bool = Field(description="Must be true: the caller confirms the override")


class OverrideIn(ConfirmedIn):
    arm: Text = Field(min_length=1, max_length=32, examples=["standard"])
    on_date: IsoDate | None = Field(
        default=None, description="Date of the allocation gate (default: today at her site)"
    )


@router.post(
    "/participants/{study_id}/allocation/override", response_model=Allocated,
    responses=error_responses(AllocationRefused, Conflict),
)  # fmt: skip
def override(
    study_id: StudyId, body: OverrideIn, actor: CurrentActor, sessions: SessionMakerDep,
    keys: KeysDep,
):  # fmt: skip
    """Allocate her to an arm by hand, or correct her arm (no list slot is used)."""
    return override_allocation(sessions, actor, keys, study_id, arm=body.arm, reason=body.reason,
                               confirm=body.confirm, on_date=body.on_date)  # fmt: skip


@router.post(
    "/allocation-slots/{slot_id}/unusable", response_model=SlotMarked,
    responses=error_responses(Conflict),
)  # fmt: skip
def unusable(
    slot_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    body: ConfirmedIn,
    actor: CurrentActor,
    sessions: SessionMakerDep,
):
    """Take an unused slot out of its list (for instance one revealed by accident)."""
    return mark_slot_unusable(sessions, actor, slot_id, reason=body.reason, confirm=body.confirm)
