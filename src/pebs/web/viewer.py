"""Who is looking at a page: the session cookie's principal, and the CSRF check of forms.

Pages authenticate with the session cookie the API uses too (:mod:`pebs.http.session_cookie`:
HttpOnly, SameSite=Lax, Secure when served over HTTPS) through the same
:func:`pebs.services.auth.authenticate` (idle and absolute timeouts, revocation, disabled
accounts). A form that changes something carries the session's CSRF token in a hidden
``csrf_token`` field (an HMAC of the session token, :func:`pebs.services.auth.csrf_token`); a
POST without the right token is refused (403) before anything else runs. The login form, which
has no session yet, uses a double-submit token: a random value in a short-lived cookie and in the
form.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from pebs.http.deps import StateDep
from pebs.http.session_cookie import SESSION_COOKIE
from pebs.services.actor import Actor
from pebs.services.auth import Principal, authenticate, csrf_matches, csrf_token
from pebs.services.errors import NotAuthenticated, PermissionDenied

__all__ = [
    "CSRF_FIELD",
    "LOGIN_CSRF_COOKIE",
    "PendingDep",
    "PostedForm",
    "PostedUpload",
    "Viewer",
    "ViewerDep",
    "login_form_token",
]

CSRF_FIELD = "csrf_token"
LOGIN_CSRF_COOKIE = "pebs_login_csrf"
_WRONG_TOKEN = "the form's security token is missing or wrong: reload the page and try again"


@dataclass(frozen=True)
class Viewer:
    """The logged-in user of a page request."""

    principal: Principal
    token: str
    """Her session token (the cookie value)."""
    csrf: str
    """The CSRF token her forms carry."""

    @property
    def actor(self) -> Actor:
        return self.principal.actor


def _viewer(request: Request, state: StateDep) -> Viewer:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotAuthenticated("log in to see this page")
    principal = authenticate(state.readers, state.writers, state.policy, token)
    if principal.via != "session":
        raise NotAuthenticated("pages need a logged-in session, not an API token")
    return Viewer(principal, token, csrf_token(state.policy.secret, token))


def pending_viewer(request: Request, state: StateDep) -> Viewer:
    """The session's user, also while her TOTP check is pending (the TOTP pages)."""
    return _viewer(request, state)


def ready_viewer(request: Request, state: StateDep) -> Viewer:
    """The session's user once her second factor is checked (every other page)."""
    viewer = _viewer(request, state)
    viewer.principal.require_mfa()
    return viewer


PendingDep = Annotated[Viewer, Depends(pending_viewer)]
ViewerDep = Annotated[Viewer, Depends(ready_viewer)]


async def _form(request: Request) -> FormData:
    return await request.form(max_files=0, max_fields=200)


async def _upload(request: Request) -> AsyncIterator[FormData]:
    form = await request.form(max_files=1, max_fields=20)
    try:
        yield form
    finally:
        await form.close()  # the uploaded file's temporary copy


def _check_csrf(request: Request, state: StateDep, form: FormData) -> FormData:
    token = request.cookies.get(SESSION_COOKIE) or ""
    candidate = form.get(CSRF_FIELD)
    if not token or not isinstance(candidate, str):
        raise PermissionDenied(_WRONG_TOKEN)
    if not csrf_matches(state.policy.secret, token, candidate):
        raise PermissionDenied(_WRONG_TOKEN)
    return form


async def checked_form(
    request: Request, state: StateDep, form: Annotated[FormData, Depends(_form)]
) -> FormData:
    """The posted form of a logged-in user, after its CSRF token was checked."""
    return _check_csrf(request, state, form)


async def checked_upload(
    request: Request, state: StateDep, form: Annotated[FormData, Depends(_upload)]
) -> FormData:
    """A posted form with one file (``multipart/form-data``), after its CSRF token was
    checked."""
    return _check_csrf(request, state, form)


PostedForm = Annotated[FormData, Depends(checked_form)]
"""Use with :data:`ViewerDep` or :data:`PendingDep` on every POST route of the pages."""
PostedUpload = Annotated[FormData, Depends(checked_upload)]
""":data:`PostedForm` for a form that uploads one file."""


async def login_form(request: Request, form: Annotated[FormData, Depends(_form)]) -> FormData:
    """The posted login form, after its double-submit token was checked."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    candidate = form.get(CSRF_FIELD)
    if (
        not cookie
        or not isinstance(candidate, str)
        or not secrets.compare_digest(cookie.encode(), candidate.encode())
    ):
        raise PermissionDenied(_WRONG_TOKEN)
    return form


LoginForm = Annotated[FormData, Depends(login_form)]


def login_form_token(request: Request) -> str:
    """The login form's double-submit token: the cookie's, or a new random one."""
    existing = request.cookies.get(LOGIN_CSRF_COOKIE)
    if existing and 20 <= len(existing) <= 100:
        return existing
    return secrets.token_urlsafe(24)
