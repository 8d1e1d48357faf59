"""Whole columns to CSV (:mod:`pebs.io.csv_columns`) write what the one CSV writer
(:func:`pebs.io.csv_writer.write_csv_rows`, Python's ``csv`` module) writes for the same cells:
floats as Python's ``repr`` (which parses back to the same double), text made safe for
spreadsheets, quotes where a cell needs them. The references are Python's own ``repr``, ``float``
and ``csv`` reader, never this module's output."""

from __future__ import annotations

import csv
import io
import itertools
import math
import struct

import numpy as np
import pyarrow as pa
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pebs.io.arrow_arrays import from_codes
from pebs.io.csv_columns import float_text, write_columns
from pebs.io.csv_table import read_csv_chunks
from pebs.io.csv_writer import write_csv_rows

EDGES = [
    0.0, -0.0, 1.0, -1.0, 0.1, 1e-4, 9.999999999999999e-05, 1e-5, 1e16, 9999999999999998.0,
    1e10, 9999999999.999998, 1.2232021006715552e11, 5e-324, 2.2250738585072014e-308,
    1.7976931348623157e308, math.inf, -math.inf, 100.0, 12345678.0, 0.30000000000000004,
]  # fmt: skip


def _python_text(value: float) -> str | None:
    return None if math.isnan(value) else repr(value)


def test_edge_floats_are_written_as_python_repr():
    values = np.array([*EDGES, math.nan])
    assert float_text(values).to_pylist() == [_python_text(v) for v in values.tolist()]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=50))
def test_any_double_is_written_as_python_repr_and_parses_back(values):
    text = float_text(np.array(values, dtype=np.float64)).to_pylist()
    assert text == [_python_text(v) for v in values]
    for value, written in zip(values, text, strict=True):
        if written is not None:
            assert struct.pack("<d", float(written)) == struct.pack("<d", value)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_any_bit_pattern_is_written_as_python_repr(bits):
    (value,) = struct.unpack("<d", bits.to_bytes(8, "little"))
    assert float_text(np.array([value])).to_pylist() == [_python_text(value)]


CELL_TEXT = st.text(
    alphabet=st.sampled_from(list("ab1-+=@\t\r\n,\"' .e\x01\x02\x03\x04é٣")), max_size=8
)


def _reference(header, rows) -> str:
    stream = io.StringIO()
    write_csv_rows(stream, rows, header=header)
    return stream.getvalue()


def _columns_text(columns: dict, chunks: int = 1) -> str:
    stream = io.StringIO()
    n = len(next(iter(columns.values())))
    bounds = np.linspace(0, n, chunks + 1).astype(int)
    for i, (start, stop) in enumerate(itertools.pairwise(bounds)):
        part = {name: values[start:stop] for name, values in columns.items()}
        write_columns(stream, part, header=i == 0)
    return stream.getvalue()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(CELL_TEXT, st.floats(allow_nan=True), CELL_TEXT), min_size=1, max_size=30),
    st.integers(min_value=1, max_value=3),
)
def test_text_and_floats_are_written_as_the_one_csv_writer_writes_them(rows, chunks):
    names, floats, notes = (list(column) for column in zip(*rows, strict=True))
    columns = {
        "name": pa.array(names, type=pa.string()),
        "x": np.array(floats, dtype=np.float64),
        "note": np.array(notes, dtype=object),
    }
    expected_rows = [
        (name, None if math.isnan(x) else x, note)
        for name, x, note in zip(names, floats, notes, strict=True)
    ]
    written = _columns_text(columns, chunks=min(chunks, len(rows)))
    assert written == _reference(["name", "x", "note"], expected_rows)
    parsed = list(csv.reader(io.StringIO(written, newline="")))
    assert len(parsed) == len(rows) + 1


def test_formulas_get_a_quote_and_plain_numbers_do_not():
    cells = ["=1+1", "-0.5", "+3", "-1e-05", "-inf", "@SUM(1)", "\tx", "-٣", "", "a,b", 'say "hi"']
    written = _columns_text({"cell": pa.array(cells)})
    parsed = [row[0] for row in csv.reader(io.StringIO(written, newline=""))]
    assert parsed == [
        "cell", "'=1+1", "-0.5", "+3", "-1e-05", "'-inf", "'@SUM(1)", "'\tx", "-٣", "", "a,b",
        'say "hi"',
    ]  # fmt: skip


def test_nulls_and_nan_are_empty_fields():
    written = _columns_text(
        {"a": pa.array(["x", None]), "b": np.array([math.nan, 2.0]), "c": np.array([1.5, 0.0])}
    )
    assert written == "a,b,c\nx,,1.5\n,2.0,0.0\n"


def test_a_million_doubles_of_every_magnitude_are_written_as_python_repr():
    rng = np.random.default_rng(20261207)
    magnitudes = 10.0 ** rng.uniform(-6, 12, 500_000)
    whole = np.round(rng.uniform(-1e11, 1e11, 500_000))
    values = np.concatenate([magnitudes * rng.choice([-1.0, 1.0], magnitudes.size), whole])
    written = float_text(values).to_pylist()
    expected = [repr(v) for v in values.tolist()]
    mismatched = [(w, e) for w, e in zip(written, expected, strict=True) if w != e]
    assert mismatched == []


