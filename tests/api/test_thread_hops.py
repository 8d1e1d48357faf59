"""Dependencies that only read what the app already holds run on the event loop: a request's
one trip to the thread pool before its route is the authentication (a database lookup)."""

from __future__ import annotations

from typing import Any

import fastapi.dependencies.utils as fastapi_dependencies
import pytest

Api = Any  # conftest.Api
V1 = "/api/v1"


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the dependencies FastAPI runs in the thread pool, in order."""
    seen: list[str] = []
    original = fastapi_dependencies.run_in_threadpool

    async def counting(func: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(func, "__name__", repr(func)))
        return await original(func, *args, **kwargs)

    monkeypatch.setattr(fastapi_dependencies, "run_in_threadpool", counting)
    return seen


def test_listing_participants_hops_once_to_authenticate(api: Api, hops: list[str]) -> None:
    response = api.client.get(f"{V1}/participants?limit=5", headers=api.bearer("data_manager"))
    assert response.status_code == 200, response.text
    assert hops == ["get_principal"]


def test_registering_hops_once_to_authenticate(api: Api, hops: list[str]) -> None:
    body = {"study": api.STUDY, "site": "IT-TO", "name": "Ada", "birth_date": "1969-05-02"}
    response = api.client.post(f"{V1}/participants", json=body, headers=api.bearer("site_staff"))
    assert response.status_code == 201, response.text
    assert hops == ["get_principal"]


def test_a_refused_token_is_still_checked_in_that_one_hop(api: Api, hops: list[str]) -> None:
    response = api.client.get(f"{V1}/participants", headers={"Authorization": "Bearer pebs_t_x"})
    assert response.status_code == 401
    assert hops == ["get_principal"]
