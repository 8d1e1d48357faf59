"""Dependencies that only read what the app already holds run on the event loop. The one trip to
the thread pool before a route is the credential's database lookup, and a bearer token accepted
within the last few seconds needs none (its principal is remembered)."""

from __future__ import annotations

from typing import Any

import fastapi.dependencies.utils as fastapi_dependencies
import pytest

import pebs.api.deps as api_deps
from pebs.services.actor import actor_for
from pebs.services.auth.principal_cache import cache_for

Api = Any  # conftest.Api
V1 = "/api/v1"


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of what runs in the thread pool before the route, in order."""
    seen: list[str] = []

    def counting(original: Any) -> Any:
        async def run(func: Any, *args: Any, **kwargs: Any) -> Any:
            seen.append(getattr(func, "__name__", repr(func)))
            return await original(func, *args, **kwargs)

        return run

    for module in (fastapi_dependencies, api_deps):
        monkeypatch.setattr(module, "run_in_threadpool", counting(module.run_in_threadpool))
    return seen


def _forget(api: Api, role: str) -> None:
    """Make the app look the role's token up again (as after the memory's few seconds)."""
    user_id = actor_for(api.sessions, api.ROLES[role]).user_id
    cache_for(api.client.app.state.pebs.readers.kw["bind"]).forget_user(user_id)


def test_listing_participants_hops_once_to_authenticate_then_not(api: Api, hops: list[str]) -> None:
    _forget(api, "data_manager")
    for expected in (["authenticate"], []):
        hops.clear()
        response = api.client.get(f"{V1}/participants?limit=5", headers=api.bearer("data_manager"))
        assert response.status_code == 200, response.text
        assert hops == expected


def test_registering_hops_once_to_authenticate_then_not(api: Api, hops: list[str]) -> None:
    _forget(api, "site_staff")
    for expected, name in ((["authenticate"], "Ada"), ([], "Bea")):
        hops.clear()
        body = {"study": api.STUDY, "site": "IT-TO", "name": name, "birth_date": "1969-05-02"}
        response = api.client.post(f"{V1}/participants", json=body,
                                   headers=api.bearer("site_staff"))  # fmt: skip
        assert response.status_code == 201, response.text
        assert hops == expected


def test_a_refused_token_is_checked_in_one_hop_every_time(api: Api, hops: list[str]) -> None:
    unknown = {"Authorization": "Bearer pebs_t_x"}
    for _ in range(2):
        hops.clear()
        response = api.client.get(f"{V1}/participants", headers=unknown)
        assert response.status_code == 401
        assert hops == ["authenticate"]
