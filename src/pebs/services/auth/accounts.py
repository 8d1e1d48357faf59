"""Account administration: create, list, set a password, disable and re-enable an account, reset
its TOTP, unlock logins.

Only the administrator role (or the command line's system actor) may do these. Disabling an
account, setting its password or resetting its TOTP revokes its open sessions (and, when
disabled, its API tokens), in the same transaction as the change and its audit event. The audit
event says that a password was set, never the password or its hash. Unlocking forgets the
failed logins of a username (from every address) that make her wait (:mod:`.throttle`).

A new account (:func:`create_account`) gets the password given, or a generated one that is
returned once to be handed to her and is never stored in clear; she enrols her authenticator
app (TOTP) at her first login. Its audit events are ``create`` (role, site, country) and
``set_password``, as for every later password.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from pebs.services.actor import Actor
from pebs.services.auth import throttle
from pebs.services.auth.passwords import check_new_password, hash_password
from pebs.services.auth.policy import AuthPolicy
from pebs.services.auth.principal_cache import forget_after_commit
from pebs.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from pebs.services.field_rules import FULL_NAME_CHARS, USERNAME_CHARS, unknown_choice
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.transaction import instant
from pebs.store.audit import append_event
from pebs.store.models import ApiToken, AuthSession, Country, Site, TotpUsage, User
from pebs.store.repositories import get_user
from pebs.trial.vocabularies import COUNTRY_ROLES, ROLES, SITE_ROLES

__all__ = [
    "AccountCreated",
    "AccountRow",
    "create_account",
    "disable_account",
    "enable_account",
    "list_accounts",
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
    """Revoke the user's open sessions (and API tokens); the number of sessions revoked.

    Every change to an account's password, TOTP, status (or role or scope) comes through here:
    the tokens this process remembers for her are forgotten when the transaction commits.
    """
    forget_after_commit(session, user_id)
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
        raise InvalidInput("say why the account is disabled", field="reason",
                           message_code="error.disable_reason")  # fmt: skip
    if username == actor.username:
        raise InvalidInput("an administrator cannot disable her own account", field="username",
                           message_code="error.disable_self")  # fmt: skip
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


_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]*")
GENERATED_PASSWORD_BYTES = 12
"""Random bytes of a generated password (16 URL-safe characters, 96 bits)."""


@dataclass(frozen=True)
class AccountCreated:
    username: str
    role: str
    site: str | None
    country: str | None
    generated_password: str | None
    """The generated password, returned this once to be handed to her (``None`` when a password
    was given)."""


@dataclass(frozen=True)
class AccountRow:
    """One account as the administrator's list shows it (no secret, no hash)."""

    username: str
    full_name: str
    role: str
    site: str | None
    country: str | None
    is_active: bool
    totp_enrolled: bool
    locked: bool
    """Failed logins make her wait before her next attempt (from at least one address)."""
    created_at: datetime


def _check_username(username: str) -> str:
    name = username.strip() if isinstance(username, str) else ""
    if not name or len(name) > USERNAME_CHARS or not _USERNAME.fullmatch(name):
        raise InvalidInput(
            f"give 1 to {USERNAME_CHARS} letters, digits or . - _ @ (starting with a letter or "
            "a digit)",
            field="username", message_code="error.username_chars", values={"max": USERNAME_CHARS},
        )  # fmt: skip
    return name


def _scope_of(
    session: Session, role: str, site: str | None, country: str | None
) -> tuple[Site | None, Country | None]:
    """The site or country a role needs, found by code; refused when missing or not wanted."""
    if role not in ROLES:
        raise unknown_choice("role", role, ROLES)
    site, country = (site or "").strip() or None, (country or "").strip() or None
    if role in SITE_ROLES:
        if site is None:
            raise InvalidInput(f"the role {role} works at a site: give its code", field="site",
                               message_code="error.site_needed")  # fmt: skip
        if country is not None:
            raise InvalidInput("a site role takes a site, not a country", field="country",
                               message_code="error.not_for_role")  # fmt: skip
        rows = session.scalars(select(Site).where(Site.code == site)).all()
        if len(rows) != 1:
            raise InvalidInput(f"{site!r} is not one site's code", field="site",
                               message_code="error.unknown_site_code",
                               values={"code": site})  # fmt: skip
        return rows[0], None
    if role in COUNTRY_ROLES:
        if country is None:
            raise InvalidInput(f"the role {role} works for a country: give its code",
                               field="country", message_code="error.country_needed")  # fmt: skip
        if site is not None:
            raise InvalidInput("a country role takes a country, not a site", field="site",
                               message_code="error.not_for_role")  # fmt: skip
        rows = session.scalars(select(Country).where(Country.code == country.upper())).all()
        if len(rows) != 1:
            raise InvalidInput(f"{country!r} is not one country's code", field="country",
                               message_code="error.unknown_country_code",
                               values={"code": country})  # fmt: skip
        return None, rows[0]
    for name, value in (("site", site), ("country", country)):
        if value is not None:
            raise InvalidInput(f"the role {role} has no {name}", field=name,
                               message_code="error.not_for_role")  # fmt: skip
    return None, None


