"""Calendar arithmetic for plans: whole months, birthdays, ages.

Adding months keeps the day of the month when it exists and otherwise takes the last day of the
month (31 January + 1 month = 28 or 29 February). A woman born on 29 February therefore reaches her
ages on 28 February in common years.
"""

from __future__ import annotations

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    """``day`` moved by a whole number of months (negative allowed), clamped to the month's end.

    >>> add_months(date(2026, 1, 31), 1), add_months(date(2024, 2, 29), 12)
    (datetime.date(2026, 2, 28), datetime.date(2025, 2, 28))
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    if day.day <= 28:  # every month has the day
        return date(year, month + 1, day.day)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def birthday(birth_date: date, age: int) -> date:
    """The date on which a woman born on ``birth_date`` reaches ``age`` years."""
    return add_months(birth_date, 12 * age)


def age_on(birth_date: date, day: date) -> int:
    """Completed years of age on ``day``.

    >>> age_on(date(1976, 2, 29), date(2026, 2, 27)), age_on(date(1976, 2, 29), date(2026, 2, 28))
    (49, 50)
    """
    years = day.year - birth_date.year
    return years if birthday(birth_date, years) <= day else years - 1
