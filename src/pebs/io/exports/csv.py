"""CSV: a header line of the column names, then one line per row; UTF-8, ``\\n`` line ends.

Values: empty for missing; dates ``YYYY-MM-DD``; instants ISO 8601 in UTC with ``Z``; booleans
``true``/``false``; numbers in Python's shortest round-trip form. Every value is written as that
text through :mod:`pebs.io.csv_writer`, so text that a spreadsheet would run as a formula
(``=...``, ``@...``) starts with ``'``. The header is one chunk, then each page is one chunk.

>>> from datetime import date, datetime
>>> columns = (Column("id", "string", "", "identifier"), Column("born", "date", "", "birth"),
...            Column("at", "datetime", "UTC", "instant"), Column("ok", "boolean", "", "flag"))
>>> pages = [[("=1+1", date(1970, 1, 2), datetime(2025, 3, 4, 5, 6, 7), True)],
...          [("b", None, None, False)]]
>>> [chunk.decode() for chunk in CSV.chunks(columns, pages)]
['id,born,at,ok\\n', "'=1+1,1970-01-02,2025-03-04T05:06:07.000000Z,true\\n", 'b,,,false\\n']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from pebs.io.csv_writer import csv_text
from pebs.io.exports.columns import Column
from pebs.io.exports.writer import Page

__all__ = ["CSV", "ENCODING", "CsvWriter", "csv_value"]

ENCODING = "utf-8"
"""The encoding of the file (and the ``charset`` of its media type)."""


def csv_value(value: Any) -> str:
    """The CSV text of a value (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class CsvWriter:
    """The :class:`~pebs.io.exports.writer.Writer` of CSV files."""

    name = "csv"
    media_type = "text/csv; charset=utf-8"
    extension = "csv"

    def chunks(self, columns: Sequence[Column], pages: Iterable[Page]) -> Iterator[bytes]:
        """The header line, then one chunk per page.

        A row with another number of values than there are columns is refused (``ValueError``),
        not written out of line with the header.
        """
        yield csv_text((), header=[column.name for column in columns]).encode(ENCODING)
        for page in pages:
            yield csv_text(_cells(page, len(columns))).encode(ENCODING)


def _cells(rows: Page, width: int) -> Iterator[list[str]]:
    for row in rows:
        if len(row) != width:
            raise ValueError(f"a row of {len(row)} values for {width} columns")
        yield [csv_value(value) for value in row]


CSV = CsvWriter()
"""The CSV writer."""
