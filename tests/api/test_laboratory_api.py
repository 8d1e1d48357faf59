"""The laboratory API: batch uploads (multipart, with their own body limit), reports, conflicts.

Roles per route are in the authorisation matrix; here, what the routes answer.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from factories import DEMO_ACCOUNTS
from lab_factories import Lab, dosages
from pebs.api.routers.laboratory import MAX_UPLOAD_BYTES
from pebs.services.actor import actor_for


@pytest.fixture(scope="module")
def lab(api, tmp_path_factory) -> Lab:
    """Kits made through the services in the API's database."""
    sessions = api.sessions
    return Lab(sessions, api.db.keys, api.db.manager,
               actor_for(sessions, DEMO_ACCOUNTS["site_staff"]), api.db.manager,
               tmp_path_factory.mktemp("lab"))  # fmt: skip


def _upload(api, path: Path, role: str = "laboratory", **form):
    with path.open("rb") as stream:
        files = {"file": (path.name, stream, "application/octet-stream")}
        return api.client.post("/api/v1/lab/batches", data={"study": api.STUDY, **form},
                               files=files, headers=api.bearer(role))  # fmt: skip


def test_an_upload_stores_the_batch_and_reports_kit_ids(api, lab: Lab) -> None:
    good, bad = lab.shipped(2)
    path = lab.file({good: dosages(0), bad: dosages(1, no_calls=70)}, name="plate7.vcf")

    dry = _upload(api, path, dry_run="true")
    assert dry.status_code == 200, dry.text
    assert (dry.json()["dry_run"], dry.json()["reference"]) == (True, None)

    response = _upload(api, path)
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["kits"]["accepted"] == [good]
    assert report["kits"]["failed_qc"] == [bad]
    assert report["counts"] == dry.json()["counts"]
    assert report["file_name"] == "plate7.vcf"
    assert "IT-TO-" not in response.text  # no study ID, ever

    stored = api.client.get(f"/api/v1/lab/batches/{report['reference']}",
                            headers=api.bearer("laboratory"))  # fmt: skip
    assert stored.status_code == 200
    assert stored.json() == report

    again = _upload(api, path)
    assert again.status_code == 200
    assert again.json()["kits"]["unchanged"] == [good, bad]
    assert again.json()["previous_imports"] == [report["reference"]]


def test_an_unusable_file_is_refused_naming_the_file(api, lab: Lab) -> None:
    path = lab.tmp / "notes.vcf"
    path.write_text("not a VCF\n", encoding="utf-8")
    response = _upload(api, path)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_input"
    assert [f["field"] for f in response.json()["fields"]] == ["file"]


def test_the_upload_route_takes_bodies_over_the_general_limit(api, lab: Lab) -> None:
    [kit] = lab.shipped()
    path = lab.file({kit: dosages(0)})
    padding = "".join(f"##comment={'x' * 1000}\n" for _ in range(2100))  # about 2 MB
    padded = lab.tmp / "padded.vcf"
    padded.write_text(padding + path.read_text(encoding="utf-8"), encoding="utf-8")
    assert padded.stat().st_size > api.settings.max_body_bytes
    assert _upload(api, padded).status_code == 201
    other = api.client.post("/api/v1/auth/tokens", content=b"[" + b" " * padded.stat().st_size,
                            headers={**api.bearer("laboratory"),
                                     "Content-Type": "application/json"})  # fmt: skip
    assert other.status_code == 413  # the general limit still holds everywhere else


def test_a_body_declared_over_the_upload_limit_is_refused_unread(api) -> None:
    response = api.client.post(
        "/api/v1/lab/batches", content=io.BytesIO(b"x" * 10).read(),
        headers={**api.bearer("laboratory"), "Content-Length": str(MAX_UPLOAD_BYTES + 1),
                 "Content-Type": "multipart/form-data; boundary=x"},
    )  # fmt: skip
    assert response.status_code == 413
    assert f"{MAX_UPLOAD_BYTES:,} bytes" in response.json()["detail"]


def test_conflicts_are_listed_and_resolved(api, lab: Lab) -> None:
    [kit] = lab.shipped()
    for seed in (0, 1):
        assert _upload(api, lab.file({kit: dosages(seed)})).status_code == 201
    listed = api.client.get("/api/v1/lab/conflicts", headers=api.bearer("data_manager")).json()
    [conflict] = [c for c in listed if c["kit_id"] == kit]
    assert conflict["prs_z"] != conflict["stored_prs_z"]
    response = api.client.post(f"/api/v1/lab/conflicts/{kit}/resolution",
                               json={"keep": "new", "reason": "plate swap in run 1"},
                               headers=api.bearer("data_manager"))  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["accepted_result_id"] == conflict["result_id"]
    assert response.json()["superseded"] == [conflict["stored_result_id"]]
    again = api.client.post(f"/api/v1/lab/conflicts/{kit}/resolution",
                            json={"keep": "new", "reason": "again"},
                            headers=api.bearer("data_manager"))  # fmt: skip
    assert again.status_code == 404


def test_stored_batches_are_listed_latest_first_with_their_counts(api, lab: Lab) -> None:
    headers = api.bearer("laboratory")
    before = api.client.get("/api/v1/lab/batches", params={"study": api.STUDY},
                            headers=headers).json()["total"]  # fmt: skip
    first, second = lab.shipped(2)
    older = _upload(api, lab.file({first: dosages(0)}, name="run-a.vcf"))
    newer = _upload(api, lab.file({second: dosages(2), "MP-NOTAKIT0": dosages(1)},
                                  name="run-b.vcf"))  # fmt: skip
    assert (older.status_code, newer.status_code) == (201, 201)
    page = api.client.get("/api/v1/lab/batches", params={"study": api.STUDY, "limit": 1},
                          headers=headers)  # fmt: skip
    assert page.status_code == 200, page.text
    body = page.json()
    assert [row["reference"] for row in body["rows"]] == [newer.json()["reference"]]
    (row,) = body["rows"]
    assert (row["file_name"], row["file_sha256"]) == ("run-b.vcf", newer.json()["file_sha256"])
    assert row["counts"]["accepted"] == 1
    assert row["counts"]["unknown_kit"] == 1
    assert sum(row["counts"].values()) == 2
    assert body["next_after"] == newer.json()["reference"]
    following = api.client.get("/api/v1/lab/batches", params={
        "study": api.STUDY, "limit": 1, "after": body["next_after"]},
        headers=headers).json()  # fmt: skip
    assert [r["reference"] for r in following["rows"]] == [older.json()["reference"]]
    # every stored batch (the two uploads and any earlier test's), on every page
    assert (body["total"], following["total"]) == (before + 2, before + 2)
    unknown = api.client.get("/api/v1/lab/batches", params={
        "study": api.STUDY, "after": "LB-20250101-AAAAAA"}, headers=headers)  # fmt: skip
    assert unknown.status_code == 422
    assert [f["field"] for f in unknown.json()["fields"]] == ["after"]
