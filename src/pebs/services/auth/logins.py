"""Log in (password, then TOTP), finish a pending TOTP check, log out.

A login opens a server-side session (:class:`~pebs.store.models.AuthSession`) whose random token
goes to the client (the session cookie) and whose SHA-256 is stored. If the role needs a second
factor (:data:`~.policy.TOTP_ROLES`), or the user enrolled one, the session is usable only after
the TOTP code was checked: with the password (``totp_code``), or afterwards through
:func:`verify_second_factor`; a role that needs TOTP and has none enrols first
(:mod:`.enrolment`).

Failures are counted per username and client address (:mod:`.throttle`: a growing wait, not a
lock-out) and audited as ``login_failed`` with the attempted username and the client address,
never the password or code. Every message of a failed login is the same, whether the username
exists, the password is wrong, the account is disabled or the code is wrong; the one exception
comes after the right password: a TOTP code already used gets :class:`~.errors.TotpCodeReused`
("wait for the next code"), since a code is accepted once only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Actor
from pebs.services.auth import throttle
from pebs.services.auth.passwords import hash_password, needs_rehash, verify_password
from pebs.services.auth.policy import TOTP_ROLES, AuthPolicy
from pebs.services.auth.principal import Principal
from pebs.services.auth.tokens import SESSION_PREFIX, csrf_token, new_token, token_sha256
from pebs.services.auth.totp import already_used, matching_step
from pebs.services.errors import NotAuthenticated, TotpCodeReused
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.transaction import instant
from pebs.store.audit import append_event
from pebs.store.crypto import IdentityCipher
from pebs.store.models import AuthSession, TotpUsage, User
from pebs.store.repositories import get_user

__all__ = ["FAILED", "LoginResult", "login", "logout", "verify_second_factor"]

FAILED = "wrong username, password or TOTP code (or the account is disabled)"
REUSED = (
    "this TOTP code was already used (a code is accepted once): wait for the next code of your "
    "app (a new one every 30 s) and send that"
)
_DUMMY_HASH: dict[int, str] = {}


@dataclass(frozen=True)
class LoginResult:
    """An open session. ``token`` is the cookie value, shown once; ``next_step`` is ``None``
    (ready), ``"totp"`` (send the code) or ``"enrol_totp"`` (enrol a TOTP app first)."""

    token: str
    csrf_token: str
    principal: Principal
    expires_at: datetime
    next_step: str | None


def _equalise_timing(policy: AuthPolicy, password: str) -> None:
    """Spend the time of a password check for an unknown username (no user enumeration)."""
    key = id(policy.hasher)
    if key not in _DUMMY_HASH:
        _DUMMY_HASH[key] = hash_password(policy.hasher, "pebs-timing-equaliser")
    verify_password(policy.hasher, _DUMMY_HASH[key], password)


def _last_step(session: Session, user_id: int) -> int | None:
    row = session.get(TotpUsage, user_id)
    return None if row is None else row.last_step


def _use_step(session: Session, user_id: int, step: int) -> None:
    row = session.get(TotpUsage, user_id)
    if row is None:
        session.add(TotpUsage(user_id=user_id, last_step=step))
    elif step <= row.last_step:  # the same code used by a concurrent login
        raise TotpCodeReused(REUSED)
    else:
        row.last_step = step


def _fail(
    sessions: sessionmaker[Session],
    policy: AuthPolicy,
    keys: tuple[str, ...],
    username: str,
    client: str | None,
    reason: str,
    now: datetime,
    error: NotAuthenticated | None = None,
) -> NotAuthenticated:
    with sessions.begin() as session:
        throttle.record_failure(session, keys, policy, now)
        append_event(
            session, actor=username[:128] or "(empty)", action="login_failed", entity="user",
            entity_id=username[:64], reason=reason, new={"client": client}, at=now,
        )  # fmt: skip
    return NotAuthenticated(FAILED) if error is None else error


def _wrong_code(
    secret: str, code: str, now: datetime, last_step: int | None
) -> tuple[str, NotAuthenticated | None]:
    """The audited reason and the error of a TOTP code that did not match."""
    if already_used(secret, code, now, last_step=last_step):
        return "reused TOTP code", TotpCodeReused(REUSED)
    return "wrong TOTP code", None


@refuses_unstorable_text
def login(
    sessions: sessionmaker[Session],
    cipher: IdentityCipher,
    policy: AuthPolicy,
    username: str,
    password: str,
    *,
    totp_code: str | None = None,
    client: str | None = None,
    at: datetime | None = None,
) -> LoginResult:
    """Check the password (and TOTP code), open a session; :class:`NotAuthenticated` or
    :class:`~.errors.TooManyAttempts` otherwise."""
    now = instant(at)
    keys = throttle.keys_for(username, client)
    with sessions.begin() as session:
        throttle.refuse_if_throttled(session, keys, policy, now)
        user = get_user(session, username)
        last_step = None if user is None else _last_step(session, user.id)
    if user is None:
        _equalise_timing(policy, password)
        raise _fail(sessions, policy, keys, username, client, "unknown username", now)
    if not verify_password(policy.hasher, user.password_hash, password):
        raise _fail(sessions, policy, keys, username, client, "wrong password", now)
    if not user.is_active:
        raise _fail(sessions, policy, keys, username, client, "account disabled", now)
    enrolled = user.totp_secret_enc is not None
    step = None
    if enrolled and totp_code:
        secret = cipher.decrypt_text(user.totp_secret_enc)  # type: ignore[arg-type]
        step = matching_step(secret, totp_code, now, last_step=last_step)
        if step is None:
            reason, error = _wrong_code(secret, totp_code, now, last_step)
            raise _fail(sessions, policy, keys, username, client, reason, now, error)
    if enrolled:
        next_step = None if step is not None else "totp"
    else:
        next_step = "enrol_totp" if user.role in TOTP_ROLES else None
    token = new_token(SESSION_PREFIX)
    with sessions.begin() as session:
        row = session.get(User, user.id)
        assert row is not None
        if step is not None:
            _use_step(session, user.id, step)
        throttle.reset(session, keys[0])
        if needs_rehash(policy.hasher, user.password_hash or ""):
            row.password_hash = hash_password(policy.hasher, password)
        auth = AuthSession(
            token_sha256=token_sha256(token), user_id=user.id, created_at=now, last_seen_at=now,
            expires_at=now + policy.absolute, mfa_ok=next_step is None, client=client,
        )  # fmt: skip
        session.add(auth)
        session.flush()
        append_event(
            session, actor=user.username, action="login", entity="user", entity_id=user.username,
            reason="login", new={"client": client, "session_id": auth.id,
                                 "second_factor": step is not None, "next_step": next_step},
            at=now,
        )  # fmt: skip
        principal = Principal(Actor.from_user(row), "session", auth.id, next_step is None, enrolled)
    return LoginResult(
        token, csrf_token(policy.secret, token), principal, auth.expires_at, next_step
    )


def session_of(session: Session, token: str, now: datetime) -> tuple[AuthSession, User]:
    row = session.execute(
        select(AuthSession, User)
        .join(User, AuthSession.user_id == User.id)
        .where(AuthSession.token_sha256 == token_sha256(token))
    ).first()
    if row is None or row[0].revoked_at is not None or row[0].expires_at <= now:
        raise NotAuthenticated("no such session, or it has ended: log in again")
    if not row[1].is_active:
        raise NotAuthenticated("the account is disabled")
    return row[0], row[1]


@refuses_unstorable_text
def verify_second_factor(
    sessions: sessionmaker[Session],
    cipher: IdentityCipher,
    policy: AuthPolicy,
    token: str,
    code: str,
    *,
    client: str | None = None,
    at: datetime | None = None,
) -> Principal:
    """Finish the TOTP check of a session opened with the password only."""
    now = instant(at)
    with sessions.begin() as session:
        auth, user = session_of(session, token, now)
        keys = throttle.keys_for(user.username, client)
        throttle.refuse_if_throttled(session, keys, policy, now)
        if user.totp_secret_enc is None:
            raise NotAuthenticated("no TOTP app is enrolled: enrol one first")
        secret = cipher.decrypt_text(user.totp_secret_enc)
        last_step = _last_step(session, user.id)
        step = matching_step(secret, code, now, last_step=last_step)
        if step is not None:
            _use_step(session, user.id, step)
            auth.mfa_ok = True
            auth.last_seen_at = now
            throttle.reset(session, keys[0])
            append_event(
                session, actor=user.username, action="login_second_factor", entity="user",
                entity_id=user.username, reason="TOTP verified",
                new={"client": client, "session_id": auth.id}, at=now,
            )  # fmt: skip
            return Principal(Actor.from_user(user), "session", auth.id, True, True)
    reason, error = _wrong_code(secret, code, now, last_step)
    raise _fail(sessions, policy, keys, user.username, client, reason, now, error)


@refuses_unstorable_text
def logout(sessions: sessionmaker[Session], token: str, *, at: datetime | None = None) -> bool:
    """Revoke the session; False if it was unknown or had already ended."""
    now = instant(at)
    with sessions.begin() as session:
        row = session.execute(
            select(AuthSession, User.username)
            .join(User, AuthSession.user_id == User.id)
            .where(AuthSession.token_sha256 == token_sha256(token))
        ).first()
        if row is None or row[0].revoked_at is not None:
            return False
        auth, username = row
        auth.revoked_at = now
        auth.revoked_reason = "logout"
        append_event(
            session, actor=username, action="logout", entity="user", entity_id=username,
            reason="logout", new={"session_id": auth.id}, at=now,
        )  # fmt: skip
        return True
