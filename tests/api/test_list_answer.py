"""The participant list's answer: written by orjson, the same bytes as pydantic writes its
response model (what FastAPI sends for a route that returns its result)."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from factories import DEMO_ACCOUNTS
from pebs.services.actor import actor_for
from pebs.services.records import ParticipantPage, list_participants

Api = Any  # conftest.Api
V1 = "/api/v1"


def test_the_list_answers_the_bytes_of_its_response_model(api_on_each_database: Api) -> None:
    api = api_on_each_database
    for state in ("registered", "standard", "risk_based"):
        api.participant("own", state)
    api.participant("other_country", "standard")
    staff = api.bearer("site_staff")
    body = {"study": api.STUDY, "site": "IT-TO", "name": "Ada Verdi", "birth_date": "1968-02-29"}
    assert api.client.post(f"{V1}/participants", json=body, headers=staff).status_code == 201
    writer = TypeAdapter(ParticipantPage)
    for role, params in (("data_manager", {"limit": 3}), ("data_manager", {"arm": "standard"}),
                         ("site_staff", {}), ("site_staff", {"status": "completed"})):  # fmt: skip
        response = api.client.get(f"{V1}/participants", params=params, headers=api.bearer(role))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        actor = actor_for(api.sessions, DEMO_ACCOUNTS[role])
        page = list_participants(api.sessions, actor, **params)
        assert response.content == writer.dump_json(page)
    rows = api.client.get(f"{V1}/participants", headers=api.bearer("data_manager")).json()["rows"]
    assert {row["arm"] for row in rows} >= {None, "standard", "risk-based"}
    assert all(row["registered_at"].endswith("Z") for row in rows)
