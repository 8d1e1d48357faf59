"""Streaming CSV tables: read in chunks with named numeric columns, write atomically.

Every column is read as text (Arrow strings, :func:`pyarrow.csv.open_csv`) so that columns the
caller does not use are written back exactly as they came; the numeric columns the caller asks
for are converted to float64, and a value that is not a number stops the read with a message
naming the file, line and column. A row with more or fewer fields than the header stops the read
with its line and field count (it is never shifted into the wrong columns, nor filled with empty
fields). Values are quoted in messages through :func:`pebs.io.errors.quoted`. Numbers are parsed
as Python's ``float`` parses them (Arrow's faster parser first; a value it refuses, such as
``" 1.5"`` or ``"1_000"``, is given to ``float``).

A file whose quote characters do not pair up is refused before anything is read: a quoted field
that is never closed would otherwise swallow every row after it into one value, and those rows
would be lost without a word. (A quote inside an unquoted field, ``ab"c``, which CSV does not
allow, may be refused the same way; quote the field and double the quote: ``"ab""c"``.)

Each chunk also carries its rows' bytes as they are in the file
(:class:`~pebs.io.row_bytes.RowBytes`) when every row of the chunk is its cells joined by commas
(no quote, no lone carriage return, no empty line): a writer can then copy those bytes instead of
writing the cells again one by one.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from pebs.io._files import open_binary
from pebs.io.arrow_arrays import floats
from pebs.io.csv_writer import write_csv_rows
from pebs.io.errors import FileAccessError, InputFormatError, column_error, cut
from pebs.io.row_bytes import RowBytes, RowBytesReader

if TYPE_CHECKING:  # pandas is imported only by a caller that asks for a DataFrame
    import pandas as pd

BLOCK_BYTES = 8 * 2**20
"""Bytes that the reader parses at a time: the longest row it can read (memory grows with it)."""
SHORT_ROWS_BLOCK_BYTES = 2**18
"""The block for a file whose rows are all shorter than this (:func:`_block_size`)."""
CHUNK_BYTES = 16 * 2**20
"""A chunk holds fewer rows than asked for where they would hold more text than this (wide
rows): memory stays bounded whatever the number of columns."""
_ROW = re.compile(r"Row #(\d+)")


@dataclass(frozen=True)
class CsvChunk:
    """Consecutive rows of a CSV file."""

    text: pa.Table
    """All columns, as the text found in the file (Arrow strings)."""
    numbers: dict[str, np.ndarray]
    """The requested numeric columns as float64 arrays."""
    bytes_read: int
    """How far into the file the reader has got (for progress reporting)."""
    first_line: int = 2
    """Line number in the file of the chunk's first row (the header is line 1)."""
    row_bytes: RowBytes | None = None
    """The rows as they are in the file, when each is its cells joined by commas (else None)."""

    @functools.cached_property
    def table(self) -> pd.DataFrame:
        """All columns as text, as a pandas DataFrame (made when first asked for)."""
        return self.text.to_pandas()


def _to_numbers(column: pd.Series, name: str, path: Path, first_line: int) -> np.ndarray:
    import pandas as pd

    try:  # every value parses as Python's float parses it
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


def _numbers(chunk_text: pa.Table, name: str, path: Path, first_line: int) -> np.ndarray:
    """A numeric column as float64 (Arrow's parser; any refusal or NaN: :func:`_to_numbers`)."""
    try:
        values = floats(pc.cast(chunk_text[name].combine_chunks(), pa.float64()))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = None
    if values is None or np.isnan(values).any():
        column = chunk_text.select([name]).to_pandas()[name]
        values = _to_numbers(column, name, path, first_line)
    return values


def _field_count_error(path: Path, line: int, saw: int, n_fields: int) -> InputFormatError:
    advice = (
        "quote a field that contains a comma, or remove the extra field(s)"
        if saw > n_fields
        else "add the missing field(s), one per column of the header"
    )
    return InputFormatError(
        f"{path}: line {line} has {saw} fields but the header has {n_fields}; {advice}"
    )


