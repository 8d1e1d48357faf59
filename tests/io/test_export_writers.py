"""Export writers: one interface (columns and pages in, byte chunks out), found by format name.

The expected CSV text is written out by hand from RFC 4180 quoting, the value conventions of the
export documentation (docs/trial/dashboards-and-exports.md) and the OWASP CSV injection guidance
(a formula gets a leading single quote).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pytest

from pebs.io.exports import (
    CASEBOOK_WRITERS,
    DICTIONARY_COLUMNS,
    FORMATS,
    WRITERS,
    Column,
    Writer,
    dictionary_rows,
)
from pebs.io.exports.csv import CSV

COLUMNS = (
    Column("id", "string", "", "identifier"),
    Column("n", "integer", "count", "a count"),
    Column("risk", "number", "proportion", "a risk"),
    Column("flag", "boolean", "", "a flag"),
    Column("born", "date", "", "a date"),
    Column("at", "datetime", "UTC", "an instant"),
)


def test_the_registry_names_each_writer_by_its_format() -> None:
    assert FORMATS[0] == "csv"  # the default first
    assert (*WRITERS, *CASEBOOK_WRITERS) == FORMATS
    for name, writer in WRITERS.items():
        assert isinstance(writer, Writer)
        assert writer.name == name
        assert writer.extension
        assert "." not in writer.extension
        assert "/" in writer.media_type
        chunks = writer.chunks(COLUMNS, [])
        assert isinstance(chunks, Iterator)
        assert all(isinstance(chunk, bytes) for chunk in chunks)


def test_csv_writes_a_header_then_one_chunk_per_page_with_the_value_conventions() -> None:
    pages = [
        [("A-1", 3, 0.012, True, date(1972, 5, 6), datetime(2025, 3, 4, 10, 11, 12, 123456))],
        [("=1+1", 0, -0.5, False, None, None), ('a,"b"\nc', None, None, None, None, None)],
    ]
    chunks = list(CSV.chunks(COLUMNS, pages))
    assert chunks == [
        b"id,n,risk,flag,born,at\n",
        b"A-1,3,0.012,true,1972-05-06,2025-03-04T10:11:12.123456Z\n",
        b"'=1+1,0,-0.5,false,,\n" + b'"a,""b""\nc",,,,,\n',
    ]
    assert (CSV.name, CSV.extension, CSV.media_type) == ("csv", "csv", "text/csv; charset=utf-8")


def test_csv_is_utf8() -> None:
    column = (Column("name", "string", "", "her name"),)
    assert b"".join(CSV.chunks(column, [[("Zoë",)]])) == "name\nZoë\n".encode()


def test_a_row_that_does_not_match_the_columns_is_refused() -> None:
    with pytest.raises(ValueError, match="a row of 2 values for 6 columns"):
        list(CSV.chunks(COLUMNS, [[("A-1", 3)]]))


def test_the_writer_reads_one_page_at_a_time() -> None:
    read: list[int] = []

    def pages() -> Iterator[list[tuple]]:
        for number in range(3):
            read.append(number)
            yield [(f"P-{number}", number, None, None, None, None)]

    chunks = CSV.chunks(COLUMNS, pages())
    assert next(chunks).startswith(b"id,")
    assert read == []  # the header comes before any page is read
    assert next(chunks) == b"P-0,0,,,,\n"
    assert read == [0]
    chunks.close()
    assert read == [0]


def test_the_data_dictionary_is_a_table_that_any_writer_writes() -> None:
    described = (Column("risk_5y", "number", "proportion", "five-year risk, 0.012 = 1.2%"),
                 Column("name", "string", "", "her name", identifying=True))  # fmt: skip
    text = b"".join(CSV.chunks(DICTIONARY_COLUMNS, [dictionary_rows(described)])).decode()
    assert text == (
        "column,type,unit,identifying,description\n"
        'risk_5y,number,proportion,false,"five-year risk, 0.012 = 1.2%"\n'
        "name,string,,true,her name\n"
    )


def test_a_column_type_outside_the_vocabulary_is_refused() -> None:
    with pytest.raises(ValueError, match="type 'float' is unknown; types: string, integer"):
        Column("risk", "float", "", "a risk")
