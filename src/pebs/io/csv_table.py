"""Streaming CSV tables: read in chunks with named numeric columns, write atomically.

Every column is read as text so that columns the caller does not use are written back exactly as
they came; the numeric columns the caller asks for are converted to float64, and a value that is
not a number stops the read with a message naming the file, line and column. A row with more
fields than the header stops the read with its line and field count (it is never shifted into
the wrong columns). Values are quoted in messages through :func:`pebs.io.errors.quoted`.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from pebs.io._files import open_binary
from pebs.io.csv_writer import write_csv_rows
from pebs.io.errors import FileAccessError, InputFormatError, column_error, cut

_EXTRA = "\x00extra fields"  # a last column that only a row with too many fields fills
_FIELD_COUNT = re.compile(r"Expected \d+ fields in line (\d+), saw (\d+)")


@dataclass(frozen=True)
class CsvChunk:
    """Consecutive rows of a CSV file."""

    table: pd.DataFrame
    """All columns, as the text found in the file."""
    numbers: dict[str, np.ndarray]
    """The requested numeric columns as float64 arrays."""
    bytes_read: int
    """How far into the file the reader has got (for progress reporting)."""
    first_line: int = 2
    """Line number in the file of the chunk's first row (the header is line 1)."""


def _to_numbers(column: pd.Series, name: str, path: Path, first_line: int) -> np.ndarray:
    try:  # fast path: every value parses
        values = column.to_numpy().astype(np.float64)
    except ValueError:  # find the first value that does not
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.flatnonzero(np.isnan(values))
    if bad.size:
        row = int(bad[0])
        raise column_error(
            path, first_line + row, name, column.iloc[row],
            f", which is not a number ({bad.size} such value(s) in lines {first_line}-"
            f"{first_line + len(column) - 1}); use the documented code for unknown values",
        )  # fmt: skip
    return values


def _refuse_extra_fields(extra: pd.Series, n_fields: int, path: Path, first_line: int) -> None:
    filled = np.flatnonzero((extra != "").to_numpy())
    if filled.size:
        raise _field_count_error(path, first_line + int(filled[0]), n_fields + 1, n_fields)


def _field_count_error(path: Path, line: int, saw: int, n_fields: int) -> InputFormatError:
    return InputFormatError(
        f"{path}: line {line} has {saw} fields but the header has {n_fields}; quote a field "
        "that contains a comma, or remove the extra field(s)"
    )


def read_csv_chunks(
    path: Path,
    numeric_columns: Sequence[str],
    chunk_rows: int = 200_000,
    *,
    text_columns: Sequence[str] = (),
) -> Iterator[CsvChunk]:
    """Yield the rows of ``path`` in chunks of at most ``chunk_rows``.

    ``numeric_columns`` must exist and hold numbers (converted to float64 in
    :attr:`CsvChunk.numbers`); ``text_columns`` must exist and are left to the caller.

    Raises
    ------
    FileAccessError
        The file cannot be opened or read.
    InputFormatError
        The file is empty, is not valid CSV, lacks one of the named columns, repeats a column
        name, or holds a non-numeric value in one of the ``numeric_columns``.
    """
    path = Path(path)
    with open_binary(path, "a CSV file") as raw:
        header = _read_header(raw, path)
        # pandas's names for header fields left empty; every name given explicitly, plus one
        # more, so that a row with an extra field fills that one instead of being shifted
        names = [name or f"Unnamed: {i}" for i, name in enumerate(header)]
        _check_header(names, [*numeric_columns, *text_columns], path)
        raw.seek(0)
        try:
            reader = pd.read_csv(
                raw, dtype=str, keep_default_na=False, na_filter=False, chunksize=chunk_rows,
                encoding="utf-8-sig", header=None, skiprows=1, names=[*names, _EXTRA],
                index_col=False,
            )  # fmt: skip
            next_line = 2  # line 1 is the header
            for table in reader:
                _refuse_extra_fields(table.pop(_EXTRA), len(names), path, next_line)
                numbers = {c: _to_numbers(table[c], c, path, next_line) for c in numeric_columns}
                yield CsvChunk(table, numbers, bytes_read=raw.tell(), first_line=next_line)
                next_line += len(table)
        except pd.errors.ParserError as exc:
            counted = _FIELD_COUNT.search(str(exc))
            if counted:
                line, saw = int(counted.group(1)), int(counted.group(2))
                raise _field_count_error(path, line, saw, len(names)) from exc
            raise InputFormatError(
                f"{path}: not a readable CSV file ({cut(str(exc).strip(), 200)})"
            ) from exc
        except UnicodeDecodeError as exc:
            raise InputFormatError(
                f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"
            ) from exc
        except OSError as exc:
            raise FileAccessError(f"{path}: cannot be read ({exc.strerror})") from exc


def _read_header(raw: IO[bytes], path: Path) -> list[str]:
    try:
        line = raw.readline().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFormatError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    except OSError as exc:
        raise FileAccessError(f"{path}: cannot be read ({exc.strerror})") from exc
    if not line.strip():
        raise InputFormatError(f"{path}: the file is empty (expected a header line)")
    return next(csv.reader([line]))


def _check_header(header: list[str], required: Sequence[str], path: Path) -> None:
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise InputFormatError(
            f"{path}: column(s) named more than once: {cut(', '.join(duplicated), 200)}"
        )
    missing = [name for name in required if name not in header]
    if missing:
        raise InputFormatError(
            f"{path}: missing column(s) {', '.join(missing)}; the file has "
            f"{cut(', '.join(header), 200) or 'no columns'} and needs {', '.join(required)}"
        )


@contextlib.contextmanager
def atomic_text_output(path: Path | None) -> Iterator[IO[str]]:
    """Open ``path`` for writing so that it appears only if the block completes.

    Writes go to a temporary file in the same folder, renamed over ``path`` at the end; on any
    exception (including KeyboardInterrupt) the temporary file is removed. ``None`` means
    standard output (which cannot be taken back).
    """
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise FileAccessError(f"{path}: cannot be written ({exc.strerror})") from exc
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            yield stream
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _cells(column: pd.Series) -> list:
    """A column as CSV cells: floats as Python floats (NaN: empty), other values as they are."""
    values = column.to_numpy()
    if values.dtype.kind == "f":
        return [v if v == v else None for v in values.astype(np.float64).tolist()]
    cells = values.tolist()
    if values.dtype == object:
        return [None if isinstance(v, float) and v != v else v for v in cells]
    return cells


def write_csv_chunk(table: pd.DataFrame, stream: IO[str], *, header: bool) -> None:
    """Append ``table`` to ``stream`` with :func:`pebs.io.csv_writer.write_csv_rows` (text that a
    spreadsheet would run as a formula is neutralised); floats in full precision, NaN as an empty
    field."""
    columns = [_cells(column) for _, column in table.items()]
    names = [str(name) for name in table.columns] if header else None
    write_csv_rows(stream, zip(*columns, strict=True), header=names)
