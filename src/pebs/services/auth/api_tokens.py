"""Personal API tokens: created from an interactive session, shown once, stored as SHA-256.

A token acts with its owner's role and scope (``Authorization: Bearer pebs_t_...``). It cannot
create further tokens (only a logged-in session that passed its TOTP check can), it expires
(default :data:`DEFAULT_DAYS`), and it stops working when revoked or when the account is
disabled. Creation and revocation are audited (never the token itself, only its prefix).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.auth.principal import Principal
from pebs.services.auth.principal_cache import forget_after_commit
from pebs.services.auth.tokens import API_TOKEN_PREFIX, new_token, token_sha256
from pebs.services.errors import InvalidInput, NotFound, PermissionDenied
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.transaction import instant
from pebs.store.audit import append_event
from pebs.store.models import ApiToken

__all__ = [
    "DEFAULT_DAYS",
    "MAX_DAYS",
    "NAME_CHARS",
    "ApiTokenInfo",
    "create_api_token",
    "list_api_tokens",
    "revoke_api_token",
]

DEFAULT_DAYS = 90
MAX_DAYS = 366
NAME_CHARS = 100
"""The longest description of a token, in characters."""
_PREFIX_CHARS = 12


@dataclass(frozen=True)
class ApiTokenInfo:
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


def _info(row: ApiToken) -> ApiTokenInfo:
    return ApiTokenInfo(
        row.id, row.name, row.prefix, row.created_at, row.expires_at, row.last_used_at,
        row.revoked_at,
    )  # fmt: skip


@refuses_unstorable_text
def create_api_token(
    sessions: sessionmaker[Session],
    principal: Principal,
    name: str,
    *,
    days: int = DEFAULT_DAYS,
    at: datetime | None = None,
) -> tuple[str, ApiTokenInfo]:
    """A new token for the principal's account: (the token, shown once; its description)."""
    actor = principal.require_mfa()
    if principal.via != "session" or actor.user_id is None:
        raise PermissionDenied("API tokens are created from a logged-in session, not a token")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= NAME_CHARS:
        raise InvalidInput(f"give 1 to {NAME_CHARS} characters", field="name")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"a token lives 1 to {MAX_DAYS} days, got {days!r}", field="days")
    now = instant(at)
    token = new_token(API_TOKEN_PREFIX)
    with sessions.begin() as session:
        row = ApiToken(
            token_sha256=token_sha256(token), user_id=actor.user_id, name=name.strip(),
            prefix=token[:_PREFIX_CHARS], created_at=now, expires_at=now + timedelta(days=days),
        )  # fmt: skip
        session.add(row)
        session.flush()
        append_event(
            session, actor=actor.username, action="create", entity="api_token", entity_id=row.id,
            reason="API token created",
            new={"name": row.name, "prefix": row.prefix, "expires_at": row.expires_at}, at=now,
        )  # fmt: skip
        return token, _info(row)


@refuses_unstorable_text
def list_api_tokens(
    sessions: sessionmaker[Session], principal: Principal
) -> tuple[ApiTokenInfo, ...]:
    """The principal's own tokens, newest first (revoked ones included, marked)."""
    actor = principal.require_mfa()
    with sessions() as session:
        rows = session.scalars(
            select(ApiToken).where(ApiToken.user_id == actor.user_id).order_by(ApiToken.id.desc())
        )
        return tuple(_info(row) for row in rows)


@refuses_unstorable_text
def revoke_api_token(
    sessions: sessionmaker[Session],
    principal: Principal,
    token_id: int,
    *,
    at: datetime | None = None,
) -> ApiTokenInfo:
    """Revoke one of the principal's own tokens (another user's token is not found)."""
    actor = principal.require_mfa()
    now = instant(at)
    with sessions.begin() as session:
        row = session.scalar(
            select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == actor.user_id)
        )
        if row is None:
            raise NotFound(f"you have no API token {token_id}")
        if row.revoked_at is None:
            row.revoked_at = now
            forget_after_commit(session, row.user_id)
            append_event(
                session, actor=actor.username, action="revoke", entity="api_token",
                entity_id=row.id, reason="API token revoked",
                old={"revoked_at": None}, new={"revoked_at": now, "prefix": row.prefix}, at=now,
            )  # fmt: skip
        return _info(row)
