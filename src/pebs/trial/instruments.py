"""Questionnaire instruments of a study: their items and the type of each answer.

A questionnaire response names one of the study's instruments, and its answers are items of
that instrument, each of the item's type; anything else is refused with the instrument or item
named (never stored as it came). A study file lists its instruments as ``[[instrument]]``
tables:

- ``name`` (at most 64 characters, unique in the study) and ``title``;
- ``[[instrument.items]]`` tables, each giving ``names`` (the items that share one type) and
  ``type``: ``integer`` or ``number`` (with ``min`` and ``max``, inclusive), ``choice`` (with
  ``values``, the allowed texts), ``boolean`` or ``text`` (with ``max_length``, default 500).

An answer may be ``null`` (the item was not answered); an item may also be left out.

>>> eq5d = parse_instruments([{"name": "EQ-5D-5L", "title": "EQ-5D-5L", "items": [
...     {"names": ["mobility", "self_care"], "type": "integer", "min": 1, "max": 5},
...     {"names": ["vas"], "type": "integer", "min": 0, "max": 100}]}])[0]
>>> eq5d.problems({"mobility": 2, "vas": 85, "self_care": None})
{}
>>> eq5d.problems({"mobility": "2", "walking": 1})
{'mobility': "must be a whole number from 1 to 5, got '2'", 'walking': 'not an item of \
EQ-5D-5L; items: mobility, self_care, vas'}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ITEM_TYPES",
    "Instrument",
    "InstrumentError",
    "Item",
    "instruments_from_json",
    "instruments_json",
    "parse_instruments",
]

ITEM_TYPES = ("integer", "number", "choice", "boolean", "text")
"""Types of an instrument's answers."""
MAX_NAME = 64
"""Longest instrument or item name (the instrument column holds 64 characters)."""
DEFAULT_TEXT_LENGTH = 500

_INSTRUMENT_KEYS = frozenset({"name", "title", "items"})
_ITEM_KEYS = frozenset({"names", "type", "min", "max", "values", "max_length"})


