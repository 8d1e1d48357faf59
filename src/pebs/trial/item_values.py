"""An item's value written as text, and a text read back as an item's value.

What a data query shows as an item's value, what a data manager proposes and what a site gives
as the corrected value are texts, as in CDISC ODM 1.3.2 (``ItemData/@Value``): one spelling per
data type of :data:`pebs.trial.forms.DATA_TYPES`.

========== ================================================ =====================
data type  text                                             value
========== ================================================ =====================
text       as is (an item admitting ``unknown``: a number)  ``str``
integer    decimal digits, optional sign                    ``int``
float      a decimal number (``0.012``, ``1e-3``)           ``float``
boolean    ``true`` or ``false`` (``yes``/``no`` read too)  ``bool``
date       ``YYYY-MM-DD``                                   ``datetime.date``
datetime   ISO 8601 with its offset, written in UTC         aware ``datetime``
========== ================================================ =====================

:func:`parse_value` checks a text against the item: its type, its code list, its range
(``minimum``/``maximum``, inclusive) and, for an item admitting ``unknown``, the words it may
take instead of a number. A refusal is a :class:`~pebs.trial.forms.FormError` naming the form,
the item and what is allowed.

>>> from pebs.trial.forms import form_named
>>> visit = form_named("visit")
>>> parse_value(visit, "birads", " 4 "), value_text(visit.item("recall"), True)
(4, 'true')
>>> parse_value(form_named("risk_factors"), "age_at_menarche", "unknown")
'unknown'
>>> parse_value(visit, "birads", "7")
Traceback (most recent call last):
...
pebs.trial.forms.FormError: form 'visit' item 'birads': '7' is not allowed; give a whole \
number from 0 to 6
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

from pebs.trial.forms import Form, FormError, Item
from pebs.trial.risk_inputs import UNKNOWN

__all__ = ["MAX_TEXT", "allowed", "parse_value", "value_text"]

MAX_TEXT = 500
"""Longest text a value may be (the longest stored text item, a withdrawal reason, fits)."""

_WORDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("risk_factors", "age_at_first_birth"): ("nulliparous",),
}
"""Words a numeric text item takes besides a number and ``unknown`` (the catalogue's
description of the item names them)."""
_TRUE, _FALSE = ("true", "yes"), ("false", "no")


def value_text(item: Item, value: Any) -> str | None:
    """``value`` of ``item`` as text (``None`` stays ``None``: the value is missing)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _words(form: Form, item: Item) -> tuple[str, ...]:
    """The words a numeric text item may take instead of a number."""
    words = (UNKNOWN,) if item.admits_unknown else ()
    return words + _WORDS.get((form.name, item.name), ())


def _is_numeric_text(item: Item) -> bool:
    return item.data_type == "text" and (item.minimum is not None or item.maximum is not None)


def allowed(form: Form, item: Item) -> str:
    """What a value of ``item`` may be, as a message ends (``a whole number from 0 to 6``)."""
    if item.codes:
        return "one of " + ", ".join(item.codes)
    span = ""
    if item.minimum is not None and item.maximum is not None:
        span = f" from {item.minimum:g} to {item.maximum:g}"
    if item.data_type == "integer":
        return f"a whole number{span}"
    if item.data_type == "float":
        return f"a number{span}"
    if _is_numeric_text(item):
        return f"a number{span}" + "".join(f" or {word!r}" for word in _words(form, item))
    if item.data_type == "boolean":
        return "true or false"
    if item.data_type == "date":
        return "a date YYYY-MM-DD"
    if item.data_type == "datetime":
        return "a date and time YYYY-MM-DDTHH:MM with its offset (+01:00, Z)"
    return f"a text of at most {MAX_TEXT} characters"


def parse_value(form: Form, name: str, text: str) -> Any:
    """The value of ``form``'s item ``name`` written as ``text`` (module docstring);
    :class:`FormError` naming the item and what is allowed."""
    item = form.item(name)
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        raise FormError(f"form {form.name!r} item {name!r}: give {allowed(form, item)}")
    cleaned = text.strip()
    value = _typed(form, item, cleaned)
    if value is None or (item.codes and str(value) not in item.codes):
        raise FormError(
            f"form {form.name!r} item {name!r}: {cleaned!r} is not allowed; give "
            + allowed(form, item)
        )
    return value


def _typed(form: Form, item: Item, text: str) -> Any:
    """``text`` as a value of ``item``'s type within its range, or ``None`` if it is not."""
    match item.data_type:
        case "integer":
            number = _number(text, whole=True)
            return number if _in_range(item, number) else None
        case "float":
            number = _number(text, whole=False)
            return None if number is None or not _in_range(item, number) else float(number)
        case "boolean":
            lowered = text.lower()
            return True if lowered in _TRUE else False if lowered in _FALSE else None
        case "date":
            try:
                return date.fromisoformat(text) if len(text) == 10 else None
            except ValueError:
                return None
        case "datetime":
            return _instant(text)
        case _:
            if not _is_numeric_text(item) or text in _words(form, item):
                return text
            number = _number(text, whole=item.unit in ("count", "years"))
            return text if _in_range(item, number) else None


def _number(text: str, *, whole: bool) -> int | float | None:
    try:
        return int(text) if whole else float(text)
    except ValueError:
        return None


def _in_range(item: Item, number: float | None) -> bool:
    if number is None or not math.isfinite(number):
        return False
    low = -math.inf if item.minimum is None else item.minimum
    high = math.inf if item.maximum is None else item.maximum
    return low <= number <= high


def _instant(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        return None
    return value.astimezone(UTC)
