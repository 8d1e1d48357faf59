"""Edit checks: the study's rules on a participant's data, run whenever her forms change.

A study file declares them as ``[[edit_check]]`` tables. Every check has an ``id`` (1 to 64
lower-case letters, digits, ``-`` or ``_``; unique in the study), a ``kind``, the ``form`` and
``item`` it speaks about (names of :data:`pebs.trial.forms.FORMS`: a query is raised on that
item) and a ``message`` (the question the query asks; translated in the study file's
``[translations.<language>]`` as ``"edit_check.<id>.message"``). The kinds:

- ``range``: ``min`` and/or ``max`` (inclusive), a study's own limits on a numeric item, within
  or beyond the catalogue's; fires when the item holds a number outside them (``unknown`` is no
  number and passes);
- ``required_if``: ``if_item`` (an item of the same form) and ``if_value`` (a value of it);
  fires on each instance of the form whose ``if_item`` holds ``if_value`` while ``item`` is
  missing;
- ``date_order``: ``after`` (``"<form>.<item>"``, a date or date-time item); fires when the
  item's date is earlier than the other's (the same day passes). Date-times are compared as
  calendar days in her country's time zone; a repeating ``after`` form gives its earliest value;
- ``required_before``: ``before`` (a form name); fires when she has an instance of that form
  while ``item`` of the non-repeating ``form`` is missing.

``required_if`` and ``required_before`` take ``accept_unknown`` (default ``true``): ``false``
counts the explicit answer ``unknown`` as missing. A check never fires on a missing value it
compares (a missing date is the business of the required checks and the missing-forms report).

>>> from datetime import date
>>> from pebs.trial.casebook import Casebook, FormInstance
>>> checks = parse_edit_checks([{"id": "histology", "kind": "required_if", "form": "visit",
...     "item": "histology", "if_item": "biopsy", "if_value": True,
...     "message": "A biopsy was taken: give its histology."}])
>>> visit = FormInstance("visit", 7, {"visit_type": "recall", "biopsy": True})
>>> book = Casebook("FR-PA-000012", "FR-PA", "FR", False, (visit,))
>>> [(f.check.id, f.form, f.item, f.key, f.value) for f in run_checks(checks, book, "UTC")]
[('histology', 'visit', 'histology', 7, None)]
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pebs.trial.casebook import Casebook, FormInstance
from pebs.trial.forms import Form, FormError, form_named
from pebs.trial.item_values import parse_value, value_text
from pebs.trial.risk_inputs import UNKNOWN

__all__ = [
    "KINDS",
    "EditCheck",
    "EditCheckError",
    "Finding",
    "edit_checks_from_json",
    "edit_checks_json",
    "parse_edit_checks",
    "run_checks",
]

KINDS = ("range", "required_if", "date_order", "required_before")
"""The kinds of edit check."""

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_COMMON = frozenset({"id", "kind", "form", "item", "message"})
_KEYS = {
    "range": _COMMON | {"min", "max"},
    "required_if": _COMMON | {"if_item", "if_value", "accept_unknown"},
    "date_order": _COMMON | {"after"},
    "required_before": _COMMON | {"before", "accept_unknown"},
}
_DATES = ("date", "datetime")
MAX_MESSAGE = 500
"""Longest message (the question a query asks)."""


class EditCheckError(ValueError):
    """An ``[[edit_check]]`` table cannot be used; the message names the key."""


@dataclass(frozen=True)
class EditCheck:
    """One edit check of a study (the module docstring says what each kind's fields mean)."""

    id: str
    kind: str
    form: str
    item: str
    message: str
    minimum: float | None = None
    maximum: float | None = None
    if_item: str | None = None
    if_value: Any = None
    after: tuple[str, str] | None = None
    """(form, item) of the date the item may not precede."""
    before: str | None = None
    accept_unknown: bool = True

    def findings(self, casebook: Casebook, time_zone: str) -> tuple[Finding, ...]:
        """Where this check fires in ``casebook`` (the dates of ``time_zone``)."""
        if self.kind == "required_before":
            if not casebook.instances(self.before or ""):
                return ()
            found = casebook.instances(self.form)
            value = found[0].values[self.item] if found else None
            return () if self._given(value) else (Finding(self, None, value),)
        limit = None
        if self.kind == "date_order":
            limit = _earliest(casebook, *self.after, time_zone) if self.after else None
            if limit is None:
                return ()
        return tuple(
            Finding(self, instance.key, instance.values[self.item])
            for instance in casebook.instances(self.form)
            if self._fires(instance, time_zone, limit)
        )

    def _given(self, value: Any) -> bool:
        return value is not None and (self.accept_unknown or value != UNKNOWN)

    def _fires(self, instance: FormInstance, time_zone: str, limit: date | None) -> bool:
        value = instance.values[self.item]
        if self.kind == "range":
            number = _number(value)
            return number is not None and not (
                (self.minimum is None or number >= self.minimum)
                and (self.maximum is None or number <= self.maximum)
            )
        if self.kind == "required_if":
            return instance.values[self.if_item or ""] == self.if_value and not self._given(value)
        day = _day(value, time_zone)
        return day is not None and limit is not None and day < limit

    def as_json(self) -> dict[str, Any]:
        """The check as stored with the study configuration (dates never occur)."""
        document: dict[str, Any] = {"id": self.id, "kind": self.kind, "form": self.form,
                                    "item": self.item, "message": self.message}  # fmt: skip
        if self.kind == "range":
            document.update(min=self.minimum, max=self.maximum)
        elif self.kind == "required_if":
            item = form_named(self.form).item(self.if_item or "")
            document.update(if_item=self.if_item, if_value=value_text(item, self.if_value))
        elif self.kind == "date_order":
            document["after"] = ".".join(self.after or ())
        else:
            document["before"] = self.before
        if self.kind in ("required_if", "required_before"):
            document["accept_unknown"] = self.accept_unknown
        return document


@dataclass(frozen=True)
class Finding:
    """A check that fires on one item of one form instance."""

    check: EditCheck
    key: int | None
    """The instance of a repeating form (its row id); ``None`` for a form that does not repeat."""
    value: Any
    """The item's value (``None``: missing)."""

    @property
    def form(self) -> str:
        return self.check.form

    @property
    def item(self) -> str:
        return self.check.item


def run_checks(
    checks: Sequence[EditCheck], casebook: Casebook, time_zone: str
) -> tuple[Finding, ...]:
    """Every finding of ``checks`` on ``casebook``, in check order (nothing for a woman who
    withdrew the use of her data: her casebook is her registration only)."""
    if casebook.data_use_withdrawn:
        return ()
    return tuple(finding for check in checks for finding in check.findings(casebook, time_zone))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None  # "unknown", "nulliparous": no number
    return number if math.isfinite(number) else None


def _day(value: Any, time_zone: str) -> date | None:
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(time_zone)).date()
    return value if isinstance(value, date) else None


