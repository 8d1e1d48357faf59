"""``/auth``: log in and out, TOTP, personal API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Request, Response
from pydantic import BaseModel, Field

from pebs.api.deps import PrincipalDep
from pebs.api.errors import error_responses
from pebs.api.openapi import SESSION_ONLY
from pebs.api.routers._body import Body
from pebs.api.routers._router import Router
from pebs.api.routers._text import Text
from pebs.http.deps import KeysDep, SessionMakerDep, StateDep, client_address
from pebs.http.session_cookie import SESSION_COOKIE, clear_session_cookie, set_session_cookie
from pebs.http.state import AppState
from pebs.services.auth import (
    ApiTokenInfo,
    Principal,
    begin_totp_enrolment,
    confirm_totp_enrolment,
    create_api_token,
    csrf_token,
    list_api_tokens,
    login,
    logout,
    revoke_api_token,
    verify_second_factor,
)
from pebs.services.auth.api_tokens import DEFAULT_DAYS, MAX_DAYS, NAME_CHARS
from pebs.services.auth.passwords import MAX_LENGTH as MAX_PASSWORD_CHARS
from pebs.services.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    TooManyAttempts,
    TotpCodeReused,
)

router = Router(prefix="/auth", tags=["auth"])


class LoginIn(Body):
    username: Text = Field(min_length=1, max_length=64)
    password: Text = Field(min_length=1, max_length=MAX_PASSWORD_CHARS)
    totp_code: Text | None = Field(default=None, max_length=10)


class Me(BaseModel):
    username: str
    role: str
    site_id: int | None
    country_id: int | None
    via: str
    """``session`` or ``token``."""
    mfa_ok: bool
    next_step: str | None = None
    """``totp`` (send the code) or ``enrol_totp`` (enrol an app) before anything else."""
    csrf_token: str | None = None
    """Send it as ``X-CSRF-Token`` with cookie-authenticated POST/DELETE requests."""
    expires_at: datetime | None = None


class CodeIn(Body):
    code: Text = Field(min_length=1, max_length=10)


class EnrolmentOut(BaseModel):
    secret: str
    uri: str


class TokenIn(Body):
    name: Text = Field(min_length=1, max_length=NAME_CHARS)
    days: int = Field(default=DEFAULT_DAYS, ge=1, le=MAX_DAYS)


class TokenOut(BaseModel):
    token: str
    """Shown once: store it now."""
    info: ApiTokenInfo


def _me(principal: Principal, state: AppState, session_token: str | None, **extra) -> Me:
    actor = principal.actor
    next_step = None
    if not principal.mfa_ok:
        next_step = "totp" if principal.totp_enrolled else "enrol_totp"
    return Me(
        username=actor.username, role=actor.role, site_id=actor.site_id,
        country_id=actor.country_id, via=principal.via, mfa_ok=principal.mfa_ok,
        next_step=next_step,
        csrf_token=None if session_token is None
        else csrf_token(state.policy.secret, session_token),
        **extra,
    )  # fmt: skip


def _session_token(request: Request, principal: PrincipalDep) -> str:
    if principal.via != "session":
        raise InvalidInput("this needs a logged-in session (cookie), not an API token")
    return request.cookies[SESSION_COOKIE]


SessionToken = Annotated[str, Depends(_session_token)]


@router.post(
    "/login", response_model=Me,
    responses=error_responses(NotAuthenticated, TotpCodeReused, TooManyAttempts),
)  # fmt: skip
def login_route(
    body: LoginIn, request: Request, response: Response, state: StateDep, keys: KeysDep
) -> Me:
    """Log in with username, password and TOTP code; sets the session cookie."""
    result = login(
        state.writers, keys.cipher, state.policy, body.username, body.password,
        totp_code=body.totp_code, client=client_address(request),
    )  # fmt: skip
    set_session_cookie(response, state, result.token)
    return _me(result.principal, state, result.token, expires_at=result.expires_at)


@router.post(
    "/logout", status_code=204, openapi_extra=SESSION_ONLY,
    responses=error_responses(InvalidInput),
)  # fmt: skip
def logout_route(token: SessionToken, response: Response, sessions: SessionMakerDep) -> None:
    """End the session and clear its cookie."""
    logout(sessions, token)
    clear_session_cookie(response)


@router.get("/me", response_model=Me)
def me_route(principal: PrincipalDep, request: Request, state: StateDep) -> Me:
    """Who is logged in, and what is left to do (TOTP)."""
    token = request.cookies.get(SESSION_COOKIE) if principal.via == "session" else None
    return _me(principal, state, token)


@router.post(
    "/totp/verify", response_model=Me, openapi_extra=SESSION_ONLY,
    responses=error_responses(InvalidInput, TotpCodeReused, TooManyAttempts),
)  # fmt: skip
def verify_totp_route(
    body: CodeIn, token: SessionToken, request: Request, state: StateDep, keys: KeysDep
) -> Me:
    """Finish a login with the TOTP code."""
    principal = verify_second_factor(
        state.writers, keys.cipher, state.policy, token, body.code,
        client=client_address(request),
    )  # fmt: skip
    return _me(principal, state, token)


@router.post(
    "/totp/enrolment", response_model=EnrolmentOut, openapi_extra=SESSION_ONLY,
    responses=error_responses(InvalidInput, Conflict),
)  # fmt: skip
def begin_enrolment_route(
    token: SessionToken, sessions: SessionMakerDep, keys: KeysDep
) -> EnrolmentOut:
    """Start enrolling a TOTP app: a new secret and its otpauth:// URI."""
    enrolment = begin_totp_enrolment(sessions, keys.cipher, token)
    return EnrolmentOut(secret=enrolment.secret, uri=enrolment.uri)


@router.post(
    "/totp/enrolment/confirm", status_code=204, openapi_extra=SESSION_ONLY,
    responses=error_responses(InvalidInput, Conflict),
)  # fmt: skip
def confirm_enrolment_route(
    body: CodeIn, token: SessionToken, sessions: SessionMakerDep, keys: KeysDep
) -> None:
    """Confirm the TOTP app with its first code."""
    confirm_totp_enrolment(sessions, keys.cipher, token, body.code)


@router.get("/tokens", response_model=list[ApiTokenInfo])
def list_tokens_route(principal: PrincipalDep, sessions: SessionMakerDep) -> list[ApiTokenInfo]:
    """Your API tokens (never their values)."""
    return list(list_api_tokens(sessions, principal))


@router.post("/tokens", response_model=TokenOut, status_code=201, openapi_extra=SESSION_ONLY)
def create_token_route(
    body: TokenIn, principal: PrincipalDep, sessions: SessionMakerDep
) -> TokenOut:
    """Create a personal API token (shown once)."""
    token, info = create_api_token(sessions, principal, body.name, days=body.days)
    return TokenOut(token=token, info=info)


@router.delete("/tokens/{token_id}", response_model=ApiTokenInfo)
def revoke_token_route(
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    principal: PrincipalDep,
    sessions: SessionMakerDep,
) -> ApiTokenInfo:
    """Revoke one of your API tokens."""
    return revoke_api_token(sessions, principal, token_id)
