"""Authentication tables: server-side sessions, API tokens, login throttling and TOTP replay
guard (re-exported by :mod:`pebs.store.models`; used by :mod:`pebs.services.auth`).

No secret is stored in clear: sessions and API tokens are kept as the SHA-256 of their random
token (a token has 256 bits of entropy, so a fast hash is enough and keeps the per-request cost
low); a TOTP secret waiting for confirmation is encrypted like identifying data.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from pebs.store._base import Base, utcnow

_SHA256_HEX = 64


class AuthSession(Base):
    """A logged-in browser or client: idle and absolute expiry, revoked at logout/disablement.

    ``mfa_ok`` is False until the second factor has been checked (or is not needed); such a
    session may only enrol/verify TOTP and log out.
    """

    __tablename__ = "auth_sessions"
    __table_args__ = (
        CheckConstraint(f"length(token_sha256) = {_SHA256_HEX}", name="token_sha256"),
        CheckConstraint("expires_at > created_at", name="expiry"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(_SHA256_HEX), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    """Updated at most once a minute (idle timeout granularity)."""
    expires_at: Mapped[datetime]
    """Absolute expiry: ``created_at`` + the absolute timeout."""
    mfa_ok: Mapped[bool] = mapped_column(Boolean, default=False)
    pending_totp_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    """A TOTP secret being enrolled (encrypted), until its first code is verified."""
    client: Mapped[str | None] = mapped_column(String(64))
    """Client address at login (for the user's own session list and incident review)."""
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(64))


class ApiToken(Base):
    """A personal API token (``Authorization: Bearer``) with its owner's permissions."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint(f"length(token_sha256) = {_SHA256_HEX}", name="token_sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(_SHA256_HEX), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    """The token's first characters, shown in lists so a user can tell her tokens apart."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class LoginThrottle(Base):
    """Failed logins of one key (``user:<name>`` or ``addr:<address>``) in a fixed window.

    Kept in the database so that every worker process of the server shares the count.
    """

    __tablename__ = "login_throttles"
    __table_args__ = (CheckConstraint("failures >= 0", name="failures"),)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime]
    failures: Mapped[int] = mapped_column(Integer, default=0)


class TotpUsage(Base):
    """The last TOTP time step a user logged in with: a code is accepted once only."""

    __tablename__ = "totp_usages"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    last_step: Mapped[int] = mapped_column(BigInteger)
