"""Account administration: set a password, disable an account, reset its TOTP, unlock logins.

Only the administrator role (or the command line's system actor) may do these. Disabling an
account, setting its password or resetting its TOTP revokes its open sessions (and, when
disabled, its API tokens), in the same transaction as the change and its audit event. The audit
event says that a password was set, never the password or its hash. Unlocking forgets the
failed logins of a username (from every address) that make her wait (:mod:`.throttle`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Actor
from pebs.services.auth import throttle
from pebs.services.auth.passwords import check_new_password, hash_password
from pebs.services.auth.policy import AuthPolicy
from pebs.services.errors import InvalidInput, NotFound, PermissionDenied
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.transaction import instant
from pebs.store.audit import append_event
from pebs.store.models import ApiToken, AuthSession, TotpUsage, User
from pebs.store.repositories import get_user

__all__ = [
    "disable_account",
    "reset_totp",
    "revoke_credentials",
    "set_password",
    "unlock_logins",
]

ADMIN_ROLE = "administrator"


def _require_admin(actor: Actor, doing: str) -> None:
    if actor.role != ADMIN_ROLE:
        raise PermissionDenied(f"{actor.username} ({actor.role}) may not {doing}; allowed roles: "
                               f"{ADMIN_ROLE}")  # fmt: skip


def _user(session: Session, username: str) -> User:
    user = get_user(session, username)
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def revoke_credentials(
    session: Session, user_id: int, reason: str, now: datetime, *, tokens: bool
) -> int:
    """Revoke the user's open sessions (and API tokens); the number of sessions revoked."""
    revoked = session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason[:64])
        .execution_options(synchronize_session=False)
    ).rowcount
    if tokens:
        session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
    return int(revoked or 0)


@refuses_unstorable_text
def set_password(
    sessions: sessionmaker[Session],
    actor: Actor,
    policy: AuthPolicy,
    username: str,
    password: str,
    *,
    at: datetime | None = None,
) -> None:
    """Set ``username``'s password (argon2id); her open sessions end."""
    _require_admin(actor, "set passwords")
    check_new_password(password, username)
    now = instant(at)
    stored = hash_password(policy.hasher, password)  # slow: outside the transaction
    with sessions.begin() as session:
        user = _user(session, username)
        user.password_hash = stored
        n = revoke_credentials(session, user.id, "password set", now, tokens=False)
        append_event(
            session, actor=actor.username, action="set_password", entity="user",
            entity_id=username, reason="password set by an administrator",
            new={"password_set": True, "sessions_revoked": n}, at=now,
        )  # fmt: skip


@refuses_unstorable_text
def disable_account(
    sessions: sessionmaker[Session],
    actor: Actor,
    username: str,
    reason: str,
    *,
    at: datetime | None = None,
) -> int:
    """Disable ``username``: her sessions and API tokens stop working at once.

    Returns the number of sessions revoked. Disabling a disabled account changes nothing.
    """
    _require_admin(actor, "disable accounts")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("say why the account is disabled", field="reason")
    if username == actor.username:
        raise InvalidInput("an administrator cannot disable her own account", field="username")
    now = instant(at)
    with sessions.begin() as session:
        user = _user(session, username)
        if not user.is_active:
            return 0
        user.is_active = False
        user.disabled_at = now
        n = revoke_credentials(session, user.id, "account disabled", now, tokens=True)
        append_event(
            session, actor=actor.username, action="disable", entity="user", entity_id=username,
            reason=reason.strip(), old={"is_active": True},
            new={"is_active": False, "sessions_revoked": n}, at=now,
        )  # fmt: skip
        return n


@refuses_unstorable_text
def reset_totp(
    sessions: sessionmaker[Session], actor: Actor, username: str, *, at: datetime | None = None
) -> None:
    """Remove ``username``'s TOTP secret (lost phone): she enrols again at her next login."""
    _require_admin(actor, "reset TOTP")
    now = instant(at)
    with sessions.begin() as session:
        user = _user(session, username)
        user.totp_secret_enc = None
        usage = session.get(TotpUsage, user.id)
        if usage is not None:
            session.delete(usage)
        n = revoke_credentials(session, user.id, "TOTP reset", now, tokens=False)
        append_event(
            session, actor=actor.username, action="totp_reset", entity="user",
            entity_id=username, reason="TOTP reset by an administrator",
            new={"sessions_revoked": n}, at=now,
        )  # fmt: skip


@refuses_unstorable_text
def unlock_logins(
    sessions: sessionmaker[Session],
    actor: Actor,
    username: str,
    *,
    address: str | None = None,
    at: datetime | None = None,
) -> int:
    """Forget ``username``'s failed logins from every address (and, with ``address``, that
    address's failures for every username): she may log in at once.

    Returns the number of throttle counts cleared (0 if there were none).
    """
    _require_admin(actor, "unlock logins")
    now = instant(at)
    with sessions.begin() as session:
        _user(session, username)
        n = throttle.unlock(session, username, address)
        append_event(
            session, actor=actor.username, action="unlock_logins", entity="user",
            entity_id=username, reason="failed logins forgotten by an administrator",
            new={"counts_cleared": n, "address": address}, at=now,
        )  # fmt: skip
        return n
