"""Parquet: one row group per page, the data dictionary in the file's metadata.

The file is written by :class:`pyarrow.parquet.ParquetWriter` into an in-memory sink that hands
over its bytes as they are produced: the magic number ``PAR1`` first, then each page's row group
once it is written, then the footer. Memory is bounded by a page whatever the size of the export.

Arrow types, by :attr:`Column.type <pebs.io.exports.columns.Column.type>`:

=============  ==============================  =================================
``string``     ``string`` (UTF-8)
``integer``    ``int64``
``number``     ``double`` (float64)             an :class:`int` becomes a float
``boolean``    ``bool``
``date``       ``date32`` (days since 1970)
``datetime``   ``timestamp[us, tz=UTC]``        a naive value is taken as UTC
=============  ==============================  =================================

``None`` is null. The data dictionary is written twice, from the same columns, for the readers
of each level:

- **per field** (Arrow field metadata, read back by Arrow-based readers: pyarrow, polars, R's
  arrow): ``type`` (the pebs column type above), ``unit`` (``years``, ``proportion``, ``count``,
  ``UTC`` or empty), ``description`` and ``identifying`` (``true``/``false``);
- **for the file** (a Parquet key/value of the footer, which every Parquet reader sees):
  ``pebs.data_dictionary``, a JSON array with one object per column, with the keys of the data
  dictionary (:data:`~pebs.io.exports.columns.DICTIONARY_COLUMNS`: ``column``, ``type``,
  ``unit``, ``identifying``, ``description``).

The media type is ``application/vnd.apache.parquet`` (registered with IANA by the Apache
Software Foundation, 2024).

>>> import io, pyarrow.parquet as pq
>>> columns = (Column("id", "string", "", "identifier"), Column("n", "integer", "count", "a count"))
>>> data = b"".join(PARQUET.chunks(columns, [[("A-1", 3)], [("A-2", None)]]))
>>> parquet = pq.ParquetFile(io.BytesIO(data))
>>> parquet.metadata.num_row_groups, parquet.read(use_threads=False).to_pylist()
(2, [{'id': 'A-1', 'n': 3}, {'id': 'A-2', 'n': None}])
>>> parquet.schema_arrow.field("n").metadata[b"unit"]
b'count'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from pebs.io.exports.columns import DICTIONARY_COLUMNS, Column, dictionary_rows
from pebs.io.exports.writer import Page

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["DICTIONARY_KEY", "PARQUET", "ParquetWriter", "arrow_schema"]

DICTIONARY_KEY = "pebs.data_dictionary"
"""The file-level key of the data dictionary (a JSON array of objects, one per column)."""


def arrow_schema(columns: Sequence[Column]) -> pa.Schema:
    """The Arrow schema of ``columns``, with the data dictionary as field and file metadata."""
    import pyarrow as pa

    types = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(),
             "boolean": pa.bool_(), "date": pa.date32(),
             "datetime": pa.timestamp("us", "UTC")}  # fmt: skip
    fields = [pa.field(c.name, types[c.type], metadata=_field_metadata(c)) for c in columns]
    names = [c.name for c in DICTIONARY_COLUMNS]
    dictionary = [dict(zip(names, row, strict=True)) for row in dictionary_rows(columns)]
    return pa.schema(fields, metadata={DICTIONARY_KEY: json.dumps(dictionary, ensure_ascii=False)})


def _field_metadata(column: Column) -> dict[str, str]:
    return {"type": column.type, "unit": column.unit, "description": column.description,
            "identifying": "true" if column.identifying else "false"}  # fmt: skip


class _Sink:
    """A write-only file that keeps what is written until :meth:`take` hands it over."""

    closed = False

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def writable(self) -> bool:
        return True

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


class ParquetWriter:
    """The :class:`~pebs.io.exports.writer.Writer` of Parquet files."""

    name = "parquet"
    media_type = "application/vnd.apache.parquet"
    extension = "parquet"

    def chunks(self, columns: Sequence[Column], pages: Iterable[Page]) -> Iterator[bytes]:
        """The file's opening, then one chunk per page (its row group), then the footer.

        A row with another number of values than there are columns, or a value that does not
        fit its column's type, is refused (``ValueError`` naming the column).
        """
        import pyarrow.parquet as pq

        schema = arrow_schema(columns)
        sink = _Sink()
        writer = pq.ParquetWriter(sink, schema)
        try:
            yield sink.take()
            for page in pages:
                if page:
                    writer.write_table(_table(schema, columns, page), row_group_size=len(page))
                    yield sink.take()
        finally:
            writer.close()
        yield sink.take()


def _table(schema: pa.Schema, columns: Sequence[Column], rows: Page) -> pa.Table:
    import pyarrow as pa

    width = len(columns)
    for row in rows:
        if len(row) != width:
            raise ValueError(f"a row of {len(row)} values for {width} columns")
    arrays = []
    for index, field in enumerate(schema):
        try:
            arrays.append(pa.array([row[index] for row in rows], type=field.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as error:
            raise ValueError(f"column {field.name!r} ({columns[index].type}): {error}") from None
    return pa.Table.from_arrays(arrays, schema=schema)


PARQUET = ParquetWriter()
"""The Parquet writer."""
