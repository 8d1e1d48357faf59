"""Values of the import files (CSV): each parsed or refused naming its column, value and the
allowed values, and the files' rows read with their line numbers.

A value that cannot be read raises :class:`RefusedValueError` (its column and a message naming the
value and what is allowed); :func:`csv_rows` yields each row of a file as a mapping of column to
stripped text, or a :class:`RowRefused` for a row of the wrong length, and refuses a file that is
not UTF-8 CSV with a header naming known columns.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pebs.services.errors import InvalidInput
from pebs.services.trial._risk_factors import UNKNOWN

__all__ = [
    "RefusedValueError",
    "RowRefused",
    "csv_rows",
    "parse_date",
    "parse_instant",
    "parse_number",
    "parse_whole",
    "parse_yes_no",
    "unknown_or",
]


@dataclass(frozen=True)
class RowRefused:
    """A row that cannot be read: nothing of it is stored."""

    line: int
    field: str
    message: str
    file: str = "women"
    """Which file of the import: ``women``, ``visits`` or ``outcomes``."""


_YES, _NO = ("yes", "true", "1"), ("no", "false", "0")


class RefusedValueError(Exception):
    """A value that cannot be read: its column and why (value and allowed values)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def csv_rows(
    path: Path,
    known: Callable[[str], bool],
    known_text: str,
    required: Sequence[str],
    *,
    file: str,
) -> Iterator[tuple[int, Mapping[str, str]] | RowRefused]:
    """The rows of the CSV file at ``path`` (UTF-8, a header row) as (line, column -> stripped
    text); blank rows skipped, a row of the wrong length a :class:`RowRefused`.

    :class:`InvalidInput` (field ``file``) if the file itself is unusable: not UTF-8, no
    header, columns repeated or unknown (``known`` says which are; ``known_text`` lists them),
    a ``required`` column missing.
    """
    try:
        handle = path.open("rb")
    except OSError as error:
        raise InvalidInput(f"{path}: cannot open ({error.strerror})", field="file") from None
    with handle, io.TextIOWrapper(handle, encoding="utf-8-sig", newline="") as text:
        rows = csv.reader(text)
        try:
            header = next(rows, None)
            if header is None:
                raise InvalidInput(f"{path}: empty file; a header row is needed", field="file")
            names = [name.strip() for name in header]
            _check_header(path, names, known, known_text, required)
            for values in rows:
                line = rows.line_num
                if not any(value.strip() for value in values):
                    continue
                if len(values) != len(names):
                    yield RowRefused(line, "row", f"{len(values)} fields; the header has "
                                                  f"{len(names)}", file)  # fmt: skip
                    continue
                yield line, {n: v.strip() for n, v in zip(names, values, strict=True)}
        except UnicodeDecodeError as error:
            raise InvalidInput(
                f"{path}: not UTF-8 text (byte {error.start} of a block)", field="file"
            ) from None
        except csv.Error as error:
            raise InvalidInput(f"{path}: line {rows.line_num}: {error}", field="file") from None


def _check_header(
    path: Path, names: list[str], known: Callable[[str], bool], known_text: str,
    required: Sequence[str],
) -> None:  # fmt: skip
    repeated = sorted({name for name in names if names.count(name) > 1})
    unknown = [name for name in names if not known(name)]
    missing = [name for name in required if name not in names]
    problems = []
    if repeated:
        problems.append(f"repeated columns {', '.join(repeated)}")
    if unknown:
        problems.append(f"unknown columns {', '.join(unknown)} (known: {known_text})")
    if missing:
        problems.append(f"missing required columns {', '.join(missing)}")
    if problems:
        raise InvalidInput(f"{path}: {'; '.join(problems)}", field="file")


def unknown_or(text: str, parse: Any) -> Any:
    if not text:
        return None
    return UNKNOWN if text.lower() == UNKNOWN else parse(text)


def parse_yes_no(field: str, text: str, *, empty: bool | None) -> bool | None:
    """``yes``/``true``/``1``, ``no``/``false``/``0`` (any case), or ``empty`` for no text."""
    lowered = text.lower()
    if not lowered:
        return empty
    if lowered in _YES:
        return True
    if lowered in _NO:
        return False
    raise RefusedValueError(field, f"{text!r}: expected yes or no (or empty)")


def parse_whole(field: str, text: str, *, unknown: bool = True) -> int:
    try:
        return int(text)
    except ValueError:
        also = f" or {UNKNOWN}" if unknown else ""
        raise RefusedValueError(field, f"{text!r}: expected a whole number{also}") from None


def parse_number(field: str, text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise RefusedValueError(field, f"{text!r}: expected a number or {UNKNOWN}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise RefusedValueError(field, f"{text!r}: expected a finite number or {UNKNOWN}")
    return number


def parse_date(field: str, text: str) -> date:
    """``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise RefusedValueError(field, f"{text!r}: expected a date YYYY-MM-DD") from None


def parse_instant(field: str, text: str) -> datetime | None:
    """An ISO 8601 instant with its offset; ``None`` for no text."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise RefusedValueError(
            field, f"{text!r}: expected a date and time with its offset (2025-03-03T10:00+01:00)"
        )
    return moment
