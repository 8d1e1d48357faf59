"""Allocation lists (generate, verify), manual allocation and unusable slots through the API.

Expected values come from the specification (``docs/trial/randomisation.md``: a 1:1 list of
blocks of 2, 4 or 6 ends at the first block end at or after the requested length) and from the
core generator :func:`pebs.trial.generate_list`, which the API and the services do not
re-implement (it is tested against an independent re-implementation of the written algorithm in
``tests/trial``). Who may call each route is checked by the authorisation matrix.
"""

from __future__ import annotations

from typing import Any

from pebs.trial import generate_list

Api = Any  # conftest.Api
V1 = "/api/v1"
BIG_SEED = "297512341234567890123456789012345678901"
"""39 digits, below 2**128: a JavaScript number would round it, the API must not."""
GENERATED_KEYS = {
    "list_id",
    "study",
    "version",
    "is_test",
    "algorithm",
    "algorithm_version",
    "seed",
    "sha256",
    "n_strata",
    "n_slots",
}


def _fields(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_input"
    return [f["field"] for f in response.json()["fields"]]


def test_statistician_generates_a_list_and_sees_only_its_seal(api: Api) -> None:
    body = {
        "study": api.STUDY,
        "slots_per_stratum": 10,
        "strata": ["IT-TO:40-49", "FR-PA:40-49"],
        "seed": BIG_SEED,
    }
    response = api.client.post(
        f"{V1}/allocation-lists", json=body, headers=api.bearer("statistician")
    )
    assert response.status_code == 201, response.text
    generated = response.json()
    assert set(generated) == GENERATED_KEYS  # no slots, arms, positions or blocks
    assert generated["seed"] == BIG_SEED
    expected = generate_list({"IT-TO:40-49": 10, "FR-PA:40-49": 10}, int(BIG_SEED))
    assert generated["sha256"] == expected.sha256
    assert generated["n_strata"] == 2
    # each stratum: whole 1:1 blocks (even sizes) until >= 10 slots, so 10, 12, 14 or 16 slots
    assert 20 <= generated["n_slots"] <= 32
    assert generated["n_slots"] % 2 == 0
    assert generated["is_test"] is False
    again = api.client.post(f"{V1}/allocation-lists", json=body, headers=api.bearer("statistician"))
    assert again.status_code == 409
    assert "seed" in again.json()["detail"]


def test_a_fresh_seed_is_returned_and_verifies_the_list(api: Api) -> None:
    statistician = api.bearer("statistician")
    body = {"study": api.STUDY, "slots_per_stratum": 6, "strata": ["IT-MI:60-70"], "is_test": True}
    generated = api.client.post(f"{V1}/allocation-lists", json=body, headers=statistician).json()
    assert generated["seed"].isdigit()
    assert int(generated["seed"]) > 2**64  # 128 random bits; below 2**64 with probability 2**-64
    assert generated["is_test"] is True
    url = f"{V1}/allocation-lists/{generated['list_id']}/verification"
    verified = api.client.post(url, json={"seed": generated["seed"]}, headers=statistician)
    assert verified.status_code == 200
    assert verified.json() == {
        "matches": True,
        "sha256_of_list": generated["sha256"],
        "sha256_regenerated": generated["sha256"],
        "problems": [],
    }
    wrong = api.client.post(
        url, json={"seed": str(int(generated["seed"]) + 1)}, headers=statistician
    ).json()
    assert wrong["matches"] is False
    assert wrong["sha256_of_list"] == generated["sha256"]
    assert wrong["sha256_regenerated"] != generated["sha256"]
    assert wrong["problems"]
    missing = api.client.post(
        f"{V1}/allocation-lists/999999/verification", json={"seed": "1"}, headers=statistician
    )
    assert missing.status_code == 404


def test_list_requests_are_validated_field_by_field(api: Api) -> None:
    statistician = api.bearer("statistician")
    post = api.client.post
    good = {"study": api.STUDY, "slots_per_stratum": 4, "strata": ["IT-TO:50-59"]}
    assert _fields(
        post(f"{V1}/allocation-lists", json={**good, "slots_per_stratum": 0}, headers=statistician)
    ) == ["slots_per_stratum"]
    for seed in ("-1", "12a", "1" * 40, 7):
        assert _fields(
            post(f"{V1}/allocation-lists", json={**good, "seed": seed}, headers=statistician)
        ) == ["seed"], seed
    unknown = post(
        f"{V1}/allocation-lists", json={**good, "strata": ["IT-TO:20-29"]}, headers=statistician
    )
    assert unknown.status_code == 422
    assert unknown.json()["detail"].startswith("strata: unknown stratum 'IT-TO:20-29'")
    nope = post(f"{V1}/allocation-lists", json={**good, "study": "nope"}, headers=statistician)
    assert nope.status_code == 404
    assert _fields(
        post(f"{V1}/allocation-lists/1/verification", json={}, headers=statistician)
    ) == ["seed"]
    # the edges that are allowed: the largest seed the pattern takes, a stratum named twice
    edge = {**good, "seed": "9" * 39, "strata": ["IT-TO:50-59"] * 2, "is_test": True}
    generated = post(f"{V1}/allocation-lists", json=edge, headers=statistician)
    assert generated.status_code == 201, generated.text
    assert (generated.json()["seed"], generated.json()["n_strata"]) == ("9" * 39, 1)


def test_data_manager_allocates_by_hand_with_reason_and_confirmation(api: Api) -> None:
    manager, staff = api.bearer("data_manager"), api.bearer("site_staff")
    study_id = api.participant("own", "consented")
    url = f"{V1}/participants/{study_id}/allocation/override"
    body = {"arm": "risk-based", "reason": "randomised on paper during an outage"}
    unconfirmed = api.client.post(url, json={**body, "confirm": False}, headers=manager)
    assert unconfirmed.status_code == 422
    assert unconfirmed.json()["detail"].startswith("confirm: ")
    assert _fields(
        api.client.post(url, json={"arm": "standard", "confirm": True}, headers=manager)
    ) == ["reason"]
    blank = api.client.post(url, json={**body, "reason": "  ", "confirm": True}, headers=manager)
    assert blank.status_code == 422
    assert blank.json()["detail"].startswith("reason: ")
    summary = api.client.get(f"{V1}/participants/{study_id}", headers=staff).json()
    assert (summary["status"], summary["arm"]) == ("consented", None)  # refusals changed nothing
    done = api.client.post(url, json={**body, "confirm": True}, headers=manager)
    assert done.status_code == 200, done.text
    assert (done.json()["arm"], done.json()["method"]) == ("risk-based", "override")
    summary = api.client.get(f"{V1}/participants/{study_id}", headers=staff).json()
    assert (summary["status"], summary["arm"]) == ("randomised_risk_based", "risk-based")
    assert summary["strata_locked"] is True
    same = api.client.post(url, json={**body, "confirm": True}, headers=manager)
    assert same.status_code == 409
    corrected = api.client.post(
        url,
        json={**body, "arm": "standard", "confirm": True, "reason": "wrong arm keyed"},
        headers=manager,
    )
    assert corrected.status_code == 200
    assert corrected.json()["arm"] == "standard"
    events = api.client.get(f"{V1}/participants/{study_id}/audit-events", headers=staff).json()
    overrides = [(e["reason"], e["new"]["arm"]) for e in events if e["action"] == "override"]
    assert overrides == [
        ("randomised on paper during an outage", "risk-based"),
        ("wrong arm keyed", "standard"),
    ]


def test_statistician_marks_an_unused_slot_unusable_once(api: Api) -> None:
    statistician = api.bearer("statistician")
    slot_id = api.slot_ids(api.training_list("same_country").list_id)[0]
    url = f"{V1}/allocation-slots/{slot_id}/unusable"
    unconfirmed = api.client.post(url, json={"reason": "seen on a printout"}, headers=statistician)
    assert _fields(unconfirmed) == ["confirm"]
    refused = api.client.post(
        url, json={"reason": "seen on a printout", "confirm": False}, headers=statistician
    )
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("confirm: ")
    marked = api.client.post(
        url, json={"reason": "seen on a printout", "confirm": True}, headers=statistician
    )
    assert marked.status_code == 200
    assert marked.json() == {"slot_id": slot_id, "reason": "seen on a printout"}
    twice = api.client.post(url, json={"reason": "again", "confirm": True}, headers=statistician)
    assert twice.status_code == 409
    assert "already unusable" in twice.json()["detail"]
    nowhere = api.client.post(
        f"{V1}/allocation-slots/{2**31 - 1}/unusable",
        json={"reason": "x", "confirm": True},
        headers=statistician,
    )
    assert nowhere.status_code == 404
    assert _fields(
        api.client.post(
            f"{V1}/allocation-slots/0/unusable",
            json={"reason": "x", "confirm": True},
            headers=statistician,
        )
    ) == ["slot_id"]


def test_the_new_routes_on_sqlite_and_postgresql(api_on_each_database: Api) -> None:
    """Every route of this issue's second part once on each database, and text that PostgreSQL
    cannot store (NUL) refused with the field's name instead of failing in the database."""
    api = api_on_each_database
    statistician, manager = api.bearer("statistician"), api.bearer("data_manager")
    post = api.client.post
    body = {"study": api.STUDY, "slots_per_stratum": 4, "strata": ["FR-PA:60-70"]}
    generated = post(f"{V1}/allocation-lists", json=body, headers=statistician)
    assert generated.status_code == 201, generated.text
    list_id, seed = generated.json()["list_id"], generated.json()["seed"]
    verified = post(
        f"{V1}/allocation-lists/{list_id}/verification", json={"seed": seed}, headers=statistician
    )
    assert verified.json()["matches"] is True
    slot_id = api.slot_ids(list_id)[0]
    confirmed = {"reason": "revealed", "confirm": True}
    assert (
        post(
            f"{V1}/allocation-slots/{slot_id}/unusable", json=confirmed, headers=statistician
        ).status_code
        == 200
    )
    nul = post(
        f"{V1}/allocation-slots/{api.slot_ids(list_id)[1]}/unusable",
        json={**confirmed, "reason": "a\x00b"},
        headers=statistician,
    )
    assert _fields(nul) == ["reason"]
    assert "NUL" in nul.json()["detail"]
    study_id = api.participant("other_country", "consented")
    today = api.db.today("FR-PA").isoformat()
    override = post(
        f"{V1}/participants/{study_id}/allocation/override",
        json={**confirmed, "arm": "standard"},
        headers=manager,
    )
    assert override.status_code == 200, override.text
    answers = {
        "instrument": "EQ-5D-5L",
        "timepoint_months": 0,
        "completed_on": today,
        "answers": {"mobility": 1, "vas": 70},
    }
    questionnaire = post(
        f"{V1}/participants/{study_id}/questionnaires", json=answers, headers=manager
    )
    assert questionnaire.status_code == 201, questionnaire.text
    assert _fields(
        post(
            f"{V1}/participants/{study_id}/questionnaires",
            json={**answers, "instrument": "x\x00"},
            headers=manager,
        )
    ) == ["instrument"]
    withdrawal = post(  # an older route: its text fields refuse NUL the same way
        f"{V1}/participants/{study_id}/withdrawal",
        json={"level": "no_further_contact", "reason": "moved\x00away"},
        headers=manager,
    )
    assert _fields(withdrawal) == ["reason"]
    death = post(
        f"{V1}/participants/{study_id}/death",
        json={"date_of_death": today, "cause": "unknown"},
        headers=manager,
    )
    assert death.status_code == 201, death.text
    assert death.json()["pathway_state"] == "died"
