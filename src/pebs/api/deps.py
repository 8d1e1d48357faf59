"""Who calls the API: the authenticated caller of a route.

A request is authenticated by ``Authorization: Bearer <API token>`` or by the session cookie
(:data:`~pebs.http.session_cookie.SESSION_COOKIE`). A cookie-authenticated request that changes
something (POST, PUT, PATCH, DELETE) must also send the session's CSRF token in
:data:`CSRF_HEADER`; bearer tokens need none (browsers never send them by themselves). The state,
database sessions and keys are the dependencies both sides share (:mod:`pebs.http.deps`).

Authentication is :func:`get_principal`, an ``async def``: an API token accepted within the last
few seconds is answered from memory (:func:`~pebs.services.auth.remembered_principal`, no I/O);
any other credential is looked up in the database in the thread pool (one hop). What only reads
values already in hand (:func:`get_actor`, and the state, sessions and keys) is an ``async def``
too and runs on the event loop without a hop. The app's state is read from the request, not
through another dependency (each one FastAPI resolves costs time on every request).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from pebs.http import threads
from pebs.http.session_cookie import SESSION_COOKIE
from pebs.http.state import AppState
from pebs.http.status import DATABASE_BUSY
from pebs.services.actor import Actor
from pebs.services.auth import Principal, authenticate, csrf_matches, remembered_principal
from pebs.services.errors import NotAuthenticated, PermissionDenied

__all__ = ["AS_RUN", "AUTHENTICATION_ERRORS", "CSRF_HEADER", "CurrentActor", "PrincipalDep"]

CSRF_HEADER = "X-CSRF-Token"

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_bearer = HTTPBearer(auto_error=False, description="A personal API token (pebs_t_...)")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="Session cookie")


Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
Cookie = Annotated[str | None, Depends(_cookie)]


async def _principal(
    request: Request, bearer: HTTPAuthorizationCredentials | None, cookie: str | None
) -> Principal:
    """The caller, from her API token or session cookie (:class:`NotAuthenticated` if none)."""
    state: AppState = request.app.state.pebs
    if bearer is not None:
        remembered = remembered_principal(state.readers, bearer.credentials)
        if remembered is not None:
            return remembered
        return await threads.in_thread(
            authenticate, state.readers, state.writers, state.policy, bearer.credentials
        )
    if cookie:
        principal = await threads.in_thread(
            authenticate, state.readers, state.writers, state.policy, cookie
        )
        if request.method not in _SAFE_METHODS and not csrf_matches(
            state.policy.secret, cookie, request.headers.get(CSRF_HEADER)
        ):
            raise PermissionDenied(f"missing or wrong {CSRF_HEADER} header for this session")
        return principal
    raise NotAuthenticated("log in (session cookie) or send 'Authorization: Bearer <API token>'")


async def get_principal(request: Request, bearer: Bearer, cookie: Cookie) -> Principal:
    """The caller, from her API token or session cookie (:class:`NotAuthenticated` if none)."""
    return await _principal(request, bearer, cookie)


PrincipalDep = Annotated[Principal, Depends(get_principal)]
"""Any authenticated caller, also one whose TOTP check is pending (for the TOTP routes)."""


async def get_actor(request: Request, bearer: Bearer, cookie: Cookie) -> Actor:
    """The caller's actor, once her second factor (if she needs one) has been checked."""
    return (await _principal(request, bearer, cookie)).require_mfa()


async def _principal_of(request: Request) -> Principal:
    return await _principal(request, await _bearer(request), await _cookie(request))


async def _actor_of(request: Request) -> Actor:
    return (await _principal_of(request)).require_mfa()


AS_RUN: dict[Callable[..., Any], Callable[..., Any]] = {
    get_principal: _principal_of,
    get_actor: _actor_of,
}
"""Dependency as declared -> the same dependency as a route runs it
(:class:`~pebs.api.routers._router.ApiRoute`): the declared ones take the token and the cookie as
dependencies of their own, so that the schema documents both security schemes; the ones run
read them from the request themselves, which spares FastAPI resolving two more dependencies on
every request."""


CurrentActor = Annotated[Actor, Depends(get_actor)]

AUTHENTICATION_ERRORS: Mapping[Callable[..., Any], tuple[int, str]] = {
    get_principal: DATABASE_BUSY,
    get_actor: DATABASE_BUSY,
}
"""Dependency -> the (status, error code) that a route taking it may answer besides its own
refusals, as :data:`~pebs.http.deps.DEPENDENCY_ERRORS`: a credential not remembered is looked
up in the database."""
