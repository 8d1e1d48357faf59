"""The signer proves again who she is: her password and a current TOTP code (21 CFR 11.200).

An electronic signature not based on biometrics uses two distinct identification components
(21 CFR 11.200(a)(1)): here her password and a TOTP code of her authenticator app, both
checked at the signature even within a logged-in session. The checks are those of a login
(:mod:`.logins`): argon2id password, TOTP code within the drift window and never accepted twice
(the step used is recorded in the signing transaction, :func:`use_second_factor`), failures
counted by the login throttle (:mod:`.throttle`: the same growing wait for the same username
and address) and audited (``action`` as given, e.g. ``signature_failed``; never the password or
code).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from pebs.services.auth import throttle
from pebs.services.auth.logins import REUSED, _equalise_timing, _last_step, _use_step
from pebs.services.auth.passwords import verify_password
from pebs.services.auth.policy import AuthPolicy
from pebs.services.auth.totp import already_used, matching_step
from pebs.services.errors import NotAuthenticated, TotpCodeReused
from pebs.services.storable_text import refuses_unstorable_text
from pebs.store.audit import append_event
from pebs.store.crypto import IdentityCipher
from pebs.store.repositories import get_user

__all__ = ["Reauthenticated", "reauthenticate", "use_second_factor"]

WRONG = "wrong password or TOTP code: the signature was not applied"


@dataclass(frozen=True)
class Reauthenticated:
    """Her identity confirmed: the TOTP step to record with what she does now."""

    user_id: int
    step: int
    throttle_key: str


@refuses_unstorable_text
def reauthenticate(
    sessions: sessionmaker[Session],
    cipher: IdentityCipher,
    policy: AuthPolicy,
    username: str,
    password: str,
    totp_code: str,
    *,
    action: str,
    entity_id: str,
    client: str | None,
    now: datetime,
) -> Reauthenticated:
    """Check her password and TOTP code; :class:`NotAuthenticated`, :class:`TotpCodeReused` or
    :class:`~.errors.TooManyAttempts` otherwise (each failure counted and audited as
    ``action`` about ``entity_id``)."""
    keys = throttle.keys_for(username, client)
    with sessions.begin() as session:
        throttle.refuse_if_throttled(session, keys, policy, now)
        user = get_user(session, username)
        last_step = None if user is None else _last_step(session, user.id)
    reason, error = None, None
    if user is None:
        _equalise_timing(policy, password)
        reason = "unknown username"
    elif not verify_password(policy.hasher, user.password_hash, password or ""):
        reason = "wrong password"
    elif not user.is_active:
        reason = "account disabled"
    elif user.totp_secret_enc is None:
        reason = "no TOTP app enrolled"
    else:
        secret = cipher.decrypt_text(user.totp_secret_enc)
        step = matching_step(secret, totp_code or "", now, last_step=last_step)
        if step is not None:
            return Reauthenticated(user.id, step, keys[0])
        if already_used(secret, totp_code or "", now, last_step=last_step):
            reason, error = "reused TOTP code", TotpCodeReused(REUSED)
        else:
            reason = "wrong TOTP code"
    with sessions.begin() as session:
        throttle.record_failure(session, keys, policy, now)
        append_event(
            session, actor=username[:128] or "(empty)", action=action, entity="participant",
            entity_id=entity_id[:64], reason=reason, new={"client": client}, at=now,
        )  # fmt: skip
    raise error or NotAuthenticated(WRONG)


def use_second_factor(session: Session, confirmed: Reauthenticated) -> None:
    """Record the TOTP step as used and forget her failures, in the caller's transaction
    (:class:`TotpCodeReused` if a concurrent request used it first)."""
    _use_step(session, confirmed.user_id, confirmed.step)
    throttle.reset(session, confirmed.throttle_key)
