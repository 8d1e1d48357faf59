"""Login throttling through the pages and the API: the wait is told (429, ``Retry-After``, a
translated message), a reused TOTP code says to wait for the next one, the administrator
unlocks, and behind ``pebs serve --forwarded-allow-ips`` the throttled address is the client's.

These tests build their own site over the module's database, with a policy that makes the
second failure of a username from one address cost a 5-minute wait.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select

from pebs.cli.serve import uvicorn_options
from pebs.server import create_site
from pebs.store.models import AuditEvent

FIRST_DELAY = timedelta(minutes=5)
PROXY, HER_ADDRESS, GUESSER = "192.0.2.10", "203.0.113.7", "198.51.100.66"


_ADDRESSES = (f"10.44.0.{i}" for i in itertools.count(1))


@pytest.fixture
def throttled(site: Any) -> Iterator[tuple[TestClient, Any]]:
    """(client, prepared database) of a site whose policy allows 2 failures, then 5 min; each
    test's client has its own address (an address's failures count for every username)."""
    policy = replace(site.db.policy, max_failures=2, first_delay=FIRST_DELAY)
    app = create_site(site.db.settings, auth_policy=policy)
    with TestClient(app, client=(next(_ADDRESSES), 40000)) as client:
        yield client, site.db


def _form_login(client: TestClient, username: str, password: str, code: str = "") -> Any:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    return client.post("/login", data={
        "csrf_token": token.group(1), "username": username, "password": password,
        "totp_code": code, "next": "/"}, follow_redirects=False)  # fmt: skip


def _api_login(client: TestClient, username: str, password: str, code: str | None = None, **kw):
    body = {"username": username, "password": password, "totp_code": code}
    return client.post("/api/v1/auth/login", json=body, **kw)


def test_the_page_tells_how_long_to_wait_in_her_language(throttled) -> None:
    client, db = throttled
    username, password, secret = db.new_user("monitor")
    for _ in range(2):
        assert _form_login(client, username, "wrong password").status_code == 401
    client.cookies.set("pebs_lang", "fr")
    refused = _form_login(client, username, password, pyotp.TOTP(secret).now())
    assert refused.status_code == 429
    seconds = re.search(r"Attendez (\d+) secondes", refused.text)
    assert seconds is not None, refused.text
    assert FIRST_DELAY.total_seconds() - 2 <= int(seconds.group(1)) <= FIRST_DELAY.total_seconds()


def test_the_api_answers_429_with_retry_after(throttled) -> None:
    client, db = throttled
    username, password, secret = db.new_user("monitor")
    for _ in range(2):
        assert _api_login(client, username, "wrong password").status_code == 401
    refused = _api_login(client, username, password, pyotp.TOTP(secret).now())
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"
    retry = int(refused.headers["Retry-After"])
    assert FIRST_DELAY.total_seconds() - 2 <= retry <= FIRST_DELAY.total_seconds()
    assert f"wait {retry} s" in refused.json()["detail"]


def test_a_reused_code_says_to_wait_for_the_next_one(throttled) -> None:
    client, db = throttled
    username, password, secret = db.new_user("monitor")
    code = pyotp.TOTP(secret).at(datetime.now(UTC))
    assert _api_login(client, username, password, code).status_code == 200
    client.cookies.clear()
    again = _api_login(client, username, password, code)
    assert again.status_code == 401
    assert again.json()["error"] == "totp_reused"
    assert "wait for the next code" in again.json()["detail"]
    client.cookies.set("pebs_lang", "nl")
    page = _form_login(client, username, password, code)
    assert page.status_code == 401
    assert "Deze code is al gebruikt. Wacht op de volgende code" in page.text


def test_the_administrator_unlocks_through_the_api(throttled) -> None:
    client, db = throttled
    username, password, secret = db.new_user("monitor")
    for _ in range(2):
        _api_login(client, username, "wrong password")
    assert _api_login(client, username, password, pyotp.TOTP(secret).now()).status_code == 429
    admin, admin_password, admin_secret = db.new_user("administrator")
    login = _api_login(client, admin, admin_password, pyotp.TOTP(admin_secret).now())
    csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
    unlocked = client.post(f"/api/v1/users/{username}/unlock", headers=csrf)
    assert unlocked.status_code == 200, unlocked.text
    assert unlocked.json() == {"username": username, "counts_cleared": 1}
    client.cookies.clear()
    assert _api_login(client, username, password, pyotp.TOTP(secret).now()).status_code == 200


def _proxied(db: Any, proxies: list[str]) -> TestClient:
    """The site as ``pebs serve --forwarded-allow-ips`` runs it, reached through ``PROXY``."""
    policy = replace(db.policy, max_failures=2, first_delay=FIRST_DELAY)
    app = create_site(db.settings, auth_policy=policy)
    config = uvicorn.Config(app, **uvicorn_options("127.0.0.1", 8000, 1, proxies),
                            log_config=None)  # fmt: skip
    config.load()
    return TestClient(config.loaded_app, client=(PROXY, 40000))


def _last_failure_client(db: Any) -> str:
    with db.sessions() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "login_failed")
            .order_by(AuditEvent.id.desc()).limit(1)
        ).one()  # fmt: skip
    return event.new["client"]


@pytest.mark.parametrize(
    ("proxies", "seen"),
    [([], PROXY), (["192.0.2.99"], PROXY), ([PROXY], GUESSER), (["192.0.2.0/24"], GUESSER)],
    ids=["no proxy trusted", "another proxy trusted", "this proxy", "its network"],
)
def test_only_a_listed_proxys_forwarded_address_is_believed(
    site: Any, proxies: list[str], seen: str
) -> None:
    with _proxied(site.db, proxies) as client:
        username, _, _ = site.db.new_user("monitor")
        forwarded = {"X-Forwarded-For": GUESSER}
        assert _api_login(client, username, "wrong", headers=forwarded).status_code == 401
    assert _last_failure_client(site.db) == seen


def test_behind_a_trusted_proxy_a_guesser_does_not_block_her(site: Any) -> None:
    with _proxied(site.db, [PROXY]) as client:
        username, password, secret = site.db.new_user("monitor")
        guesser, her = {"X-Forwarded-For": GUESSER}, {"X-Forwarded-For": HER_ADDRESS}
        for _ in range(3):
            _api_login(client, username, "wrong", headers=guesser)
        code = pyotp.TOTP(secret).now()
        assert _api_login(client, username, password, code, headers=guesser).status_code == 429
        assert _api_login(client, username, password, code, headers=her).status_code == 200