def _block_size(raw: IO[bytes], path: Path) -> int:
    """Read the file once: refuse it if its quote characters do not pair up (a quoted field
    never closed); return the block the reader should parse at a time.

    Arrow's streaming reader reads up to 32 blocks ahead of the rows it hands over, so the block
    is :data:`SHORT_ROWS_BLOCK_BYTES` when every row is shorter than that (known when each
    aligned window of half of it, but the file's last, holds the end of a row: a newline after
    an even number of quotes), else :data:`BLOCK_BYTES`.
    """
    window = SHORT_ROWS_BLOCK_BYTES // 2
    block = bytearray(BLOCK_BYTES)  # one buffer, filled again and again; a multiple of window
    quotes, short_rows, previous_has_row_end = 0, True, True
    while size := raw.readinto(block):
        for start in range(0, size, window):
            end = min(start + window, size)
            if short_rows:
                short_rows = previous_has_row_end  # a window without one before this one
                previous_has_row_end = _has_row_end(block, start, end, quotes % 2)
            if block.find(b'"', start, end) >= 0:  # most windows have none
                quotes += block.count(b'"', start, end)
    raw.seek(0)
    if quotes % 2:
        raise InputFormatError(
            f'{path}: a quote (") is never closed, so every row after it would be read as one '
            'value; close the quoted field, or write a quote inside a quoted field as two ("")'
        )
    return SHORT_ROWS_BLOCK_BYTES if short_rows else BLOCK_BYTES


def _has_row_end(block: bytearray, start: int, end: int, odd_quotes_before: int) -> bool:
    """Whether ``block[start:end]`` holds a newline outside quotes (the first few looked at)."""
    newline = block.find(b"\n", start, end)
    for _ in range(8):  # newlines inside a quoted value: a few, then assume a long row
        if newline < 0:
            return False
        if (odd_quotes_before + block.count(b'"', start, newline)) % 2 == 0:
            return True
        newline = block.find(b"\n", newline + 1, end)
    return False


def _batches(
    raw: IO[bytes], names: list[str], path: Path, block_size: int
) -> Iterator[pa.RecordBatch]:
    """The rows after the header, every column as text; errors name the line."""
    ragged: list[tuple[int, int]] = []

    def refuse_row(row) -> str:
        ragged.append((row.number, row.actual_columns))
        return "error"

    try:
        reader = pa_csv.open_csv(
            raw,
            read_options=pa_csv.ReadOptions(
                column_names=names, skip_rows=1, use_threads=False, block_size=block_size
            ),
            parse_options=pa_csv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=refuse_row
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in names}, strings_can_be_null=False
            ),
        )
        yield from reader
    except pa.ArrowInvalid as exc:
        message = str(exc)
        if ragged:
            line, saw = ragged[0]
            raise _field_count_error(path, line, saw, len(names)) from exc
        if message.startswith("Could not skip initial"):  # a header line without a line end
            return
        row = _ROW.search(message)
        if "UTF8" in message:
            where = f" in line {row.group(1)}" if row else ""
            raise InputFormatError(f"{path}: not UTF-8 text (invalid UTF-8 data{where})") from exc
        if "straddl" in message:  # Arrow: a row (or quoted value) longer than a block
            raise InputFormatError(
                f"{path}: a row is longer than {BLOCK_BYTES // 2**20} MiB, the longest row that "
                "can be read; check for a quote that opens a value running over many lines"
            ) from exc
        raise InputFormatError(f"{path}: not a readable CSV file ({cut(message, 200)})") from exc
    except OSError as exc:
        raise FileAccessError(f"{path}: cannot be read ({exc.strerror})") from exc


