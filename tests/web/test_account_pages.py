"""Account administration pages (administrator): list, create (a generated password shown
once), disable, enable, reset TOTP, unlock; each change audited; other roles refused."""

from __future__ import annotations

import html
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from pebs.services.actor import Actor
from pebs.services.auth import list_accounts
from pebs.store.models import AuditEvent, User


def _user(site: Any, username: str) -> User | None:
    with site.db.sessions(expire_on_commit=False) as session:
        return session.scalar(
            select(User).options(joinedload(User.site)).where(User.username == username)
        )


def _actions(site: Any, username: str) -> list[str]:
    with site.db.sessions() as session:
        return list(session.scalars(select(AuditEvent.action).where(
            AuditEvent.entity == "user", AuditEvent.entity_id == username)
            .order_by(AuditEvent.id)))  # fmt: skip


def test_the_administrator_creates_an_account_and_sees_its_password_once(site: Any) -> None:
    site.login("administrator")
    listing = html.unescape(site.client.get("/accounts").text)
    assert "demo-site-staff" in listing
    n_accounts = len(list_accounts(site.db.sessions, Actor.system(), site.db.policy))
    assert f"{n_accounts} in all" in listing
    created = site.post_form("/accounts", {"username": "giulia.b", "full_name": "Giulia B",
                                           "role": "site_investigator", "site": "IT-MI",
                                           "password_choice": "generate"})  # fmt: skip
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    shown = re.search(r'<code class="secret">([^<]+)</code>', created.text)
    assert shown is not None
    password = shown.group(1)
    stored = _user(site, "giulia.b")
    assert stored is not None
    assert site.db.policy.hasher.verify(stored.password_hash, password)
    assert (stored.role, stored.site.code, stored.is_active) == ("site_investigator", "IT-MI", True)
    assert _actions(site, "giulia.b") == ["create", "set_password"]
    again = site.client.get("/accounts").text
    assert password not in again  # shown once


def test_a_refused_account_shows_each_problem_at_its_field_and_stores_nothing(site: Any) -> None:
    site.login("administrator")
    missing = site.post_form("/accounts", {"username": "", "role": "pilot"})
    assert missing.status_code == 422
    text = html.unescape(missing.text)
    assert re.search(r'id="f-username-error">this field is required<', text)
    assert re.search(r'id="f-role-error">choose one of: site_staff', text)
    no_site = site.post_form("/accounts", {"username": "no.site", "role": "site_staff"})
    assert no_site.status_code == 422
    assert "this role works at a site: give its code" in html.unescape(no_site.text)
    unknown = site.post_form("/accounts", {"username": "bad.site", "role": "site_staff",
                                           "site": "ZZ-00"})  # fmt: skip
    assert "no site has the code ZZ-00" in html.unescape(unknown.text)
    short = site.post_form("/accounts", {
        "username": "short.pw", "role": "monitor", "password_choice": "given",
        "password": "abc"})  # fmt: skip
    assert short.status_code == 422
    assert re.search(r'id="f-password-error">give 12 to 256 characters<', html.unescape(short.text))
    assert 'value="abc"' not in short.text  # a password is never shown back
    taken = site.post_form("/accounts", {"username": "DEMO-MONITOR", "role": "monitor"})
    assert taken.status_code == 409
    assert "this username is taken" in taken.text
    for name in ("no.site", "bad.site", "short.pw"):
        assert _user(site, name) is None
        assert _actions(site, name) == []


def test_disable_enable_reset_and_unlock_are_audited(site: Any) -> None:
    target, _, _ = site.db.new_user("monitor")
    site.login("administrator")
    path = f"/accounts/{target}"
    no_reason = site.post_form(f"{path}/disable", {"reason": " "}, page=path)
    assert no_reason.status_code == 422
    assert _user(site, target).is_active
    disabled = site.post_form(f"{path}/disable", {"reason": "left the team"}, page=path)
    assert disabled.status_code == 303
    assert not _user(site, target).is_active
    assert site.post_form(f"{path}/enable", {}, page=path).status_code == 303
    assert _user(site, target).is_active
    assert site.post_form(f"{path}/reset-totp", {}, page=path).status_code == 303
    assert _user(site, target).totp_secret_enc is None
    assert site.post_form(f"{path}/unlock", {}, page=path).status_code == 303
    assert _actions(site, target)[-4:] == ["disable", "enable", "totp_reset", "unlock_logins"]


def test_account_pages_are_the_administrators_only(site: Any) -> None:
    for role in ("data_manager", "country_coordinator", "statistician"):
        site.login(role)
        assert site.client.get("/accounts").status_code == 403
        assert 'href="/accounts"' not in site.client.get("/").text
    site.login("administrator")
    assert 'href="/accounts"' in site.client.get("/").text
    assert site.client.get("/accounts/nobody-here").status_code == 404
