"""Declarative base, constraint naming convention and the UTC date-time column type."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}
"""Every constraint has a stable name, which Alembic's batch mode on SQLite needs."""


def utcnow() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An instant: accepts only timezone-aware datetimes, stores UTC, returns aware UTC.

    Naive datetimes are refused (``ValueError``) instead of being guessed, because a time stored
    in the wrong zone is the classic trial-platform bug. SQLite has no time zones, so the value is
    stored there as naive UTC; PostgreSQL stores ``timestamp with time zone``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: give a timezone-aware instant")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of every pebs table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads this class attribute)
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(none_as_null=True),
        list[Any]: JSON(none_as_null=True),
    }


def one_of(column: str, values: tuple[str, ...] | tuple[int, ...], name: str) -> CheckConstraint:
    """``CHECK (column IN (...))`` named ``ck_<table>_<name>``."""
    listed = ", ".join(
        repr(v) if isinstance(v, int) else "'" + v.replace("'", "''") + "'" for v in values
    )
    return CheckConstraint(f"{column} IN ({listed})", name=name)


def both_or_neither(first: str, second: str, name: str) -> CheckConstraint:
    """``first`` and ``second`` are both NULL or both set."""
    return CheckConstraint(f"({first} IS NULL) = ({second} IS NULL)", name=name)


def user_fk(nullable: bool = True) -> Mapped[Any]:
    """A ``*_by_id`` column: who did it."""
    return mapped_column(ForeignKey("users.id"), nullable=nullable)
