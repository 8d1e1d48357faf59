"""Bad input through the API: a clear 4xx, the field named, and nothing stored.

- text that no database can store (a lone surrogate, sent as the JSON escape ``\\ud800``; the
  NUL character) in identifying data, a death cause, a histology detail, questionnaire answers;
- a body over ``PEBS_MAX_BODY_BYTES`` (1 MiB by default) and JSON nested deeper than
  ``PEBS_MAX_JSON_DEPTH`` (32);
- questionnaire answers outside the study's instruments (the demo study file defines
  ``STAI-6 demo``, items 1-4, and ``EQ-5D-5L``, dimensions 1-5 and a VAS 0-100);
- identifying data that the configured identity key cannot open.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import func, select

from pebs.services.storable_text import unstorable
from pebs.store.models import Base

Api = Any  # conftest.Api
V1 = "/api/v1"
SURROGATE, NUL = "\ud800", "a\x00b"


def _day(api: Api, n: int = 0) -> str:
    """``n`` days from today at IT-TO (the site roles' site)."""
    return (api.db.today("IT-TO") + timedelta(days=n)).isoformat()


def _post_json(api: Api, path: str, body: Any, headers: dict[str, str]):
    """POST ``body`` as JSON text with Python's escapes (``\\ud800`` for a lone surrogate)."""
    content = json.dumps(body)
    return api.client.post(
        f"{V1}{path}", content=content, headers={**headers, "Content-Type": "application/json"}
    )


def _rows(api: Api) -> dict[str, int]:
    with api.sessions() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
            if table.name not in ("auth_sessions", "api_tokens", "login_failures")
        }


