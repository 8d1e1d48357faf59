"""The one table that maps errors to HTTP statuses, for the API's JSON bodies
(:mod:`pebs.api.errors`) and the pages (:mod:`pebs.web.errors`) alike.

>>> from pebs.services.errors import StratumExhausted, TotpCodeReused
>>> status_of(StratumExhausted), status_of(TotpCodeReused), KEY_MISMATCH
(409, 401, (503, 'identity_key_mismatch'))
"""

from __future__ import annotations

from pebs.services.errors import (
    Conflict,
    DatabaseNotReady,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    SecondFactorRequired,
    ServiceError,
    TooManyAttempts,
)
from pebs.store.crypto import DecryptionError

__all__ = ["ERROR_STATUS", "KEY_MISMATCH", "DecryptionError", "status_for", "status_of"]

ERROR_STATUS: tuple[tuple[type[ServiceError], int], ...] = (
    (NotAuthenticated, 401),
    (TooManyAttempts, 429),
    (SecondFactorRequired, 403),
    (PermissionDenied, 403),
    (NotFound, 404),  # also: exists, but outside the caller's scope
    (InvalidInput, 422),
    (Conflict, 409),  # duplicate, allocation refused, stratum exhausted, pathway state
    (DatabaseNotReady, 503),
    (ServiceError, 400),
)
"""Service error family -> HTTP status; the first matching family wins."""

KEY_MISMATCH = (503, "identity_key_mismatch")
"""Status and code of a :class:`DecryptionError` (raised by the store when the identity key
cannot open identifying data): the installation's key is wrong, not the request."""


def status_of(kind: type[ServiceError]) -> int:
    """The HTTP status of a service error family (:data:`ERROR_STATUS`)."""
    for family, status in ERROR_STATUS:
        if issubclass(kind, family):
            return status
    return 400  # unreachable: ServiceError is the last family


def status_for(error: ServiceError) -> int:
    return status_of(type(error))
