"""Enrol a TOTP app: a new secret bound to the session, confirmed by its first code.

:func:`begin_totp_enrolment` stores a new secret (encrypted) on the session and returns it, with
its ``otpauth://`` URI, for the user's authenticator app. :func:`confirm_totp_enrolment` checks a
code of that secret, moves it to the account, and marks the session as having passed its second
factor. An account that already has TOTP cannot enrol again from a session (an administrator
resets it, :func:`pebs.services.auth.accounts.reset_totp`), so a stolen password alone can
never replace the factor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from pebs.services.auth.logins import session_of
from pebs.services.auth.totp import matching_step, new_secret, provisioning_uri
from pebs.services.errors import Conflict, InvalidInput
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.transaction import instant
from pebs.store.audit import append_event
from pebs.store.crypto import IdentityCipher
from pebs.store.models import TotpUsage

__all__ = ["TotpEnrolment", "begin_totp_enrolment", "confirm_totp_enrolment"]


@dataclass(frozen=True)
class TotpEnrolment:
    secret: str
    """Base32, for manual entry; shown once."""
    uri: str
    """``otpauth://totp/...`` for a QR code."""


@refuses_unstorable_text
def begin_totp_enrolment(
    sessions: sessionmaker[Session],
    cipher: IdentityCipher,
    token: str,
    *,
    at: datetime | None = None,
) -> TotpEnrolment:
    """A new secret for the session's account (replaces a previous unconfirmed one)."""
    now = instant(at)
    with sessions.begin() as session:
        auth, user = session_of(session, token, now)
        if user.totp_secret_enc is not None:
            raise Conflict("TOTP is already enrolled; an administrator can reset it")
        secret = new_secret()
        auth.pending_totp_enc = cipher.encrypt_text(secret)
        return TotpEnrolment(secret, provisioning_uri(secret, user.username))


@refuses_unstorable_text
def confirm_totp_enrolment(
    sessions: sessionmaker[Session],
    cipher: IdentityCipher,
    token: str,
    code: str,
    *,
    at: datetime | None = None,
) -> None:
    """Check the app's first code; on success the account has TOTP and the session is ready."""
    now = instant(at)
    with sessions.begin() as session:
        auth, user = session_of(session, token, now)
        if user.totp_secret_enc is not None:
            raise Conflict("TOTP is already enrolled; an administrator can reset it")
        if auth.pending_totp_enc is None:
            raise Conflict("no TOTP enrolment in progress: start one first")
        secret = cipher.decrypt_text(auth.pending_totp_enc)
        step = matching_step(secret, code, now, last_step=None)
        if step is None:
            raise InvalidInput(
                "does not match the new secret (check the app's clock)", field="code",
                message_code="totp.wrong",
            )  # fmt: skip
        user.totp_secret_enc = auth.pending_totp_enc
        auth.pending_totp_enc = None
        auth.mfa_ok = True
        usage = session.get(TotpUsage, user.id)
        if usage is None:
            session.add(TotpUsage(user_id=user.id, last_step=step))
        else:
            usage.last_step = step
        append_event(
            session, actor=user.username, action="totp_enrol", entity="user",
            entity_id=user.username, reason="TOTP app enrolled", new={"session_id": auth.id},
            at=now,
        )  # fmt: skip
