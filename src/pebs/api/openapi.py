"""The OpenAPI schema as the API behaves: FastAPI's generated document, refined once.

:func:`install_openapi` makes ``app.openapi()`` return the generated document with

- the error responses of :func:`~pebs.api.errors.document_errors` (one body, every status,
  those of the dependencies each route takes included: :mod:`pebs.api.dependency_errors`);
- the vocabularies of :mod:`pebs.api.vocabularies` (``enum`` on enumerated fields);
- the security of session-only operations (marked :data:`SESSION_ONLY`): the session cookie
  alone, since an API token is refused there;
- the links of :data:`LINKS`: from the response that creates an object to every operation that
  takes its identifier (a client, or a stateful test, can follow them).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from pebs.api.dependency_errors import dependency_errors
from pebs.api.errors import document_errors
from pebs.api.vocabularies import document_vocabularies

__all__ = ["LINKS", "SESSION_ONLY", "install_openapi", "refine"]

_SESSION_MARK = "x-session-only"
SESSION_ONLY: dict[str, Any] = {_SESSION_MARK: True}
"""``openapi_extra`` of a route that needs the session cookie (an API token is refused)."""

LINKS: tuple[tuple[str, str, str, str], ...] = (
    ("POST /api/v1/participants", "201", "study_id", "/study_id"),
    ("GET /api/v1/participants", "200", "study_id", "/rows/0/study_id"),
    ("POST /api/v1/auth/tokens", "201", "token_id", "/info/id"),
    ("POST /api/v1/allocation-lists", "201", "list_id", "/list_id"),
)
"""(operation, status, path parameter, JSON pointer into that response's body): a link to every
operation with that path parameter."""

_LINK_BODIES: dict[tuple[str, str], dict[str, str]] = {
    ("POST /api/v1/allocation-lists", "POST /api/v1/allocation-lists/{list_id}/verification"): {
        "seed": "$response.body#/seed"
    },
}
"""Request bodies of links (source, target): the verification of a new list sends its seed."""


def _operations(openapi: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": operation
        for path, item in openapi["paths"].items()
        for method, operation in item.items()
    }


def _session_only(openapi: dict[str, Any]) -> None:
    cookies = [
        {name: []}
        for name, scheme in openapi["components"].get("securitySchemes", {}).items()
        if scheme.get("in") == "cookie"
    ]
    for operation in _operations(openapi).values():
        if operation.pop(_SESSION_MARK, False):
            operation["security"] = cookies


def _link_name(target: str) -> str:
    """``POST /api/v1/participants/{study_id}/allocation`` -> ``post_participants_allocation``."""
    method, path = target.split(" ", 1)
    words = [w for w in path.split("/")[3:] if w and not w.startswith("{")]
    return "_".join([method.lower(), *words])


def _links(openapi: dict[str, Any]) -> None:
    operations = _operations(openapi)
    for source, status, parameter, pointer in LINKS:
        response = operations[source]["responses"][status]
        links = response.setdefault("links", {})
        for target, operation in operations.items():
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            if parameter not in names or names - {parameter}:
                continue
            link: dict[str, Any] = {
                "operationId": operation["operationId"],
                "parameters": {parameter: f"$response.body#{pointer}"},
            }
            if (source, target) in _LINK_BODIES:
                link["requestBody"] = _LINK_BODIES[source, target]
            links[_link_name(target)] = link
        if not links:
            raise ValueError(f"{source}: no operation takes the path parameter {parameter!r}")


def refine(
    openapi: dict[str, Any], by_dependency: dict[str, dict[int, set[str]]] | None = None
) -> None:
    """Apply the refinements of the module docstring to a generated document (in place);
    ``by_dependency``: the errors each operation's dependencies bring (``"METHOD /path"`` ->
    status -> codes)."""
    document_errors(openapi, by_dependency)
    document_vocabularies(openapi)
    _session_only(openapi)
    _links(openapi)


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the refined document (built once, on first use)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            try:
                refine(generate(), dependency_errors(app.routes))
            except Exception:
                app.openapi_schema = None
                raise
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
