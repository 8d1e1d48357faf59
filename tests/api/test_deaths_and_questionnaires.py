"""Deaths and questionnaire responses through the API: happy paths, refusals, field errors.

Expected values are the specification's (questionnaires at 0, 3, 12 and 48 months; a death
ends the pathway). Who may call each route is checked by the
authorisation matrix.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

Api = Any  # conftest.Api
V1 = "/api/v1"


def _days(api: Api, n: int) -> str:
    """Today + n days at IT-TO (the Italian sites' date)."""
    return (api.db.today("IT-TO") + timedelta(days=n)).isoformat()


def _fields(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_input"
    return [f["field"] for f in response.json()["fields"]]


def test_recording_a_death_ends_the_pathway(api: Api) -> None:
    staff = api.bearer("site_staff")
    study_id = api.participant("own", "standard")
    url = f"{V1}/participants/{study_id}/death"
    assert _fields(api.client.post(url, json={"cause": "other"}, headers=staff)) == [
        "date_of_death"
    ]
    future = api.client.post(
        url, json={"date_of_death": _days(api, 2), "cause": "other"}, headers=staff
    )
    assert future.status_code == 422
    assert future.json()["detail"].startswith("date_of_death: ")
    unknown = api.client.post(
        url, json={"date_of_death": _days(api, 0), "cause": "old age"}, headers=staff
    )
    assert unknown.status_code == 422
    detail = unknown.json()["detail"]
    assert detail.startswith("cause: 'old age' is unknown")
    assert all(c in detail for c in ("breast_cancer", "other_cancer", "other", "unknown"))
    bad_code = api.client.post(
        url,
        json={"date_of_death": _days(api, 0), "cause": "breast_cancer", "cause_icd10": "C"},
        headers=staff,
    )
    assert bad_code.status_code == 422
    assert bad_code.json()["detail"].startswith("cause_icd10: ")
    body = {"date_of_death": _days(api, 0), "cause": "breast_cancer", "cause_icd10": "C50.9"}
    recorded = api.client.post(url, json=body, headers=staff)
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["pathway_state"] == "died"
    assert (recorded.json()["date_of_death"], recorded.json()["cause"]) == (
        body["date_of_death"],
        "breast_cancer",
    )
    summary = api.client.get(f"{V1}/participants/{study_id}", headers=staff).json()
    assert summary["status"] == "died"
    assert api.client.post(url, json=body, headers=staff).status_code == 409
    after = api.client.post(
        f"{V1}/participants/{study_id}/questionnaires",
        headers=staff,
        json={
            "instrument": "EQ-5D-5L",
            "timepoint_months": 3,
            "answers": {"mobility": 2},
            "completed_on": _days(api, 0),
        },
    )
    assert after.status_code == 409
    events = api.client.get(f"{V1}/participants/{study_id}/audit-events", headers=staff).json()
    assert [e["entity"] for e in events if e["action"] == "record"] == ["death"]


def test_questionnaires_once_per_instrument_and_time_point(api: Api) -> None:
    staff = api.bearer("site_investigator")
    study_id = api.participant("own", "consented")
    url = f"{V1}/participants/{study_id}/questionnaires"
    body = {
        "instrument": "EQ-5D-5L",
        "timepoint_months": 0,
        "answers": {"mobility": 1, "anxiety_depression": 2, "vas": 85, "self_care": None},
        "completed_on": _days(api, 0),
    }
    first = api.client.post(url, json=body, headers=staff)
    assert first.status_code == 201, first.text
    assert {
        k: first.json()[k] for k in ("study_id", "instrument", "timepoint_months", "completed_on")
    } == {
        "study_id": study_id,
        "instrument": "EQ-5D-5L",
        "timepoint_months": 0,
        "completed_on": body["completed_on"],
    }
    duplicate = api.client.post(url, json=body, headers=staff)
    assert duplicate.status_code == 409
    assert "already recorded" in duplicate.json()["detail"]
    later = api.client.post(url, json={**body, "timepoint_months": 3}, headers=staff)
    assert later.status_code == 201
    stai = {"item_1": 2, "item_6": 4}
    other = api.client.post(
        url, json={**body, "instrument": "STAI-6 demo", "answers": stai}, headers=staff
    )
    assert other.status_code == 201, other.text
    events = api.client.get(f"{V1}/participants/{study_id}/audit-events", headers=staff).json()
    answers = [e["new"]["answers"] for e in events if e["entity"] == "questionnaire_response"]
    assert answers == [body["answers"], body["answers"], stai]  # stored as sent, nulls too


def test_questionnaire_errors_name_the_field(api: Api) -> None:
    staff = api.bearer("country_coordinator")
    study_id = api.participant("same_country", "consented")
    url = f"{V1}/participants/{study_id}/questionnaires"
    body = {
        "instrument": "EQ-5D-5L",
        "timepoint_months": 12,
        "answers": {"mobility": 1},
        "completed_on": _days(api, 0),
    }
    six = api.client.post(url, json={**body, "timepoint_months": 6}, headers=staff)
    assert six.status_code == 422
    assert six.json()["detail"] == "timepoint_months: 6 is not a time point; allowed: 0, 3, 12, 48"
    assert _fields(api.client.post(url, json={**body, "answers": {}}, headers=staff)) == ["answers"]
    assert _fields(api.client.post(url, json={**body, "instrument": ""}, headers=staff)) == [
        "instrument"
    ]
    assert _fields(api.client.post(url, json={**body, "surprise": 1}, headers=staff)) == [
        "surprise"
    ]
    future = api.client.post(url, json={**body, "completed_on": _days(api, 2)}, headers=staff)
    assert future.status_code == 422
    assert future.json()["detail"].startswith("completed_on: ")
    not_consented = api.participant("same_country", "eligible")
    early = api.client.post(
        f"{V1}/participants/{not_consented}/questionnaires", json=body, headers=staff
    )
    assert early.status_code == 409
