"""The one CSV writer: every CSV that pebs writes goes through :func:`write_csv_rows`, or, for
whole columns at once, through :mod:`pebs.io.csv_columns`, which applies the same rules.

A spreadsheet opening a CSV runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula
(``=HYPERLINK("http://x/","x")`` makes a link that sends data away; some programs also start a
formula after a leading tab or carriage return). Text that came from a user (a name, a national
ID, a column of an input file) must therefore never reach a CSV as it is. Following the OWASP
guidance on CSV injection (https://owasp.org/www-community/attacks/CSV_Injection), a text cell
that starts with one of :data:`FORMULA_STARTS` is written with a single quote in front of it, so
that a spreadsheet shows it as text (``'=HYPERLINK(...)``). Every cell that holds the delimiter,
a quote, a line feed or a carriage return is quoted, so text inside a cell can never start a new
cell or row.

Numbers stay numbers: a cell given as an ``int`` or ``float`` is written as it is (``-0.5``,
``-inf``), and a text cell that is a plain decimal number (:func:`is_plain_number`: optional sign,
digits, optional decimal part and exponent, such as ``-0.5``, ``+3`` or ``-1.2e-05``) is kept
too, since a spreadsheet reads it as that number and runs nothing. Anything else that starts
with a sign (``-1+1``, ``+33 6 12 34 56 78``, ``-inf`` given as text) gets the quote.

>>> safe_cell('=HYPERLINK("http://x/","x")'), safe_cell("@SUM(1+1)"), safe_cell("-0.5")
('\\'=HYPERLINK("http://x/","x")', "'@SUM(1+1)", '-0.5')
>>> csv_text([["name", "delta"], ["=1+1", -0.5], ["Ann", None]])
"name,delta\\n'=1+1,-0.5\\nAnn,\\n"
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import IO, Any

__all__ = ["FORMULA_STARTS", "csv_text", "is_plain_number", "safe_cell", "write_csv_rows"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP's list)."""

_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def is_plain_number(text: str) -> bool:
    """Whether ``text`` is a decimal number with nothing around it (``-0.5``, ``+3``, ``1e-5``).

    >>> [is_plain_number(t) for t in ("-0.5", "+3", "-.5", "-1e-05", "-1+1", "-inf", " -1")]
    [True, True, True, True, False, False, False]
    """
    return _PLAIN_NUMBER.fullmatch(text) is not None


def safe_cell(value: Any) -> Any:
    """``value`` as it may go into a CSV: text that a spreadsheet would run gets a leading ``'``.

    Only ``str`` values are changed (see the module docstring); numbers, ``None`` (an empty cell)
    and other values are returned as they are.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not is_plain_number(value):
        return "'" + value
    return value


def write_csv_rows(
    stream: IO[str], rows: Iterable[Sequence[Any]], *, header: Sequence[str] | None = None
) -> int:
    """Write ``header`` (if given) and ``rows`` to ``stream`` as CSV; return the rows written.

    Every cell goes through :func:`safe_cell`, the header's too. Lines end with ``\\n``; ``None``
    is an empty cell; floats are written in Python's shortest round-trip form.
    """
    writer = csv.writer(stream, lineterminator="\n")
    if header is not None:
        _write_row(writer, stream, [safe_cell(name) for name in header])
    n_rows = 0
    for row in rows:
        _write_row(writer, stream, [safe_cell(value) for value in row])
        n_rows += 1
    return n_rows


def _write_row(writer: Any, stream: IO[str], cells: list[Any]) -> None:
    if any(isinstance(cell, str) and "\r" in cell for cell in cells):
        # With "\n" line ends the csv module would leave a carriage return unquoted, and a
        # reader would start a new row (and a new cell) there: quote as for "\r\n" line ends.
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerow(cells)
        stream.write(buffer.getvalue()[:-2] + "\n")
    else:
        writer.writerow(cells)


def csv_text(rows: Iterable[Sequence[Any]], *, header: Sequence[str] | None = None) -> str:
    """:func:`write_csv_rows` into a string (for streamed responses written chunk by chunk)."""
    buffer = io.StringIO()
    write_csv_rows(buffer, rows, header=header)
    return buffer.getvalue()
