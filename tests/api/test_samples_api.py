"""``/kits``, ``/shipments``, ``/participants/{id}/kits``, kit worklists and manifests over HTTP:
the site side from collection to the laboratory's receipt, what the laboratory may and may not
see, and the documented answers."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from pebs.store.models import Sample
from pebs.trial.samples import SAMPLE_STATES

Api = Any  # conftest.Api
V1 = "/api/v1"
STUDY = "mypebs-demo"


def _today(api: Api, site: str = "IT-TO") -> str:
    """Today at ``site``, as the services judge a collection or a shipment."""
    return api.db.today(site).isoformat()


def _kit_of(api: Api, study_id: str, role: str = "site_staff") -> str:
    response = api.client.get(f"{V1}/participants/{study_id}/kits", headers=api.bearer(role))
    assert response.status_code == 200, response.text
    (kit,) = response.json()["kits"]
    return kit["kit_id"]


def _collected(api: Api, obj: str = "own") -> tuple[str, str]:
    study_id = api.participant(obj, "risk_based")
    kit_id = _kit_of(api, study_id, "data_manager")
    response = api.client.post(f"{V1}/kits/{kit_id}/collection",
                               json={"collected_on": _today(api, api.SITES[obj])},
                               headers=api.bearer("data_manager"))  # fmt: skip
    assert response.status_code == 200, response.text
    return study_id, kit_id


def _flow(api: Api) -> None:
    """Randomised, collected, shipped, read by the laboratory, received."""
    study_id = api.participant("own", "consented")
    randomised = api.client.post(f"{V1}/participants/{study_id}/allocation",
                                 headers=api.bearer("site_staff"))  # fmt: skip
    assert randomised.status_code == 201, randomised.text
    if randomised.json()["arm"] != "risk-based":
        assert randomised.json()["kit_id"] is None
        study_id = api.participant("own", "risk_based")
    kit_id = _kit_of(api, study_id)
    if randomised.json()["arm"] == "risk-based":
        assert randomised.json()["kit_id"] == kit_id
    staff = api.bearer("site_staff")
    collected = api.client.post(f"{V1}/kits/{kit_id.lower()}/collection",
                                json={"collected_on": _today(api)}, headers=staff)  # fmt: skip
    assert collected.status_code == 200, collected.text
    assert collected.json() == {"kit_id": kit_id, "study_id": study_id,
                                "previous_state": "assigned", "state": "collected",
                                "collected_on": _today(api), "abandoned_reason": None}  # fmt: skip
    shipped = api.client.post(f"{V1}/shipments", json={
        "study": STUDY, "site": "IT-TO", "kit_ids": [kit_id], "shipped_on": _today(api)},
        headers=staff)  # fmt: skip
    assert shipped.status_code == 201, shipped.text
    reference = shipped.json()["reference"]
    assert re.fullmatch(r"IT-TO-S[0-9]{4}", reference)
    assert shipped.json()["kit_ids"] == [kit_id]

    lab = api.bearer("laboratory")
    seen = api.client.get(f"{V1}/kits/{kit_id}", headers=lab)
    assert seen.status_code == 200, seen.text
    assert seen.json()["study_id"] is None
    assert (seen.json()["state"], seen.json()["site"], seen.json()["shipment"]) == (
        "shipped", "IT-TO", reference)  # fmt: skip
    assert study_id not in seen.text
    box = api.client.get(f"{V1}/shipments/{reference}", headers=lab)
    assert box.status_code == 200, box.text
    assert [k["kit_id"] for k in box.json()["kits"]] == [kit_id]
    manifest = api.client.get(
        f"{V1}/manifests/IT-TO", params={"study": STUDY, "shipment": reference}, headers=lab
    )
    assert manifest.status_code == 200, manifest.text
    assert manifest.headers["content-type"].startswith("text/csv")
    assert manifest.headers["content-disposition"] == (
        f'attachment; filename="{reference}-manifest.csv"')  # fmt: skip
    assert list(csv.reader(manifest.text.splitlines())) == [
        ["kit_id", "collected_on", "shipment", "site"],
        [kit_id, _today(api), reference, "IT-TO"],
    ]
    assert study_id not in manifest.text

    received = api.client.post(f"{V1}/shipments/{reference}/receipt", json={}, headers=lab)
    assert received.status_code == 200, received.text
    assert received.json()["received"] == [kit_id]
    assert received.json()["unchanged"] == []
    again = api.client.post(f"{V1}/shipments/{reference}/receipt", json={}, headers=lab)
    assert again.status_code == 409
    assert again.json()["error"] == "conflict"
    assert _kit_of(api, study_id) == kit_id
    mine = api.client.get(f"{V1}/participants/{study_id}/kits", headers=staff).json()
    assert mine["kits"][0]["state"] == "received"


def test_a_kit_from_randomisation_to_the_laboratory_on_each_database(
    api_on_each_database: Api,
) -> None:
    _flow(api_on_each_database)


def test_the_laboratory_never_reaches_a_participant(api: Api) -> None:
    study_id, kit_id = _collected(api)
    lab = api.bearer("laboratory")
    assert api.client.get(f"{V1}/participants/{study_id}/kits", headers=lab).status_code == 404
    assert api.client.get(f"{V1}/participants/{study_id}", headers=lab).status_code == 403
    posted = api.client.post(f"{V1}/kits/{kit_id}/collection", json={"collected_on": _today(api)},
                             headers=lab)  # fmt: skip
    assert posted.status_code == 403
    worklist = api.client.get(
        f"{V1}/worklists/IT-TO/kits", params={"study": STUDY, "on": _today(api)}, headers=lab
    )
    assert worklist.status_code == 403


def test_refusals_name_the_field_or_the_state(api: Api) -> None:
    _study_id, kit_id = _collected(api)
    staff = api.bearer("site_staff")
    tomorrow = (api.db.today("IT-TO") + timedelta(days=2)).isoformat()
    future = api.client.post(f"{V1}/kits/{kit_id}/collection", json={"collected_on": tomorrow},
                             headers=staff)  # fmt: skip
    assert future.status_code == 422
    assert future.json()["fields"] == [{"field": "collected_on",
                                        "message": f"{tomorrow} is in the future"}]  # fmt: skip
    twice = api.client.post(f"{V1}/kits/{kit_id}/collection", json={"collected_on": _today(api)},
                            headers=staff)  # fmt: skip
    assert twice.status_code == 409
    assert "a collected sample cannot collect" in twice.json()["detail"]
    blank = api.client.post(f"{V1}/kits/{kit_id}/abandonment", json={"reason": " "},
                            headers=staff)  # fmt: skip
    assert blank.status_code == 422
    assert blank.json()["fields"][0]["field"] == "reason"
    unknown = api.client.post(f"{V1}/shipments", json={
        "study": STUDY, "site": "IT-TO", "kit_ids": ["MP-00000000X"], "shipped_on": _today(api)},
        headers=staff)  # fmt: skip
    assert unknown.status_code == 404
    repeated = api.client.post(f"{V1}/shipments", json={
        "study": STUDY, "site": "IT-TO", "kit_ids": [kit_id, kit_id], "shipped_on": _today(api)},
        headers=staff)  # fmt: skip
    assert repeated.status_code == 422
    assert repeated.json()["fields"][0]["field"] == "kit_ids"
    elsewhere = api.client.get(f"{V1}/kits/{kit_id}", headers=api.bearer("site_staff"))
    assert elsewhere.status_code == 200
    _, foreign = _collected(api, "other_country")
    assert api.client.get(f"{V1}/kits/{foreign}", headers=staff).status_code == 404


def test_a_failed_kit_is_replaced_and_the_new_one_assigned(api: Api) -> None:
    study_id, kit_id = _collected(api)
    with api.sessions.begin() as session:  # what the laboratory import does to it
        session.execute(update(Sample).where(Sample.kit_id == kit_id).values(state="failed_qc"))
    response = api.client.post(f"{V1}/kits/{kit_id}/recollection",
                               json={"reason": "call rate 0.81"},
                               headers=api.bearer("site_investigator"))  # fmt: skip
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["failed_kit_id"], body["failed_state"]) == (kit_id, "recollection_requested")
    lists = api.client.get(f"{V1}/worklists/IT-TO/kits", params={"study": STUDY, "on": _today(api)},
                           headers=api.bearer("monitor"))  # fmt: skip
    assert lists.status_code == 200
    due = lists.json()["recollections_due"]
    assert {"kit_id": body["kit_id"], "replaces": kit_id, "study_id": study_id} == {
        k: next(e for e in due if e["kit_id"] == body["kit_id"])[k]
        for k in ("kit_id", "replaces", "study_id")
    }


def test_a_receipt_time_must_carry_its_offset(api: Api) -> None:
    _, kit_id = _collected(api)
    reference = api.client.post(f"{V1}/shipments", json={
        "study": STUDY, "site": "IT-TO", "kit_ids": [kit_id], "shipped_on": _today(api)},
        headers=api.bearer("site_staff")).json()["reference"]  # fmt: skip
    lab = api.bearer("laboratory")
    for value in ("2025-03-24T09:30:00", 0, "yesterday"):
        response = api.client.post(f"{V1}/shipments/{reference}/receipt",
                                   json={"received_at": value}, headers=lab)  # fmt: skip
        assert response.status_code == 422, (value, response.text)
        assert response.json()["fields"][0]["field"] == "received_at"
    later = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
    assert api.client.post(f"{V1}/shipments/{reference}/receipt", json={"received_at": later},
                           headers=lab).status_code == 422  # fmt: skip
    now = datetime.now(UTC).isoformat()
    done = api.client.post(f"{V1}/shipments/{reference}/receipt", json={"received_at": now},
                           headers=lab)  # fmt: skip
    assert done.status_code == 200, done.text


def test_kit_states_are_enumerated_in_the_schema(api: Api) -> None:
    schemas = api.client.get("/api/openapi.json").json()["components"]["schemas"]
    for name in ("KitView", "ParticipantKit", "ShipmentKit", "KitWorklistEntry", "KitMoved"):
        assert schemas[name]["properties"]["state"]["enum"] == list(SAMPLE_STATES), name
    # the pathway of pebs.trial.samples, in order
    assert list(SAMPLE_STATES) == ["assigned", "collected", "shipped", "received", "genotyped",
                                   "failed_qc", "recollection_requested", "abandoned"]  # fmt: skip
    allocated = schemas["Allocated"]["properties"]["kit_id"]
    assert {"type": "null"} in allocated["anyOf"]


def test_shipments_are_listed_newest_first_in_the_callers_sites(api: Api) -> None:
    boxes = []
    for obj in ("own", "other_country", "own"):
        _, kit_id = _collected(api, obj)
        shipped = api.client.post(f"{V1}/shipments", json={
            "study": STUDY, "site": api.SITES[obj], "kit_ids": [kit_id],
            "shipped_on": _today(api, api.SITES[obj])},
            headers=api.bearer("data_manager"))  # fmt: skip
        assert shipped.status_code == 201, shipped.text
        boxes.append(shipped.json()["reference"])
    lab = api.client.get(f"{V1}/shipments", params={"study": STUDY, "open_only": "true"},
                         headers=api.bearer("laboratory"))  # fmt: skip
    assert lab.status_code == 200, lab.text
    listed = [row["reference"] for row in lab.json()["rows"]]
    assert listed[:3] == boxes[::-1]  # all shipped today: the latest recorded first
    row = lab.json()["rows"][0]
    assert row == {"reference": boxes[2], "site": "IT-TO", "shipped_on": _today(api),
                   "received_at": None, "n_kits": 1}  # fmt: skip
    staff = api.client.get(f"{V1}/shipments", params={"study": STUDY},
                           headers=api.bearer("site_staff")).json()  # fmt: skip
    assert {row["site"] for row in staff["rows"]} == {"IT-TO"}
    assert boxes[1] not in {row["reference"] for row in staff["rows"]}
    refused = api.client.get(f"{V1}/shipments", params={"study": STUDY, "site": "FR-PA"},
                             headers=api.bearer("site_staff"))  # fmt: skip
    assert refused.status_code == 404
    received = api.client.post(f"{V1}/shipments/{boxes[2]}/receipt", json={},
                               headers=api.bearer("laboratory"))  # fmt: skip
    assert received.status_code == 200, received.text
    still_open = api.client.get(f"{V1}/shipments", params={"study": STUDY, "open_only": "true"},
                                headers=api.bearer("laboratory")).json()  # fmt: skip
    assert boxes[2] not in {row["reference"] for row in still_open["rows"]}
