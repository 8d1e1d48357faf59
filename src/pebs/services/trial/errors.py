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
- :class:`DatabaseNotReady` (``database_not_ready``): unreachable, or not migrated to this release.
"""

from __future__ import annotations

__all__ = [
    "AllocationRefused",
    "Conflict",
    "DatabaseNotReady",
    "DuplicateParticipant",
    "InvalidFields",
    "InvalidInput",
    "LevelLowered",
    "NotFound",
    "PermissionDenied",
    "ServiceError",
    "StratumExhausted",
]


class ServiceError(Exception):
    """Base of every error a trial use case raises on purpose."""

    code = "service_error"


class NotFound(ServiceError):  # noqa: N818 (the names the entry points map)
    """No such object, or not in the caller's scope (the two are indistinguishable on purpose)."""

    code = "not_found"


class PermissionDenied(ServiceError):  # noqa: N818 (the names the entry points map)
    """The caller's role (or missing account) does not allow the use case."""

    code = "permission_denied"


class InvalidInput(ServiceError, ValueError):  # noqa: N818 (the names the entry points map)
    """A value of the request cannot be used; the message names it and what is allowed."""

    code = "invalid_input"


class InvalidFields(InvalidInput):
    """Several fields of the request cannot be used; ``fields`` maps each to its message, and
    ``absent`` names those refused only because they were not answered."""

    def __init__(self, message: str, fields: dict[str, str], absent: tuple[str, ...] = ()) -> None:
        super().__init__(message)
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
