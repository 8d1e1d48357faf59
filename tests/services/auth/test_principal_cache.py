"""The memory of accepted API tokens: how long it believes a token, and when it forgets one.

The clock is a list the test advances (no sleeping). In-process changes (revocation, disablement,
password, TOTP reset) are refused at once; a revocation the memory is not told about (another
process, here a bare SQL update) is refused once :data:`TTL_S` has passed, never later.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from pebs.services.actor import Actor
from pebs.services.auth import (
    authenticate,
    create_api_token,
    disable_account,
    login,
    remembered_principal,
    reset_totp,
    revoke_api_token,
    set_password,
)
from pebs.services.auth.principal import Principal
from pebs.services.auth.principal_cache import TTL_S, PrincipalCache, cache_for
from pebs.services.auth.tokens import token_sha256
from pebs.services.errors import InvalidFields, NotAuthenticated
from pebs.store.models import ApiToken

T0 = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)  # as in conftest.py
Auth = Any  # conftest.Auth


class Clock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _principal(user_id: int = 7) -> Principal:
    actor = Actor(username=f"user-{user_id}", role="monitor", user_id=user_id)
    return Principal(actor, "token", 1, True, True)


def test_an_entry_lives_exactly_its_time_to_live() -> None:
    clock = Clock()
    cache = PrincipalCache(ttl_s=5.0, clock=clock)
    principal = _principal()
    cache.put("d1", principal, user_id=7, token_expires_at=None, since=cache.generation)
    clock.now += 4.999
    assert cache.get("d1", T0) is principal
    clock.now += 0.001  # 5.000 s after it was stored
    assert cache.get("d1", T0) is None
    assert len(cache) == 0


def test_an_entry_never_outlives_its_token() -> None:
    cache = PrincipalCache(ttl_s=60.0, clock=Clock())
    expires = T0 + timedelta(seconds=30)
    cache.put("d1", _principal(), user_id=7, token_expires_at=expires, since=cache.generation)
    assert cache.get("d1", expires - timedelta(microseconds=1)) is not None
    assert cache.get("d1", expires) is None


def test_the_oldest_entry_goes_when_full() -> None:
    cache = PrincipalCache(max_entries=2, clock=Clock())
    for n in (1, 2, 3):
        cache.put(f"d{n}", _principal(n), user_id=n, token_expires_at=None, since=cache.generation)
    assert len(cache) == 2
    assert cache.get("d1", T0) is None
    assert [cache.get(d, T0).actor.user_id for d in ("d2", "d3")] == [2, 3]


def test_forgetting_a_user_drops_her_tokens_and_lookups_under_way() -> None:
    cache = PrincipalCache(clock=Clock())
    for digest, user in (("a", 7), ("b", 7), ("c", 8)):
        cache.put(digest, _principal(user), user_id=user, token_expires_at=None, since=0)
    began = cache.generation  # a lookup of user 8 reads the database ...
    cache.forget_user(7)  # ... while user 7 is disabled
    assert [cache.get(d, T0) is None for d in "abc"] == [True, True, False]
    cache.put("d", _principal(8), user_id=8, token_expires_at=None, since=began)
    assert cache.get("d", T0) is None  # its answer may predate the change: not stored


@pytest.mark.parametrize("bad", [{"ttl_s": 0}, {"max_entries": 0}])
def test_a_cache_needs_a_positive_lifetime_and_size(bad: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        PrincipalCache(**bad)


def _token(auth: Auth, username: str) -> tuple[str, int, Principal]:
    """A new API token of ``username`` (made from her session), its id, the session's principal."""
    password, code = auth.logins[username].password, auth.code(username, T0)
    result = login(auth.sessions, auth.cipher, auth.policy, username, password, totp_code=code,
                   at=T0)  # fmt: skip
    token, info = create_api_token(auth.sessions, result.principal, "script", at=T0)
    return token, info.id, result.principal


def _who(auth: Auth, token: str) -> Principal:
    return authenticate(auth.readers, auth.sessions, auth.policy, token, at=T0)


def test_an_accepted_token_is_remembered_by_its_digest(auth: Auth) -> None:
    token, _, _ = _token(auth, "demo-monitor")
    assert remembered_principal(auth.readers, token, at=T0) is None
    principal = _who(auth, token)
    assert remembered_principal(auth.readers, token, at=T0) == principal
    cache = cache_for(auth.readers.kw["bind"])
    assert cache.get(token_sha256(token), T0) == principal
    assert cache.get(token, T0) is None  # the raw token is no key
    with auth.sessions() as session:  # the memory answers without the database
        session.execute(update(ApiToken).values(token_sha256="0" * 64))
        session.commit()
    assert _who(auth, token) == principal


def test_a_revoked_or_disabled_token_is_refused_at_once(auth: Auth) -> None:
    token, token_id, owner = _token(auth, "demo-monitor")
    _who(auth, token)
    revoke_api_token(auth.sessions, owner, token_id, at=T0)
    with pytest.raises(NotAuthenticated, match="revoked"):
        _who(auth, token)
    token, _, _ = _token(auth, "demo-site-staff")
    _who(auth, token)
    disable_account(auth.sessions, Actor.system("test"), "demo-site-staff", "left", at=T0)
    with pytest.raises(NotAuthenticated, match="disabled"):
        _who(auth, token)


def test_a_password_set_or_totp_reset_forgets_her_tokens(auth: Auth) -> None:
    token, _, _ = _token(auth, "demo-site-investigator")
    system = Actor.system("test")
    _who(auth, token)
    set_password(auth.sessions, system, auth.policy, "demo-site-investigator",
                 "another long password", at=T0)  # fmt: skip
    assert remembered_principal(auth.readers, token, at=T0) is None
    _who(auth, token)  # API tokens survive a new password: remembered again
    reset_totp(auth.sessions, system, "demo-site-investigator", at=T0)
    assert remembered_principal(auth.readers, token, at=T0) is None


def test_a_revocation_by_another_process_counts_within_the_time_to_live(
    auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert 0 < TTL_S <= 10  # "a few seconds", as docs/security.md promises
    clock = Clock()
    monkeypatch.setattr(cache_for(auth.readers.kw["bind"]), "clock", clock)
    token, _, _ = _token(auth, "demo-monitor")
    _who(auth, token)
    with auth.sessions.begin() as session:  # as the command line would, unseen by this memory
        session.execute(update(ApiToken).values(revoked_at=T0))
    clock.now += TTL_S - 0.001
    assert _who(auth, token).actor.username == "demo-monitor"
    clock.now += 0.001
    with pytest.raises(NotAuthenticated, match="revoked"):
        _who(auth, token)


@pytest.mark.parametrize("bad", ["pebs_t_\x00abc", "pebs_t_\ud800abc"])
def test_a_token_that_is_not_storable_text_is_never_remembered_and_refused_by_field(
    auth: Auth, bad: str
) -> None:
    with pytest.raises(InvalidFields) as refused:
        remembered_principal(auth.readers, bad, at=T0)
    assert list(refused.value.fields) == ["token"]
    with pytest.raises(InvalidFields) as refused:
        _who(auth, bad)
    assert list(refused.value.fields) == ["token"]
