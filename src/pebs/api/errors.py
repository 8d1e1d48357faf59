"""The one table that maps service errors to HTTP statuses, and the handlers that use it.

Every error response has the body ``{"error": code, "detail": message}`` (plus ``fields`` for
request validation and :class:`InvalidFields`, ``reasons`` for a refused allocation,
``existing_study_id`` for a duplicate the caller may see, ``stratum`` for an exhausted one,
``previous_level`` and ``new_level`` for a lowered risk level). Routes never build error
responses.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pebs.services.auth.errors import NotAuthenticated, SecondFactorRequired, TooManyAttempts
from pebs.services.trial.errors import (
    AllocationRefused,
    Conflict,
    DatabaseNotReady,
    DuplicateParticipant,
    InvalidFields,
    InvalidInput,
    LevelLowered,
    NotFound,
    PermissionDenied,
    ServiceError,
    StratumExhausted,
)

__all__ = ["ERROR_STATUS", "install_error_handlers", "status_for"]

_log = logging.getLogger("pebs.api")

ERROR_STATUS: tuple[tuple[type[ServiceError], int], ...] = (
    (NotAuthenticated, 401),
    (TooManyAttempts, 429),
    (SecondFactorRequired, 403),
    (PermissionDenied, 403),
    (NotFound, 404),  # also: exists, but outside the caller's scope
    (InvalidInput, 422),
    (Conflict, 409),  # duplicate, allocation refused, stratum exhausted, pathway state
    (DatabaseNotReady, 503),
    (ServiceError, 400),
)
"""Service error family -> HTTP status; the first matching family wins."""

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 401: "not_authenticated"}


def status_for(error: ServiceError) -> int:
    for family, status in ERROR_STATUS:
        if isinstance(error, family):
            return status
    return 400  # unreachable: ServiceError is the last family


def _body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"error": code, "detail": detail, **extra}


async def _service_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ServiceError)
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if isinstance(error, AllocationRefused):
        extra["reasons"] = list(error.reasons)
    if isinstance(error, DuplicateParticipant) and error.existing_study_id is not None:
        extra["existing_study_id"] = error.existing_study_id
    if isinstance(error, StratumExhausted):
        extra["stratum"] = error.stratum
    if isinstance(error, InvalidFields):
        extra["fields"] = [{"field": k, "message": v} for k, v in error.fields.items()]
    if isinstance(error, LevelLowered):
        extra.update(previous_level=error.previous_level, new_level=error.new_level)
    if isinstance(error, TooManyAttempts):
        headers["Retry-After"] = str(error.retry_after_s)
    if isinstance(error, NotAuthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="pebs"'
    return JSONResponse(
        _body(error.code, str(error), **extra), status_code=status_for(error), headers=headers
    )


def _field(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or str(location[0] if location else "request")


async def _validation_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    fields = [
        {"field": _field(tuple(item.get("loc", ()))), "message": str(item.get("msg", ""))}
        for item in error.errors()
    ]
    detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields) or "invalid request"
    return JSONResponse(_body("invalid_input", detail, fields=fields), status_code=422)


async def _http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = _HTTP_CODES.get(error.status_code, "http_error")
    return JSONResponse(
        _body(code, str(error.detail)), status_code=error.status_code, headers=error.headers
    )


async def _unexpected(_: Request, error: Exception) -> JSONResponse:
    _log.exception("unexpected error", exc_info=error)
    return JSONResponse(_body("internal_error", "an unexpected error; it was logged"), 500)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
