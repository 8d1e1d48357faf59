"""The API's error bodies: the handlers that answer with the statuses of the one error table
(:mod:`pebs.http.status`), and the error responses of the OpenAPI schema.

Every error response has the body :class:`ErrorBody`: ``{"error": code, "detail": message}``
(plus ``fields`` for request validation, :class:`InvalidFields` and an :class:`InvalidInput`
that names its field, ``reasons`` for a refused allocation, ``existing_study_id`` for a duplicate
the caller may see, ``stratum`` for an exhausted one, ``previous_level`` and ``new_level`` for a
lowered risk level). Routes never build error responses; they declare the service errors they
may answer with :func:`error_responses`, and :func:`document_errors` adds those that every
operation of its shape may answer (401 and 403 when it needs credentials, 404 when it has path
parameters, 422 when it has inputs, 400 and 413 when it has a body) and those of the
dependencies it takes (503 ``identity_key_mismatch`` when it takes the identity keys, 503
``database_busy`` when it takes the database or authenticates the caller,
:mod:`pebs.api.dependency_errors`).

A transient database failure (a lock held too long, a deadlock, a lost connection:
:func:`pebs.http.status.database_busy`) is answered 503 ``database_busy`` with ``Retry-After``;
the use case's transaction was rolled back. Every other database error is an unexpected error
(500), as before.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from pebs.http.status import (
    KEY_MISMATCH,
    MAY_BE_TRANSIENT,
    DecryptionError,
    database_busy,
    status_for,
    status_of,
)
from pebs.services.errors import (
    AllocationRefused,
    DatabaseBusy,
    DuplicateParticipant,
    InvalidFields,
    InvalidInput,
    LevelLowered,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    SecondFactorRequired,
    ServiceError,
    StratumExhausted,
    TooManyAttempts,
)
from pebs.services.storable_text import unstorable

__all__ = [
    "ErrorBody",
    "FieldProblem",
    "document_errors",
    "error_responses",
    "install_error_handlers",
]

_log = logging.getLogger("pebs.api")

_HTTP_CODES = {
    400: "bad_request",  # a body that cannot be parsed (not UTF-8 JSON)
    401: "not_authenticated",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",  # pebs.api.limits: a body over PEBS_MAX_BODY_BYTES
    422: "invalid_input",  # pebs.api.limits: a JSON body nested over PEBS_MAX_JSON_DEPTH
}


class FieldProblem(BaseModel):
    """One input that was refused."""

    model_config = ConfigDict(extra="forbid")
    field: str = Field(description="The input's name (dotted inside objects)", examples=["cause"])
    message: str = Field(description="What is wrong and what is allowed")


_Absent = SkipJsonSchema[None]
"""A key that is left out of the body (never ``null``) when it does not apply."""


class ErrorBody(BaseModel):
    """The body of every error response."""

    model_config = ConfigDict(extra="forbid")
    error: str = Field(description="Stable code of the refusal", examples=["not_found"])
    detail: str = Field(description="What was refused and what to do, for a person to read")
    fields: list[FieldProblem] | _Absent = Field(
        default=None, description="invalid_input: every input that is absent or wrong"
    )
    reasons: list[str] | _Absent = Field(
        default=None, description="allocation_refused: every unmet condition"
    )
    existing_study_id: str | _Absent = Field(
        default=None, description="duplicate: her study ID, when the caller may see her"
    )
    stratum: str | _Absent = Field(
        default=None, description="stratum_exhausted: the stratum with no slot left"
    )
    previous_level: str | _Absent = Field(
        default=None, description="level_lowered: her current risk level"
    )
    new_level: str | _Absent = Field(
        default=None, description="level_lowered: the lower level of this assessment"
    )


def _body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return ErrorBody(error=code, detail=detail, **extra).model_dump(exclude_none=True)


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
    elif isinstance(error, InvalidInput) and error.field is not None:
        extra["fields"] = [{"field": error.field, "message": error.problem}]
    if isinstance(error, LevelLowered):
        extra.update(previous_level=error.previous_level, new_level=error.new_level)
    if isinstance(error, TooManyAttempts | DatabaseBusy):
        headers["Retry-After"] = str(error.retry_after_s)
    if isinstance(error, NotAuthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="pebs"'
    return JSONResponse(
        _body(error.code, str(error), **extra), status_code=status_for(error), headers=headers
    )


def _field(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or str(location[0] if location else "request")


def _message(item: dict[str, Any]) -> str:
    """The message of one validation problem. Text that no database can store (a lone surrogate,
    which the models' length checks refuse before the use case sees it) is described in the use
    case's words (:func:`~pebs.services.storable_text.unstorable`), whichever refuses it."""
    value = item.get("input")
    if item.get("type") == "string_unicode" and isinstance(value, str):
        return unstorable(value) or str(item.get("msg", ""))
    return str(item.get("msg", ""))


async def _validation_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    fields = [
        {"field": _field(tuple(item.get("loc", ()))), "message": _message(item)}
        for item in error.errors()
    ]
    detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields) or "invalid request"
    return JSONResponse(_body("invalid_input", detail, fields=fields), status_code=422)


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> str | None:
    """Every method some route answers at the request's path (Starlette names those of the
    first route that matched the path only, and FastAPI makes one route per method)."""
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]
    return ", ".join(allowed) or None


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = _HTTP_CODES.get(error.status_code, "http_error")
    headers = dict(error.headers or {})
    if error.status_code == 405:
        headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
    return JSONResponse(
        _body(code, str(error.detail)), status_code=error.status_code, headers=headers
    )


