"""Service errors: what a use case refuses, in families the entry points map once.

Every error carries a stable ``code`` (the API's ``{"error": code, "detail": message}``) and a
message meant for the user: it says what was refused and what to do. Entry points map the families
to HTTP statuses and exit codes; services never format responses themselves.

- :class:`NotFound` (``not_found``): no such object *in the caller's scope*;
- :class:`PermissionDenied` (``permission_denied``): the caller's role may not do this;
- :class:`InvalidInput` (``invalid_input``): the request itself is wrong (names the field); its
  subclass :class:`InvalidFields` carries a message per field (``fields``);
- :class:`Conflict` (``conflict``): the request clashes with stored data or the pathway state;
  its subclasses :class:`DuplicateParticipant` (``duplicate``), :class:`AllocationRefused`
  (``allocation_refused``, lists every unmet condition), :class:`StratumExhausted`
  (``stratum_exhausted``) and :class:`LevelLowered` (``level_lowered``: a new risk level below
  her current one needs a reason and a confirmation);
- :class:`DatabaseNotReady` (``database_not_ready``): unreachable, or not migrated to this release;
- :class:`DatabaseBusy` (``database_busy``): a transient database failure (a lock held too long, a
  deadlock, a lost connection: :mod:`pebs.store.transient`); the use case was rolled back and
  may be tried again after ``retry_after_s``;
- authentication: :class:`NotAuthenticated` (``not_authenticated``: no valid session or token, or
  wrong credentials; the message never says whether the username exists), its subclass
  :class:`TotpCodeReused` (``totp_reused``: wait for the app's next code),
  :class:`SecondFactorRequired` (``totp_required``, a :class:`PermissionDenied` until the TOTP code
  has been checked or enrolled) and :class:`TooManyAttempts` (``rate_limited``, with
  ``retry_after_s``);
- operations: :class:`BackupRejected` (``backup_rejected``: a damaged or altered backup, a data
  error) and its :class:`SignatureRejected`; :class:`ToolMissing` (``tool_missing``: names the
  program and the Debian package to install) and :class:`ToolFailed` (``tool_failed``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "AllocationRefused",
    "BackupRejected",
    "Conflict",
    "DatabaseBusy",
    "DatabaseNotReady",
    "DuplicateParticipant",
    "InvalidFields",
    "InvalidInput",
    "LevelLowered",
    "NotAuthenticated",
    "NotFound",
    "PermissionDenied",
    "SecondFactorRequired",
    "ServiceError",
    "SignatureRejected",
    "StratumExhausted",
    "TooManyAttempts",
    "ToolFailed",
    "ToolMissing",
    "TotpCodeReused",
]


class ServiceError(Exception):
    """Base of every error a trial use case raises on purpose.

    Every family may carry ``message_code`` (a key of the message catalogues, ``error.*``) and
    its ``values``, so that a page says the same in its own language without parsing the
    English text (``Conflict("...", message_code="error.visit_recorded", values={...})``).

    >>> error = NotFound("no participant 'IT-TO-9' (in your sites)",
    ...                  message_code="error.no_participant", values={"study_id": "IT-TO-9"})
    >>> str(error), error.message_code, error.values
    ("no participant 'IT-TO-9' (in your sites)", 'error.no_participant', {'study_id': 'IT-TO-9'})
    """

    code = "service_error"
    message_code: str | None = None
    values: dict[str, Any] = {}  # noqa: RUF012 (replaced per instance, never changed)

    def __init__(
        self,
        *args: Any,
        message_code: str | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(*args)
        self.message_code = message_code
        self.values = dict(values or {})


class NotFound(ServiceError):  # noqa: N818 (the names the entry points map)
    """No such object, or not in the caller's scope (the two are indistinguishable on purpose)."""

    code = "not_found"


class PermissionDenied(ServiceError):  # noqa: N818 (the names the entry points map)
    """The caller's role (or missing account) does not allow the use case."""

    code = "permission_denied"


