"""``/participants/{study_id}/canrisk`` over HTTP: upload (multipart, as the laboratory's batch
upload), dry run, refusals by line, the download and its schema.

The file is written here from the CanRisk v4 specification (her line without a year of birth,
her parents, her mother affected at an unknown age); expected answers are read off it.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

V1 = "/api/v1"
DATA = Path(__file__).resolve().parents[1] / "data" / "canrisk"
COLUMNS = ("FamID\tName\tTarget\tIndivID\tFathID\tMothID\tSex\tMZtwin\tDead\tAge\tYob\tBC1\tBC2"
           "\tOC\tPRO\tPAN\tAshkn\tBRCA1\tBRCA2\tPALB2\tATM\tCHEK2\tBARD1\tRAD51D\tRAD51C\tBRIP1"
           "\tHOXB13\tER:PR:HER2:CK14:CK56")  # fmt: skip
UNTESTED = "\t".join(["0:0"] * 10 + ["0:0:0:0:0"])


def _file(*header: str) -> bytes:
    lines = ["##CanRisk 4.0", *header, "##" + COLUMNS,
             f"F1\tNA\t1\tPB\tPF\tPM\tF\t0\t0\t55\t0\t0\t0\t0\t0\t0\t0\t{UNTESTED}",
             f"F1\tNA\t0\tPF\t0\t0\tM\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t{UNTESTED}",
             f"F1\tNA\t0\tPM\t0\t0\tF\t0\t0\t0\t0\tAU\t0\t0\t0\t0\t0\t{UNTESTED}"]  # fmt: skip
    return ("\n".join(lines) + "\n").encode()


def _her(api: Any) -> str:
    """A woman of the risk-based arm with her questionnaire recorded."""
    study_id = api.participant("own", "risk_based")
    yesterday = (api.db.today("IT-TO") - timedelta(days=1)).isoformat()
    answers = {"n_biopsies": 0, "age_at_menarche": 14, "age_at_first_birth": 30,
               "n_relatives": 0, "answered_on": yesterday}  # fmt: skip
    response = api.client.post(f"{V1}/participants/{study_id}/risk-questionnaire", json=answers,
                               headers=api.bearer("site_staff"))  # fmt: skip
    assert response.status_code == 201, response.text
    return study_id


def _post(api: Any, study_id: str, data: bytes, **form: str) -> Any:
    return api.client.post(f"{V1}/participants/{study_id}/canrisk", data=form,
                           files={"file": ("her.txt", data, "text/plain")},
                           headers=api.bearer("site_staff"))  # fmt: skip


def test_an_upload_records_her_questionnaire(api: Any) -> None:
    study_id = _her(api)
    checked = _post(api, study_id, _file("##menarche=12", "##parity=0"), dry_run="true")
    assert checked.status_code == 200, checked.text
    assert checked.json()["dry_run"] is True
    assert checked.json()["questionnaire_id"] is None
    stored = _post(api, study_id, _file("##menarche=12", "##parity=0"))
    assert stored.status_code == 201, stored.text
    body = stored.json()
    assert body["answers"] == {"n_biopsies": 0, "atypical_hyperplasia": None,
                               "age_at_menarche": 12, "age_at_first_birth": "nulliparous",
                               "n_relatives": 1}  # fmt: skip
    assert body["relatives"] == [{"relation": "mother", "age_at_diagnosis": None}]
    assert body["missing"] == ["density", "prs"]


def test_a_bad_file_is_422_naming_its_lines(api: Any) -> None:
    study_id = _her(api)
    response = _post(api, study_id, (DATA / "male_target.txt").read_bytes())
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_input"
    assert [f["field"] for f in body["fields"]] == ["file.line_3.Sex"]
    too_large = _post(api, study_id, _file() + b"#" * (256 * 1024))
    assert too_large.status_code == 422
    assert "larger than 262,144 bytes" in too_large.json()["detail"]
    assert _post(api, study_id, _file(), answered_on="03/03/2025").status_code == 422


def test_a_file_of_another_year_of_birth_is_409(api: Any) -> None:
    study_id = _her(api)
    data = _file("##menarche=12").replace(b"\t55\t0\t0\t", b"\t55\t1901\t0\t", 1)
    response = _post(api, study_id, data)
    assert response.status_code == 409, response.text
    assert "1901" in response.json()["detail"]


def test_the_download_is_her_file(api: Any) -> None:
    study_id = _her(api)
    response = api.client.get(f"{V1}/participants/{study_id}/canrisk",
                              headers=api.bearer("site_staff"))  # fmt: skip
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/tab-separated-values")
    assert f'filename="{study_id}.canrisk.txt"' in response.headers["content-disposition"]
    lines = response.text.splitlines()
    assert lines[:3] == ["##CanRisk 4.0", "##menarche=14", "##first_live_birth=30"]
    assert lines[4].split("\t")[:4] == [study_id, "NA", "1", "PB"]


def test_the_schema_describes_both_routes(api: Any) -> None:
    paths = api.client.get("/api/openapi.json").json()["paths"]
    operations = paths["/api/v1/participants/{study_id}/canrisk"]
    assert "text/tab-separated-values" in operations["get"]["responses"]["200"]["content"]
    upload = operations["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert {"200", "201", "409", "422"} <= set(operations["post"]["responses"])
    assert "$ref" in upload or "properties" in upload
