"""Logins, sessions, timeouts, login throttling, unlock and logout on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from pebs.services.actor import Actor
from pebs.services.auth import (
    authenticate,
    begin_totp_enrolment,
    confirm_totp_enrolment,
    login,
    logout,
    set_password,
    unlock_logins,
    verify_second_factor,
)
from pebs.services.auth.tokens import token_sha256
from pebs.services.auth.totp import code_at
from pebs.services.errors import (
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    SecondFactorRequired,
    TooManyAttempts,
    TotpCodeReused,
)
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
    with pytest.raises(NotAuthenticated) as wrong:
        login(auth.sessions, auth.cipher, auth.policy, STAFF, auth.logins[STAFF].password,
              totp_code=_wrong_code(auth, T0), at=T0)  # fmt: skip
    assert not isinstance(wrong.value, TotpCodeReused)  # a wrong code is just a failed login
    _login(auth, at=T0)
    with pytest.raises(TotpCodeReused, match="wait for the next code"):
        _login(auth, at=T0)  # the same code again
    assert [e.reason for e in auth.events("login_failed")] == [
        "wrong TOTP code", "reused TOTP code"]  # fmt: skip


def test_a_reused_code_in_the_second_step_says_to_wait_for_the_next_code(auth: Auth) -> None:
    _login(auth, at=T0)  # uses the code of T0's step
    pending = _login(auth, at=T0 + timedelta(seconds=1), code=False)
    with pytest.raises(TotpCodeReused, match="wait for the next code"):
        verify_second_factor(auth.sessions, auth.cipher, auth.policy, pending.token,
                             auth.code(STAFF, T0), at=T0 + timedelta(seconds=2))  # fmt: skip
    next_step = T0 + timedelta(seconds=30)  # the app's next code
    verify_second_factor(auth.sessions, auth.cipher, auth.policy, pending.token,
                         auth.code(STAFF, next_step), at=next_step)  # fmt: skip


def _fail(auth: Auth, at, client: str = "10.0.0.1", username: str = STAFF) -> None:
    with pytest.raises(NotAuthenticated):
        login(auth.sessions, auth.cipher, auth.policy, username, "bad", client=client, at=at)


def test_a_colleagues_failures_from_another_address_do_not_block_her(auth: Auth) -> None:
    for i in range(5 * auth.policy.max_failures):  # far beyond the free failures
        at = T0 + timedelta(seconds=i)
        with contextlib.suppress(TooManyAttempts):  # the guesser waits, not her
            _fail(auth, at, client="10.6.6.6")
    # failures at 0, 1, 2, 3, 5 and 9 s (the others were refused): waiting until 9 + 8 s
    at = T0 + timedelta(seconds=15)
    with pytest.raises(TooManyAttempts):  # the guessing address must wait...
        _login(auth, at=at, client="10.6.6.6")
    result = _login(auth, at=at, client="10.0.0.1")  # ...she need not
    assert result.next_step is None


def test_the_wait_doubles_at_each_failure_up_to_the_cap(auth: Auth) -> None:
    policy = auth.policy
    free = policy.max_failures
    at = T0
    for _ in range(free - 1):  # free failures: no wait
        _fail(auth, at)
    for k in range(12):
        _fail(auth, at)  # failure number free + k
        expected = min(policy.first_delay * 2**k, policy.max_delay)  # 1, 2, 4 ... 900 s
        with pytest.raises(TooManyAttempts) as refused:
            _login(auth, at=at)  # refused even with the right password and code
        assert refused.value.retry_after_s == expected.total_seconds()
        with pytest.raises(TooManyAttempts):  # still refused just before the wait ends
            _login(auth, at=at + expected - timedelta(milliseconds=500))
        at += expected
    assert expected == policy.max_delay  # the cap was reached
    # attempts refused during a wait were not counted: 12 waits, 12 + free - 1 failures
    assert len(auth.events("login_failed")) == free - 1 + 12
    assert _login(auth, at=at).next_step is None  # the wait is over: the right password works
    _fail(auth, at + timedelta(seconds=1))  # and a success forgot the failures
    assert _login(auth, at=at + timedelta(seconds=31)).next_step is None


def test_failures_are_forgotten_a_day_after_the_last_one(auth: Auth) -> None:
    for i in range(auth.policy.max_failures + 5):
        _fail(auth, T0 + timedelta(seconds=2**i))
    later = T0 + timedelta(seconds=2 ** (auth.policy.max_failures + 4)) + auth.policy.forget_after
    assert _login(auth, at=later).next_step is None


def test_an_administrator_unlocks_a_username_at_once(auth: Auth) -> None:
    for _ in range(auth.policy.max_failures + 3):
        with contextlib.suppress(TooManyAttempts):
            _fail(auth, T0)
    with pytest.raises(TooManyAttempts):
        _login(auth, at=T0, client="10.0.0.1")
    with pytest.raises(PermissionDenied):
        unlock_logins(auth.sessions, Actor("demo-monitor", "monitor"), STAFF, at=T0)
    with pytest.raises(NotFound):
        unlock_logins(auth.sessions, Actor.system("test"), "nobody", at=T0)
    cleared = unlock_logins(auth.sessions, Actor.system("test"), STAFF, at=T0)
    assert cleared == 1  # her username from 10.0.0.1 (the address's own count is kept)
    assert _login(auth, at=T0, client="10.0.0.1").next_step is None
    [event] = auth.events("unlock_logins")
    assert (event.actor, event.new["counts_cleared"]) == ("test", 1)


def test_an_address_failing_for_many_usernames_waits_for_all(auth: Auth) -> None:
    limit = auth.policy.max_failures * 4
    for i in range(limit):
        with pytest.raises(NotAuthenticated):
            login(auth.sessions, auth.cipher, auth.policy, f"guess{i}", "bad", client="10.6.6.6",
                  at=T0)  # fmt: skip
    with pytest.raises(TooManyAttempts):
        _login(auth, client="10.6.6.6")
    assert _login(auth, client="10.7.7.7").next_step is None  # another address is not blocked


def test_success_resets_the_count_of_her_username_from_that_address(auth: Auth) -> None:
    for _ in range(auth.policy.max_failures - 1):
        _fail(auth, T0)
    _login(auth, at=T0)
    for _ in range(auth.policy.max_failures - 1):
        _fail(auth, T0 + timedelta(minutes=1))
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
