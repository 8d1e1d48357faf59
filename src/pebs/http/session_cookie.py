"""The session cookie, set by the API's and the pages' login alike.

``HttpOnly`` (scripts cannot read it), ``SameSite=Lax``, ``Secure`` when the site is served over
HTTPS only (:func:`pebs.http.state.https_only`), valid for the whole site (``Path=/``) and for the
session's absolute lifetime (``PEBS_SESSION_ABSOLUTE_HOURS``); the session itself also ends
after ``PEBS_SESSION_IDLE_MINUTES`` without use, checked on the server.
"""

from __future__ import annotations

from starlette.responses import Response

from pebs.http.state import AppState

__all__ = ["SESSION_COOKIE", "clear_session_cookie", "set_session_cookie"]

SESSION_COOKIE = "pebs_session"


def set_session_cookie(response: Response, state: AppState, token: str) -> None:
    """Give the browser the session ``token``."""
    response.set_cookie(
        SESSION_COOKIE, token, max_age=int(state.policy.absolute.total_seconds()),
        path="/", secure=state.cookie_secure, httponly=True, samesite="lax",
    )  # fmt: skip


def clear_session_cookie(response: Response) -> None:
    """Tell the browser to forget the session cookie."""
    response.delete_cookie(SESSION_COOKIE, path="/")
