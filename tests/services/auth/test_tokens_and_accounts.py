"""API tokens, account disablement, TOTP reset and demo provisioning (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from pebs.services.actor import Actor, actor_for
from pebs.services.auth import (
    authenticate,
    create_api_token,
    disable_account,
    list_api_tokens,
    login,
    reset_totp,
    revoke_api_token,
    set_password,
)
from pebs.services.auth.tokens import token_sha256
from pebs.services.errors import InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from pebs.store.models import ApiToken, Site, User

T0 = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)  # as in conftest.py
Auth = Any  # conftest.Auth


def _session(auth: Auth, username: str, at=T0):
    password, code = auth.logins[username].password, auth.code(username, at)
    result = login(auth.sessions, auth.cipher, auth.policy, username, password, totp_code=code,
                   at=at)  # fmt: skip
    return result.token, result.principal


def _who(auth: Auth, token: str, at=T0):
    return authenticate(auth.readers, auth.sessions, auth.policy, token, at=at)


def test_api_token_acts_as_its_owner_and_is_stored_hashed(auth: Auth) -> None:
    _, principal = _session(auth, "demo-monitor")
    token, info = create_api_token(auth.sessions, principal, "nightly export", days=30, at=T0)
    assert token.startswith("pebs_t_")
    assert info.prefix == token[:12]
    assert info.expires_at == T0 + timedelta(days=30)
    via_token = _who(auth, token, T0 + timedelta(days=1))
    assert via_token.via == "token"
    assert via_token.require_mfa().username == "demo-monitor"
    with auth.sessions() as session:
        row = session.scalar(select(ApiToken))
        assert row is not None
        assert row.token_sha256 == token_sha256(token)
        assert row.last_used_at == T0 + timedelta(days=1)
    with pytest.raises(NotAuthenticated, match="expired"):
        _who(auth, token, T0 + timedelta(days=30))
    dump = repr([(e.old, e.new) for e in auth.events()])
    assert token not in dump
    assert token_sha256(token) not in dump
    assert [e.action for e in auth.events() if e.entity == "api_token"] == ["create"]


def test_tokens_cannot_mint_tokens_and_only_their_owner_revokes_them(auth: Auth) -> None:
    _, principal = _session(auth, "demo-monitor")
    token, info = create_api_token(auth.sessions, principal, "script", at=T0)
    with pytest.raises(PermissionDenied, match="logged-in session"):
        create_api_token(auth.sessions, _who(auth, token), "another", at=T0)
    _, other = _session(auth, "demo-statistician")
    with pytest.raises(NotFound):
        revoke_api_token(auth.sessions, other, info.id, at=T0)
    assert list_api_tokens(auth.sessions, other) == ()
    revoked = revoke_api_token(auth.sessions, principal, info.id, at=T0 + timedelta(minutes=1))
    assert revoked.revoked_at == T0 + timedelta(minutes=1)
    with pytest.raises(NotAuthenticated, match="revoked"):
        _who(auth, token, T0 + timedelta(minutes=2))
    assert [t.id for t in list_api_tokens(auth.sessions, principal)] == [info.id]
    for bad in ({"name": ""}, {"name": "x", "days": 0}, {"name": "x", "days": 400}):
        with pytest.raises(InvalidInput):
            create_api_token(auth.sessions, principal, **{"days": 30, **bad})


def test_disabling_an_account_ends_its_sessions_and_tokens_at_once(auth: Auth) -> None:
    token, principal = _session(auth, "demo-site-staff")
    api_token, _ = create_api_token(auth.sessions, principal, "script", at=T0)
    _, admin = _session(auth, "demo-administrator")
    with pytest.raises(PermissionDenied):
        disable_account(auth.sessions, principal.actor, "demo-monitor", "test", at=T0)
    with pytest.raises(InvalidInput, match="reason"):
        disable_account(auth.sessions, admin.actor, "demo-site-staff", " ", at=T0)
    assert disable_account(auth.sessions, admin.actor, "demo-site-staff", "left", at=T0) == 1
    for credential in (token, api_token):
        with pytest.raises(NotAuthenticated):
            _who(auth, credential, T0 + timedelta(seconds=1))
    with pytest.raises(NotAuthenticated):  # the right password no longer opens a session
        _session(auth, "demo-site-staff", at=T0 + timedelta(minutes=1))
    with pytest.raises(PermissionDenied, match="disabled"):
        actor_for(auth.sessions, "demo-site-staff")
    [event] = auth.events("disable")
    assert (event.actor, event.entity_id, event.reason) == (
        "demo-administrator", "demo-site-staff", "left")  # fmt: skip


def test_setting_a_password_or_resetting_totp_ends_sessions(auth: Auth) -> None:
    token, _ = _session(auth, "demo-site-investigator")
    system = Actor.system("test")
    set_password(auth.sessions, system, auth.policy, "demo-site-investigator",
                 "another long password", at=T0)  # fmt: skip
    with pytest.raises(NotAuthenticated):
        _who(auth, token, T0)
    result = login(auth.sessions, auth.cipher, auth.policy, "demo-site-investigator",
                   "another long password", at=T0)  # fmt: skip
    assert result.next_step == "totp"
    reset_totp(auth.sessions, system, "demo-site-investigator", at=T0)
    with pytest.raises(NotAuthenticated):
        _who(auth, result.token, T0)
    again = login(auth.sessions, auth.cipher, auth.policy, "demo-site-investigator",
                  "another long password", at=T0)  # fmt: skip
    assert again.next_step == "enrol_totp"
    dump = repr([(e.old, e.new) for e in auth.events()])
    assert "another long password" not in dump


def test_demo_logins_cover_every_role_and_two_sites_in_two_countries(auth: Auth) -> None:
    roles = sorted(login.role for login in auth.logins.values())
    assert roles == sorted(["site_staff", "site_staff", "site_investigator",
                            "country_coordinator", "data_manager", "statistician", "monitor",
                            "administrator", "laboratory"])  # fmt: skip
    staff = [x for x in auth.logins.values() if x.role == "site_staff"]
    assert len({x.site for x in staff}) == 2
    with auth.sessions() as session:
        countries = {
            session.scalar(select(Site.country_id).where(Site.code == x.site)) for x in staff
        }
        assert len(countries) == 2
        hashes = session.scalars(select(User.password_hash).where(User.username.like("demo-%")))
        assert all(h.startswith("$argon2id$") for h in hashes)
    for username in auth.logins:
        token, principal = _session(auth, username)
        assert principal.mfa_ok
        assert _who(auth, token).require_mfa().username == username
