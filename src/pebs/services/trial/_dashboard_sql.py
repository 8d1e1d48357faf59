"""SQL building blocks of the dashboards and exports: scoped participant queries (:func:`in_study`,
of :mod:`pebs.services.participant_pages`), the latest row per participant, and calendar
periods, the same on SQLite and PostgreSQL.

Every dashboard figure is one aggregate query (``GROUP BY``) over these; nothing loops over
participants in Python.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import Subquery

from pebs.services.errors import InvalidInput
from pebs.services.participant_pages import in_study

__all__ = ["PERIODS", "in_study", "latest_per_participant", "month_of", "roll_up"]

PERIODS = ("month", "quarter", "year")


def latest_per_participant(model: Any, *columns: Any, at: Any) -> Subquery:
    """A subquery of ``model``'s latest row per participant (by ``at``, then id): its
    ``participant_id`` and ``columns`` (window function ``row_number``; SQLite >= 3.25)."""
    rank = (
        func.row_number()
        .over(partition_by=model.participant_id, order_by=(at.desc(), model.id.desc()))
        .label("rank")
    )
    ranked = select(model.participant_id, *columns, rank).subquery()
    return select(*[c for c in ranked.c if c.name != "rank"]).where(ranked.c.rank == 1).subquery()


def month_of(session: Session, instant: Any) -> ColumnElement[str]:
    """``YYYY-MM`` of a UTC instant column, in UTC (SQLite stores naive UTC text)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", instant), "YYYY-MM")
    return func.strftime("%Y-%m", instant)


def roll_up(month: str, period: str) -> str:
    """The period label of a ``YYYY-MM`` month.

    >>> roll_up("2024-05", "month"), roll_up("2024-05", "quarter"), roll_up("2024-05", "year")
    ('2024-05', '2024-Q2', '2024')
    """
    if period == "month":
        return month
    year, number = month.split("-")
    if period == "quarter":
        return f"{year}-Q{(int(number) - 1) // 3 + 1}"
    if period == "year":
        return year
    raise InvalidInput(f"{period!r} is not allowed; allowed: {', '.join(PERIODS)}", field="period")


def period_range(first: str, last: str, period: str) -> tuple[str, ...]:
    """Every period label from ``first`` to ``last`` months (``YYYY-MM``), gaps filled.

    >>> period_range("2024-11", "2025-02", "month")
    ('2024-11', '2024-12', '2025-01', '2025-02')
    >>> period_range("2024-11", "2025-02", "quarter")
    ('2024-Q4', '2025-Q1')
    """
    year, month = (int(part) for part in first.split("-"))
    end = tuple(int(part) for part in last.split("-"))
    labels: list[str] = []
    while (year, month) <= end:
        label = roll_up(f"{year:04d}-{month:02d}", period)
        if not labels or labels[-1] != label:
            labels.append(label)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(labels)
