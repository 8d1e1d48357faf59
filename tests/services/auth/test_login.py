"""Logins, sessions, timeouts, rate limiting and logout on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from pebs.services.auth import (
    NotAuthenticated,
    SecondFactorRequired,
    TooManyAttempts,
    authenticate,
    begin_totp_enrolment,
    confirm_totp_enrolment,
    login,
    logout,
    set_password,
    verify_second_factor,
)
from pebs.services.auth.tokens import token_sha256
from pebs.services.auth.totp import code_at
from pebs.services.trial import Actor, InvalidInput
from pebs.store.audit import verify_chain
from pebs.store.models import AuthSession

STAFF = "demo-site-staff"
T0 = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)  # as in conftest.py
Auth = Any  # conftest.Auth


def _login(auth: Auth, username: str = STAFF, at=T0, client="10.0.0.1", code=True, **kw):
    login_ = auth.logins[username]
    totp = auth.code(username, at) if code else None
    return login(auth.sessions, auth.cipher, auth.policy, username, login_.password,
                 totp_code=totp, client=client, at=at, **kw)  # fmt: skip


def _wrong_code(auth: Auth, at) -> str:
    return "000000" if auth.code(STAFF, at) != "000000" else "111111"


def _who(auth: Auth, token: str, at):
    return authenticate(auth.readers, auth.sessions, auth.policy, token, at=at)


def test_login_with_password_and_code_opens_a_session_with_her_scope(auth: Auth) -> None:
    result = _login(auth)
    assert result.next_step is None
    principal = _who(auth, result.token, T0 + timedelta(minutes=1))
    actor = principal.require_mfa()
    assert (actor.username, actor.role, principal.via) == (STAFF, "site_staff", "session")
    assert actor.site_id is not None
    with auth.sessions() as session:
        stored = session.scalar(select(AuthSession))
        assert stored is not None
        assert stored.token_sha256 == token_sha256(result.token)  # only the hash is stored
        assert stored.expires_at == T0 + auth.policy.absolute
    [event] = auth.events("login")
    assert event.actor == STAFF
    assert event.new["client"] == "10.0.0.1"


def test_failed_logins_are_audited_without_secrets_and_look_alike(auth: Auth) -> None:
    messages = []
    for username, password in ((STAFF, "wrong password 1"), ("nobody", "wrong password 2")):
        with pytest.raises(NotAuthenticated) as error:
            login(auth.sessions, auth.cipher, auth.policy, username, password, at=T0)
        messages.append(str(error.value))
    assert messages[0] == messages[1]  # does not tell whether the username exists
    failures = auth.events("login_failed")
    assert [(e.actor, e.reason) for e in failures] == [
        (STAFF, "wrong password"), ("nobody", "unknown username")]  # fmt: skip
    dump = repr([(e.old, e.new, e.reason) for e in auth.events()])
    assert "wrong password 1" not in dump
    assert "wrong password 2" not in dump
    assert auth.logins[STAFF].password not in dump


def test_wrong_totp_code_fails_and_a_code_cannot_be_replayed(auth: Auth) -> None:
    with pytest.raises(NotAuthenticated):
        login(auth.sessions, auth.cipher, auth.policy, STAFF, auth.logins[STAFF].password,
              totp_code=_wrong_code(auth, T0), at=T0)  # fmt: skip
    _login(auth, at=T0)
    with pytest.raises(NotAuthenticated):
        _login(auth, at=T0)  # the same code again
    assert [e.reason for e in auth.events("login_failed")] == ["wrong TOTP code"] * 2


def test_rate_limit_per_username_blocks_even_the_right_password_until_the_window_ends(
    auth: Auth,
) -> None:
    for i in range(auth.policy.max_failures):
        at = T0 + timedelta(seconds=i)
        with pytest.raises(NotAuthenticated):
            login(auth.sessions, auth.cipher, auth.policy, STAFF, "bad", at=at)
    with pytest.raises(TooManyAttempts) as refused:
        _login(auth, at=T0 + timedelta(minutes=1), client="10.9.9.9")
    assert 0 < refused.value.retry_after_s <= auth.policy.window.total_seconds()
    later = T0 + auth.policy.window + timedelta(seconds=5)
    assert _login(auth, at=later).next_step is None


def test_rate_limit_per_client_address_spans_usernames(auth: Auth) -> None:
    limit = auth.policy.max_failures * 4
    for i in range(limit):
        with pytest.raises(NotAuthenticated):
            login(auth.sessions, auth.cipher, auth.policy, f"guess{i}", "bad", client="10.6.6.6",
                  at=T0)  # fmt: skip
    with pytest.raises(TooManyAttempts):
        _login(auth, client="10.6.6.6")
    assert _login(auth, client="10.7.7.7").next_step is None  # another address is not blocked


def test_success_resets_the_username_count(auth: Auth) -> None:
    for _ in range(auth.policy.max_failures - 1):
        with pytest.raises(NotAuthenticated):
            login(auth.sessions, auth.cipher, auth.policy, STAFF, "bad", at=T0)
    _login(auth, at=T0)
    for _ in range(auth.policy.max_failures - 1):
        at = T0 + timedelta(minutes=1)
        with pytest.raises(NotAuthenticated):
            login(auth.sessions, auth.cipher, auth.policy, STAFF, "bad", at=at)
    assert _login(auth, at=T0 + timedelta(minutes=2)).next_step is None


def test_idle_and_absolute_timeouts(auth: Auth) -> None:
    token = _login(auth).token
    idle = auth.policy.idle
    _who(auth, token, T0 + idle - timedelta(seconds=1))  # active: moves last_seen
    _who(auth, token, T0 + 2 * idle - timedelta(seconds=2))
    with pytest.raises(NotAuthenticated):
        _who(auth, token, T0 + 3 * idle)  # idle for a whole timeout
    token = _login(auth, at=T0 + timedelta(seconds=30)).token
    at = T0 + timedelta(seconds=30)
    while at + idle / 2 < T0 + auth.policy.absolute:
        at += idle / 2
        _who(auth, token, at)
    with pytest.raises(NotAuthenticated):
        _who(auth, token, T0 + auth.policy.absolute + timedelta(seconds=31))


def test_logout_ends_the_session(auth: Auth) -> None:
    token = _login(auth).token
    assert logout(auth.sessions, token, at=T0 + timedelta(minutes=1))
    with pytest.raises(NotAuthenticated):
        _who(auth, token, T0 + timedelta(minutes=2))
    assert not logout(auth.sessions, token)  # already ended
    assert [e.actor for e in auth.events("logout")] == [STAFF]
    with auth.sessions() as session:
        assert verify_chain(session).ok


def test_password_only_login_needs_the_code_before_anything_else(auth: Auth) -> None:
    result = _login(auth, code=False)
    assert result.next_step == "totp"
    with pytest.raises(SecondFactorRequired):
        _who(auth, result.token, T0).require_mfa()
    with pytest.raises(NotAuthenticated):
        verify_second_factor(auth.sessions, auth.cipher, auth.policy, result.token, "123456"
                             if auth.code(STAFF, T0) != "123456" else "654321", at=T0)  # fmt: skip
    at = T0 + timedelta(seconds=40)
    verify_second_factor(auth.sessions, auth.cipher, auth.policy, result.token,
                         auth.code(STAFF, at), at=at)  # fmt: skip
    assert _who(auth, result.token, at).require_mfa().username == STAFF


def test_a_totp_role_without_totp_enrols_at_first_login(auth: Auth) -> None:
    admin = Actor.system("test")
    set_password(auth.sessions, admin, auth.policy, "demo-data-manager", "a new long password",
                 at=T0)  # fmt: skip
    with auth.sessions.begin() as session:  # forget the provisioned secret: a new account
        from pebs.store.models import User

        user = session.scalar(select(User).where(User.username == "demo-data-manager"))
        user.totp_secret_enc = None
    result = login(auth.sessions, auth.cipher, auth.policy, "demo-data-manager",
                   "a new long password", at=T0)  # fmt: skip
    assert result.next_step == "enrol_totp"
    assert not _who(auth, result.token, T0).mfa_ok
    enrolment = begin_totp_enrolment(auth.sessions, auth.cipher, result.token, at=T0)
    assert enrolment.uri.startswith("otpauth://totp/pebs:demo-data-manager?secret=")
    with pytest.raises(InvalidInput, match="code"):
        confirm_totp_enrolment(auth.sessions, auth.cipher, result.token, "12345", at=T0)
    code = code_at(enrolment.secret, T0)
    confirm_totp_enrolment(auth.sessions, auth.cipher, result.token, code, at=T0)
    assert _who(auth, result.token, T0).require_mfa().role == "data_manager"
    assert [e.entity_id for e in auth.events("totp_enrol")] == ["demo-data-manager"]
    dump = repr([(e.old, e.new) for e in auth.events()])
    assert enrolment.secret not in dump


def test_statistician_without_totp_logs_in_with_the_password(auth: Auth) -> None:
    with auth.sessions.begin() as session:
        from pebs.store.models import User

        user = session.scalar(select(User).where(User.username == "demo-statistician"))
        user.totp_secret_enc = None
    result = _login(auth, "demo-statistician", code=False)
    assert result.next_step is None
    assert _who(auth, result.token, T0).require_mfa().role == "statistician"