async def _key_mismatch(_: Request, error: Exception) -> JSONResponse:
    _log.error("identifying data cannot be decrypted with the configured identity key")
    status, code = KEY_MISMATCH
    return JSONResponse(_body(code, str(error)), status_code=status)


async def _database_error(request: Request, error: Exception) -> JSONResponse:
    return await _service_error(request, database_busy(error))


async def _unexpected(_: Request, error: Exception) -> JSONResponse:
    _log.exception("unexpected error", exc_info=error)
    return JSONResponse(_body("internal_error", "an unexpected error; it was logged"), 500)


_REF = "#/components/schemas/ErrorBody"
_MEANING = {
    400: "The body cannot be parsed (it is not UTF-8 JSON)",
    401: "No valid session or API token, or wrong credentials",
    403: "Your role, scope or login step does not allow this",
    404: "No such object in your scope (or no such path)",
    409: "Clashes with the stored data or her pathway state; nothing was changed",
    413: "The request body is larger than PEBS_MAX_BODY_BYTES",
    422: "An input is absent or wrong (fields names each); nothing was changed",
    429: "Too many failed attempts: wait Retry-After seconds",
    503: "Not available now",
}
_MEANING_OF_CODE = {  # for a status whose codes mean different things
    "database_busy": "the database was busy (a lock held too long, a deadlock, a lost "
    "connection); nothing was changed: try again after Retry-After seconds",
    "identity_key_mismatch": "the installation's identity key does not open the stored "
    "identifying data: an operator must configure the key it was encrypted with",
}
_HEADERS: dict[int, dict[str, tuple[str, bool]]] = {  # status -> header -> (text, always sent)
    401: {"WWW-Authenticate": ('The scheme to use: Bearer realm="pebs"', True)},
    429: {"Retry-After": ("Seconds to wait before trying again", True)},
    503: {"Retry-After": ("database_busy: seconds to wait before trying again", False)},
}
_IMPLIED_BY_CREDENTIALS = (NotAuthenticated, PermissionDenied, SecondFactorRequired)


def _description(status: int, codes: set[str]) -> str:
    meaning = _MEANING.get(status, "Refused")
    explained = [
        f"{code}: {_MEANING_OF_CODE[code]}" for code in sorted(codes & _MEANING_OF_CODE.keys())
    ]
    meaning = "; ".join([meaning, *explained])
    return f"{meaning} (error: {', '.join(sorted(codes))})" if codes else meaning


