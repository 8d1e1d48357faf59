"""The columns of an export: name, type, unit and meaning, and the values a writer receives.

A page of an export is a sequence of rows; a row holds one plain Python value per column, in the
columns' order: ``None`` for missing, else by :attr:`Column.type`:

=============  ==========================================
``string``     :class:`str`
``integer``    :class:`int`
``number``     :class:`float` (or :class:`int`)
``boolean``    :class:`bool`
``date``       :class:`datetime.date`
``datetime``   :class:`datetime.datetime`, in UTC
=============  ==========================================

A writer turns them into its format's own representation (:mod:`pebs.io.exports.csv`). The
columns themselves are a table too, the data dictionary (:func:`dictionary_rows`), which every
writer can write like any other export.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["COLUMN_TYPES", "DICTIONARY_COLUMNS", "Column", "dictionary_rows"]

COLUMN_TYPES = ("string", "integer", "number", "boolean", "date", "datetime")
"""The types of :attr:`Column.type` (see the module docstring for their Python values)."""


@dataclass(frozen=True)
class Column:
    """One column of an export.

    >>> Column("age", "years", "", "her age")
    Traceback (most recent call last):
    ...
    ValueError: column 'age': type 'years' is unknown; types: string, integer, number, \
boolean, date, datetime
    """

    name: str
    type: str
    """One of :data:`COLUMN_TYPES`."""
    unit: str
    """``years``, ``proportion`` (0-1), ``count``, ``UTC`` or empty."""
    description: str
    identifying: bool = False

    def __post_init__(self) -> None:
        if self.type not in COLUMN_TYPES:
            raise ValueError(
                f"column {self.name!r}: type {self.type!r} is unknown; types: "
                + ", ".join(COLUMN_TYPES)
            )


DICTIONARY_COLUMNS: tuple[Column, ...] = (
    Column("column", "string", "", "the column's name"),
    Column("type", "string", "", "its type: " + ", ".join(COLUMN_TYPES)),
    Column("unit", "string", "", "its unit: years, proportion (0-1), count, UTC or empty"),
    Column("identifying", "boolean", "", "whether it holds identifying data"),
    Column("description", "string", "", "what it holds"),
)
"""The columns of a data dictionary: one row per column of the export it describes."""


def dictionary_rows(columns: Iterable[Column]) -> tuple[tuple[Any, ...], ...]:
    """The data dictionary of ``columns``: one row of :data:`DICTIONARY_COLUMNS` per column.

    >>> dictionary_rows([Column("risk_5y", "number", "proportion", "five-year risk")])
    (('risk_5y', 'number', 'proportion', False, 'five-year risk'),)
    """
    return tuple((c.name, c.type, c.unit, c.identifying, c.description) for c in columns)