def test_a_column_of_repeated_doubles_is_written_as_python_repr():
    # a few distinct values repeated over many rows (relative risks) are formatted once each:
    # the result must still be every value's repr, nulls where NaN
    rng = np.random.default_rng(7)
    values = rng.choice(np.array([*EDGES, math.nan, 1.82, 2.88]), 20_000)
    assert float_text(values).to_pylist() == [_python_text(v) for v in values.tolist()]


def test_side_by_side_labels_and_repeated_doubles_are_written_as_the_one_csv_writer_writes_them():
    # columns of few values next to each other (labels, repeated doubles) are written together,
    # each combination once: every row must still read as the one CSV writer writes its cells
    rng = np.random.default_rng(11)
    n = 20_000  # in two chunks, each enough rows for its doubles to count as repeating
    levels = ["low", "", "a,b", "=1+1", 'say "hi"']
    reasons = [f"reason {i}" for i in range(300)]  # two such columns: more pairs than a table
    shares = np.array([1.0, 2.2, math.nan, 0.30000000000000004, 1e-05, 1e16])
    level, reason, other = (rng.integers(0, k, n) for k in (len(levels), 300, 300))
    rr, x = rng.choice(shares, n), rng.random(n)
    maybe = [None if i % 3 == 1 else "xy"[i % 2] for i in range(n)]  # a label array with nulls
    columns = {
        "level": from_codes(level, levels),
        "rr": rr,
        "maybe": pa.array(maybe).dictionary_encode(),
        "reason": from_codes(reason, reasons),
        "other": from_codes(other, reasons),
        "x": x,
    }
    expected = [
        (levels[a], None if math.isnan(b) else b, c, reasons[d], reasons[e], f)
        for a, b, c, d, e, f in zip(level, rr.tolist(), maybe, reason, other, x.tolist(),
                                    strict=True)
    ]  # fmt: skip
    assert _columns_text(columns, chunks=2) == _reference(list(columns), expected)


def test_columns_of_many_values_next_to_few_valued_ones_are_written_as_the_one_csv_writer_does():
    # doubles that repeat in their first rows only, and labels with as many texts as rows, are
    # written column by column; the constant column between them still reads right
    rng = np.random.default_rng(5)
    n = 20_000
    x = np.concatenate([np.full(4_096, 1.5), rng.random(n - 4_096)])
    texts = [f"w{i}" for i in range(n)]
    columns = {"x": x, "y": np.full(n, 2.0), "label": from_codes(np.arange(n)[::-1], texts)}
    expected = [(a, 2.0, texts[n - 1 - i]) for i, a in enumerate(x.tolist())]
    assert _columns_text(columns) == _reference(list(columns), expected)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(CELL_TEXT, CELL_TEXT, st.floats(allow_nan=True)), min_size=1, max_size=12),
    st.integers(min_value=1, max_value=4),
    st.sampled_from(["\n", "\r\n"]),
)
def test_a_read_chunk_is_written_back_as_the_one_csv_writer_writes_its_cells(
    tmp_path_factory, rows, chunk_rows, line_end
):
    # the input's rows are copied from the file when that gives the same bytes: the output
    # must be what writing every parsed cell gives, whatever the file holds
    rows = [row for row in rows if row[0] or row[1]]  # a row of empty cells is no row
    assume(rows)
    stream = io.StringIO(newline="")
    if line_end == "\n":  # the one CSV writer quotes a lone \r too
        write_csv_rows(stream, [r[:2] for r in rows], header=["a", "b"])
    else:
        csv.writer(stream, lineterminator=line_end).writerows([("a", "b"), *(r[:2] for r in rows)])
    path = tmp_path_factory.mktemp("carried") / "in.csv"
    path.write_text(stream.getvalue(), encoding="utf-8", newline="")
    written, parsed = io.StringIO(), []
    for i, chunk in enumerate(read_csv_chunks(path, [], chunk_rows=chunk_rows)):
        start, n = len(parsed), chunk.text.num_rows
        parsed += zip(chunk.text["a"].to_pylist(), chunk.text["b"].to_pylist(), strict=True)
        x = np.array([r[2] for r in rows[start : start + n]], dtype=np.float64)
        codes = np.arange(start, start + n) % 3
        added = {"x": x, "label": from_codes(codes, ["low", "", "a,b"])}
        write_columns(written, added, header=i == 0, carried=chunk)
    labels = ["low", "", "a,b"]
    expected = [
        (a, b, None if math.isnan(r[2]) else r[2], labels[i % 3])
        for i, ((a, b), r) in enumerate(zip(parsed, rows, strict=True))
    ]
    assert written.getvalue() == _reference(["a", "b", "x", "label"], expected)


def test_rows_copied_from_the_file_are_its_bytes_and_formulas_are_still_quoted(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(b"id,v\nW1,-0.5\nW2,2\nW3,=1+1\nW4,3\n")
    chunks = list(read_csv_chunks(path, [], chunk_rows=2))
    assert all(chunk.row_bytes is not None for chunk in chunks)
    written = io.StringIO()
    for i, chunk in enumerate(chunks):
        write_columns(written, {"y": np.ones(2)}, header=i == 0, carried=chunk)
    assert written.getvalue() == "id,v,y\nW1,-0.5,1.0\nW2,2,1.0\nW3,'=1+1,1.0\nW4,3,1.0\n"
