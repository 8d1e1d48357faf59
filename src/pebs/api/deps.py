"""Annotated dependencies of the routes: state, sessions, keys, the authenticated caller.

A request is authenticated by ``Authorization: Bearer <API token>`` or by the session cookie
(:data:`~.state.SESSION_COOKIE`). A cookie-authenticated request that changes something (POST,
PUT, PATCH, DELETE) must also send the session's CSRF token in ``X-CSRF-Token``; bearer tokens
need none (browsers never send them by themselves).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from pebs.api.state import CSRF_HEADER, SESSION_COOKIE, ApiState
from pebs.services.auth import NotAuthenticated, Principal, authenticate, csrf_matches
from pebs.services.trial import Actor, IdentityKeys
from pebs.services.trial.errors import PermissionDenied

__all__ = [
    "ActorDep",
    "CurrentActor",
    "KeysDep",
    "PrincipalDep",
    "SessionMakerDep",
    "StateDep",
    "client_address",
]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_bearer = HTTPBearer(auto_error=False, description="A personal API token (pebs_t_...)")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="Session cookie")


def get_state(request: Request) -> ApiState:
    return request.app.state.pebs


StateDep = Annotated[ApiState, Depends(get_state)]


def get_session_maker(state: StateDep) -> sessionmaker[Session]:
    return state.writers


def get_keys(state: StateDep) -> IdentityKeys:
    return state.keys


SessionMakerDep = Annotated[sessionmaker[Session], Depends(get_session_maker)]
KeysDep = Annotated[IdentityKeys, Depends(get_keys)]


def client_address(request: Request) -> str | None:
    """The client's address as the server sees it (behind a proxy: configure uvicorn's
    ``--forwarded-allow-ips`` so that it is the real client's)."""
    return None if request.client is None else request.client.host


def get_principal(
    request: Request,
    state: StateDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Principal:
    """The caller, from her API token or session cookie (:class:`NotAuthenticated` if none)."""
    if bearer is not None:
        return authenticate(state.readers, state.writers, state.policy, bearer.credentials)
    if cookie:
        principal = authenticate(state.readers, state.writers, state.policy, cookie)
        if request.method not in _SAFE_METHODS and not csrf_matches(
            state.policy.secret, cookie, request.headers.get(CSRF_HEADER)
        ):
            raise PermissionDenied(f"missing or wrong {CSRF_HEADER} header for this session")
        return principal
    raise NotAuthenticated("log in (session cookie) or send 'Authorization: Bearer <API token>'")


PrincipalDep = Annotated[Principal, Depends(get_principal)]
"""Any authenticated caller, also one whose TOTP check is pending (for the TOTP routes)."""


def get_actor(principal: PrincipalDep) -> Actor:
    """The caller's actor, once her second factor (if she needs one) has been checked."""
    return principal.require_mfa()


CurrentActor = Annotated[Actor, Depends(get_actor)]
ActorDep = CurrentActor
