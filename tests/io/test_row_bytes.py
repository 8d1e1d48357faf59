"""The rows' bytes that the streaming CSV reader hands over with each chunk
(:class:`pebs.io.row_bytes.RowBytes`): when given, they are exactly each row's cells (as parsed)
joined by commas, one ``\\n`` after each row; the reference is Python's ``csv`` module, which
writes the files and parses them again."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pebs.io.csv_table import read_csv_chunks
from pebs.io.csv_writer import write_csv_rows

CELL = st.text(alphabet=st.sampled_from(list('ab1-=,"\r\n é')), max_size=5)


def _csv_bytes(header, rows, line_end: str) -> bytes:
    """CSV text; with \\n line ends by the one CSV writer, which also quotes a lone \\r."""
    stream = io.StringIO(newline="")
    if line_end == "\r\n":
        csv.writer(stream, lineterminator=line_end).writerows([header, *rows])
    else:
        write_csv_rows(stream, rows, header=header)
    return stream.getvalue().encode()


def _check(chunks) -> int:
    """Assert that every chunk's bytes, if given, are its rows' cells joined by commas; return
    how many chunks had them."""
    n_given = 0
    for chunk in chunks:
        if chunk.row_bytes is None:
            continue
        n_given += 1
        rows = zip(*(chunk.text[name].to_pylist() for name in chunk.text.column_names), strict=True)
        expected = "".join(",".join(row) + "\n" for row in rows).encode()
        assert chunk.row_bytes.data.to_pybytes() == expected
        np.testing.assert_array_equal(
            chunk.row_bytes.ends, [i for i, byte in enumerate(expected) if byte == ord("\n")]
        )
    return n_given


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(CELL, CELL, CELL), min_size=1, max_size=12),
    st.sampled_from(["\n", "\r\n"]),
    st.integers(min_value=1, max_value=4),
    st.booleans(),
)
def test_given_row_bytes_are_the_rows_cells_joined_by_commas(
    tmp_path_factory, rows, line_end, chunk_rows, last_line_end
):
    rows = [row for row in rows if any(row)]  # a row of empty cells: an empty line, no row
    assume(rows)
    data = _csv_bytes(["a", "b", "c"], rows, line_end)
    if not last_line_end:
        data = data.removesuffix(line_end.encode())
    path = tmp_path_factory.mktemp("rows") / "in.csv"
    path.write_bytes(data)
    chunks = list(read_csv_chunks(path, [], chunk_rows=chunk_rows))
    assert sum(chunk.text.num_rows for chunk in chunks) == len(rows)
    _check(chunks)


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
@pytest.mark.parametrize("last_line_end", [True, False])
def test_rows_without_quotes_are_given_as_they_are_in_the_file(tmp_path, line_end, last_line_end):
    rows = [[f"W{i}", str(i / 7), "" if i % 3 else "=x"] for i in range(10)]
    data = "\ufeff" + line_end.join(",".join(row) for row in [["id", "x", "note"], *rows])
    path = tmp_path / "in.csv"
    path.write_bytes((data + (line_end if last_line_end else "")).encode())
    chunks = list(read_csv_chunks(path, ["x"], chunk_rows=3))
    assert _check(chunks) == 4


@pytest.mark.parametrize(
    ("data", "n_given"),
    [
        (b"id,x\na,1\nb,2\n\nc,3\nd,4\ne,5\n", 1),  # an empty line: no row; none from there
        (b"id,x\na,1\nb,2\nc,3\n\nd,4\ne,5\n", 1),
        (b'id,x\na,1\nb,2\nc,"3\n3"\nd,4\ne,5\n', 1),  # a value over two lines
        (b'id,x\na,1\nb,2\nc,"3"\nd,4\ne,5\n', 1),  # quoted
        (b"id,x\na,1\nb,2\nc,3\rd,4\ne,5\n", 1),  # a lone carriage return ends a row
        (b"id,x\r\na,1\r\nb,2\r\nc,3\nd,4\r\ne,5\r\n", 1),  # line ends of both kinds
        (b'"id",x\na,1\nb,2\nc,3\nd,4\ne,5\n', 0),  # a quoted header may span lines
    ],
)
def test_after_rows_that_are_not_lines_no_bytes_are_given(tmp_path, data, n_given):
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    chunks = list(read_csv_chunks(path, [], chunk_rows=2))
    assert _check(chunks) == n_given
    assert all(chunk.row_bytes is None for chunk in chunks[n_given:])
