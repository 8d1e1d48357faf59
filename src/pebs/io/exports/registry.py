"""The export writers by format name: the one list of the formats that pebs can export.

:data:`WRITERS` write tables of rows, :data:`CASEBOOK_WRITERS` participants' casebooks
(:mod:`pebs.io.exports.writer`); :data:`FORMATS` names both, and a format is in one of them.

>>> FORMATS
('csv', 'parquet', 'odm', 'fhir')
>>> WRITERS["csv"].media_type
'text/csv; charset=utf-8'
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pebs.io.exports.csv import CSV
from pebs.io.exports.fhir import FHIR
from pebs.io.exports.odm import ODM
from pebs.io.exports.parquet import PARQUET
from pebs.io.exports.writer import CasebookWriter, Writer

__all__ = ["CASEBOOK_WRITERS", "FORMATS", "WRITERS"]

WRITERS: Mapping[str, Writer] = MappingProxyType({writer.name: writer for writer in (CSV, PARQUET)})
"""Format name -> its writer."""

CASEBOOK_WRITERS: Mapping[str, CasebookWriter] = MappingProxyType(
    {writer.name: writer for writer in (ODM, FHIR)}
)
"""Format name -> its writer of casebooks."""

FORMATS: tuple[str, ...] = (*WRITERS, *CASEBOOK_WRITERS)
"""The format names, in the order they are offered."""
