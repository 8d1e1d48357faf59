"""The one error table (:mod:`pebs.http.status`), rendered as pages for the HTML side.

Requests under ``/api`` keep the API's JSON error bodies (the app's handlers are reused as they
are). On pages, a missing or ended session redirects to the login page (remembering where the
user was going), a pending second factor to the TOTP page, and every other service error is a
page with the status of :data:`pebs.http.status.ERROR_STATUS` and the service's message (in the
page language when the service gives a message code, :func:`pebs.web.forms.refusal_text`). A
transient database failure is the page of :class:`~pebs.services.errors.DatabaseBusy` (503, with
``Retry-After``: nothing was saved, try again in a moment); any other database error stays an
unexpected error (500).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from pebs.http.paths import is_api_path
from pebs.http.status import (
    KEY_MISMATCH,
    MAY_BE_TRANSIENT,
    DecryptionError,
    database_busy,
    status_for,
)
from pebs.services.errors import (
    DatabaseBusy,
    NotAuthenticated,
    SecondFactorRequired,
    ServiceError,
)
from pebs.web.forms import refusal_text
from pebs.web.rendering import catalogue_for, render

__all__ = ["install_page_errors", "safe_next"]

_log = logging.getLogger("pebs.web")
Handler = Callable[[Request, Exception], Awaitable[Response]]


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site (never another host), else ``/``.

    >>> safe_next("/participants?q=IT"), safe_next("//evil.example/"), safe_next("https://x")
    ('/participants?q=IT', '/', '/')
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_redirect(request: Request) -> RedirectResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = "/login" if request.method != "GET" or here == "/" else f"/login?next={quote(here)}"
    return RedirectResponse(target, status_code=303)


def _page_error(request: Request, status: int, code: str, detail: str) -> Response:
    return render(request, "error.html", status=status, code=code, detail=detail)


async def _service_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ServiceError)
    if isinstance(error, NotAuthenticated):
        return _login_redirect(request)
    if isinstance(error, SecondFactorRequired):
        return RedirectResponse("/login/totp", status_code=303)
    detail = refusal_text(error, catalogue_for(request))
    page = _page_error(request, status_for(error), error.code, detail)
    if isinstance(error, DatabaseBusy):
        page.headers["Retry-After"] = str(error.retry_after_s)
    return page


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    detail = "; ".join(
        f"{'.'.join(str(p) for p in item.get('loc', ())[1:])}: {item.get('msg', '')}"
        for item in error.errors()
    )
    return _page_error(request, 422, "invalid_input", detail or "invalid request")


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    return _page_error(request, error.status_code, code, str(error.detail))


async def _key_mismatch(request: Request, error: Exception) -> Response:
    _log.error("identifying data cannot be decrypted with the configured identity key")
    status, code = KEY_MISMATCH
    return _page_error(request, status, code, str(error))


async def _database_error(request: Request, error: Exception) -> Response:
    return await _service_error(request, database_busy(error))


async def _unexpected(request: Request, error: Exception) -> Response:
    _log.exception("unexpected error", exc_info=error)
    return _page_error(request, 500, "internal_error", "an unexpected error; it was logged")


def install_page_errors(app: FastAPI) -> None:
    """Route errors of pages to the page handlers, and of ``/api`` to the API's own."""
    pages: dict[type[Exception], Handler] = {
        ServiceError: _service_error,
        RequestValidationError: _validation_error,
        StarletteHTTPException: _http_error,
        DecryptionError: _key_mismatch,
        **dict.fromkeys(MAY_BE_TRANSIENT, _database_error),
        Exception: _unexpected,
    }
    for family, page_handler in pages.items():
        api_handler = app.exception_handlers.get(family)
        if api_handler is None:
            raise RuntimeError(f"the API app has no handler for {family.__name__}")
        app.add_exception_handler(family, _dispatch(api_handler, page_handler))


def _dispatch(api_handler: Handler, page_handler: Handler) -> Handler:
    async def handler(request: Request, error: Exception) -> Response:
        if is_api_path(request.url.path):
            return await api_handler(request, error)
        return await page_handler(request, error)

    return handler
