"""A bearer token the app has just accepted (and so remembers for a few seconds) stops working
at the very next request once it is revoked or its account disabled through the API."""

from __future__ import annotations

from typing import Any

Api = Any  # conftest.Api
V1 = "/api/v1"


def _token(api: Api, username: str, password: str, secret: str | None) -> tuple[str, int, dict]:
    """A new API token of the user (its value and id) and her session's CSRF header."""
    csrf = api.login(username, password, secret)
    response = api.client.post(f"{V1}/auth/tokens", json={"name": "script"}, headers=csrf)
    assert response.status_code == 201, response.text
    return response.json()["token"], response.json()["info"]["id"], csrf


def _me(api: Api, token: str) -> int:
    return api.client.get(f"{V1}/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_revoked_token_is_refused_at_once(api: Api) -> None:
    username, password, secret = api.new_user("monitor")
    token, token_id, csrf = _token(api, username, password, secret)
    assert [_me(api, token), _me(api, token)] == [200, 200]
    revoked = api.client.delete(f"{V1}/auth/tokens/{token_id}", headers=csrf)
    assert revoked.status_code == 200, revoked.text
    api.client.cookies.clear()
    assert _me(api, token) == 401


def test_a_disabled_account_s_token_is_refused_at_once(api: Api) -> None:
    username, password, secret = api.new_user("monitor")
    token, _, _ = _token(api, username, password, secret)
    api.client.cookies.clear()
    assert [_me(api, token), _me(api, token)] == [200, 200]
    disabled = api.client.post(f"{V1}/users/{username}/disable", json={"reason": "left"},
                               headers=api.bearer("administrator"))  # fmt: skip
    assert disabled.status_code == 200, disabled.text
    assert _me(api, token) == 401
