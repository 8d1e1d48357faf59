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

Floats are formatted by Arrow (shortest round-trip digits, as Python) and brought to Python's
notation: Arrow writes ``1`` and ``1.5e+11`` where Python writes ``1.0`` and ``150000000000.0``;
values outside Arrow's and Python's common positional range (1e-4 <= |x| < 1e10) are rare in a
risk file and are formatted by ``repr`` one by one. A column whose values repeat (relative risks:
a few hundred distinct products of factors) has each distinct value formatted once. Arrays are
converted with :mod:`pebs.io.arrow_arrays` (pandas is never loaded).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from pebs.io.arrow_arrays import bools, floats, from_bools, from_floats, from_texts, text_scalar
from pebs.io.csv_writer import FORMULA_STARTS, safe_cell, write_csv_rows

__all__ = ["float_text", "safe_text", "text_column", "write_columns"]

_POSITIONAL = (1e-4, 1e10)
"""|x| in [low, high): Arrow and Python both write the digits without an exponent."""
_FORMULA_BYTE = np.zeros(256, dtype=bool)
_FORMULA_BYTE[[ord(c) for c in FORMULA_STARTS]] = True
_STRUCTURAL = b',"\n\r'
"""Bytes that make a cell need quotes."""
_STAND_INS = b"\x01\x02\x03\x04"
_BYTE_KIND = np.zeros(256, dtype=np.uint8)
_BYTE_KIND[list(_STRUCTURAL)] = 1
_BYTE_KIND[list(_STAND_INS)] = 2
_REVEAL = np.arange(256, dtype=np.uint8)
_REVEAL[list(_STAND_INS)] = list(_STRUCTURAL)
_PLAIN_ASCII_NUMBER = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
""":func:`~pebs.io.csv_writer.is_plain_number` for ASCII digits: a cell it matches is plain (the
others, which may hold other Unicode digits, are decided by the rule itself)."""
_SAMPLE = 2048
"""Leading values looked at to decide whether a float column repeats its values."""
_EMPTY, _QUOTE, _COMMA, _NEWLINE, _DOT_ZERO = (text_scalar(t) for t in ("", '"', ",", "\n", ".0"))


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
        return _repr_text(floats(encoded.dictionary), encoded.dictionary).take(encoded.indices)
    return _repr_text(values, numbers)


def _repr_text(values: np.ndarray, numbers: pa.Array) -> pa.Array:
    """``values`` (``numbers`` as Arrow floats) in ``repr`` form: Arrow's cast, then brought to
    Python's notation."""
    text = pc.cast(numbers, pa.string())
    magnitudes = np.abs(values)
    with np.errstate(invalid="ignore"):
        positional = (magnitudes >= _POSITIONAL[0]) & (magnitudes < _POSITIONAL[1]) | (values == 0)
        whole = positional & (values == np.trunc(values))  # Arrow: "12", Python: "12.0"
    if whole.any():
        mask = from_bools(whole)
        with_dot = pc.binary_join_element_wise(text.filter(mask), _DOT_ZERO, _EMPTY)
        text = _replace(text, mask, with_dot)
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


def safe_text(text: pa.Array) -> pa.Array:
    """Arrow strings with :func:`~pebs.io.csv_writer.safe_cell` applied to every value."""
    text = text.cast(pa.string())
    maybe_formula = _FORMULA_BYTE[_first_bytes(text)]
    if not maybe_formula.any():
        return text
    if text.null_count:
        maybe_formula &= bools(text.is_valid())
    rows = np.flatnonzero(maybe_formula)
    plain = pc.match_substring_regex(text.filter(from_bools(maybe_formula)), _PLAIN_ASCII_NUMBER)
    rows = rows[~bools(plain)]  # "-0.5" stays; "=1+1" does not
    if not rows.size:
        return text
    mask = np.zeros(len(text), dtype=bool)
    mask[rows] = True
    mask = from_bools(mask)
    cells = text.filter(mask).to_pylist()
    return _replace(text, mask, from_texts([safe_cell(cell) for cell in cells]))


