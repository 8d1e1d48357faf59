"""The export writers by format name: the one list of the formats that pebs can export.

>>> FORMATS
('csv', 'parquet')
>>> WRITERS["csv"].media_type
'text/csv; charset=utf-8'
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pebs.io.exports.csv import CSV
from pebs.io.exports.parquet import PARQUET
from pebs.io.exports.writer import Writer

__all__ = ["FORMATS", "WRITERS"]

WRITERS: Mapping[str, Writer] = MappingProxyType({writer.name: writer for writer in (CSV, PARQUET)})
"""Format name -> its writer."""

FORMATS: tuple[str, ...] = tuple(WRITERS)
"""The format names, in the order they are offered."""
