"""``/users``: account administration (administrator)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from pebs.api.deps import CurrentActor
from pebs.api.routers._body import Body
from pebs.api.routers._text import Text
from pebs.http.deps import SessionMakerDep
from pebs.services.auth import disable_account, unlock_logins
from pebs.services.field_rules import REASON_CHARS

router = APIRouter(prefix="/users", tags=["users"])


class DisableIn(Body):
    reason: Text = Field(min_length=1, max_length=REASON_CHARS)


class Disabled(BaseModel):
    username: str
    sessions_revoked: int


@router.post("/{username}/disable", response_model=Disabled)
def disable(
    username: Annotated[Text, Path(min_length=1, max_length=64)],
    body: DisableIn,
    actor: CurrentActor,
    sessions: SessionMakerDep,
) -> Disabled:
    """Disable an account: its sessions and API tokens stop working at once."""
    return Disabled(
        username=username, sessions_revoked=disable_account(sessions, actor, username, body.reason)
    )


class UnlockIn(Body):
    address: Text | None = Field(
        default=None, max_length=150,
        description="Also forget this client address's failures (for every username)",
    )  # fmt: skip


class Unlocked(BaseModel):
    username: str
    counts_cleared: int


@router.post("/{username}/unlock", response_model=Unlocked)
def unlock(
    username: Annotated[Text, Path(min_length=1, max_length=64)],
    actor: CurrentActor,
    sessions: SessionMakerDep,
    body: UnlockIn | None = None,
) -> Unlocked:
    """Forget an account's failed logins: she may log in again at once."""
    address = None if body is None else body.address
    return Unlocked(
        username=username,
        counts_cleared=unlock_logins(sessions, actor, username, address=address),
    )
