"""``POST /participants/{id}/risk-assessment``: absent inputs are refused (422 naming each),
"unknown" is an answer listed in the response, and a lower level needs a confirmation (409).

Expectations: the demo study requires every input (its ``[risk_assessment]`` section); the level
order is low < average < high < very_high (MyPeBS, NCT03672331).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from pebs.risk.personalised import assess, country_model
from pebs.store.models import Participant, RiskAssessment

V1 = "/api/v1"
ALL_INPUTS = ["n_biopsies", "atypical_hyperplasia", "age_at_menarche", "age_at_first_birth",
              "n_relatives", "density", "prs_z"]  # fmt: skip
CLASSICAL = ["n_biopsies", "age_at_menarche", "age_at_first_birth", "n_relatives"]
HIGH = {"n_biopsies": 1, "atypical_hyperplasia": False, "age_at_menarche": 11,
        "age_at_first_birth": 32, "n_relatives": 1, "density": "c", "prs_z": 1.0}  # fmt: skip
LOW = {"n_biopsies": 0, "age_at_menarche": 15, "age_at_first_birth": 20, "n_relatives": 0,
       "density": "a", "prs_z": -2.0}  # fmt: skip


def _post(api: Any, study_id: str, body: dict) -> Any:
    return api.client.post(f"{V1}/participants/{study_id}/risk-assessment", json=body,
                           headers=api.bearer("site_staff"))  # fmt: skip


def _n_assessments(api: Any, study_id: str) -> int:
    with api.sessions() as session:
        return session.scalar(
            select(func.count()).select_from(RiskAssessment).join(Participant)
            .where(Participant.study_id == study_id)
        )  # fmt: skip


def _model_level(body: dict, age: int = 55) -> str:
    birth = body.get("age_at_first_birth")
    result = assess(
        country_model("IT"), age=[age], n_biopsies=[body["n_biopsies"]],
        atypical_hyperplasia=[body.get("atypical_hyperplasia")],
        age_at_menarche=[body["age_at_menarche"]], age_at_first_birth=[birth],
        n_relatives=[body["n_relatives"]], density=[body["density"]], prs_z=[body["prs_z"]],
    )  # fmt: skip
    return str(result.level[0])


def test_an_empty_body_is_refused_naming_every_absent_input(api: Any) -> None:
    study_id = api.participant("own", "risk_based")
    response = _post(api, study_id, {})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_input"
    assert [f["field"] for f in body["fields"]] == ALL_INPUTS
    assert all("not answered" in f["message"] for f in body["fields"])
    nulls = _post(api, study_id, {**HIGH, "density": None, "prs_z": None})
    assert nulls.status_code == 422
    assert [f["field"] for f in nulls.json()["fields"]] == ["density", "prs_z"]
    assert _n_assessments(api, study_id) == 0


def test_no_classical_factor_known_is_refused(api: Any) -> None:
    study_id = api.participant("own", "risk_based")
    body = dict.fromkeys(CLASSICAL, "unknown") | {"atypical_hyperplasia": "unknown",
                                                   "density": "b", "prs_z": 0.3}  # fmt: skip
    response = _post(api, study_id, body)
    assert response.status_code == 422, response.text
    assert sorted(f["field"] for f in response.json()["fields"]) == sorted(CLASSICAL)
    assert "no classical risk factor is known" in response.json()["detail"]
    for message in [f["message"] for f in response.json()["fields"]] + [response.json()["detail"]]:
        # The four named as this API names them, not as the model's CSV columns are.
        assert all(re.search(rf"\b{name}\b", message) for name in CLASSICAL), message
        assert not re.search(r"\b(age_menarche|age_first_birth|n_first_degree_relatives)\b",
                             message), message  # fmt: skip
    assert _n_assessments(api, study_id) == 0


def test_a_model_refusal_names_the_inputs_as_the_api_does(api: Any) -> None:
    study_id = api.participant("own", "risk_based")
    # A first birth before her first period: both within their own bounds, refused by the model.
    response = _post(api, study_id, {**HIGH, "age_at_menarche": 14, "age_at_first_birth": 12})
    assert response.status_code == 422, response.text
    [refused] = response.json()["fields"]
    assert refused["field"] == "age_at_first_birth"
    assert "age_at_first_birth must be between age_at_menarche and age" in refused["message"]
    assert "age_at_first_birth must be between age_at_menarche" in response.json()["detail"]
    assert _n_assessments(api, study_id) == 0


def test_unknown_answers_are_listed_and_their_components_are_null(api: Any) -> None:
    study_id = api.participant("own", "risk_based")
    body = {**HIGH, "n_biopsies": "unknown", "atypical_hyperplasia": "unknown",
            "density": "unknown"}  # fmt: skip
    response = _post(api, study_id, body)
    assert response.status_code == 201, response.text
    result = response.json()
    # Hyperplasia is not listed: with the number of biopsies unknown, the model cannot know
    # that she had one (its rule counts hyperplasia as unknown only after a biopsy).
    assert result["unknown_inputs"] == ["n_biopsies", "density"]
    assert result["rr_classical"] is None
    assert result["rr_density"] is None
    assert result["rr_prs"] == pytest.approx(1.61, rel=1e-9)
    assert result["provisional"] is False
    assert result["risk_5y_pct"] == pytest.approx(result["risk_5y"] * 100)


def test_first_birth_nulliparous_and_the_deprecated_flag(api: Any) -> None:
    study_id = api.participant("own", "risk_based")
    answered = _post(api, study_id, {**HIGH, "age_at_first_birth": "nulliparous"})
    assert answered.status_code == 201, answered.text
    again = _post(api, study_id, {**HIGH, "age_at_first_birth": None, "nulliparous": True,
                                  "prs_z": 1.2})  # fmt: skip
    assert again.status_code == 201, again.text
    assert again.json()["unknown_inputs"] == []
    both = _post(api, study_id, {**HIGH, "nulliparous": True})
    assert both.status_code == 422
    assert [f["field"] for f in both.json()["fields"]] == ["nulliparous"]


def test_a_lower_level_is_refused_until_confirmed_with_a_reason(api: Any) -> None:
    assert (_model_level(HIGH), _model_level(LOW)) == ("high", "low")  # the set-up
    study_id = api.participant("own", "risk_based")
    first = _post(api, study_id, HIGH)
    assert first.status_code == 201, first.text
    assert first.json()["level"] == "high"
    for extra in ({}, {"confirm_lower": True}, {"reason": "density re-read"},
                  {"confirm_lower": True, "reason": " "}):  # fmt: skip
        refused = _post(api, study_id, {**LOW, **extra})
        assert refused.status_code == 409, (extra, refused.text)
        body = refused.json()
        assert body["error"] == "level_lowered"
        assert (body["previous_level"], body["new_level"]) == ("high", "low")
        assert _n_assessments(api, study_id) == 1
    confirmed = _post(
        api,
        study_id,
        {**LOW, "confirm_lower": True, "reason": "density re-read by a second radiologist"},
    )
    assert confirmed.status_code == 201, confirmed.text
    assert (confirmed.json()["level"], confirmed.json()["previous_level"]) == ("low", "high")
    events = api.client.get(f"{V1}/participants/{study_id}/audit-events",
                            headers=api.bearer("site_staff")).json()  # fmt: skip
    assessed = [e for e in events if e["entity"] == "risk_assessment"]
    assert assessed[-1]["reason"] == "density re-read by a second radiologist"
    assert assessed[-1]["new"]["lowered_from"] == "high"
    assert assessed[-1]["new"]["confirm_lower"] is True
    assert assessed[-1]["old"]["level"] == "high"


def test_the_route_documents_its_refusals(api: Any) -> None:
    schema = api.client.get("/api/openapi.json").json()
    responses = schema["paths"][f"{V1}/participants/{{study_id}}/risk-assessment"]["post"][
        "responses"
    ]
    documented = responses["409"]["content"]["application/json"]["schema"]
    assert "level_lowered" in documented["properties"]["error"]["enum"]
    lowered = documented["allOf"][0]["$ref"]
    properties = schema["components"]["schemas"][lowered.rsplit("/", 1)[1]]["properties"]
    assert {"previous_level", "new_level", "error", "detail"} <= set(properties)
    assert "422" in responses
    recorded = schema["components"]["schemas"]["RiskRecorded"]["properties"]
    assert {"unknown_inputs", "provisional", "rr_classical"} <= set(recorded)
