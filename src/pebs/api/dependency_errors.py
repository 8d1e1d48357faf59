"""The error statuses an operation may answer because of a dependency it takes.

A dependency of :data:`~pebs.http.deps.DEPENDENCY_ERRORS` (the identity keys: 503
``identity_key_mismatch``; the state and the database sessions: 503 ``database_busy``) or of
:data:`~pebs.api.deps.AUTHENTICATION_ERRORS` (the caller, looked up in the database: 503
``database_busy``) brings its error to every route that takes it, directly or through another
dependency, whatever the route itself refuses. :func:`dependency_errors` finds them in
each route's dependency tree, for :func:`~pebs.api.errors.document_errors`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fastapi import routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from pebs.api.deps import AUTHENTICATION_ERRORS
from pebs.http.deps import DEPENDENCY_ERRORS

__all__ = ["dependency_errors"]


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _as_documented(routes: Iterable[BaseRoute]) -> Iterator[Any]:
    """The routes as FastAPI documents them: recent versions keep an included router whole in
    the app's routes (``iter_route_contexts`` gives each of its routes, prefix applied); older
    ones list every route of the routers included."""
    contexts = getattr(routing, "iter_route_contexts", None)
    return iter(routes) if contexts is None else contexts(list(routes))


def dependency_errors(routes: Iterable[BaseRoute]) -> dict[str, dict[int, set[str]]]:
    """``"METHOD /path"`` (as the OpenAPI document names its operations) -> status -> error
    codes, for each documented route of the app's ``routes`` that takes a dependency of
    :data:`~pebs.http.deps.DEPENDENCY_ERRORS` or :data:`~pebs.api.deps.AUTHENTICATION_ERRORS`."""
    by_call = {**DEPENDENCY_ERRORS, **AUTHENTICATION_ERRORS}
    found: dict[str, dict[int, set[str]]] = {}
    for route in _as_documented(routes):
        original = getattr(route, "original_route", route)
        if not isinstance(original, APIRoute) or not route.include_in_schema:
            continue
        errors: dict[int, set[str]] = {}
        for call in set(_calls(route.dependant)):
            if call in by_call:
                status, code = by_call[call]
                errors.setdefault(status, set()).add(code)
        if errors:
            for method in route.methods:
                found[f"{method} {route.path_format}"] = errors
    return found