def _response(status: int, codes: set[str], note: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"$ref": _REF}
    if codes:
        schema = {"allOf": [schema], "properties": {"error": {"enum": sorted(codes)}}}
    described = _description(status, codes)
    response: dict[str, Any] = {
        "description": described if note is None else f"{described}. {note}",
        "content": {"application/json": {"schema": schema}},
    }
    if status in _HEADERS:
        response["headers"] = {
            name: {"description": text, "required": always, "schema": {"type": "string"}}
            for name, (text, always) in _HEADERS[status].items()
        }
    return response


def error_responses(
    *kinds: type[ServiceError], notes: dict[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route whose use case raises ``kinds`` (each documented with the
    status of :data:`~pebs.http.status.ERROR_STATUS` and its code); ``notes`` adds a sentence to
    a status."""
    codes: dict[int, set[str]] = {}
    for kind in kinds:
        codes.setdefault(status_of(kind), set()).add(kind.code)
    for status in notes or {}:
        codes.setdefault(status, set())
    return {
        status: _response(status, found, (notes or {}).get(status))
        for status, found in sorted(codes.items())
    }


def _codes(response: dict[str, Any]) -> set[str] | None:
    """The error codes a response of :func:`_response` allows (empty: any); ``None`` if it is
    not one (FastAPI's own 422)."""
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    if schema.get("$ref") == _REF:
        return set()
    if schema.get("allOf") == [{"$ref": _REF}]:
        return set(schema["properties"]["error"]["enum"])
    return None


def _implied(operation: dict[str, Any]) -> dict[int, set[str]]:
    """Statuses (with their codes) that every operation of this shape may answer."""
    implied: dict[int, set[str]] = {}
    if operation.get("security"):
        for kind in _IMPLIED_BY_CREDENTIALS:
            implied.setdefault(status_of(kind), set()).add(kind.code)
    parameters = operation.get("parameters", [])
    if any(p["in"] == "path" for p in parameters):
        implied[404] = {NotFound.code}  # also: a value holding "/" matches no route
    if parameters or "requestBody" in operation:
        implied[422] = {InvalidInput.code}
    if "requestBody" in operation:
        implied[400] = {_HTTP_CODES[400]}
        implied[413] = {_HTTP_CODES[413]}
    return implied


def document_errors(
    openapi: dict[str, Any], by_dependency: Mapping[str, dict[int, set[str]]] | None = None
) -> None:
    """Document :class:`ErrorBody` for every error status of every operation of ``openapi``
    (in place): the statuses routes declared, those :func:`_implied` by their shape, and those
    ``by_dependency`` gives the operation (``"METHOD /path"`` -> status -> codes, from
    :func:`~pebs.api.dependency_errors.dependency_errors`). FastAPI's own 422
    (``HTTPValidationError``, a body this API never sends) is replaced."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    error_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error_schema.pop("$defs", {}))
    schemas["ErrorBody"] = error_schema
    for path, path_item in openapi.get("paths", {}).items():
        for method, operation in path_item.items():
            responses = operation.setdefault("responses", {})
            for key, response in list(responses.items()):
                if key[0] in "45" and _codes(response) is None:
                    if key != "422":
                        raise ValueError(f"{key} of {operation['operationId']}: not ErrorBody")
                    del responses[key]  # FastAPI's default 422
            implied = _implied(operation)
            for status, codes in (by_dependency or {}).get(f"{method.upper()} {path}", {}).items():
                implied.setdefault(status, set()).update(codes)
            for status, codes in implied.items():
                note = None
                declared = responses.get(str(status))
                if declared is not None:  # merge: the codes of both, the route's note
                    known = _codes(declared) or set()
                    note = declared["description"][len(_description(status, known)) + 2 :] or None
                    codes = codes | known if codes and known else set()
                responses[str(status)] = _response(status, codes, note)
            operation["responses"] = dict(sorted(responses.items()))


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DecryptionError, _key_mismatch)
    for family in MAY_BE_TRANSIENT:
        app.add_exception_handler(family, _database_error)
    app.add_exception_handler(Exception, _unexpected)
