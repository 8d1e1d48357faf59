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

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter

from pebs.http import threads

__all__ = ["Router", "in_one_hop"]


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
