"""The monitoring routes: a locked form refuses a visit update with 409 (never 500), the
signature's manifestation is on her API record and void after a change, a wrong password or
code is 401, a locked study refuses registration; documented answers only."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from pebs.services.auth.totp import code_at
from pebs.services.trial import create_screening_plan


def _yesterday(api) -> str:
    """Yesterday at IT-TO (the site roles' site)."""
    return (api.db.today("IT-TO") - timedelta(days=1)).isoformat()


def _planned_visit(api, study_id: str) -> int:
    create_screening_plan(api.sessions, api.db.manager, api.db.keys, study_id)
    forms = api.client.get(f"/api/v1/participants/{study_id}/monitoring",
                           headers=api.bearer("data_manager")).json()["forms"]  # fmt: skip
    return next(form["key"] for form in forms if form["form"] == "visit")


def test_a_locked_visit_form_refuses_the_update_with_409(api) -> None:
    study_id = api.participant("own", "standard")
    visit_id = _planned_visit(api, study_id)
    manager = api.bearer("data_manager")
    locked = api.client.post(f"/api/v1/participants/{study_id}/locks",
                             json={"form": "visit", "key": visit_id}, headers=manager)  # fmt: skip
    assert locked.status_code == 201, locked.text
    update = {"performed_date": _yesterday(api), "birads": 1, "visit_id": visit_id}
    refused = api.client.post(f"/api/v1/participants/{study_id}/visits", json=update,
                              headers=api.bearer("site_staff"))  # fmt: skip
    assert refused.status_code == 409
    assert refused.json()["error"] == "conflict"
    assert f"the visit {visit_id} form of {study_id} is locked by" in refused.json()["detail"]
    released = api.client.post(f"/api/v1/participants/{study_id}/locks/release",
                               json={"form": "visit", "key": visit_id, "reason": "corrected"},
                               headers=manager)  # fmt: skip
    assert released.status_code == 200
    done = api.client.post(f"/api/v1/participants/{study_id}/visits", json=update,
                           headers=api.bearer("site_staff"))  # fmt: skip
    assert done.status_code == 201, done.text


def test_the_signature_is_on_her_record_and_void_after_a_change(api) -> None:
    username, password, secret = api.new_user("site_investigator")
    headers = {"Authorization": f"Bearer {_token(api, username, password, secret)}"}
    study_id = api.participant("own", "standard")
    wrong = api.client.post(f"/api/v1/participants/{study_id}/signature", headers=headers,
                            json={"password": "wrong-password", "accept": True,
                                  "totp_code": _later_code(secret)})  # fmt: skip
    assert wrong.status_code == 401
    unconfirmed = api.client.post(f"/api/v1/participants/{study_id}/signature", headers=headers,
                                  json={"password": password, "accept": False,
                                        "totp_code": _later_code(secret)})  # fmt: skip
    assert unconfirmed.status_code == 422
    signed = api.client.post(f"/api/v1/participants/{study_id}/signature", headers=headers,
                             json={"password": password, "accept": True, "language": "it",
                                   "totp_code": _later_code(secret)})  # fmt: skip
    assert signed.status_code == 201, signed.text
    record = api.client.get(f"/api/v1/participants/{study_id}",
                            headers=api.bearer("monitor")).json()  # fmt: skip
    assert record["signature"]["signer_username"] == username
    assert record["signature"]["valid"] is True
    assert record["signature"]["meaning_text"].startswith("Ho esaminato")
    death = api.client.post(f"/api/v1/participants/{study_id}/death",
                            json={"date_of_death": _yesterday(api), "cause": "other"},
                            headers=api.bearer("site_staff"))  # fmt: skip
    assert death.status_code == 201
    status = api.client.get(f"/api/v1/participants/{study_id}/signature",
                            headers=api.bearer("monitor")).json()  # fmt: skip
    assert status["signed"] is True
    assert status["signature"]["valid"] is False
    assert status["signature"]["changed_at"] is not None


def test_a_locked_study_refuses_registration_and_its_snapshot_digest_is_the_files(api) -> None:
    manager = api.bearer("data_manager")
    try:
        locked = api.client.post("/api/v1/studies/mypebs-demo/lock", json={"reason": "final"},
                                 headers=manager)  # fmt: skip
        assert locked.status_code == 201, locked.text
        body = locked.json()
        snapshot = api.client.app.state.pebs.data_dir / "snapshots" / body["snapshot_file"]
        assert body["snapshot_sha256"] == hashlib.sha256(snapshot.read_bytes()).hexdigest()
        register = api.client.post(
            "/api/v1/participants",
            headers=manager,
            json={
                "study": "mypebs-demo",
                "site": "IT-TO",
                "name": "Ada",
                "birth_date": "1970-02-03",
            },
        )
        assert register.status_code == 409
        assert "is locked" in register.json()["detail"]
    finally:
        unlocked = api.client.post("/api/v1/studies/mypebs-demo/unlock",
                                   json={"reason": "reopened"}, headers=manager)  # fmt: skip
    assert unlocked.status_code == 200


def _later_code(secret: str) -> str:
    """The next step's code: each is accepted once, and the current one served the login."""
    _later_code.step = getattr(_later_code, "step", 0) + 1  # type: ignore[attr-defined]
    return code_at(secret, datetime.now(UTC) + timedelta(seconds=30))


def _token(api, username: str, password: str, secret: str) -> str:
    api.client.cookies.clear()
    csrf = api.login(username, password, secret)
    token = api.client.post("/api/v1/auth/tokens", json={"name": "t"}, headers=csrf).json()
    api.client.cookies.clear()
    return token["token"]
