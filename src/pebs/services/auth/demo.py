"""Demo logins: every demo account gets a fresh password and a pre-enrolled TOTP secret.

For trying pebs only (``make run``), never for a real trial: the passwords and secrets are
returned so that the command line can print them. The demo accounts are the ones
``pebs study load --demo-users`` creates (:data:`pebs.services.trial.DEMO_USERS`, site roles at
the study's first site), plus :data:`SECOND_SITE_STAFF` at the first site of another country, so
that two site users can see that they do not see each other's participants.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Actor
from pebs.services.auth.accounts import revoke_credentials
from pebs.services.auth.passwords import hash_password
from pebs.services.auth.policy import AuthPolicy
from pebs.services.auth.totp import new_secret
from pebs.services.errors import Conflict, PermissionDenied
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.transaction import instant
from pebs.services.trial.study_loading import DEMO_USERS
from pebs.services.trial.study_rules import study_named
from pebs.store.audit import append_event
from pebs.store.crypto import IdentityCipher
from pebs.store.models import Country, Site, TotpUsage, User

__all__ = ["SECOND_SITE_STAFF", "DemoLogin", "provision_demo_accounts"]

SECOND_SITE_STAFF = "demo-site-staff-2"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    site: str | None
    country: str | None
    password: str
    totp_secret: str
    """Base32: add it to an authenticator app, or compute codes with ``pyotp``."""


def _second_site(session: Session, study_name: str, first_site: Site) -> Site:
    study = study_named(session, study_name)
    codes = [entry["code"] for entry in (study.config or {}).get("sites", [])]
    sites = {
        s.code: s
        for s in session.scalars(select(Site).join(Country).where(Country.study_id == study.id))
    }
    for code in codes:
        site = sites.get(code)
        if site is not None and site.country_id != first_site.country_id:
            return site
    raise Conflict(f"study {study_name!r} has no site outside the first site's country")


def _second_staff(
    session: Session, actor: Actor, study: str, first_site: Site, now: datetime
) -> User:
    user = session.scalar(select(User).where(User.username == SECOND_SITE_STAFF))
    if user is not None:
        return user
    site = _second_site(session, study, first_site)
    user = User(username=SECOND_SITE_STAFF, full_name="Demo site staff (second site)",
                role="site_staff", site_id=site.id)  # fmt: skip
    session.add(user)
    session.flush()
    append_event(
        session, actor=actor.username, action="create", entity="user",
        entity_id=SECOND_SITE_STAFF, reason="demo accounts",
        new={"role": "site_staff", "site": site.code, "country": None}, at=now,
    )  # fmt: skip
    return user


@refuses_unstorable_text
def provision_demo_accounts(
    sessions: sessionmaker[Session],
    actor: Actor,
    cipher: IdentityCipher,
    policy: AuthPolicy,
    study: str,
    *,
    at: datetime | None = None,
) -> tuple[DemoLogin, ...]:
    """Give every demo account a new random password and TOTP secret; return them to print.

    Needs ``pebs study load <study> --demo-users`` first (:class:`Conflict` otherwise). Earlier
    sessions of these accounts end.
    """
    if actor.role != "administrator":
        raise PermissionDenied(f"{actor.username} ({actor.role}) may not provision demo accounts")
    now = instant(at)
    names = [username for username, _, _ in DEMO_USERS]
    with sessions() as session:
        found = {u.username for u in session.scalars(select(User).where(User.username.in_(names)))}
    missing = [name for name in names if name not in found]
    if missing:
        raise Conflict(f"demo accounts {', '.join(missing)} do not exist: run 'pebs study load "
                       f"{study} --demo-users' first")  # fmt: skip
    passwords = {name: secrets.token_urlsafe(12) for name in [*names, SECOND_SITE_STAFF]}
    hashes = {name: hash_password(policy.hasher, pw) for name, pw in passwords.items()}
    logins = []
    with sessions.begin() as session:
        users = list(session.scalars(select(User).where(User.username.in_(names))))
        first_site = next(u.site for u in users if u.site is not None)
        users.append(_second_staff(session, actor, study, first_site, now))
        for user in sorted(users, key=lambda u: [*names, SECOND_SITE_STAFF].index(u.username)):
            secret = new_secret()
            user.password_hash = hashes[user.username]
            user.totp_secret_enc = cipher.encrypt_text(secret)
            user.is_active = True
            user.disabled_at = None
            usage = session.get(TotpUsage, user.id)
            if usage is not None:
                session.delete(usage)
            revoke_credentials(session, user.id, "demo provisioning", now, tokens=True)
            append_event(
                session, actor=actor.username, action="provision_demo", entity="user",
                entity_id=user.username, reason="demo login (password and TOTP set)",
                new={"password_set": True, "totp_enrolled": True, "is_active": True}, at=now,
            )  # fmt: skip
            logins.append(DemoLogin(
                user.username, user.role, None if user.site is None else user.site.code,
                None if user.country is None else user.country.code,
                passwords[user.username], secret,
            ))  # fmt: skip
    return tuple(logins)
