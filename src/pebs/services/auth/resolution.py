"""Resolve a session token or API token to its :class:`~.principal.Principal`, per request.

One indexed query joins the credential (by the SHA-256 of the token) to its user; the checks
(revoked, idle or absolute expiry, disabled account) run on that row. ``last_seen_at`` /
``last_used_at`` are written only when older than :attr:`~.policy.AuthPolicy.touch_every`, so
most requests only read (on SQLite, through a read-only session that never takes the writer
lock). An accepted API token is remembered for a few seconds (:mod:`.principal_cache`):
:func:`remembered_principal` answers without the database; :func:`authenticate` asks it first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Actor
from pebs.services.auth.policy import AuthPolicy
from pebs.services.auth.principal import Principal
from pebs.services.auth.principal_cache import cache_for
from pebs.services.auth.tokens import API_TOKEN_PREFIX, SESSION_PREFIX, token_sha256
from pebs.services.errors import NotAuthenticated
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.transaction import instant
from pebs.store.models import ApiToken, AuthSession, User

__all__ = ["authenticate", "remembered_principal"]

_ENDED = "the session has ended (logged out, timed out or revoked): log in again"


@refuses_unstorable_text
def authenticate(
    readers: sessionmaker[Session],
    writers: sessionmaker[Session],
    policy: AuthPolicy,
    token: str,
    *,
    at: datetime | None = None,
) -> Principal:
    """The principal of a session token (``pebs_s_...``) or API token (``pebs_t_...``).

    ``readers`` may be a read-only sessionmaker; ``writers`` records the last use. Raises
    :class:`~.errors.NotAuthenticated` for an unknown, ended or revoked credential, or a disabled
    account.
    """
    now = instant(at)
    if token.startswith(SESSION_PREFIX + "_"):
        return _session(readers, writers, policy, token, now)
    if token.startswith(API_TOKEN_PREFIX + "_"):
        return _api_token(readers, writers, policy, token, now)
    raise NotAuthenticated("not a pebs session or API token")


@refuses_unstorable_text
def remembered_principal(
    readers: sessionmaker[Session], token: str, *, at: datetime | None = None
) -> Principal | None:
    """The principal of an API token accepted within the last few seconds, without I/O; None
    when not remembered (then :func:`authenticate` decides). A token that is not storable text
    is refused by field, as by :func:`authenticate` and every use case."""
    if not token.startswith(API_TOKEN_PREFIX + "_"):
        return None
    return cache_for(readers.kw["bind"]).get(token_sha256(token), instant(at))


def _session(
    readers: sessionmaker[Session],
    writers: sessionmaker[Session],
    policy: AuthPolicy,
    token: str,
    now: datetime,
) -> Principal:
    with readers() as session:
        row = session.execute(
            select(AuthSession, User)
            .join(User, AuthSession.user_id == User.id)
            .where(AuthSession.token_sha256 == token_sha256(token))
        ).first()
    if row is None:
        raise NotAuthenticated(_ENDED)
    auth, user = row
    if (
        auth.revoked_at is not None
        or auth.expires_at <= now
        or auth.last_seen_at + policy.idle <= now
        or not user.is_active
    ):
        raise NotAuthenticated(_ENDED)
    if now - auth.last_seen_at >= policy.touch_every:
        with writers.begin() as session:
            session.execute(
                update(AuthSession).where(AuthSession.id == auth.id).values(last_seen_at=now)
            )
    enrolled = user.totp_secret_enc is not None
    return Principal(Actor.from_user(user), "session", auth.id, auth.mfa_ok, enrolled)


def _api_token(
    readers: sessionmaker[Session],
    writers: sessionmaker[Session],
    policy: AuthPolicy,
    token: str,
    now: datetime,
) -> Principal:
    cache = cache_for(readers.kw["bind"])
    digest = token_sha256(token)
    remembered = cache.get(digest, now)
    if remembered is not None:
        return remembered
    generation = cache.generation
    with readers() as session:
        row = session.execute(
            select(ApiToken, User)
            .join(User, ApiToken.user_id == User.id)
            .where(ApiToken.token_sha256 == digest)
        ).first()
    if row is None:
        raise NotAuthenticated("unknown API token")
    api_token, user = row
    if api_token.revoked_at is not None or not user.is_active:
        raise NotAuthenticated("the API token is revoked, or its account disabled")
    if api_token.expires_at is not None and api_token.expires_at <= now:
        raise NotAuthenticated("the API token has expired: create a new one")
    last = api_token.last_used_at
    if last is None or now - last >= policy.touch_every:
        with writers.begin() as session:
            session.execute(
                update(ApiToken).where(ApiToken.id == api_token.id).values(last_used_at=now)
            )
    enrolled = user.totp_secret_enc is not None
    principal = Principal(Actor.from_user(user), "token", api_token.id, True, enrolled)
    cache.put(digest, principal, user_id=user.id, token_expires_at=api_token.expires_at,
              since=generation)  # fmt: skip
    return principal