def _refused(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_input"
    return [f["field"] for f in response.json()["fields"]]


def test_text_that_cannot_be_stored_is_refused_with_its_field(api_on_each_database: Api) -> None:
    api = api_on_each_database
    staff = api.bearer("site_staff")
    standard, consented = api.participant("own", "standard"), api.participant("own", "consented")
    for bad in (SURROGATE, NUL):
        cases = [
            ("/participants", {"study": api.STUDY, "site": "IT-TO", "name": "Anna",
                               "birth_date": "1970-01-15", "contact": bad}, "contact"),
            ("/participants", {"study": api.STUDY, "site": "IT-TO", "name": f"Anna {bad}",
                               "birth_date": "1970-01-15"}, "name"),
            (f"/participants/{standard}/death",
             {"date_of_death": _day(api), "cause": f"other{bad}"}, "cause"),
            (f"/participants/{standard}/visits",
             {"performed_date": _day(api, -1), "visit_type": "recall", "modality": "mammography",
              "biopsy": True, "histology": "benign", "histology_detail": f"fibroadenoma {bad}"},
             "histology_detail"),
            (f"/participants/{consented}/questionnaires",
             {"instrument": "STAI-6 demo", "timepoint_months": 0, "completed_on": _day(api),
              "answers": {"item_1": 2, f"item{bad}": 3}}, "answers"),
        ]  # fmt: skip
        before = _rows(api)
        for path, body, field in cases:
            response = _post_json(api, path, body, staff)
            assert _refused(response) == [field], (path, bad)
            assert response.json()["detail"].startswith(f"{field}: ")
            # the use case's words, whether the use case or the request's model refused it
            assert response.json()["fields"][0]["message"].endswith(unstorable(bad)), (path, bad)
        assert _rows(api) == before  # nothing stored, no audit event
    # the same requests with storable text are accepted (the refusals were about the text)
    death = {"date_of_death": _day(api), "cause": "other"}
    assert _post_json(api, f"/participants/{standard}/death", death, staff).status_code == 201


def test_text_in_a_search_is_checked_too(api: Api) -> None:
    """PostgreSQL refuses NUL in a query's parameters as much as in stored text."""
    response = api.client.get(f"{V1}/participants?q=IT%00", headers=api.bearer("data_manager"))
    assert _refused(response) == ["search"]


def test_a_body_over_the_limit_is_refused_and_not_stored(api: Api) -> None:
    staff = api.bearer("site_staff")
    study_id = api.participant("own", "consented")
    path = f"{V1}/participants/{study_id}/questionnaires"
    body = {"instrument": "EQ-5D-5L", "timepoint_months": 0, "completed_on": _day(api),
            "answers": {"mobility": 1, "note": "x" * (1024 * 1024)}}  # fmt: skip
    before = _rows(api)
    declared = api.client.post(path, json=body, headers=staff)
    assert declared.status_code == 413, declared.text
    assert declared.json()["error"] == "payload_too_large"
    assert "1,048,576 bytes" in declared.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        text = json.dumps(body).encode()
        for start in range(0, len(text), 64 * 1024):
            yield text[start : start + 64 * 1024]

    streamed = api.client.post(
        path, content=chunks(), headers={**staff, "Content-Type": "application/json"}
    )
    assert streamed.status_code == 413, streamed.text
    assert _rows(api) == before


def test_json_nested_too_deep_is_refused_and_her_record_stays_readable(api: Api) -> None:
    staff = api.bearer("site_staff")
    study_id = api.participant("own", "consented")
    deep: Any = 1
    for _ in range(300):
        deep = [deep]
    body = {"instrument": "EQ-5D-5L", "timepoint_months": 0, "completed_on": _day(api),
            "answers": {"mobility": deep}}  # fmt: skip
    before = _rows(api)
    response = api.client.post(
        f"{V1}/participants/{study_id}/questionnaires", json=body, headers=staff
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_input"
    assert "nested more than 32 levels" in response.json()["detail"]
    assert _rows(api) == before
    events = api.client.get(f"{V1}/participants/{study_id}/audit-events", headers=staff)
    assert events.status_code == 200


def test_questionnaire_answers_must_fit_the_study_instrument(api: Api) -> None:
    staff = api.bearer("site_investigator")
    study_id = api.participant("own", "consented")
    path = f"{V1}/participants/{study_id}/questionnaires"
    body = {"instrument": "STAI-6 demo", "timepoint_months": 0, "completed_on": _day(api),
            "answers": {"item_1": 2}}  # fmt: skip
    before = _rows(api)
    unknown = api.client.post(path, json={**body, "instrument": "SF-36"}, headers=staff)
    assert _refused(unknown) == ["instrument"]
    detail = unknown.json()["detail"]
    assert "'SF-36' is not an instrument" in detail
    assert "instruments: STAI-6 demo, EQ-5D-5L" in detail
    items = api.client.post(
        path, json={**body, "answers": {"item_1": 2, "walking": 1, "notes": "x"}}, headers=staff
    )
    assert _refused(items) == ["answers.walking", "answers.notes"]
    assert "items: item_1, item_2, item_3, item_4, item_5, item_6" in items.json()["detail"]
    wrong = {"item_1": "3", "item_2": 5, "item_3": 2.5, "item_4": True, "item_5": [1]}
    typed = api.client.post(path, json={**body, "answers": wrong}, headers=staff)
    assert sorted(_refused(typed)) == [f"answers.item_{i}" for i in range(1, 6)]
    messages = {f["field"]: f["message"] for f in typed.json()["fields"]}
    assert messages["answers.item_2"] == "must be a whole number from 1 to 4, got 5"
    assert messages["answers.item_1"] == "must be a whole number from 1 to 4, got '3'"
    vas = api.client.post(path, json={**body, "instrument": "EQ-5D-5L",
                                      "answers": {"vas": 101}}, headers=staff)  # fmt: skip
    assert _refused(vas) == ["answers.vas"]
    assert _rows(api) == before
    answers = {"item_1": 1, "item_2": 4, "item_6": None}
    accepted = api.client.post(path, json={**body, "answers": answers}, headers=staff)
    assert accepted.status_code == 201, accepted.text


def test_identifying_data_the_key_cannot_open_is_a_clear_error(api: Api) -> None:
    study_id = api.participant("own", "registered")
    other_key = Fernet.generate_key().decode()
    with api.client_with_identity_key(other_key) as client:
        response = client.get(
            f"{V1}/participants/{study_id}/identity", headers=api.bearer("site_staff")
        )
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "identity_key_mismatch"
    detail = response.json()["detail"]
    assert "identity key (PEBS_IDENTITY_KEY) does not match" in detail
    assert other_key not in detail