def text_column(values) -> pa.Array:
    """A column as CSV text: floats in ``repr`` form, anything else as text made safe."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
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


def _rows_to_quote(text: pa.Array, *, alone: bool = False) -> tuple[np.ndarray, bool]:
    """(n,) bool, true at the values that hold a comma, quote or line break (``alone``: the only
    column, also at the empty values, written ``""`` as Python's csv module writes them), and
    whether any value holds one of the stand-in bytes."""
    offsets, data = _values(text)
    values = data[offsets[0] : offsets[-1]]
    found = values.tobytes()  # one copy; then a byte search for each special byte
    to_quote = np.zeros(len(text), dtype=bool)
    if alone or any(bytes([byte]) in found for byte in _STRUCTURAL):
        positions = np.flatnonzero(_BYTE_KIND[values] == 1) + offsets[0]
        to_quote[np.searchsorted(offsets, positions, side="right") - 1] = True
    if alone:
        to_quote |= np.diff(offsets) == 0
    return to_quote, any(bytes([byte]) in found for byte in _STAND_INS)


def _quote(cells: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(
        _QUOTE, pc.replace_substring(cells, '"', '""'), _QUOTE, _EMPTY
    )


def _hide(cells: pa.Array) -> pa.Array:
    for structural, stand_in in zip(_STRUCTURAL, _STAND_INS, strict=True):
        cells = pc.replace_substring(cells, chr(structural), chr(stand_in))
    return cells


def _joined_rows(columns: Sequence[pa.Array]) -> pa.Buffer:
    """CSV rows joined cell by cell (cells quoted where needed): for a chunk that holds the
    stand-in bytes itself."""
    quoted = []
    for column in columns:
        to_quote, _ = _rows_to_quote(column, alone=len(columns) == 1)
        if to_quote.any():
            mask = from_bools(to_quote)
            column = _replace(column, mask, _quote(column.filter(mask)))
        quoted.append(column)
    lines = pc.binary_join_element_wise(
        *quoted, _COMMA, null_handling="replace", null_replacement=""
    )
    lines = pc.binary_join_element_wise(lines, _EMPTY, _NEWLINE)
    offsets, data = _values(lines)
    return pa.py_buffer(data[offsets[0] : offsets[-1]].tobytes())


def _csv_bytes(columns: Sequence[pa.Array]) -> pa.Buffer:
    """The rows of ``columns`` (Arrow strings made safe) as CSV bytes, without a header.

    Arrow's writer writes the cells as they are; a cell that needs quotes is quoted first with
    its commas, quotes and line breaks replaced by stand-in bytes (1-4) that the writer lets
    through, and put back in the written bytes (a chunk whose cells hold those bytes themselves
    is joined by :func:`_joined_rows` instead).
    """
    if len(columns) == 1:  # a row of one empty field is not an empty line
        columns = [pc.fill_null(columns[0], _EMPTY)]
    prepared, has_hidden, has_stand_ins = [], False, False
    for column in columns:
        to_quote, stand_ins = _rows_to_quote(column, alone=len(columns) == 1)
        has_stand_ins |= stand_ins
        if to_quote.any():
            has_hidden = True
            mask = from_bools(to_quote)
            column = _replace(column, mask, _hide(_quote(column.filter(mask))))
        prepared.append(column)
    if has_hidden and has_stand_ins:
        return _joined_rows(columns)
    sink = pa.BufferOutputStream()
    options = pa_csv.WriteOptions(include_header=False, quoting_style="none")
    table = pa.table({str(i): column for i, column in enumerate(prepared)})
    pa_csv.write_csv(table, sink, options)
    written = sink.getvalue()
    if not has_hidden:
        return written
    revealed = bytearray(written)
    view = np.frombuffer(revealed, dtype=np.uint8)
    at = np.flatnonzero(view <= max(_STAND_INS))  # the bytes 1 to 4 (and 0, which stays 0)
    view[at] = _REVEAL[view[at]]
    return pa.py_buffer(revealed)


def write_columns(stream: IO[str], columns: Mapping[str, object], *, header: bool) -> None:
    """Append ``columns`` (name -> Arrow array or numpy array, all of one length) to ``stream``
    as CSV rows, preceded by the header line when ``header``; see the module docstring."""
    if header:
        write_csv_rows(stream, [], header=[str(name) for name in columns])
    cells = [text_column(values) for values in columns.values()]
    if not cells or len(cells[0]) == 0:
        return
    data = _csv_bytes(cells)
    raw = getattr(stream, "buffer", None)
    if raw is None:
        stream.write(data.to_pybytes().decode("utf-8"))
    else:  # the text stream's own bytes: no decoding and encoding again
        stream.flush()
        raw.write(data)
