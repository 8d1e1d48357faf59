"""The Parquet export writer, read back by an independent reader (``pyarrow.parquet.read_table``).

Expected Arrow types are those the export documentation names for each column type
(docs/trial/interchange.md); expected values are the Python values handed to the writer.
Files are read single-threaded: pyarrow's reader threads can abort the interpreter at exit.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pebs.io.exports import DICTIONARY_COLUMNS, FORMATS, WRITERS, Column, dictionary_rows
from pebs.io.exports.parquet import PARQUET

COLUMNS = (
    Column("id", "string", "", "identifier"),
    Column("n", "integer", "count", "a count"),
    Column("risk", "number", "proportion", "a risk, 0.012 = 1.2%"),
    Column("flag", "boolean", "", "a flag"),
    Column("born", "date", "", "a date"),
    Column("at", "datetime", "UTC", "an instant"),
    Column("name", "string", "", "her name", identifying=True),
)

ARROW_TYPES = {"id": pa.string(), "n": pa.int64(), "risk": pa.float64(), "flag": pa.bool_(),
               "born": pa.date32(), "at": pa.timestamp("us", tz="UTC"),
               "name": pa.string()}  # fmt: skip

AT = datetime(2025, 3, 4, 10, 11, 12, 123456)

PAGES = [
    [("A-1", 3, 0.1, True, date(1972, 5, 6), AT, "Zoë"),
     ("A-2", 2**62, 1e-300, False, date(1, 1, 1), AT.replace(tzinfo=UTC), "=1+1")],
    [("A-3", None, None, None, None, None, None)],
    [("A-4", -7, 5, True, date(9999, 12, 31), datetime(1970, 1, 1), "שרה")],
]  # fmt: skip
"""Three pages: exact floats, null in every type, naive and aware UTC instants, an int in a
number column, dates at both ends of the calendar, non-ASCII text."""


def _read(chunks: Iterator[bytes]) -> pq.ParquetFile:
    return pq.ParquetFile(io.BytesIO(b"".join(chunks)))


def test_the_file_reads_back_with_the_types_and_values_given() -> None:
    data = b"".join(PARQUET.chunks(COLUMNS, PAGES))
    table = pq.read_table(io.BytesIO(data), use_threads=False)
    assert {field.name: field.type for field in table.schema} == ARROW_TYPES
    assert table.column_names == [c.name for c in COLUMNS]
    utc = AT.replace(tzinfo=UTC)
    assert table.to_pylist() == [
        {"id": "A-1", "n": 3, "risk": 0.1, "flag": True, "born": date(1972, 5, 6), "at": utc,
         "name": "Zoë"},
        {"id": "A-2", "n": 2**62, "risk": 1e-300, "flag": False, "born": date(1, 1, 1),
         "at": utc, "name": "=1+1"},
        {"id": "A-3", "n": None, "risk": None, "flag": None, "born": None, "at": None,
         "name": None},
        {"id": "A-4", "n": -7, "risk": 5.0, "flag": True, "born": date(9999, 12, 31),
         "at": datetime(1970, 1, 1, tzinfo=UTC), "name": "שרה"},
    ]  # fmt: skip
    risks = table.column("risk").to_pylist()
    assert (risks[0].hex(), risks[1].hex()) == ((0.1).hex(), (1e-300).hex())  # bit for bit
    assert table.column("at").to_pylist()[0].microsecond == 123456


def test_one_row_group_per_page() -> None:
    parquet = _read(PARQUET.chunks(COLUMNS, PAGES))
    assert parquet.metadata.num_row_groups == 3
    assert [parquet.metadata.row_group(i).num_rows for i in range(3)] == [2, 1, 1]


def test_the_data_dictionary_is_in_the_field_and_file_metadata() -> None:
    schema = _read(PARQUET.chunks(COLUMNS, PAGES)).schema_arrow
    assert schema.field("risk").metadata == {
        b"type": b"number", b"unit": b"proportion", b"description": b"a risk, 0.012 = 1.2%",
        b"identifying": b"false"}  # fmt: skip
    assert schema.field("at").metadata[b"unit"] == b"UTC"
    assert schema.field("name").metadata[b"identifying"] == b"true"
    dictionary = json.loads(schema.metadata[b"pebs.data_dictionary"])
    assert dictionary[2] == {"column": "risk", "type": "number", "unit": "proportion",
                             "identifying": False,
                             "description": "a risk, 0.012 = 1.2%"}  # fmt: skip
    assert [entry["column"] for entry in dictionary] == [c.name for c in COLUMNS]
    assert dictionary[-1]["identifying"] is True


def test_the_file_is_produced_while_the_pages_are_read() -> None:
    read: list[int] = []

    def pages() -> Iterator[list[tuple]]:
        for number in range(3):
            read.append(number)
            yield [(f"P-{number}", number, None, None, None, None, None)]

    chunks = PARQUET.chunks(COLUMNS, pages())
    assert next(chunks) == b"PAR1"  # the magic number, before any page is read
    assert read == []
    first = next(chunks)
    assert read == [0]
    assert b"P-0" in first  # the first row group, handed over once written
    chunks.close()
    assert read == [0]


def test_an_export_of_no_rows_is_a_file_with_the_columns() -> None:
    table = pq.read_table(io.BytesIO(b"".join(PARQUET.chunks(COLUMNS, [[], []]))),
                          use_threads=False)  # fmt: skip
    assert table.num_rows == 0
    assert {field.name: field.type for field in table.schema} == ARROW_TYPES


def test_rows_that_do_not_fit_are_refused() -> None:
    with pytest.raises(ValueError, match="a row of 2 values for 7 columns"):
        list(PARQUET.chunks(COLUMNS, [[("A-1", 3)]]))
    with pytest.raises(ValueError, match="column 'n' \\(integer\\)"):
        list(PARQUET.chunks(COLUMNS, [[("A-1", "three", None, None, None, None, None)]]))


def test_the_registry_offers_parquet_with_its_registered_media_type() -> None:
    assert "parquet" in FORMATS
    assert WRITERS["parquet"] is PARQUET
    # IANA media type registration of the Apache Software Foundation (2024)
    assert (PARQUET.media_type, PARQUET.extension) == ("application/vnd.apache.parquet", "parquet")


def test_the_data_dictionary_itself_writes_as_parquet() -> None:
    rows = dictionary_rows(COLUMNS)
    table = pq.read_table(io.BytesIO(b"".join(PARQUET.chunks(DICTIONARY_COLUMNS, [rows]))),
                          use_threads=False)  # fmt: skip
    assert table.column("column").to_pylist() == [c.name for c in COLUMNS]
    assert table.column("identifying").to_pylist() == [False] * 6 + [True]
    assert table.schema.field("identifying").type == pa.bool_()
