"""Whole columns to CSV at the speed of the file system: the rules of :mod:`pebs.io.csv_writer`,
applied to Arrow arrays instead of one Python value at a time.

What the file says is exactly what :func:`pebs.io.csv_writer.write_csv_rows` would write for the
same cells (the tests compare the two):

- a float is written in Python's shortest round-trip form (``repr``: ``1.0``, ``0.1``,
  ``1e-05``, ``1e+16``), which parses back to the same double; NaN is an empty field;
- a text cell that a spreadsheet would run as a formula gets a leading ``'``
  (:func:`pebs.io.csv_writer.safe_cell`, the one rule, applied to the few cells that start with
  one of :data:`~pebs.io.csv_writer.FORMULA_STARTS`);
- a cell holding a comma, a quote, a line feed or a carriage return is quoted (quotes doubled);
  lines end with ``\\n``.

Floats are formatted by :mod:`orjson` (the shortest round-trip digits, as Python, written in
Python's notation within their common positional range 1e-4 <= |x| < 1e10: ``0.1``, ``12.0``);
values outside it are rare in a risk file and are formatted by ``repr`` one by one. A column
whose values repeat (relative risks: a few hundred distinct products of factors) has each
distinct value formatted once, and so has a column given as an Arrow dictionary array (labels
and codes: levels, reasons). Arrays are converted with :mod:`pebs.io.arrow_arrays` (pandas is
never loaded).

The cells of a row are joined by Arrow's ``binary_join_element_wise``, whose result is the CSV
text itself. Consecutive columns of few distinct values (labels, repeated floats) are joined
first, each combination of their values once, and taken for the rows as one wider column:
fewer columns to join row by row, the same text.

The columns of an input file that are written back (a chunk of
:func:`pebs.io.csv_table.read_csv_chunks`) are copied from the file's own bytes when the chunk
gives them (:class:`~pebs.io.row_bytes.RowBytes`: no quote, no carriage return) and none of their
cells needs the formula quote: the bytes that writing those cells one by one would give.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import IO

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from pebs.io.arrow_arrays import bools, floats, from_bools, from_floats, from_texts, text_scalar
from pebs.io.csv_table import CsvChunk
from pebs.io.csv_writer import FORMULA_STARTS, safe_cell, write_csv_rows
from pebs.io.row_bytes import RowBytes

__all__ = ["float_text", "safe_text", "text_column", "write_columns"]

_POSITIONAL = (1e-4, 1e10)
"""|x| in [low, high): Arrow and Python both write the digits without an exponent."""
_FORMULA_BYTE = np.zeros(256, dtype=bool)
_FORMULA_BYTE[[ord(c) for c in FORMULA_STARTS]] = True
_FORMULA_STARTS = tuple(c.encode() for c in FORMULA_STARTS)
_STRUCTURAL = b',"\n\r'
"""Bytes that make a cell need quotes."""
_IS_STRUCTURAL = np.zeros(256, dtype=bool)
_IS_STRUCTURAL[list(_STRUCTURAL)] = True
_PLAIN_ASCII_NUMBER = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
""":func:`~pebs.io.csv_writer.is_plain_number` for ASCII digits: a cell it matches is plain (the
others, which may hold other Unicode digits, are decided by the rule itself)."""
_SAMPLE = 2048
"""Leading values looked at to decide whether a float column repeats its values."""
SLICE_ROWS = 32_768
"""Rows joined into CSV text at a time (the text of a slice is held in memory)."""
_EMPTY, _QUOTE, _COMMA, _DOT_ZERO = (text_scalar(t) for t in ("", '"', ",", ".0"))


def _repeats(numbers: pa.Array) -> bool:
    """Whether the first :data:`_SAMPLE` values hold at most a quarter as many distinct ones."""
    if len(numbers) < 4 * _SAMPLE:
        return False
    return len(pc.unique(numbers.slice(0, _SAMPLE))) <= _SAMPLE // 4


def float_text(values: np.ndarray) -> pa.Array:
    """(n,) float64 -> Arrow strings in Python's ``repr`` form; NaN -> null (an empty field).

    A column that repeats its values (:func:`_repeats`) has each distinct value formatted once.
    """
    values = np.asarray(values, dtype=np.float64)
    numbers = from_floats(values)  # NaN -> null
    if _repeats(numbers):
        encoded = pc.dictionary_encode(numbers)  # nulls stay in the indices
        return _repr_text(floats(encoded.dictionary)).take(encoded.indices)
    return _repr_text(values)


def _repr_text(values: np.ndarray) -> pa.Array:
    """``values`` (float64) in ``repr`` form, NaN as null: :mod:`orjson` writes the shortest
    round-trip digits of the values in Python's positional range (as Python writes them:
    ``0.1``, ``12.0``), ``repr`` the rare others one by one."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    magnitudes = np.abs(values)
    with np.errstate(invalid="ignore"):
        positional = (magnitudes >= _POSITIONAL[0]) & (magnitudes < _POSITIONAL[1]) | (values == 0)
    chosen = values if positional.all() else values[positional]
    encoded = np.frombuffer(orjson.dumps(chosen, option=orjson.OPT_SERIALIZE_NUMPY), np.uint8)
    encoded = encoded[1:-1]  # "[a,b,c]" without its brackets
    is_comma = encoded == ord(",")
    ends = np.flatnonzero(is_comma)  # (n_chosen - 1,) the end of each value but the last
    lengths = np.zeros(values.size, dtype=np.int32)
    if chosen.size:
        lengths[positional] = np.diff(ends, prepend=-1, append=encoded.size) - 1
    offsets = np.zeros(values.size + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    n_null = values.size - chosen.size
    validity = pa.py_buffer(np.packbits(positional, bitorder="little")) if n_null else None
    text = pa.Array.from_buffers(
        pa.string(), values.size,
        [validity, pa.py_buffer(offsets), pa.py_buffer(encoded[~is_comma])], null_count=n_null,
    )  # fmt: skip
    other = ~positional & ~np.isnan(values)  # tiny, huge or infinite: rare
    if other.any():
        exact = from_texts([repr(v) for v in values[other].tolist()])
        text = _replace(text, from_bools(other), exact)
    return text


def _replace(text: pa.Array, mask: pa.Array, replacements: pa.Array) -> pa.Array:
    """``text`` with the values where ``mask`` (Arrow booleans) is true replaced, in order."""
    return pc.replace_with_mask(text, mask, replacements.cast(pa.string()))


def _first_bytes(text: pa.Array) -> np.ndarray:
    """(n,) uint8: the first byte of each value (0 for an empty or null value)."""
    _, offsets_buffer, data_buffer = text.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[
        text.offset : text.offset + len(text) + 1
    ]
    starts, lengths = offsets[:-1], np.diff(offsets)
    first = np.zeros(len(text), dtype=np.uint8)
    if data_buffer is not None and data_buffer.size:
        data = np.frombuffer(data_buffer, dtype=np.uint8)
        has_text = lengths > 0
        first[has_text] = data[starts[has_text]]
    return first


def _formula_rows(text: pa.Array) -> np.ndarray:
    """(k,) int: the rows of ``text`` (Arrow strings) that may start a formula, but those that
    are plain ASCII numbers (``-0.5``): the candidates for :func:`~pebs.io.csv_writer.safe_cell`."""
    offsets, data = _values(text)
    found = data[offsets[0] : offsets[-1]].tobytes()  # one copy; a byte search for each
    if not any(start in found for start in _FORMULA_STARTS):
        return np.zeros(0, dtype=np.int64)
    maybe_formula = _FORMULA_BYTE[_first_bytes(text)]
    if not maybe_formula.any():
        return np.zeros(0, dtype=np.int64)
    if text.null_count:
        maybe_formula &= bools(text.is_valid())
    rows = np.flatnonzero(maybe_formula)
    plain = pc.match_substring_regex(text.filter(from_bools(maybe_formula)), _PLAIN_ASCII_NUMBER)
    return rows[~bools(plain)]  # "-0.5" stays; "=1+1" does not


def safe_text(text: pa.Array) -> pa.Array:
    """Arrow strings with :func:`~pebs.io.csv_writer.safe_cell` applied to every value."""
    text = text.cast(pa.string())
    rows = _formula_rows(text)
    if not rows.size:
        return text
    mask = np.zeros(len(text), dtype=bool)
    mask[rows] = True
    mask = from_bools(mask)
    cells = text.filter(mask).to_pylist()
    return _replace(text, mask, from_texts([safe_cell(cell) for cell in cells]))


def text_column(values) -> pa.Array:
    """A column as CSV text: floats in ``repr`` form, anything else as text made safe (an Arrow
    dictionary array: its labels)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.DictionaryArray):
        return text_column(values.dictionary).take(values.indices)
    if isinstance(values, pa.Array):
        return safe_text(values)
    values = np.asarray(values)
    if values.dtype.kind == "f":
        return float_text(values)
    if values.dtype.kind in "OU":
        return safe_text(from_texts(values))
    return safe_text(pa.array(values, type=pa.string(), from_pandas=True))


def _values(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """``text``'s offsets (n + 1, into the data) and its data bytes, without copying."""
    _, offsets_buffer, data_buffer = text.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[
        text.offset : text.offset + len(text) + 1
    ]
    if data_buffer is None:
        return offsets, np.zeros(0, dtype=np.uint8)
    return offsets, np.frombuffer(data_buffer, dtype=np.uint8)


def _without_nulls(text: pa.Array) -> pa.Array:
    """Arrow strings with every null as an empty value."""
    if not text.null_count:
        return text
    offsets, _ = _values(text)
    if np.diff(offsets)[~bools(text.is_valid())].any():  # a null over some bytes
        return pc.fill_null(text, _EMPTY)
    _, offsets_buffer, data_buffer = text.buffers()  # the same values, no validity bitmap
    return pa.Array.from_buffers(
        pa.string(), len(text), [None, offsets_buffer, data_buffer], offset=text.offset
    )


def _rows_to_quote(text: pa.Array, *, alone: bool) -> np.ndarray:
    """(n,) bool, true at the values that hold a comma, quote or line break (``alone``: the only
    column, also at the empty values, written ``""`` as Python's csv module writes them)."""
    offsets, data = _values(text)
    values = data[offsets[0] : offsets[-1]]
    found = values.tobytes()  # one copy; then a byte search for each special byte
    to_quote = np.zeros(len(text), dtype=bool)
    if any(bytes([byte]) in found for byte in _STRUCTURAL):
        positions = np.flatnonzero(_IS_STRUCTURAL[values]) + offsets[0]
        to_quote[np.searchsorted(offsets, positions, side="right") - 1] = True
    if alone:
        to_quote |= np.diff(offsets) == 0
    return to_quote


def _cells(values, *, alone: bool) -> pa.Array:
    """A column as the cells to write (Arrow strings, no nulls): floats in ``repr`` form, text
    made safe and quoted where it needs quotes."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.DictionaryArray):  # each label once
        return _without_nulls(_cells(values.dictionary, alone=alone).take(values.indices))
    if isinstance(values, np.ndarray) and values.dtype.kind == "f" and not alone:
        return _without_nulls(float_text(values))  # no quote, no formula: plain numbers
    text = _without_nulls(text_column(values))
    to_quote = _rows_to_quote(text, alone=alone)
    if not to_quote.any():
        return text
    mask = from_bools(to_quote)
    quoted = pc.binary_join_element_wise(
        _QUOTE, pc.replace_substring(text.filter(mask), '"', '""'), _QUOTE, _EMPTY
    )
    return _replace(text, mask, quoted)


_FEW_VALUES = 1 << 12
"""A column with more distinct values than this is written as it is (:func:`_cells`)."""


def _coded(values) -> tuple[np.ndarray, list[str]] | None:
    """A column of few distinct values as (n,) int64 codes into the cells of those values
    (:func:`_cells`; an empty cell for a null): a dictionary array (labels), or floats that
    repeat (:func:`_repeats`). None for any other column."""
    if not len(values):
        return None
    if isinstance(values, pa.DictionaryArray):
        if len(values.dictionary) > _FEW_VALUES:
            return None
        labels, indices = _cells(values.dictionary, alone=False), values.indices
    elif isinstance(values, np.ndarray) and values.dtype.kind == "f":
        numbers = from_floats(values)
        if not _repeats(numbers):
            return None
        encoded = pc.dictionary_encode(numbers)  # nulls stay in the indices
        if len(encoded.dictionary) > _FEW_VALUES:  # repeats at its start only
            return None
        labels, indices = _repr_text(floats(encoded.dictionary)), encoded.indices
    else:
        return None
    texts = [text or "" for text in labels.to_pylist()]  # a null label: an empty cell
    kind = "u" if pa.types.is_unsigned_integer(indices.type) else "i"
    codes = np.frombuffer(indices.buffers()[1], dtype=f"{kind}{indices.type.bit_width // 8}")
    codes = codes[indices.offset : indices.offset + len(indices)].astype(np.int64)
    if indices.null_count:  # a null: one more value, an empty cell
        codes[~bools(indices.is_valid())] = len(texts)
        texts.append("")
    return codes, texts


_FEW_COMBINATIONS = 1 << 16
"""Codes of two columns are renumbered through a table of every pair up to this many pairs
(else sorted)."""


def _joined_codes(columns: Sequence[tuple[np.ndarray, list[str]]]) -> pa.Array:
    """The cells of consecutive columns of :func:`_coded`, joined by commas row by row: each
    combination of values that occurs is joined once, then taken for its rows."""
    codes, texts = columns[0]
    for more_codes, more_texts in columns[1:]:
        keys = codes * len(more_texts) + more_codes
        if len(texts) * len(more_texts) <= _FEW_COMBINATIONS:  # renumbered through a table
            counts = np.bincount(keys, minlength=len(texts) * len(more_texts))
            used = np.flatnonzero(counts)
            renumber = np.zeros(counts.size, dtype=np.int64)
            renumber[used] = np.arange(used.size)
            codes = renumber[keys]
        else:
            used, codes = np.unique(keys, return_inverse=True)
        texts = [
            f"{texts[key // len(more_texts)]},{more_texts[key % len(more_texts)]}"
            for key in used.tolist()
        ]
    indices = np.ascontiguousarray(codes, dtype=np.int32)
    return from_texts(texts).take(
        pa.Array.from_buffers(pa.int32(), len(indices), [None, pa.py_buffer(indices)])
    )


def _column_cells(columns: Sequence[object], *, alone: bool) -> list[pa.Array]:
    """The cells of each column (:func:`_cells`), but consecutive columns of few distinct values
    (:func:`_coded`: labels, codes, repeated floats) given as one column of their cells joined
    by commas: fewer, wider columns to join into rows, each combination written once."""
    out: list[pa.Array] = []
    run: list[tuple[np.ndarray, list[str]]] = []
    for values in columns:
        coded = None if alone else _coded(values)
        if coded is not None:
            run.append(coded)
            continue
        if run:
            out.append(_joined_codes(run))
            run = []
        out.append(_cells(values, alone=alone))
    if run:
        out.append(_joined_codes(run))
    return out


def _newlines(n: int) -> pa.Array:
    """``n`` values ``"\\n"``."""
    offsets = np.arange(n + 1, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(b"\n" * n)]
    )


def _joined(arrays: Sequence[pa.Array], separator: pa.Scalar) -> pa.Buffer:
    """The values of ``arrays`` (Arrow strings, no nulls) joined row by row with ``separator``,
    rows one after the other, as bytes."""
    text = arrays[0] if len(arrays) == 1 else pc.binary_join_element_wise(*arrays, separator)
    offsets, data = _values(text)
    return pa.py_buffer(data[offsets[0] : offsets[-1]])


def _csv_bytes(cells: Sequence[pa.Array]) -> Iterator[pa.Buffer]:
    """The rows of ``cells`` (:func:`_cells`) as CSV bytes, without a header,
    :data:`SLICE_ROWS` rows at a time."""
    newlines = _newlines(min(len(cells[0]), SLICE_ROWS))
    for start in range(0, len(cells[0]), SLICE_ROWS):
        part = [column.slice(start, SLICE_ROWS) for column in cells]
        rows = part[0] if len(part) == 1 else pc.binary_join_element_wise(*part, _COMMA)
        yield _joined([rows, newlines.slice(0, len(rows))], _EMPTY)


def _after_rows(rows: RowBytes, cells: Sequence[pa.Array]) -> Iterator[pa.Buffer]:
    """CSV bytes: each of ``rows`` (as read) followed by ``cells`` (:func:`_cells`) of its row,
    :data:`SLICE_ROWS` rows at a time.

    The rows as Arrow strings without copying them: the first up to its line end, every other
    one from the line end before it, so that the joined rows are the CSV text up to the last
    line end.
    """
    if not cells:
        yield rows.data
        return
    n = len(rows.ends)
    offsets = np.empty(n + 1, dtype=np.int32)
    offsets[0] = 0
    offsets[1:] = rows.ends
    leading = pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), rows.data])
    for start in range(0, n, SLICE_ROWS):
        yield _joined([c.slice(start, SLICE_ROWS) for c in (leading, *cells)], _COMMA)
    yield pa.py_buffer(b"\n")


def _as_read(chunk: CsvChunk | None) -> RowBytes | None:
    """The chunk's rows as read, when writing its cells would give those bytes (no cell needs
    the formula quote; an Arrow string array holds them)."""
    if chunk is None or chunk.row_bytes is None or len(chunk.row_bytes.data) >= 2**31:
        return None
    # one look at each whole column: the reader's batches are small, each look has a fixed cost
    if any(_formula_rows(column.combine_chunks()).size for column in chunk.text.columns):
        return None
    return chunk.row_bytes


def write_columns(
    stream: IO[str],
    columns: Mapping[str, object],
    *,
    header: bool,
    carried: CsvChunk | None = None,
) -> None:
    """Append ``columns`` (name -> Arrow array or numpy array, all of one length) to ``stream``
    as CSV rows, preceded by the header line when ``header``; see the module docstring.

    ``carried``: a chunk read by :func:`~pebs.io.csv_table.read_csv_chunks` whose columns come
    first in each row, the input's cells written back (copied from the file's bytes when it
    has them and none of its cells needs the formula quote).
    """
    leading = {} if carried is None else {n: carried.text[n] for n in carried.text.column_names}
    if header:
        write_csv_rows(stream, [], header=[str(name) for name in [*leading, *columns]])
    as_read = _as_read(carried)
    if as_read is not None:
        data = _after_rows(as_read, _column_cells(list(columns.values()), alone=False))
    else:
        every = {**leading, **columns}
        cells = _column_cells(list(every.values()), alone=len(every) == 1)
        if not cells or len(cells[0]) == 0:
            return
        data = _csv_bytes(cells)
    raw = getattr(stream, "buffer", None)
    if raw is None:
        stream.write(b"".join(part.to_pybytes() for part in data).decode("utf-8"))  # whole rows
    else:  # the text stream's own bytes: no decoding and encoding again
        stream.flush()
        for part in data:
            raw.write(part)
