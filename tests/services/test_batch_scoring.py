"""The CSV runner shared by ``pebs risk gail`` and ``pebs risk assess``: columns added to every
chunk, other columns carried through, the header checked once, no partial output, rows counted."""

from __future__ import annotations

import numpy as np
import pytest

from pebs.io.errors import FileAccessError, InputFormatError
from pebs.services.batch_scoring import RowCounts, map_csv


def _source(tmp_path, rows: int = 5):
    path = tmp_path / "in.csv"
    path.write_text("id,x,note\n" + "".join(f"r{i},{i},n{i}\n" for i in range(rows)))
    return path


def test_columns_are_added_chunk_by_chunk_and_the_header_is_checked_once(tmp_path):
    headers, sizes = [], []

    def score(chunk):
        sizes.append(len(chunk.table))
        return {"double": chunk.numbers["x"] * 2}

    output = tmp_path / "out.csv"
    map_csv(_source(tmp_path), output, score, output_columns=("double",), numeric_columns=("x",),
            chunk_rows=2, check_columns=lambda columns: headers.append(list(columns)))  # fmt: skip
    assert sizes == [2, 2, 1]
    assert headers == [["id", "x", "note"]]
    assert output.read_text().splitlines() == [
        "id,x,note,double", "r0,0,n0,0.0", "r1,1,n1,2.0", "r2,2,n2,4.0", "r3,3,n3,6.0",
        "r4,4,n4,8.0",
    ]  # fmt: skip


def test_an_output_column_in_the_input_is_refused_before_anything_is_written(tmp_path):
    output = tmp_path / "out.csv"
    with pytest.raises(InputFormatError, match=r"already has output column\(s\) note; rename"):
        map_csv(_source(tmp_path), output, lambda chunk: {}, output_columns=("note", "y"),
                chunk_rows=2)  # fmt: skip
    assert not output.exists()


def test_the_output_never_overwrites_the_input(tmp_path):
    source = _source(tmp_path)
    with pytest.raises(FileAccessError, match="overwrite the input"):
        map_csv(source, source, lambda chunk: {}, output_columns=(), chunk_rows=2)


def test_a_failure_in_a_later_chunk_leaves_no_output(tmp_path):
    def score(chunk):
        if chunk.first_line > 2:
            raise InputFormatError("bad chunk")
        return {"y": np.zeros(len(chunk.table))}

    with pytest.raises(InputFormatError):
        map_csv(_source(tmp_path), tmp_path / "out.csv", score, output_columns=("y",),
                chunk_rows=2)  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_rows_are_counted_by_reason():
    counts = RowCounts()
    error = np.array([0, 1, 3, 4, 0])
    counts.count(error != 0, error, {1: "one", 2: "two", 4: "four", 8: "eight"})
    counts.add_reason("other", 2)
    counts.add_reason("none", 0)
    assert (counts.n_rows, counts.n_rejected) == (5, 3)
    assert counts.rejected_by_reason == {"one": 2, "two": 1, "four": 1, "other": 2}
