"""One use case, one transaction: commit on success, roll back on any error.

A database constraint that fires after the use case's own checks means another transaction wrote
conflicting data at the same moment; it is reported as :class:`~.errors.Conflict` ("try again"),
never as a half-written change. The clock is here too: instants are aware UTC, calendar dates are
taken in the participant's country (times are stored in UTC and shown in the country's time
zone).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.errors import Conflict, InvalidInput


@contextmanager
def transaction(session_maker: sessionmaker[Session]) -> Iterator[Session]:
    """``with transaction(sm) as session:`` one writing transaction, errors translated."""
    try:
        with session_maker.begin() as session:
            yield session
    except IntegrityError as error:
        detail = str(error.orig).splitlines()[0] if error.orig is not None else str(error)
        raise Conflict(
            f"the change clashes with data saved at the same time ({detail}); try again"
        ) from error


def instant(at: datetime | None) -> datetime:
    """``at`` as an aware UTC instant (now when ``None``); naive datetimes are refused."""
    if at is None:
        return datetime.now(UTC)
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput(
            f"naive datetime {at.isoformat()}; give a timezone-aware instant", field="at"
        )
    return at.astimezone(UTC)


def local_date(at: datetime, time_zone: str) -> date:
    """The calendar date of instant ``at`` in ``time_zone`` (a country's IANA zone)."""
    return at.astimezone(ZoneInfo(time_zone)).date()
