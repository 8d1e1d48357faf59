"""Dates of requests (body fields and query parameters): ``YYYY-MM-DD`` text, nothing else.

Lax parsing would take ``0`` or ``"0"`` as 1 January 1970 and a date-time as its day; a careless
client would then record a wrong date without a word. Only the calendar date of the schema
(``format: date``, RFC 3339 ``full-date``) is accepted; anything else is refused naming the field.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import BeforeValidator, Strict

__all__ = ["IsoDate"]

_FULL_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _full_date_text(value: object) -> object:
    if isinstance(value, date) or (isinstance(value, str) and _FULL_DATE.fullmatch(value)):
        return value
    raise ValueError(f"give a date as YYYY-MM-DD, got {value!r}")


IsoDate = Annotated[date, Strict(False), BeforeValidator(_full_date_text)]
"""A calendar date sent as ``YYYY-MM-DD`` (the text is then checked as a date)."""