def _earliest(casebook: Casebook, form: str, item: str, time_zone: str) -> date | None:
    days = [_day(instance.values[item], time_zone) for instance in casebook.instances(form)]
    return min((day for day in days if day is not None), default=None)


# --- reading the study file ------------------------------------------------------------------


def _text(entry: Mapping[str, Any], where: str, name: str, limit: int = 64) -> str:
    value = entry.get(name)
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > limit:
        raise EditCheckError(
            f"{where}.{name}: must be a non-empty text of at most {limit} characters, got {value!r}"
        )
    return value.strip()


def _form(entry: Mapping[str, Any], where: str, name: str) -> Form:
    try:
        return form_named(_text(entry, where, name))
    except FormError as error:
        raise EditCheckError(f"{where}.{name}: {error}") from None


def _item(form: Form, entry: Mapping[str, Any], where: str, name: str) -> str:
    try:
        return form.item(_text(entry, where, name)).name
    except FormError as error:
        raise EditCheckError(f"{where}.{name}: {error}") from None


def _bound(entry: Mapping[str, Any], where: str, name: str) -> float | None:
    value = entry.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise EditCheckError(f"{where}.{name}: must be a number, got {value!r}")
    return float(value)


def _range(form: Form, item: str, entry: Mapping[str, Any], where: str) -> dict[str, Any]:
    definition = form.item(item)
    numeric = definition.data_type in ("integer", "float") or (
        definition.data_type == "text" and definition.minimum is not None
    )
    if not numeric:
        raise EditCheckError(f"{where}.item: {form.name}.{item} is not a number")
    low, high = _bound(entry, where, "min"), _bound(entry, where, "max")
    if low is None and high is None:
        raise EditCheckError(f"{where}: give min, max or both")
    if low is not None and high is not None and low > high:
        raise EditCheckError(f"{where}: min {low:g} is above max {high:g}")
    return {"minimum": low, "maximum": high}


