"""The risk questionnaire, the density with a visit and the risk-pending worklist over HTTP.

Expectations: the demo study requires every input (``[risk_assessment]`` of
``src/pebs/trial/studies/mypebs-demo.toml``), so without the PRS nothing is computed and the
worklist says that the PRS is missing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

V1 = "/api/v1"
ANSWERS = {"n_biopsies": 1, "atypical_hyperplasia": False, "age_at_menarche": 11,
           "age_at_first_birth": 32, "n_relatives": 1}  # fmt: skip


def _yesterday(api: Any) -> str:
    """Yesterday at IT-TO (the site roles' site)."""
    return (api.db.today("IT-TO") - timedelta(days=1)).isoformat()


def _pending(api: Any, **params) -> dict[str, dict]:
    response = api.client.get(f"{V1}/worklists/risk-pending",
                              params={"study": api.STUDY, "on": api.db.today("IT-TO").isoformat(),
                                      **params},
                              headers=api.bearer("site_staff"))  # fmt: skip
    assert response.status_code == 200, response.text
    return {entry["study_id"]: entry for entry in response.json()["entries"]}


def test_questionnaire_and_density_leave_her_waiting_for_the_prs(api: Any) -> None:
    study_id = api.participant("own", "risk_based")
    assert _pending(api)[study_id]["missing"] == ["questionnaire", "density", "prs"]
    response = api.client.post(f"{V1}/participants/{study_id}/risk-questionnaire",
                               json={**ANSWERS, "answered_on": _yesterday(api)},
                               headers=api.bearer("site_staff"))  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.json()["risk_level"] is None
    assert response.json()["missing"] == ["density", "prs"]
    visit = {"performed_date": _yesterday(api), "visit_type": "screening",
             "modality": "mammography", "birads": 1, "density": "c",
             "density_reader": "Dr Radiologist"}  # fmt: skip
    response = api.client.post(f"{V1}/participants/{study_id}/visits", json=visit,
                               headers=api.bearer("site_staff"))  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.json()["risk_level"] is None
    entry = _pending(api, site="IT-TO")[study_id]
    assert entry["missing"] == ["prs"]
    assert entry["held"] is None


def test_measured_inputs_are_not_questionnaire_answers(api: Any) -> None:
    study_id = api.participant("own", "risk_based")
    response = api.client.post(f"{V1}/participants/{study_id}/risk-questionnaire",
                               json={**ANSWERS, "density": "c", "answered_on": _yesterday(api)},
                               headers=api.bearer("site_staff"))  # fmt: skip
    assert response.status_code == 422, response.text
    assert [f["field"] for f in response.json()["fields"]] == ["density"]


def test_a_density_reader_is_limited_and_needed(api: Any) -> None:
    study_id = api.participant("own", "risk_based")
    visit = {"performed_date": _yesterday(api), "visit_type": "screening",
             "modality": "mammography", "density": "b"}  # fmt: skip
    for extra in ({"density_reader": "x" * 201}, {}):
        response = api.client.post(f"{V1}/participants/{study_id}/visits",
                                   json={**visit, **extra},
                                   headers=api.bearer("site_staff"))  # fmt: skip
        assert response.status_code == 422, response.text
        assert [f["field"] for f in response.json()["fields"]] == ["density_reader"]
