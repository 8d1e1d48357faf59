"""The two interfaces of the export writers: pages in, the file's bytes out.

A :class:`Writer` writes a table: columns and pages of rows of plain values (CSV, Parquet). A
:class:`CasebookWriter` writes participants' casebooks (:mod:`pebs.trial.casebook`): the study
they belong to and pages of casebooks (CDISC ODM, FHIR). A writer is stateless; ``chunks``
produces the file while it reads the pages, so memory is bounded by a page whatever the size of
the export, and a stream that is closed early closes the writer's generator (the caller closes
the pages it gave).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

from pebs.io.exports.columns import Column
from pebs.trial.casebook import Casebook, CasebookStudy

__all__ = ["CasebookWriter", "Page", "Writer"]

Page = Sequence[Sequence[Any]]
"""Rows of plain Python values, one per column in the columns' order
(:mod:`pebs.io.exports.columns`)."""


@runtime_checkable
class Writer(Protocol):
    """Writes an export in one format."""

    name: str
    """The format's name, as entry points and the audit trail give it (``csv``)."""
    media_type: str
    """The HTTP ``Content-Type`` of the file (``text/csv; charset=utf-8``)."""
    extension: str
    """The file name extension, without the dot (``csv``)."""

    def chunks(self, columns: Sequence[Column], pages: Iterable[Page]) -> Iterator[bytes]:
        """The file, as byte chunks produced while ``pages`` are read."""
        ...


@runtime_checkable
class CasebookWriter(Protocol):
    """Writes participants' casebooks in one format."""

    name: str
    """The format's name, as entry points and the audit trail give it (``odm``)."""
    media_type: str
    """The HTTP ``Content-Type`` of the file (``application/xml``)."""
    extension: str
    """The file name extension, without the dot (``xml``)."""

    def chunks(self, study: CasebookStudy, pages: Iterable[Sequence[Casebook]]) -> Iterator[bytes]:
        """The file, as byte chunks produced while ``pages`` are read."""
        ...
