"""The streaming CSV reader (:func:`pebs.io.csv_table.read_csv_chunks`): text carried as it is,
numbers parsed as Python's ``float`` parses them, chunks numbered by line, and every malformed
row refused with its line."""

from __future__ import annotations

import pytest

from pebs.io import csv_table
from pebs.io.csv_table import BLOCK_BYTES, SHORT_ROWS_BLOCK_BYTES, _block_size, read_csv_chunks
from pebs.io.errors import InputFormatError


def _write(tmp_path, data: bytes):
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    return path


def test_chunks_carry_text_as_written_and_number_their_lines(tmp_path):
    path = _write(
        tmp_path,
        '\ufeffid,x,note\n a ,1.5,"two\nlines"\nb,-2, =x\n\nc,3e2,"q""q"\n'.encode(),
    )
    chunks = list(read_csv_chunks(path, ["x"], chunk_rows=2))
    assert [chunk.first_line for chunk in chunks] == [2, 4]
    assert [chunk.text.num_rows for chunk in chunks] == [2, 1]
    assert chunks[0].text.column_names == ["id", "x", "note"]
    assert chunks[0].text["id"].to_pylist() == [" a ", "b"]
    assert chunks[0].text["note"].to_pylist() == ["two\nlines", " =x"]
    assert chunks[1].text["note"].to_pylist() == ['q"q']
    assert [list(chunk.numbers["x"]) for chunk in chunks] == [[1.5, -2.0], [300.0]]
    assert list(chunks[0].table["id"]) == [" a ", "b"]


def test_numbers_are_parsed_as_python_float_parses_them(tmp_path):
    spellings = [" 1.5", "1_000", "+.5", "1e-3", "٣"]
    path = _write(tmp_path, ("x\n" + "\n".join(spellings) + "\n").encode())
    (chunk,) = read_csv_chunks(path, ["x"])
    assert list(chunk.numbers["x"]) == [float(s) for s in spellings]


def test_rows_up_to_a_block_are_read_and_a_longer_one_is_refused_by_name(tmp_path):
    near = "x" * (BLOCK_BYTES // 2)
    path = _write(tmp_path, f'x,note\n1,a\n2,{near}\n3,"{near}\n"\n4,b\n'.encode())
    (chunk,) = read_csv_chunks(path, ["x"])
    assert chunk.text["note"].to_pylist() == ["a", near, f"{near}\n", "b"]
    longer = "x" * (2 * BLOCK_BYTES)
    path = _write(tmp_path, f"x,note\n1,a\n2,{longer}\n3,b\n".encode())
    with pytest.raises(InputFormatError, match=rf"a row is longer than {BLOCK_BYTES // 2**20} MiB"):
        list(read_csv_chunks(path, ["x"]))


@pytest.mark.parametrize(
    ("body", "n_rows", "block"),
    [
        ("1,a\n" * 300_000, 300_000, SHORT_ROWS_BLOCK_BYTES),  # 1.2 MB of short rows
        (
            "1,a\n" * 300_000 + "2," + "b" * (SHORT_ROWS_BLOCK_BYTES * 6 // 10),
            300_001,
            SHORT_ROWS_BLOCK_BYTES,
        ),  # a long last row
        ("1,a\n2," + "b" * 1_100_000 + "\n3,c\n", 3, BLOCK_BYTES),  # a row longer than 1 MiB
        ('1,"' + "b\n" * 550_000 + '"\n3,c\n', 2, BLOCK_BYTES),  # a quoted value of 1.1 MB
        ('1,"' + "b\n" * 100 + '"\n' + "3,c\n" * 300_000, 300_001, SHORT_ROWS_BLOCK_BYTES),
    ],
)
def test_the_reader_parses_small_blocks_unless_a_row_is_long(tmp_path, body, n_rows, block):
    # the reader reads up to 32 blocks ahead: small blocks keep memory small
    path = _write(tmp_path, f"x,note\n{body}".encode())
    with open(path, "rb") as raw:
        assert _block_size(raw, path) == block
        assert raw.tell() == 0
    assert sum(chunk.text.num_rows for chunk in read_csv_chunks(path, ["x"])) == n_rows


@pytest.mark.parametrize("data", [b"id,x\n", b"id,x"])
def test_a_file_with_a_header_only_gives_one_empty_chunk(tmp_path, data):
    (chunk,) = read_csv_chunks(_write(tmp_path, data), ["x"])
    assert chunk.text.num_rows == 0
    assert chunk.text.column_names == ["id", "x"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"id,x\na,1\nb\n", "line 3 has 1 fields but the header has 2; add the missing field"),
        (
            b"id,x\na,1\nb,2,3\n",
            "line 3 has 3 fields but the header has 2; quote a field that "
            "contains a comma, or remove the extra field",
        ),
        (b"id,x\na,1\nb,2\nc,\xff\n", r"not UTF-8 text \(invalid UTF-8 data in line 4\)"),
        (b"id,x\na,1\nb,nan\n", "line 3: column 'x' has 'nan', which is not a number"),
    ],
)
def test_malformed_rows_are_refused_with_their_line(tmp_path, data, message):
    with pytest.raises(InputFormatError, match=message):
        list(read_csv_chunks(_write(tmp_path, data), ["x"], chunk_rows=1))


@pytest.mark.parametrize("data", [
    b'id,x\na,1\nb,"2\nc,3\nd,4\n',  # an opening quote never closed: c and d would vanish into b
    b'id,x\na,1\nb,"2',
    b'id,note\na,"one ""two"" three\nb,x\n',
])  # fmt: skip
def test_a_quote_never_closed_is_refused_not_read_as_one_value(tmp_path, data):
    path = _write(tmp_path, data)
    with pytest.raises(InputFormatError, match="never closed"):
        list(read_csv_chunks(path, [] if b"note" in data else ["x"]))


def test_quotes_that_pair_up_are_read(tmp_path):
    path = _write(tmp_path, b'id,note\na,"one ""two"" three"\nb,"x\ny"\n')
    (chunk,) = read_csv_chunks(path, [])
    assert chunk.text["note"].to_pylist() == ['one "two" three', "x\ny"]


def test_wide_rows_come_in_chunks_of_fewer_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_table, "CHUNK_BYTES", 4096)  # about 40 rows of 100 bytes
    rows = [f"{i},{'x' * 96}\n" for i in range(500)]
    path = _write(tmp_path, ("x,note\n" + "".join(rows)).encode())
    chunks = list(read_csv_chunks(path, ["x"], chunk_rows=1000))
    assert 5 < len(chunks) < 50
    assert all(chunk.text.num_rows < 1000 for chunk in chunks)
    assert [int(x) for chunk in chunks for x in chunk.numbers["x"]] == list(range(500))
    assert [chunk.first_line for chunk in chunks][1] == 2 + chunks[0].text.num_rows