def _required_if(form: Form, item: str, entry: Mapping[str, Any], where: str) -> dict[str, Any]:
    if_item = _item(form, entry, where, "if_item")
    if if_item == item:
        raise EditCheckError(f"{where}.if_item: must be another item than {item!r}")
    raw = entry.get("if_value")
    if raw is None or isinstance(raw, list | dict):
        raise EditCheckError(f"{where}.if_value: must be a value of {form.name}.{if_item}")
    text = ("true" if raw else "false") if isinstance(raw, bool) else str(raw)
    try:
        value = parse_value(form, if_item, text)
    except FormError as error:
        raise EditCheckError(f"{where}.if_value: {error}") from None
    return {"if_item": if_item, "if_value": value}


def _date_order(form: Form, item: str, entry: Mapping[str, Any], where: str) -> dict[str, Any]:
    if form.item(item).data_type not in _DATES:
        raise EditCheckError(f"{where}.item: {form.name}.{item} is not a date")
    reference = _text(entry, where, "after", 130)
    other_form, _, other_item = reference.partition(".")
    try:
        other = form_named(other_form)
        if other.item(other_item).data_type not in _DATES:
            raise EditCheckError(f"{where}.after: {reference} is not a date")
    except FormError as error:
        raise EditCheckError(f"{where}.after: give <form>.<item>; {error}") from None
    if (other.name, other_item) == (form.name, item):
        raise EditCheckError(f"{where}.after: must name another item than the check's")
    return {"after": (other.name, other_item)}


def _required_before(form: Form, entry: Mapping[str, Any], where: str) -> dict[str, Any]:
    if form.repeating:
        raise EditCheckError(
            f"{where}.form: {form.name!r} repeats; required_before speaks of a form that does not"
        )
    return {"before": _form(entry, where, "before").name}


def _accept_unknown(entry: Mapping[str, Any], where: str) -> bool:
    value = entry.get("accept_unknown", True)
    if not isinstance(value, bool):
        raise EditCheckError(f"{where}.accept_unknown: must be true or false, got {value!r}")
    return value


def _check(entry: Any, where: str) -> EditCheck:
    if not isinstance(entry, dict):
        raise EditCheckError(f"{where}: must be a table")
    kind = entry.get("kind")
    if kind not in KINDS:
        raise EditCheckError(f"{where}.kind: unknown kind {kind!r}; allowed: {', '.join(KINDS)}")
    for name in entry:
        if name not in _KEYS[kind]:
            allowed = ", ".join(sorted(_KEYS[kind]))
            raise EditCheckError(f"{where}.{name}: unknown key for a {kind} check; allowed: "
                                 f"{allowed}")  # fmt: skip
    check_id = _text(entry, where, "id")
    if not _ID.match(check_id):
        raise EditCheckError(
            f"{where}.id: {check_id!r} must be lower-case letters, digits, '-' or '_'"
        )
    form = _form(entry, where, "form")
    item = _item(form, entry, where, "item")
    message = _text(entry, where, "message", MAX_MESSAGE)
    if kind == "range":
        details = _range(form, item, entry, where)
    elif kind == "required_if":
        details = _required_if(form, item, entry, where)
    elif kind == "date_order":
        details = _date_order(form, item, entry, where)
    else:
        details = _required_before(form, entry, where)
    if kind in ("required_if", "required_before"):
        details["accept_unknown"] = _accept_unknown(entry, where)
    return EditCheck(check_id, kind, form.name, item, message, **details)


def parse_edit_checks(section: Any, key: str = "edit_check") -> tuple[EditCheck, ...]:
    """The checks of a study file's ``[[edit_check]]`` tables (``None``: none);
    :class:`EditCheckError` names the key, the bad value and what is allowed."""
    if section is None:
        return ()
    if not isinstance(section, list):
        raise EditCheckError(f"{key}: must be [[{key}]] tables")
    checks: list[EditCheck] = []
    for i, entry in enumerate(section):
        check = _check(entry, f"{key}[{i + 1}]")
        if any(existing.id == check.id for existing in checks):
            raise EditCheckError(f"{key}[{i + 1}].id: check {check.id!r} is listed twice")
        checks.append(check)
    return tuple(checks)


def edit_checks_json(checks: Sequence[EditCheck]) -> list[dict[str, Any]]:
    """The checks as stored with the study configuration."""
    return [check.as_json() for check in checks]


def edit_checks_from_json(document: Sequence[Mapping[str, Any]] | None) -> tuple[EditCheck, ...]:
    """The checks written by :func:`edit_checks_json` (``None``: none)."""
    entries = []
    for stored in document or ():
        entry = {name: value for name, value in stored.items() if value is not None}
        if entry["kind"] == "required_if":
            entry["if_value"] = stored["if_value"]  # the value's text, read by parse_value
        entries.append(entry)
    return parse_edit_checks(entries) if entries else ()
