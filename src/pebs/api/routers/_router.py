"""The API's router: a route's blocking work in one trip to the thread pool.

FastAPI runs a plain ``def`` route in the thread pool and then, in a second trip, validates its
result against the route's ``response_model``; each trip (a hand-over to a worker thread and the
wake-up of the event loop) costs more than validating and serialising a page of results.
:class:`Router` registers a plain ``def`` route as an ``async def`` that runs the function in
the thread pool once: FastAPI then validates and serialises its result on the event loop, as
for any ``async def`` route (the result is already an instance of the model: validation takes
microseconds). The route's parameters, dependencies, response model and OpenAPI description are
the function's own (:func:`in_one_hop` keeps its signature), so the schema is unchanged.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.routing import APIRoute

from pebs.api.deps import AS_RUN
from pebs.http import threads

__all__ = ["ApiRoute", "Router", "in_one_hop"]


def in_one_hop(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint`` as an ``async def`` that runs it in the thread pool (one trip); an ``async
    def`` or a generator (FastAPI streams those itself) is returned unchanged."""
    if (
        inspect.iscoroutinefunction(endpoint)
        or inspect.isgeneratorfunction(endpoint)
        or inspect.isasyncgenfunction(endpoint)
    ):
        return endpoint

    @functools.wraps(endpoint)  # FastAPI reads the parameters through ``__wrapped__``
    async def one_hop(**arguments: Any) -> Any:
        return await threads.in_thread(endpoint, **arguments)

    return one_hop


class Router(APIRouter):
    """An :class:`~fastapi.APIRouter` whose plain ``def`` routes take one trip to the thread
    pool (:func:`in_one_hop`)."""

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().add_api_route(path, in_one_hop(endpoint), **kwargs)


def _as_run(dependant: Dependant) -> Dependant:
    """``dependant`` with each dependency of :data:`~pebs.api.deps.AS_RUN` replaced by its
    counterpart (same name and caching, so the route's arguments are the same)."""
    replaced = []
    for sub in dependant.dependencies:
        runs = AS_RUN.get(sub.call) if sub.call is not None else None
        if runs is None:
            replaced.append(_as_run(sub))
        else:
            replaced.append(get_dependant(path=sub.path or "", call=runs, name=sub.name,
                                          use_cache=sub.use_cache, scope=sub.scope,
                                          concurrency=sub.concurrency))  # fmt: skip
    return dataclasses.replace(dependant, dependencies=replaced)


class ApiRoute(APIRoute):
    """An :class:`~fastapi.routing.APIRoute` that runs the dependencies of
    :data:`~pebs.api.deps.AS_RUN` as their counterparts; :attr:`dependant` (what the schema
    and the dependency checks read) stays as declared."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        declared = self.dependant
        self.dependant = _as_run(declared)
        try:
            return super().get_route_handler()
        finally:
            self.dependant = declared
