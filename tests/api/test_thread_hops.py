"""A request takes one trip to the thread pool: its route's work. Dependencies that only read
what the app already holds run on the event loop, and so do the validation and serialisation of
the route's answer (:mod:`pebs.api.routers._router`). A credential is looked up in the database
in one more trip, and a bearer token accepted within the last few seconds needs none (its
principal is remembered)."""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
from typing import Any

import anyio
import anyio.to_thread
import pytest

from pebs.api import routers
from pebs.api.routers._router import Router, in_one_hop
from pebs.http import threads
from pebs.services.actor import actor_for
from pebs.services.auth.principal_cache import cache_for

Api = Any  # conftest.Api
V1 = "/api/v1"


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of what runs in a worker thread, in order: through :func:`~pebs.http.threads.
    in_thread` or through anyio (FastAPI's own trips, for a plain ``def`` dependency or route)."""
    seen: list[str] = []

    def name(func: Any) -> str:
        named = func.func if isinstance(func, functools.partial) else func
        return getattr(named, "__name__", repr(named))

    async def counting_anyio(func: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(name(func))
        return await run_sync(func, *args, **kwargs)

    async def counting(func: Any, /, *args: Any, **kwargs: Any) -> Any:
        seen.append(name(func))
        return await in_thread(func, *args, **kwargs)

    run_sync, in_thread = anyio.to_thread.run_sync, threads.in_thread
    monkeypatch.setattr(anyio.to_thread, "run_sync", counting_anyio)
    monkeypatch.setattr(threads, "in_thread", counting)
    return seen


def _forget(api: Api, role: str) -> None:
    """Make the app look the role's token up again (as after the memory's few seconds)."""
    user_id = actor_for(api.sessions, api.ROLES[role]).user_id
    cache_for(api.client.app.state.pebs.readers.kw["bind"]).forget_user(user_id)


def test_listing_participants_hops_to_authenticate_then_only_for_the_list(
    api: Api, hops: list[str]
) -> None:
    _forget(api, "data_manager")
    for expected in (["authenticate", "list_"], ["list_"]):
        hops.clear()
        response = api.client.get(f"{V1}/participants?limit=5", headers=api.bearer("data_manager"))
        assert response.status_code == 200, response.text
        assert hops == expected


def test_registering_hops_to_authenticate_then_only_to_register(api: Api, hops: list[str]) -> None:
    _forget(api, "site_staff")
    for expected, name in ((["authenticate", "register"], "Ada"), (["register"], "Bea")):
        hops.clear()
        body = {"study": api.STUDY, "site": "IT-TO", "name": name, "birth_date": "1969-05-02"}
        response = api.client.post(f"{V1}/participants", json=body,
                                   headers=api.bearer("site_staff"))  # fmt: skip
        assert response.status_code == 201, response.text
        assert hops == expected


def test_an_enrolment_step_and_a_refusal_take_one_trip(api: Api, hops: list[str]) -> None:
    body = {"study": api.STUDY, "site": "IT-TO", "name": "Cleo", "birth_date": "1969-05-02"}
    headers = api.bearer("site_staff")
    study_id = api.client.post(f"{V1}/participants", json=body, headers=headers).json()["study_id"]
    hops.clear()
    response = api.client.post(f"{V1}/participants/{study_id}/consent", json={"language": "it"},
                               headers=headers)  # fmt: skip
    assert response.status_code == 409, response.text  # not yet eligible: refused by the use case
    assert hops == ["consent"]


def test_a_refused_token_is_checked_in_one_hop_every_time(api: Api, hops: list[str]) -> None:
    unknown = {"Authorization": "Bearer pebs_t_x"}
    for _ in range(2):
        hops.clear()
        response = api.client.get(f"{V1}/participants", headers=unknown)
        assert response.status_code == 401
        assert hops == ["authenticate"]


def test_every_route_module_takes_one_trip_per_request() -> None:
    """Each module of :mod:`pebs.api.routers` registers its routes on a :class:`Router`."""
    names = [m.name for m in pkgutil.iter_modules(routers.__path__) if not m.name.startswith("_")]
    assert len(names) > 20
    plain = [name for name in names
             if not isinstance(importlib.import_module(f"{routers.__name__}.{name}").router,
                               Router)]  # fmt: skip
    assert plain == []


def test_a_plain_route_becomes_one_trip_with_its_own_signature() -> None:
    def route(study_id: str, limit: int = 5) -> dict[str, object]:
        """Her page."""
        return {"study_id": study_id, "limit": limit}

    async def already() -> None:
        return None

    hop = in_one_hop(route)
    assert inspect.iscoroutinefunction(hop)
    assert inspect.signature(hop) == inspect.signature(route)
    assert (hop.__name__, hop.__doc__) == ("route", "Her page.")
    assert in_one_hop(already) is already
    assert anyio.run(functools.partial(hop, study_id="IT-TO-000001")) == {
        "study_id": "IT-TO-000001", "limit": 5}  # fmt: skip
