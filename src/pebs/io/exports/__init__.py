"""Export writers: an export's columns and pages of rows written as a file in one format.

The services read, scope and audit what is exported and give it as columns
(:class:`Column`, which also make the data dictionary) and pages of rows of plain Python values;
a :class:`Writer` turns them into the bytes of a file, page by page. Participants' casebooks
(:mod:`pebs.trial.casebook`) are written by a :class:`CasebookWriter` instead (CDISC ODM).
:data:`WRITERS` and :data:`CASEBOOK_WRITERS` name every writer by its format (``csv``, ``odm``),
:data:`FORMATS` lists them all; a new format is a module here with one writer, added there.
"""

from __future__ import annotations

from pebs.io.exports.columns import COLUMN_TYPES, DICTIONARY_COLUMNS, Column, dictionary_rows
from pebs.io.exports.registry import CASEBOOK_WRITERS, FORMATS, WRITERS
from pebs.io.exports.writer import CasebookWriter, Page, Writer

__all__ = [
    "CASEBOOK_WRITERS",
    "COLUMN_TYPES",
    "DICTIONARY_COLUMNS",
    "FORMATS",
    "WRITERS",
    "CasebookWriter",
    "Column",
    "Page",
    "Writer",
    "dictionary_rows",
]
