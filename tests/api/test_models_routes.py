"""``GET /api/v1/models`` and ``/api/v1/models/{card_id}``: the model cards over the API, their
exact OpenAPI schema, 404 with the error body for an unknown id, 401 without a login. Which roles
may call them (every logged-in role) is checked by the authorisation matrix."""

from __future__ import annotations

from typing import Any

from pebs.risk import cards, gail, personalised

Api = Any  # conftest.Api
V1 = "/api/v1"
IDS = ["gail", "icare", *(f"personalised-{c}" for c in
                          ("BE", "ES", "FR", "IL", "IT", "UK", "UK_ENG", "US"))]  # fmt: skip


def test_list_gives_one_line_per_shipped_model(api: Api) -> None:
    response = api.client.get(f"{V1}/models", headers=api.bearer("site_staff"))
    assert response.status_code == 200, response.text
    lines = response.json()
    assert [line["id"] for line in lines] == IDS
    assert set(lines[0]) == {"id", "name", "version", "kind", "country", "population_short",
                             "summary"}  # fmt: skip
    assert lines[0]["version"] == gail.MODEL_VERSION
    france = lines[IDS.index("personalised-FR")]
    assert (france["country"], france["version"]) == ("FR", personalised.MODEL_VERSION)


def test_one_card_is_the_whole_card(api: Api) -> None:
    response = api.client.get(f"{V1}/models/personalised-fr", headers=api.bearer("monitor"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == cards.as_dict(cards.card("personalised-FR"))
    assert body["id"] == "personalised-FR"
    assert [row["band"] for row in body["calibration"]["table"]] == [
        f"{a}-{a + 4}" for a in range(40, 75, 5)]  # fmt: skip
    assert body["ages"] == {"from_age": 40, "below_age": 80, "note": body["ages"]["note"]}


def test_unknown_card_is_404_with_the_error_body(api: Api) -> None:
    response = api.client.get(f"{V1}/models/canrisk", headers=api.bearer("administrator"))
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "not_found"
    assert "'canrisk'" in body["detail"]
    assert "gail, icare, personalised-BE" in body["detail"]
    too_long = api.client.get(f"{V1}/models/{'x' * 65}", headers=api.bearer("administrator"))
    assert too_long.status_code == 422
    assert too_long.json()["error"] == "invalid_input"


def test_a_login_is_required(api: Api) -> None:
    api.client.cookies.clear()
    for path in (f"{V1}/models", f"{V1}/models/gail"):
        response = api.client.get(path)
        assert response.status_code == 401
        assert response.json()["error"] == "not_authenticated"


def test_openapi_schema_is_the_card(api: Api) -> None:
    schema = api.client.get("/api/openapi.json").json()
    components = schema["components"]["schemas"]
    card = components["ModelCard"]
    assert list(card["properties"]) == list(cards.describe_fields())
    for name, doc in cards.describe_fields().items():
        assert card["properties"][name]["description"] == doc
    assert set(card["required"]) == set(cards.describe_fields())
    inputs = components["CardInput"]["properties"]
    assert inputs["missing"]["description"] == "How an unknown value is handled"
    operation = schema["paths"]["/api/v1/models/{card_id}"]["get"]
    success = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert success == {"$ref": "#/components/schemas/ModelCard"}
    listing = schema["paths"]["/api/v1/models"]["get"]["responses"]["200"]
    assert listing["content"]["application/json"]["schema"]["items"] == {
        "$ref": "#/components/schemas/CardSummary"}  # fmt: skip
