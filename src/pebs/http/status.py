"""The one table that maps errors to HTTP statuses, for the API's JSON bodies
(:mod:`pebs.api.errors`) and the pages (:mod:`pebs.web.errors`) alike.

>>> from pebs.services.errors import StratumExhausted, TotpCodeReused
>>> status_of(StratumExhausted), status_of(TotpCodeReused), KEY_MISMATCH, DATABASE_BUSY
(409, 401, (503, 'identity_key_mismatch'), (503, 'database_busy'))

A transient database failure (:mod:`pebs.store.transient`: a lock held too long, a deadlock, a
lost connection) reaches the handlers as one of :data:`MAY_BE_TRANSIENT`; :func:`database_busy`
turns it into the service error :class:`~pebs.services.errors.DatabaseBusy` (503, with
``Retry-After``), and leaves every other database error to the handlers of unexpected errors.
"""

from __future__ import annotations

import logging

from pebs.services.errors import (
    Conflict,
    DatabaseBusy,
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
from pebs.store.transient import MAY_BE_TRANSIENT, transient_reason

_log = logging.getLogger("pebs.http")

__all__ = [
    "DATABASE_BUSY",
    "ERROR_STATUS",
    "KEY_MISMATCH",
    "MAY_BE_TRANSIENT",
    "DecryptionError",
    "database_busy",
    "status_for",
    "status_of",
]

ERROR_STATUS: tuple[tuple[type[ServiceError], int], ...] = (
    (NotAuthenticated, 401),
    (TooManyAttempts, 429),
    (SecondFactorRequired, 403),
    (PermissionDenied, 403),
    (NotFound, 404),  # also: exists, but outside the caller's scope
    (InvalidInput, 422),
    (Conflict, 409),  # duplicate, allocation refused, stratum exhausted, pathway state
    (DatabaseNotReady, 503),
    (DatabaseBusy, 503),  # with Retry-After
    (ServiceError, 400),
)
"""Service error family -> HTTP status; the first matching family wins."""

KEY_MISMATCH = (503, "identity_key_mismatch")
"""Status and code of a :class:`DecryptionError` (raised by the store when the identity key
cannot open identifying data): the installation's key is wrong, not the request."""


DATABASE_BUSY = (503, DatabaseBusy.code)
"""Status and code of a transient database failure (:func:`database_busy`)."""


def database_busy(error: BaseException) -> DatabaseBusy:
    """``error``, a database failure that reached a handler, as the refusal
    :class:`~pebs.services.errors.DatabaseBusy` (logged with the first line of the driver's
    message); ``error`` itself is raised again if it is not transient, for the handler of
    unexpected errors (500, logged)."""
    reason = transient_reason(error)
    if reason is None:
        raise error
    _log.warning("database busy, request refused (nothing stored): %s", reason)
    return DatabaseBusy()


def status_of(kind: type[ServiceError]) -> int:
    """The HTTP status of a service error family (:data:`ERROR_STATUS`)."""
    for family, status in ERROR_STATUS:
        if issubclass(kind, family):
            return status
    return 400  # unreachable: ServiceError is the last family


def status_for(error: ServiceError) -> int:
    return status_of(type(error))
