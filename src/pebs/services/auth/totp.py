"""TOTP second factor (RFC 6238: 30-second steps, 6 digits, SHA-1, as authenticator apps expect).

Secrets are base32 text, stored encrypted with the identity cipher
(:class:`pebs.store.crypto.IdentityCipher`). A code is accepted for the current step and one
step either side (clock drift), and only for a step later than the last one the user logged in
with, so a code seen over someone's shoulder cannot be replayed.

>>> secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # RFC 6238 test key
>>> from datetime import datetime, UTC
>>> at = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
>>> code = code_at(secret, at)
>>> matching_step(secret, code, at, last_step=None) == step_of(at)
True
>>> matching_step(secret, code, at, last_step=step_of(at)) is None  # replayed
True
>>> already_used(secret, code, at, last_step=step_of(at)), already_used(secret, code, at,
...                                                                      last_step=None)
(True, False)
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

__all__ = [
    "STEP_S",
    "already_used",
    "code_at",
    "matching_step",
    "new_secret",
    "provisioning_uri",
    "step_of",
]

STEP_S = 30
"""Seconds per TOTP time step."""
_DRIFT_STEPS = 1
ISSUER = "pebs"


def new_secret() -> str:
    """A random 160-bit base32 secret (32 characters)."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    """``otpauth://`` URI for a QR code or manual entry in an authenticator app."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def step_of(at: datetime) -> int:
    """The TOTP time step of instant ``at``."""
    return int(at.timestamp()) // STEP_S


def code_at(secret: str, at: datetime) -> str:
    """The code an authenticator app shows at ``at``."""
    return pyotp.TOTP(secret).at(at)


def _steps_with(secret: str, code: str, at: datetime) -> list[int]:
    """The steps of the drift window around ``at`` whose code is ``code``."""
    code = (code or "").strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return []
    totp = pyotp.TOTP(secret)
    now = step_of(at)
    return [
        step
        for step in range(now - _DRIFT_STEPS, now + _DRIFT_STEPS + 1)
        if hmac.compare_digest(totp.generate_otp(step), code)
    ]


def matching_step(secret: str, code: str, at: datetime, *, last_step: int | None) -> int | None:
    """The step (within the drift window, after ``last_step``) whose code is ``code``."""
    later = [s for s in _steps_with(secret, code, at) if last_step is None or s > last_step]
    return later[0] if later else None


def already_used(secret: str, code: str, at: datetime, *, last_step: int | None) -> bool:
    """Whether ``code`` is right for the drift window but only for a step already used (at or
    before ``last_step``): the user should wait for the app's next code."""
    if last_step is None:
        return False
    steps = _steps_with(secret, code, at)
    return bool(steps) and all(s <= last_step for s in steps)