class InvalidInput(ServiceError, ValueError):  # noqa: N818 (the names the entry points map)
    """A value of the request cannot be used: ``field`` names it, the message says what is allowed.

    ``InvalidInput("give 1 to 100 characters", field="name")`` reads ``"name: give 1 to 100
    characters"``; ``message_code`` and ``values`` let a page say the same in its own language
    (a key of its message catalogue) without parsing the English text.

    >>> error = InvalidInput("give 1 to 100 characters", field="name", message_code="length",
    ...                      values={"min": 1, "max": 100})
    >>> str(error), error.field, error.message_code, error.values
    ('name: give 1 to 100 characters', 'name', 'length', {'min': 1, 'max': 100})
    """

    code = "invalid_input"

    def __init__(
        self,
        problem: str,
        *,
        field: str | None = None,
        message_code: str | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            problem if field is None else f"{field}: {problem}",
            message_code=message_code, values=values,
        )  # fmt: skip
        self.field = field
        self.problem = problem


class InvalidFields(InvalidInput):
    """Several fields of the request cannot be used; ``fields`` maps each to its message, and
    ``absent`` names those refused only because they were not answered. ``message_code``, when
    given, is the catalogue key of the one message that applies to every field named."""

    def __init__(
        self,
        message: str,
        fields: dict[str, str],
        absent: tuple[str, ...] = (),
        *,
        message_code: str | None = None,
    ) -> None:
        super().__init__(message, message_code=message_code)
        self.fields = dict(fields)
        self.absent = tuple(absent)


class Conflict(ServiceError):  # noqa: N818 (the names the entry points map)
    """The request clashes with the stored data or the participant's pathway state."""

    code = "conflict"


class DuplicateParticipant(Conflict):
    """A woman with this national ID is already registered.

    ``existing_study_id`` is set only when the caller may see that participant (she is in the
    caller's scope); otherwise it is ``None`` and the message says whom to ask.
    """

    code = "duplicate"

    def __init__(self, message: str, existing_study_id: str | None = None) -> None:
        super().__init__(message)
        self.existing_study_id = existing_study_id


class AllocationRefused(Conflict):
    """Randomisation is not allowed yet; ``reasons`` lists every unmet condition."""

    code = "allocation_refused"

    def __init__(self, message: str, reasons: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.reasons = reasons


class StratumExhausted(Conflict):
    """Every slot of the participant's stratum is used: never a silent fallback."""

    code = "stratum_exhausted"

    def __init__(self, message: str, stratum: str) -> None:
        super().__init__(message)
        self.stratum = stratum


class LevelLowered(Conflict):
    """A new risk assessment would lower her level: it needs a reason and an explicit
    confirmation (nothing was stored)."""

    code = "level_lowered"

    def __init__(self, message: str, previous_level: str, new_level: str) -> None:
        super().__init__(message)
        self.previous_level = previous_level
        self.new_level = new_level


class DatabaseNotReady(ServiceError):  # noqa: N818 (the names the entry points map)
    """The database cannot be reached, or its schema is not the one this release expects."""

    code = "database_not_ready"


class DatabaseBusy(ServiceError):  # noqa: N818 (the names the entry points map)
    """The database was busy (:mod:`pebs.store.transient`): the use case's transaction was
    rolled back, so nothing of it is stored; the same request may succeed after
    ``retry_after_s`` seconds.

    >>> error = DatabaseBusy()
    >>> error.code, error.message_code, error.retry_after_s
    ('database_busy', 'error.database_busy_retry', 1)
    """

    code = "database_busy"
    retry_after_s = 1

    def __init__(self) -> None:
        super().__init__(
            "the database is busy; nothing was saved. Try again in a moment.",
            message_code="error.database_busy_retry",
        )


# Authentication


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


# Operations (backup, restore)


class BackupRejected(ServiceError):  # noqa: N818 (named for what the user sees)
    """A backup cannot be restored: no manifest, wrong kind, or its SHA-256 does not match."""

    code = "backup_rejected"


class SignatureRejected(BackupRejected):
    """A backup's manifest is unsigned, or not signed by this installation's key as it is."""

    code = "backup_signature_rejected"


class ToolMissing(ServiceError):  # noqa: N818 (named for what the user sees)
    """A program the operation needs (``pg_dump``, ``pg_restore``) is not on ``PATH``."""

    code = "tool_missing"


class ToolFailed(ServiceError):  # noqa: N818 (named for what the user sees)
    """``pg_dump`` or ``pg_restore`` ran and failed; the message carries its own last words."""

    code = "tool_failed"
