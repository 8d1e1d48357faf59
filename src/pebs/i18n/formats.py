"""Numbers and dates in a language's own format (Babel, CLDR data).

Units are in the names: :func:`percent` takes a proportion (0.0256) and shows a percent.

>>> percent(0.0256, "fr"), percent(0.0256, "en"), percent(0.0256, "it")
('2,56\\xa0%', '2.56%', '2,56%')
>>> decimal(1.5, "it", digits=1), decimal(12345.5, "en", digits=1)
('1,5', '12,345.5')
>>> from datetime import date
>>> long_date(date(2027, 3, 9), "fr"), long_date(date(2027, 3, 9), "nl")
('9 mars 2027', '9 maart 2027')
>>> short_date(date(2027, 3, 9), "en"), short_date(date(2027, 3, 9), "he")
('09/03/2027', '9.3.2027')
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_decimal, format_percent

__all__ = [
    "day_and_time",
    "decimal",
    "locale",
    "long_date",
    "medium_date",
    "percent",
    "short_date",
    "when",
]

_TERRITORY = {"en": "en_GB", "fr": "fr_FR", "it": "it_IT", "nl": "nl_BE", "he": "he_IL",
              "es": "es_ES"}  # fmt: skip
"""The locale whose conventions each language's pages and letters follow (CLDR)."""


@cache
def locale(language: str) -> Locale:
    """The Babel locale of a language code (``nl`` -> Belgian Dutch, ``en`` -> British English)."""
    return Locale.parse(_TERRITORY.get(language, language))


def percent(proportion: float, language: str, digits: int = 2) -> str:
    """A proportion as a percent with ``digits`` decimals, in the language's format."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return format_percent(proportion, format=_percent_pattern(language, pattern),
                          locale=locale(language))  # fmt: skip


@cache
def _percent_pattern(language: str, pattern: str) -> str:
    """The locale's percent pattern (spacing and sign position) with ``pattern``'s digits."""
    native = locale(language).percent_formats[None].pattern
    digits = pattern.removesuffix("%")
    return native.replace("#,##0", digits, 1) if "#,##0" in native else pattern


def decimal(value: float, language: str, digits: int = 2) -> str:
    """A number with exactly ``digits`` decimals, in the language's format."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=locale(language))


def long_date(day: date, language: str) -> str:
    """``9 mars 2027``: the form a letter uses."""
    return format_date(day, format="long", locale=locale(language))


def medium_date(day: date, language: str) -> str:
    """``9 mar 2027``: the form tables use."""
    return format_date(day, format="medium", locale=locale(language))


def short_date(day: date, language: str) -> str:
    """The locale's short numeric date."""
    return format_date(day, format="short", locale=locale(language))


def when(instant: datetime, language: str) -> str:
    """An instant (already in the wanted time zone) as a medium date and time."""
    return format_datetime(instant, format="medium", locale=locale(language))


def day_and_time(instant: datetime, language: str) -> str:
    """An instant (already in the wanted time zone) as a medium date and the hour and minute,
    the form tables use.

    >>> instant = datetime(2027, 3, 9, 9, 5)
    >>> day_and_time(instant, "fr"), day_and_time(instant, "he")
    ('9 mars 2027, 09:05', '9 במרץ 2027, 9:05')
    """
    place = locale(language)
    day = format_date(instant, format="medium", locale=place)
    time = format_time(instant, format="short", locale=place)
    return place.datetime_formats["medium"].format(time, day)