@refuses_unstorable_text
def create_account(
    sessions: sessionmaker[Session],
    actor: Actor,
    policy: AuthPolicy,
    username: str,
    role: str,
    *,
    site: str | None = None,
    country: str | None = None,
    password: str | None = None,
    full_name: str | None = None,
    at: datetime | None = None,
) -> AccountCreated:
    """Create an active account of ``role``: at ``site`` (a site role's code, ``IT-TO``) or for
    ``country`` (a country coordinator's, ``IT``), neither for the central roles.

    Without ``password`` one is generated and returned once (:attr:`AccountCreated.
    generated_password`). :class:`Conflict` if the username exists (letter case ignored).
    """
    _require_admin(actor, "create accounts")
    name = _check_username(username)
    holder = (full_name or "").strip() or name
    if len(holder) > FULL_NAME_CHARS:
        raise InvalidInput(f"at most {FULL_NAME_CHARS} characters", field="full_name",
                           message_code="error.too_long",
                           values={"max": FULL_NAME_CHARS})  # fmt: skip
    generated = secrets.token_urlsafe(GENERATED_PASSWORD_BYTES) if password is None else None
    chosen = generated if password is None else password
    assert chosen is not None
    check_new_password(chosen, name)
    now = instant(at)
    stored = hash_password(policy.hasher, chosen)  # slow: outside the transaction
    with sessions.begin() as session:
        site_row, country_row = _scope_of(session, role, site, country)
        taken = session.scalar(select(User.id).where(func.lower(User.username) == name.lower()))
        if taken is not None:
            raise Conflict(f"an account {name!r} exists already (letter case ignored)")
        user = User(username=name, full_name=holder, role=role,
                    site_id=None if site_row is None else site_row.id,
                    country_id=None if country_row is None else country_row.id,
                    password_hash=stored, is_active=True, created_at=now)  # fmt: skip
        session.add(user)
        session.flush()
        scope = {"role": role, "site": None if site_row is None else site_row.code,
                 "country": None if country_row is None else country_row.code}  # fmt: skip
        append_event(
            session, actor=actor.username, action="create", entity="user", entity_id=name,
            reason="account created by an administrator", new=scope, at=now,
        )  # fmt: skip
        append_event(
            session, actor=actor.username, action="set_password", entity="user",
            entity_id=name, reason="initial password", new={"password_set": True,
                                                            "sessions_revoked": 0}, at=now,
        )  # fmt: skip
    return AccountCreated(name, role, scope["site"], scope["country"], generated)


@refuses_unstorable_text
def enable_account(
    sessions: sessionmaker[Session], actor: Actor, username: str, *, at: datetime | None = None
) -> bool:
    """Enable a disabled account again (her old sessions and API tokens stay revoked).

    Returns whether it changed anything (enabling an active account does nothing).
    """
    _require_admin(actor, "enable accounts")
    now = instant(at)
    with sessions.begin() as session:
        user = _user(session, username)
        if user.is_active:
            return False
        user.is_active = True
        user.disabled_at = None
        append_event(
            session, actor=actor.username, action="enable", entity="user", entity_id=username,
            reason="account enabled by an administrator", old={"is_active": False},
            new={"is_active": True}, at=now,
        )  # fmt: skip
        return True


@refuses_unstorable_text
def list_accounts(
    sessions: sessionmaker[Session], actor: Actor, policy: AuthPolicy, *,
    at: datetime | None = None,
) -> tuple[AccountRow, ...]:  # fmt: skip
    """Every account, by username: role, site or country, active, TOTP enrolled, locked."""
    _require_admin(actor, "list accounts")
    now = instant(at)
    site, country = aliased(Site), aliased(Country)
    with sessions() as session, session.begin():
        locked = throttle.locked_usernames(session, policy, now)
        rows = session.execute(
            select(User, site.code, country.code)
            .outerjoin(site, site.id == User.site_id)
            .outerjoin(country, country.id == User.country_id)
            .order_by(User.username)
        ).all()
        return tuple(
            AccountRow(u.username, u.full_name, u.role, site_code, country_code, u.is_active,
                       u.totp_secret_enc is not None, u.username.lower() in locked,
                       u.created_at)
            for u, site_code, country_code in rows
        )  # fmt: skip
