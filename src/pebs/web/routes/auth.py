"""Pages: log in (password and TOTP code), second-factor check, TOTP enrolment, log out, the
language choice and the home page."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pebs.http.deps import StateDep, client_address
from pebs.http.session_cookie import clear_session_cookie, set_session_cookie
from pebs.http.state import AppState
from pebs.services.auth import (
    begin_totp_enrolment,
    confirm_totp_enrolment,
    login,
    logout,
    verify_second_factor,
)
from pebs.services.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    TooManyAttempts,
    TotpCodeReused,
)
from pebs.web.errors import safe_next
from pebs.web.forms import refusal_text
from pebs.web.i18n import LANGUAGES
from pebs.web.rendering import LANGUAGE_COOKIE, catalogue_for, render
from pebs.web.viewer import (
    LOGIN_CSRF_COOKIE,
    LoginForm,
    PendingDep,
    PostedForm,
    ViewerDep,
    login_form_token,
)

router = APIRouter(include_in_schema=False)

_LOGIN_COOKIE_AGE_S = 3600


def _refusal(error: NotAuthenticated | TooManyAttempts, wrong: str) -> tuple[str, dict, int]:
    """(message key, its values, status) of a refused login or TOTP check."""
    if isinstance(error, TooManyAttempts):
        return "login.throttled", {"seconds": error.retry_after_s}, 429
    if isinstance(error, TotpCodeReused):
        return "login.totp_reused", {}, 401
    return wrong, {}, 401


def _login_page(
    request: Request, state: AppState, next_path: str, *, error: str | None = None,
    username: str = "", status: int = 200, values: dict | None = None,
) -> HTMLResponse:  # fmt: skip
    token = login_form_token(request)
    response = render(request, "login.html", status=status, login_csrf=token, error=error,
                      error_values=values or {}, next_path=next_path,
                      username=username)  # fmt: skip
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=_LOGIN_COOKIE_AGE_S, path="/login",
                        secure=state.cookie_secure, httponly=True, samesite="strict")  # fmt: skip
    return response


@router.get("/login")
def login_page(request: Request, state: StateDep, next: str | None = None) -> HTMLResponse:
    """The login form."""
    return _login_page(request, state, safe_next(next))


@router.post("/login")
def login_submit(request: Request, state: StateDep, form: LoginForm) -> Response:
    """Check the password (and TOTP code); open the session."""
    username = str(form.get("username") or "").strip()[:64]
    password = str(form.get("password") or "")[:256]
    code = str(form.get("totp_code") or "").strip()[:10] or None
    next_path = safe_next(str(form.get("next") or "/"))
    if not username or not password:
        return _login_page(request, state, next_path, error="login.missing", username=username,
                           status=422)  # fmt: skip
    try:
        result = login(state.writers, state.keys.cipher, state.policy, username, password,
                       totp_code=code, client=client_address(request))  # fmt: skip
    except (NotAuthenticated, TooManyAttempts) as error:
        key, values, status = _refusal(error, "login.failed")
        return _login_page(request, state, next_path, error=key, username=username,
                           status=status, values=values)  # fmt: skip
    target = {None: next_path, "totp": f"/login/totp?next={quote(next_path)}",
              "enrol_totp": "/totp/enrol"}[result.next_step]  # fmt: skip
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, state, result.token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.get("/login/totp")
def totp_page(request: Request, viewer: PendingDep, next: str | None = None) -> Response:
    """The second-factor form."""
    if viewer.principal.mfa_ok:
        return RedirectResponse(safe_next(next), status_code=303)
    if not viewer.principal.totp_enrolled:
        return RedirectResponse("/totp/enrol", status_code=303)
    return render(request, "totp.html", viewer=viewer, next_path=safe_next(next), error=None)


@router.post("/login/totp")
def totp_submit(
    request: Request, viewer: PendingDep, form: PostedForm, state: StateDep
) -> Response:
    """Check the TOTP code of a session opened with the password."""
    next_path = safe_next(str(form.get("next") or "/"))
    code = str(form.get("code") or "").strip()[:10]
    try:
        verify_second_factor(state.writers, state.keys.cipher, state.policy, viewer.token, code,
                             client=client_address(request))  # fmt: skip
    except (NotAuthenticated, TooManyAttempts) as error:
        key, values, status = _refusal(error, "totp.wrong")
        return render(request, "totp.html", viewer=viewer, next_path=next_path, error=key,
                      error_values=values, status=status)  # fmt: skip
    return RedirectResponse(next_path, status_code=303)


@router.get("/totp/enrol")
def enrol_page(request: Request, viewer: PendingDep) -> Response:
    """Explain TOTP enrolment (a role that needs a second factor and has none)."""
    if viewer.principal.totp_enrolled:
        return RedirectResponse("/", status_code=303)
    return render(request, "totp_enrol.html", viewer=viewer, enrolment=None, error=None)


@router.post("/totp/enrol")
def enrol_start(request: Request, viewer: PendingDep, form: PostedForm, state: StateDep):
    """A new TOTP secret for her authenticator app."""
    del form  # checked for its CSRF token
    enrolment = begin_totp_enrolment(state.writers, state.keys.cipher, viewer.token)
    return render(request, "totp_enrol.html", viewer=viewer, enrolment=enrolment, error=None)


@router.post("/totp/enrol/confirm")
def enrol_confirm(request: Request, viewer: PendingDep, form: PostedForm, state: StateDep):
    """Confirm the app with its first code."""
    code = str(form.get("code") or "").strip()[:10]
    try:
        confirm_totp_enrolment(state.writers, state.keys.cipher, viewer.token, code)
    except (InvalidInput, Conflict) as error:
        return render(request, "totp_enrol.html", viewer=viewer, enrolment=None,
                      error=refusal_text(error, catalogue_for(request)), status=422)  # fmt: skip
    return RedirectResponse("/", status_code=303)


@router.post("/logout")
def logout_submit(viewer: PendingDep, form: PostedForm, state: StateDep) -> Response:
    """End the session."""
    del form  # checked for its CSRF token
    logout(state.writers, viewer.token)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response)
    return response


@router.get("/language")
def choose_language(lang: str, next: str | None = None) -> Response:
    """Remember the page language (a cookie) and go back."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 86400, path="/",
                            httponly=True, samesite="lax")  # fmt: skip
    return response


@router.get("/")
def home(request: Request, viewer: ViewerDep) -> HTMLResponse:
    """The home page: who is logged in, and the sections of her role."""
    return render(request, "home.html", viewer=viewer)
