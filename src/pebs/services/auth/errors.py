"""Authentication errors, in the families of :mod:`pebs.services.trial.errors`.

- :class:`NotAuthenticated` (``not_authenticated``): no valid session or token, or wrong
  credentials (the message never says whether the username exists);
- :class:`TotpCodeReused` (``totp_reused``): the password was right but the TOTP code was
  already used: wait for the app's next code;
- :class:`SecondFactorRequired` (``totp_required``): a :class:`PermissionDenied` until the TOTP
  code has been checked (or enrolled, for a role that needs it);
- :class:`TooManyAttempts` (``rate_limited``): too many failed logins; ``retry_after_s`` says
  when to try again.
"""

from __future__ import annotations

from pebs.services.trial.errors import PermissionDenied, ServiceError

__all__ = ["NotAuthenticated", "SecondFactorRequired", "TooManyAttempts", "TotpCodeReused"]


class NotAuthenticated(ServiceError):  # noqa: N818 (the names the entry points map)
    """Missing, expired or revoked credentials, or a failed login."""

    code = "not_authenticated"


class TotpCodeReused(NotAuthenticated):
    """A TOTP code that was already used (a code is accepted once): wait for the next one."""

    code = "totp_reused"


class SecondFactorRequired(PermissionDenied):
    """The session has not passed the TOTP check (or must enrol TOTP first)."""

    code = "totp_required"


class TooManyAttempts(ServiceError):  # noqa: N818 (the names the entry points map)
    """Login refused without checking the password: too many recent failures."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