def _chunks(
    batches: Iterator[pa.RecordBatch], names: list[str], chunk_rows: int
) -> Iterator[pa.Table]:
    """The rows of ``batches`` regrouped ``chunk_rows`` at a time, or fewer where that many
    would hold more than :data:`CHUNK_BYTES` of text (the last chunk may be shorter; a file
    without rows gives one empty chunk)."""
    pending: list[pa.RecordBatch] = []
    n_pending = n_bytes = n_yielded = 0
    for batch in batches:
        pending.append(batch)
        n_pending += batch.num_rows
        n_bytes += batch.nbytes
        while n_pending >= chunk_rows or n_bytes >= CHUNK_BYTES:
            table = pa.Table.from_batches(pending)
            n_rows = min(chunk_rows, n_pending, max(1, n_pending * CHUNK_BYTES // n_bytes))
            yield table.slice(0, n_rows)
            n_yielded += 1
            rest = table.slice(n_rows)
            pending, n_pending, n_bytes = rest.to_batches(), rest.num_rows, rest.nbytes
    if n_pending or not n_yielded:
        schema = pa.schema([(name, pa.string()) for name in names])
        yield pa.Table.from_batches(pending, schema=schema)


def read_csv_chunks(
    path: Path,
    numeric_columns: Sequence[str],
    chunk_rows: int = 200_000,
    *,
    text_columns: Sequence[str] = (),
) -> Iterator[CsvChunk]:
    """Yield the rows of ``path`` in chunks of at most ``chunk_rows``.

    ``numeric_columns`` must exist and hold numbers (converted to float64 in
    :attr:`CsvChunk.numbers`); ``text_columns`` must exist and are left to the caller. A row
    longer than :data:`BLOCK_BYTES` cannot be read.

    Raises
    ------
    FileAccessError
        The file cannot be opened or read.
    InputFormatError
        The file is empty, is not valid CSV, has a row longer than :data:`BLOCK_BYTES`, lacks
        one of the named columns, repeats a column name, has a row with more or fewer fields
        than the header, or holds a non-numeric value in one of the ``numeric_columns``.
    """
    path = Path(path)
    with open_binary(path, "a CSV file") as raw, open_binary(path, "a CSV file") as again:
        header = _read_header(raw, path)
        # pandas's names for header fields left empty
        names = [name or f"Unnamed: {i}" for i, name in enumerate(header)]
        _check_header(names, [*numeric_columns, *text_columns], path)
        raw.seek(0)
        block_size = _block_size(raw, path)
        row_bytes = _row_bytes_reader(again)
        next_line = 2  # line 1 is the header
        for text in _chunks(_batches(raw, names, path, block_size), names, chunk_rows):
            numbers = {c: _numbers(text, c, path, next_line) for c in numeric_columns}
            rows = row_bytes.take(text) if row_bytes is not None else None
            yield CsvChunk(text, numbers, raw.tell(), next_line, rows)
            next_line += text.num_rows


def _row_bytes_reader(again: IO[bytes]) -> RowBytesReader | None:
    """The rows' bytes from a second handle on the file, unless the header line may not be the
    header row (it holds a quote: a quoted name may span lines)."""
    try:
        header = again.readline()
    except OSError:  # the CSV reader reports it
        return None
    return None if b'"' in header else RowBytesReader(again)


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


FREED_PAGES_KEPT_MS = 10_000
"""How long jemalloc keeps pages freed within :func:`returned_memory` before handing them back
(Arrow's default: 1 s). A chunk's arrays are freed and the next chunk's allocated within that
time, so they reuse the same pages instead of faulting in fresh ones (a quarter of the system
time of ``pebs risk assess`` on 1,000,000 rows); pages left unused longer are still returned."""
_ARROW_DECAY_MS = 1_000
"""Arrow's own setting, restored after the block."""


@contextlib.contextmanager
def returned_memory() -> Iterator[None]:
    """Within the block, Arrow allocates from jemalloc where it has it: jemalloc hands freed
    chunks back to the system (after :data:`FREED_PAGES_KEPT_MS`), so streaming a file keeps a
    resident set of a few chunks (Arrow's default pool keeps what it freed). Arrays made inside
    stay valid after the block."""
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # an Arrow built without jemalloc
        yield
        return
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pool)
    pa.jemalloc_set_decay_ms(FREED_PAGES_KEPT_MS)
    try:
        yield
    finally:
        pa.jemalloc_set_decay_ms(_ARROW_DECAY_MS)
        pa.set_memory_pool(previous)


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
