"""Who is behind a request: the :class:`Actor` of a valid session or API token."""

from __future__ import annotations

from dataclasses import dataclass

from pebs.services.actor import Actor
from pebs.services.errors import SecondFactorRequired

__all__ = ["Principal"]


@dataclass(frozen=True)
class Principal:
    """An authenticated caller.

    ``via`` is ``"session"`` (cookie of an interactive login) or ``"token"`` (personal API
    token); ``credential_id`` is the session's or token's row id. ``mfa_ok`` is False for a
    session that has not yet passed (or enrolled) the TOTP check: it may only finish that check
    or log out (:meth:`require_mfa`).
    """

    actor: Actor
    via: str
    credential_id: int
    mfa_ok: bool
    totp_enrolled: bool

    def require_mfa(self) -> Actor:
        """The actor, or :class:`SecondFactorRequired` while the TOTP check is pending."""
        if not self.mfa_ok:
            step = "verify your TOTP code" if self.totp_enrolled else "enrol a TOTP app"
            raise SecondFactorRequired(
                f"{self.actor.username}: {step} (POST /api/v1/auth/totp/...) before going on"
            )
        return self.actor
