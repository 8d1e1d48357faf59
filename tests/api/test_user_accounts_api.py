"""Creating, listing and re-enabling accounts through ``/api/v1/users`` (administrator)."""

from __future__ import annotations

from typing import Any

import pyotp
from sqlalchemy import select

from pebs.store.models import AuditEvent

Api = Any  # conftest.Api
V1 = "/api/v1"


def _events(api: Api, username: str) -> list[tuple[str, dict | None]]:
    with api.sessions() as session:
        rows = session.execute(
            select(AuditEvent.action, AuditEvent.new)
            .where(AuditEvent.entity == "user", AuditEvent.entity_id == username)
            .order_by(AuditEvent.id)
        ).all()
    return [(action, new) for action, new in rows]


def test_an_administrator_creates_an_account_that_can_log_in(api: Api) -> None:
    admin = api.bearer("administrator")
    created = api.client.post(f"{V1}/users", headers=admin, json={
        "username": "anna.rossi", "role": "site_staff", "site": "IT-TO",
        "full_name": "Anna Rossi"})  # fmt: skip
    assert created.status_code == 201, created.text
    body = created.json()
    password = body["generated_password"]
    # 12 random bytes as URL-safe base64: 16 characters
    assert len(password) == 16
    assert (body["username"], body["role"], body["site"], body["country"]) == (
        "anna.rossi", "site_staff", "IT-TO", None)  # fmt: skip
    assert [a for a, _ in _events(api, "anna.rossi")] == ["create", "set_password"]
    assert _events(api, "anna.rossi")[0][1] == {"role": "site_staff", "site": "IT-TO",
                                                "country": None}  # fmt: skip
    # she logs in with it: a site role must enrol her authenticator app first
    login = api.client.post(f"{V1}/auth/login",
                            json={"username": "anna.rossi", "password": password})  # fmt: skip
    assert login.status_code == 200, login.text
    api.client.cookies.clear()
    listed = {a["username"]: a for a in api.client.get(f"{V1}/users", headers=admin).json()}
    row = listed["anna.rossi"]
    assert (row["role"], row["site"], row["is_active"], row["totp_enrolled"], row["locked"]) == (
        "site_staff", "IT-TO", True, False, False)  # fmt: skip
    assert "password_hash" not in row
    assert "generated_password" not in row


def test_a_given_password_is_not_returned_and_a_country_role_needs_its_country(api: Api) -> None:
    admin = api.bearer("administrator")
    given = api.client.post(f"{V1}/users", headers=admin, json={
        "username": "coord-it", "role": "country_coordinator", "country": "IT",
        "password": "a long given password"})  # fmt: skip
    assert given.status_code == 201, given.text
    assert given.json()["generated_password"] is None
    assert given.json()["country"] == "IT"
    missing = api.client.post(f"{V1}/users", headers=admin, json={
        "username": "coord-x", "role": "country_coordinator"})  # fmt: skip
    assert missing.status_code == 422
    assert missing.json()["error"] == "invalid_input"
    assert missing.json()["fields"] == ["country"] or "country" in str(missing.json())
    site_for_central = api.client.post(f"{V1}/users", headers=admin, json={
        "username": "stat-x", "role": "statistician", "site": "IT-TO"})  # fmt: skip
    assert site_for_central.status_code == 422
    assert _events(api, "coord-x") == []
    assert _events(api, "stat-x") == []


def test_a_username_is_taken_whatever_its_letter_case(api: Api) -> None:
    admin = api.bearer("administrator")
    first = api.client.post(f"{V1}/users", headers=admin,
                            json={"username": "Maria", "role": "monitor"})  # fmt: skip
    assert first.status_code == 201
    again = api.client.post(f"{V1}/users", headers=admin,
                            json={"username": "maria", "role": "monitor"})  # fmt: skip
    assert again.status_code == 409
    assert again.json()["error"] == "conflict"


def test_a_disabled_account_is_enabled_again_and_can_log_in(api: Api) -> None:
    admin = api.bearer("administrator")
    username, password, secret = api.new_user("monitor")
    assert api.client.post(f"{V1}/users/{username}/disable", json={"reason": "on leave"},
                           headers=admin).status_code == 200  # fmt: skip
    enabled = api.client.post(f"{V1}/users/{username}/enable", headers=admin)
    assert enabled.json() == {"username": username, "changed": True}
    again = api.client.post(f"{V1}/users/{username}/enable", headers=admin)
    assert again.json() == {"username": username, "changed": False}
    assert [a for a, _ in _events(api, username)][-2:] == ["disable", "enable"]
    code = pyotp.TOTP(secret).now() if secret else None
    login = api.client.post(f"{V1}/auth/login", json={"username": username, "password": password,
                                                      "totp_code": code})  # fmt: skip
    assert login.status_code == 200, login.text
    api.client.cookies.clear()


def test_only_the_administrator_lists_accounts(api: Api) -> None:
    for role in ("data_manager", "statistician", "site_staff"):
        assert api.client.get(f"{V1}/users", headers=api.bearer(role)).status_code == 403
