"""Authentication policy: timeouts, login limits, who needs a second factor, password hashing.

The entry point builds one :class:`AuthPolicy` from its settings (``PEBS_SESSION_*``,
``PEBS_LOGIN_*``, ``PEBS_SECRET_KEY``) and passes it to every authentication use case.

Roles and factors (``docs/security.md``):

- :data:`IDENTITY_ROLES` may read identifying data (name, date of birth, contact, national ID):
  the roles that meet or contact the women, or fix their records;
- :data:`TOTP_ROLES` must pass a TOTP check at every login: the identity roles and the
  administrator (who manages accounts). Statisticians and monitors see pseudonymised data only
  and may log in with a password alone, unless they enrolled TOTP (then it is always checked).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import timedelta

from argon2 import PasswordHasher, profiles

__all__ = ["IDENTITY_ROLES", "TOTP_ROLES", "AuthPolicy", "default_hasher"]

IDENTITY_ROLES = frozenset(
    {"site_staff", "site_investigator", "country_coordinator", "data_manager"}
)
"""Roles that may read a participant's identifying data (within their scope)."""

TOTP_ROLES = IDENTITY_ROLES | {"administrator"}
"""Roles that must log in with a TOTP code (they enrol one at their first login)."""


def default_hasher() -> PasswordHasher:
    """argon2id with RFC 9106's second recommended profile (t=3, 64 MiB, p=4)."""
    return PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


@dataclass(frozen=True)
class AuthPolicy:
    """Values of the authentication rules.

    >>> policy = AuthPolicy(secret=b"s" * 32)
    >>> policy.idle, policy.absolute, policy.max_failures
    (datetime.timedelta(seconds=1800), datetime.timedelta(seconds=43200), 5)
    >>> policy.first_delay.total_seconds(), policy.max_delay.total_seconds()
    (1.0, 900.0)
    """

    secret: bytes
    """Key of the CSRF tokens (from ``PEBS_SECRET_KEY``)."""
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)
    max_failures: int = 5
    """Failed logins of one username from one client address allowed before each further
    attempt must wait (:mod:`.throttle`; an address for all usernames: 4 times as many)."""
    first_delay: timedelta = timedelta(seconds=1)
    """The wait after the failure that reaches :attr:`max_failures`; doubled at each further
    failure."""
    max_delay: timedelta = timedelta(minutes=15)
    """The longest wait between two attempts."""
    forget_after: timedelta = timedelta(hours=24)
    """Failures are forgotten this long after the latest one."""
    hasher: PasswordHasher = field(default_factory=default_hasher, compare=False)
    touch_every: timedelta = timedelta(minutes=1)
    """How stale ``last_seen_at`` may get before a request updates it (idle-timeout resolution)."""

    @classmethod
    def from_settings_values(
        cls,
        secret_key: str,
        *,
        idle_minutes: int = 30,
        absolute_hours: int = 12,
        max_failures: int = 5,
        window_minutes: int = 15,
    ) -> AuthPolicy:
        """The policy of an installation's settings; the CSRF key is derived from the secret
        key (HMAC-SHA256 with its own label), never the secret key itself. ``window_minutes``
        (``PEBS_LOGIN_WINDOW_MINUTES``) is the longest wait between two attempts."""
        secret = hmac.new(secret_key.encode("utf-8"), b"pebs csrf key v1", "sha256").digest()
        return cls(
            secret=secret,
            idle=timedelta(minutes=idle_minutes),
            absolute=timedelta(hours=absolute_hours),
            max_failures=max_failures,
            max_delay=timedelta(minutes=window_minutes),
        )

    def __post_init__(self) -> None:
        if len(self.secret) < 16:
            raise ValueError("secret: give at least 16 bytes")
        if self.max_failures < 1:
            raise ValueError(f"max_failures: must be at least 1, got {self.max_failures}")
        for name in ("idle", "absolute", "first_delay", "max_delay", "forget_after"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"{name}: must be a positive duration")
        if self.max_delay < self.first_delay:
            raise ValueError("max_delay: must be at least first_delay")
