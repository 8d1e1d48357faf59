"""``/users``: account administration (administrator)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, Field

from pebs.api.deps import CurrentActor
from pebs.api.errors import error_responses
from pebs.api.routers._body import Body
from pebs.api.routers._router import Router
from pebs.api.routers._text import Text
from pebs.http.deps import SessionMakerDep, StateDep
from pebs.services.auth import (
    AccountCreated,
    AccountRow,
    create_account,
    disable_account,
    enable_account,
    list_accounts,
    unlock_logins,
)
from pebs.services.auth.passwords import MAX_LENGTH
from pebs.services.errors import Conflict
from pebs.services.field_rules import (
    FULL_NAME_CHARS,
    REASON_CHARS,
    SITE_CODE_CHARS,
    USERNAME_CHARS,
)

router = Router(prefix="/users", tags=["users"])


class AccountIn(Body):
    username: Text = Field(min_length=1, max_length=USERNAME_CHARS, examples=["anna.rossi"])
    role: Text = Field(min_length=1, max_length=32, examples=["site_staff"])
    site: Text | None = Field(
        default=None, min_length=1, max_length=SITE_CODE_CHARS, examples=["IT-TO"],
        description="Her site's code (site roles only)",
    )  # fmt: skip
    country: Text | None = Field(
        default=None, min_length=2, max_length=2, examples=["IT"],
        description="Her country's code (country coordinators only)",
    )  # fmt: skip
    full_name: Text | None = Field(default=None, min_length=1, max_length=FULL_NAME_CHARS)
    password: Text | None = Field(
        default=None, min_length=1, max_length=MAX_LENGTH,
        description="Her initial password (default: one is generated and returned once)",
    )  # fmt: skip


@router.get("", response_model=list[AccountRow])
def accounts(actor: CurrentActor, sessions: SessionMakerDep, state: StateDep):
    """Every account: role, site or country, active, TOTP enrolled, locked."""
    return list_accounts(sessions, actor, state.policy)


@router.post(
    "", response_model=AccountCreated, status_code=201, responses=error_responses(Conflict)
)
def create(body: AccountIn, actor: CurrentActor, sessions: SessionMakerDep, state: StateDep):
    """Create an account; a generated password is in the response, this once."""
    return create_account(sessions, actor, state.policy, body.username, body.role,
                          site=body.site, country=body.country, password=body.password,
                          full_name=body.full_name)  # fmt: skip


class Enabled(BaseModel):
    username: str
    changed: bool
    """False when the account was already active."""


@router.post("/{username}/enable", response_model=Enabled)
def enable(
    username: Annotated[Text, Path(min_length=1, max_length=USERNAME_CHARS)],
    actor: CurrentActor,
    sessions: SessionMakerDep,
) -> Enabled:
    """Enable a disabled account again (her earlier sessions and API tokens stay ended)."""
    return Enabled(username=username, changed=enable_account(sessions, actor, username))


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