class InstrumentError(ValueError):
    """An ``[[instrument]]`` table cannot be used; the message names the key."""


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True)
class Item:
    """One question of an instrument and the type of its answer."""

    name: str
    type: str
    """One of :data:`ITEM_TYPES`."""
    minimum: float | None = None
    maximum: float | None = None
    values: tuple[str, ...] = ()
    """The allowed answers of a ``choice`` item."""
    max_length: int = DEFAULT_TEXT_LENGTH

    def describe(self) -> str:
        """What an answer must be, as a message ends: ``a whole number from 1 to 4``."""
        if self.type == "integer":
            return f"a whole number from {self.minimum:g} to {self.maximum:g}"
        if self.type == "number":
            return f"a number from {self.minimum:g} to {self.maximum:g}"
        if self.type == "choice":
            return "one of " + ", ".join(self.values)
        if self.type == "boolean":
            return "true or false"
        return f"a text of at most {self.max_length} characters"

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` (a JSON value; ``None`` means not answered) is an answer."""
        if value is None:
            return True
        if self.type == "boolean":
            return isinstance(value, bool)
        if self.type == "text":
            return isinstance(value, str) and len(value) <= self.max_length
        if self.type == "choice":
            return isinstance(value, str) and value in self.values
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.type == "integer" and not isinstance(value, int):
            return False
        low, high = self.minimum, self.maximum
        return (
            low is not None and high is not None and math.isfinite(value) and low <= value <= high
        )


@dataclass(frozen=True)
class Instrument:
    """A questionnaire of the study: its name, title and items."""

    name: str
    title: str
    items: tuple[Item, ...]

    def item_names(self) -> tuple[str, ...]:
        return tuple(item.name for item in self.items)

    def problems(self, answers: Mapping[str, Any]) -> dict[str, str]:
        """Item -> message for every answer that is not an item of this instrument or not of
        its item's type (empty when every answer can be stored)."""
        items = {item.name: item for item in self.items}
        problems: dict[str, str] = {}
        for name, value in answers.items():
            item = items.get(name)
            if item is None:
                known = ", ".join(self.item_names())
                problems[name] = f"not an item of {self.name}; items: {known}"
            elif not item.accepts(value):
                problems[name] = f"must be {item.describe()}, got {_shown(value)}"
        return problems

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "items": [_item_json(i) for i in self.items],
        }


def _item_json(item: Item) -> dict[str, Any]:
    document: dict[str, Any] = {"name": item.name, "type": item.type}
    if item.type in ("integer", "number"):
        document.update(min=item.minimum, max=item.maximum)
    elif item.type == "choice":
        document["values"] = list(item.values)
    elif item.type == "text":
        document["max_length"] = item.max_length
    return document


def _name(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > MAX_NAME:
        raise InstrumentError(f"{key}: must be a non-empty text of at most {MAX_NAME} characters")
    return value.strip()


def _bound(entry: Mapping[str, Any], key: str, name: str, whole: bool) -> float:
    value = entry.get(name)
    kinds = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value):
        kind = "a whole number" if whole else "a number"
        raise InstrumentError(f"{key}.{name}: must be {kind}, got {_shown(value)}")
    return value


def _items(entry: Mapping[str, Any], key: str) -> list[Item]:
    for name in entry:
        if name not in _ITEM_KEYS:
            allowed = ", ".join(sorted(_ITEM_KEYS))
            raise InstrumentError(f"{key}.{name}: unknown key; allowed: {allowed}")
    names = entry.get("names")
    if not isinstance(names, list) or not names:
        raise InstrumentError(f"{key}.names: must be a non-empty list of item names")
    kind = entry.get("type")
    if kind not in ITEM_TYPES:
        raise InstrumentError(
            f"{key}.type: unknown type {_shown(kind)}; allowed: {', '.join(ITEM_TYPES)}"
        )
    options: dict[str, Any] = {}
    if kind in ("integer", "number"):
        low = _bound(entry, key, "min", kind == "integer")
        high = _bound(entry, key, "max", kind == "integer")
        if low > high:
            raise InstrumentError(f"{key}: min {low:g} is above max {high:g}")
        options.update(minimum=low, maximum=high)
    elif kind == "choice":
        values = entry.get("values")
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) and v for v in values)
            or len(set(values)) != len(values)
        ):
            raise InstrumentError(f"{key}.values: must be a non-empty list of distinct texts")
        options["values"] = tuple(values)
    elif kind == "text":
        length = entry.get("max_length", DEFAULT_TEXT_LENGTH)
        if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= 10_000:
            raise InstrumentError(f"{key}.max_length: must be a whole number from 1 to 10000")
        options["max_length"] = length
    return [Item(_name(n, f"{key}.names[{i + 1}]"), kind, **options) for i, n in enumerate(names)]


def parse_instruments(section: Any, key: str = "instrument") -> tuple[Instrument, ...]:
    """The instruments of a study file's ``[[instrument]]`` tables (``None``: none).

    :class:`InstrumentError` names the key, the bad value and what is allowed.
    """
    if section is None:
        return ()
    if not isinstance(section, list):
        raise InstrumentError(f"{key}: must be [[{key}]] tables")
    instruments: list[Instrument] = []
    for i, entry in enumerate(section):
        where = f"{key}[{i + 1}]"
        if not isinstance(entry, dict):
            raise InstrumentError(f"{where}: must be a table")
        for name in entry:
            if name not in _INSTRUMENT_KEYS:
                allowed = ", ".join(sorted(_INSTRUMENT_KEYS))
                raise InstrumentError(f"{where}.{name}: unknown key; allowed: {allowed}")
        name = _name(entry.get("name"), f"{where}.name")
        if any(existing.name == name for existing in instruments):
            raise InstrumentError(f"{where}.name: instrument {name!r} is listed twice")
        title = entry.get("title")
        if not isinstance(title, str) or not title.strip():
            raise InstrumentError(f"{where}.title: must be a non-empty text")
        groups = entry.get("items")
        if not isinstance(groups, list) or not groups:
            raise InstrumentError(f"{where}.items: needs at least one [[{key}.items]] table")
        items: list[Item] = []
        for j, group in enumerate(groups):
            if not isinstance(group, dict):
                raise InstrumentError(f"{where}.items[{j + 1}]: must be a table")
            items.extend(_items(group, f"{where}.items[{j + 1}]"))
        seen = [item.name for item in items]
        twice = sorted({n for n in seen if seen.count(n) > 1})
        if twice:
            raise InstrumentError(f"{where}.items: item(s) listed twice: {', '.join(twice)}")
        instruments.append(Instrument(name, title.strip(), tuple(items)))
    return tuple(instruments)


def instruments_json(instruments: Sequence[Instrument]) -> list[dict[str, Any]]:
    """The instruments as stored with the study configuration."""
    return [instrument.as_json() for instrument in instruments]


def _item_from_json(item: Mapping[str, Any]) -> Item:
    values = tuple(item.get("values", ()))
    length = item.get("max_length", DEFAULT_TEXT_LENGTH)
    return Item(item["name"], item["type"], item.get("min"), item.get("max"), values, length)


def instruments_from_json(document: Sequence[Mapping[str, Any]] | None) -> tuple[Instrument, ...]:
    """The instruments written by :func:`instruments_json` (``None``: none)."""
    return tuple(
        Instrument(entry["name"], entry["title"], tuple(map(_item_from_json, entry["items"])))
        for entry in document or ()
    )
