"""Streamed, paged, audited exports of participant research data, with their data dictionary.

:func:`export_participants` reads the participants in the caller's scope as pages of
``chunk_rows`` rows of plain values (:mod:`._export_rows`, keyset pagination), each page in its
own short read transaction, and hands them to the writer of the format asked for
(:mod:`pebs.io.exports`; ``format="csv"``), which produces the file page by page: an export of
85,000 women never holds them all in memory nor a lock for the whole export. A casebook format
(``format="odm"``, :data:`pebs.io.exports.CASEBOOK_WRITERS`) is given pages of participants'
casebooks instead (:func:`pebs.services.records.casebooks.casebook_page`: every form, each
visit, outcome... its own instance), with the same scope, pages, transactions and audit; it is
pseudonymised only. Pages follow the participants' ids; rows added while an export runs appear
in it if their id comes after the current page. :func:`export_participants_csv` gives the CSV
as text chunks: the header first, then one chunk per page.

Pseudonymised by default: study ID, site, country and research data (:data:`RESEARCH_COLUMNS`).
Identifying columns (:data:`IDENTITY_COLUMNS`: name, date of birth, contact, national ID,
decrypted) only with ``include_identity=True`` for :data:`IDENTITY_ROLES` (the roles that
register women and so hold their identity anyway); every other role gets
:class:`~pebs.services.errors.PermissionDenied`. A woman who withdrew the use of her data keeps
her row (so the rows add up to the participants in scope) with every research column empty.

Audit: two events, each in its own transaction. ``export`` is written (and committed) before
the writer produces anything, with who, what, the options (the format among them) and the
scope: no data leaves without an audit record, even if the export then fails or the client
disconnects. ``export_end`` is written when the stream ends, with the number of rows handed to
the writer (and of withheld rows) and how it ended: ``completed``, ``stopped`` (the consumer
closed the stream early) or ``failed``.

The data dictionary (:func:`export_dictionary`, :func:`dictionary_csv`) describes the columns;
it holds no participant data and is not audited.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

from sqlalchemy.orm import Session, sessionmaker

from pebs.io.exports import (
    CASEBOOK_WRITERS,
    DICTIONARY_COLUMNS,
    WRITERS,
    CasebookWriter,
    Writer,
    dictionary_rows,
)
from pebs.io.exports.csv import ENCODING
from pebs.services.actor import PERMISSIONS, Action, Actor, require
from pebs.services.errors import InvalidInput, PermissionDenied
from pebs.services.keys import IdentityKeys
from pebs.services.records.casebooks import casebook_page, casebook_study
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.transaction import transaction
from pebs.services.trial._export_columns import (
    IDENTITY_COLUMNS,
    RESEARCH_COLUMNS,
    Column,
    data_dictionary,
)
from pebs.services.trial._export_rows import read_page
from pebs.services.trial.study_rules import study_named
from pebs.store.audit import append_event
from pebs.trial.forms import form_names

__all__ = [
    "IDENTITY_COLUMNS",
    "IDENTITY_ROLES",
    "MAX_CHUNK_ROWS",
    "RESEARCH_COLUMNS",
    "Column",
    "ExportFile",
    "ExportSummary",
    "data_dictionary",
    "dictionary_csv",
    "export_dictionary",
    "export_participants",
    "export_participants_csv",
]

IDENTITY_ROLES: frozenset[str] = PERMISSIONS[Action.REGISTER]
"""Roles that may export identifying data: those who register women (site staff and
investigators, country coordinators, data managers), within their scope."""

MAX_CHUNK_ROWS = 10_000


@dataclass(frozen=True)
class ExportSummary:
    """What the ``export_end`` audit event records."""

    n_rows: int
    n_withheld: int
    status: str


@dataclass(eq=False)
class ExportFile:
    """An export as a file: iterate :attr:`chunks` for its bytes, produced as they are read."""

    media_type: str
    """The HTTP ``Content-Type`` of the file (``text/csv; charset=utf-8``)."""
    extension: str
    """The file name extension, without the dot (``csv``)."""
    chunks: Iterator[bytes]
    summary: ExportSummary | None = None
    """What ``export_end`` recorded, once :attr:`chunks` has ended (participant exports)."""


def _writer(format: str, *, table: bool = False) -> Writer | CasebookWriter:
    """The writer of ``format``; only a table format (:data:`WRITERS`) if ``table``."""
    writers = {**WRITERS} if table else {**WRITERS, **CASEBOOK_WRITERS}
    if not isinstance(format, str) or format not in writers:
        allowed = ", ".join(writers)
        wrong = "is not a table format" if format in CASEBOOK_WRITERS else "is not an export format"
        raise InvalidInput(f"{format!r} {wrong}; allowed: {allowed}", field="format",
                           message_code="error.choice", values={"allowed": allowed})  # fmt: skip
    return writers[format]


def _check(actor: Actor, include_identity: bool, keys: IdentityKeys | None, chunk_rows: int):
    require(actor, Action.READ_PARTICIPANT)
    if include_identity and actor.role not in IDENTITY_ROLES:
        raise PermissionDenied(
            f"{actor.username} ({actor.role}) may not export identifying data; allowed roles: "
            + ", ".join(sorted(IDENTITY_ROLES))
        )
    if include_identity and keys is None:
        raise InvalidInput("identifying data can only be exported with the identity keys",
                           field="keys", message_code="error.export_keys")  # fmt: skip
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int):
        raise InvalidInput(f"give a whole number of rows, got {chunk_rows!r}", field="chunk_rows",
                           message_code="error.integer",
                           values={"low": 1, "high": MAX_CHUNK_ROWS})  # fmt: skip
    if not 1 <= chunk_rows <= MAX_CHUNK_ROWS:
        raise InvalidInput(f"1 to {MAX_CHUNK_ROWS:,} rows per chunk, got {chunk_rows}",
                           field="chunk_rows", message_code="error.integer",
                           values={"low": 1, "high": MAX_CHUNK_ROWS})  # fmt: skip


def _scope(actor: Actor) -> dict[str, object]:
    scope = actor.scope
    return {
        "role": actor.role,
        "site_ids": None if scope.site_ids is None else sorted(scope.site_ids),
        "country_ids": None if scope.country_ids is None else sorted(scope.country_ids),
    }


@refuses_unstorable_text
def export_participants(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study: str,
    *,
    format: str = "csv",
    include_identity: bool = False,
    chunk_rows: int = 1000,
    keys: IdentityKeys | None = None,
    include_test: bool = False,
) -> ExportFile:
    """Export the participants of ``study`` in the caller's scope as a file of ``format``.

    Parameters
    ----------
    format
        The file format, one of :data:`pebs.io.exports.FORMATS` (``csv``, ``odm``...).
    include_identity
        Add the identifying columns (needs ``keys``, a role in :data:`IDENTITY_ROLES` and a
        table format, :data:`pebs.io.exports.WRITERS`).
    chunk_rows
        Participants per page (1 to 10,000); the writer gets one page at a time.
    keys
        The identity keys, to decrypt identifying data.
    include_test
        Include test/training participants (default: real participants only).

    Returns
    -------
    ExportFile
        Its media type, extension and chunks (bytes). Checks (role, options, format, study) run
        when called, before anything is streamed; the ``export`` audit event is committed when
        the first chunk is requested, ``export_end`` when the chunks end (module docstring).
    """
    _check(actor, include_identity, keys, chunk_rows)
    writer = _writer(format, table=include_identity)
    options = {"study": study, "format": writer.name, "include_identity": include_identity,
               "include_test": include_test, "chunk_rows": chunk_rows}  # fmt: skip
    with session_maker() as session, session.begin():
        study_pk = study_named(session, study).id
        casebooks = casebook_study(session, actor, study_pk) if format in CASEBOOK_WRITERS else None
    file = ExportFile(writer.media_type, writer.extension, iter(()))
    if casebooks is None:
        columns = data_dictionary(include_identity=include_identity)
        read = partial(_row_page, actor=actor, study_pk=study_pk, include_test=include_test,
                       keys=keys if include_identity else None)  # fmt: skip
        contents: dict[str, object] = {"columns": [c.name for c in columns]}
        write = partial(writer.chunks, columns)
    else:
        read = partial(_casebook_page, actor=actor, study_pk=study_pk, include_test=include_test)
        contents = {"forms": list(form_names())}
        write = partial(writer.chunks, casebooks)
    file.chunks = _stream(session_maker, actor, {**options, **contents}, read, write, file)
    return file


def _row_page(session: Session, *, after: int, limit: int, **scope: Any) -> _Page:
    page = read_page(session, after=after, limit=limit, **scope)
    return _Page(page.rows, page.last_id, page.n_withheld)


def _casebook_page(session: Session, *, after: int, limit: int, **scope: Any) -> _Page:
    page = casebook_page(session, after=after, limit=limit, **scope)
    return _Page(page.casebooks, page.last_id, page.n_withheld)


@refuses_unstorable_text
def export_participants_csv(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study: str,
    *,
    include_identity: bool = False,
    chunk_rows: int = 1000,
    keys: IdentityKeys | None = None,
    include_test: bool = False,
) -> Iterator[str]:
    """The CSV of :func:`export_participants` as text chunks: the header line, then one chunk of
    rows per page. Closing the iterator closes the export (audited as ``stopped``)."""
    file = export_participants(
        session_maker, actor, study, format="csv", include_identity=include_identity,
        chunk_rows=chunk_rows, keys=keys, include_test=include_test,
    )  # fmt: skip
    return _text(file.chunks)


def export_dictionary(format: str = "csv", *, include_identity: bool = False) -> ExportFile:
    """The data dictionary of the participant export as a file of ``format`` (a table format,
    :data:`pebs.io.exports.WRITERS`; a casebook file holds its own metadata): one row per
    column (:data:`pebs.io.exports.DICTIONARY_COLUMNS`: column, type, unit, identifying,
    description)."""
    writer = WRITERS[_writer(format, table=True).name]
    rows = dictionary_rows(data_dictionary(include_identity=include_identity))
    return ExportFile(
        writer.media_type, writer.extension, writer.chunks(DICTIONARY_COLUMNS, [rows])
    )


def dictionary_csv(*, include_identity: bool = False) -> str:
    """The data dictionary as CSV text: ``column,type,unit,identifying,description``.

    >>> dictionary_csv().splitlines()[0]
    'column,type,unit,identifying,description'
    """
    return "".join(_text(export_dictionary("csv", include_identity=include_identity).chunks))


def _text(chunks: Iterator[bytes]) -> Generator[str, None, None]:
    with closing(chunks):  # a generator: closing this stream closes the export
        for chunk in chunks:
            yield chunk.decode(ENCODING)


def _audit(session_maker, actor: Actor, action: str, study: str, new: dict) -> None:
    with transaction(session_maker) as session:
        append_event(
            session, actor=actor.username, action=action, entity="participant_export",
            entity_id=study, reason="participant data export", new=new,
        )  # fmt: skip


@dataclass
class _Tally:
    n_rows: int = 0
    n_withheld: int = 0


class _Page(NamedTuple):
    items: Sequence[Any]
    """Rows, or casebooks: one per participant of the page."""
    last_id: int | None
    n_withheld: int


def _stream(
    session_maker, actor: Actor, options: dict, read: Callable[..., _Page],
    write: Callable[[Iterator[Sequence[Any]]], Iterator[bytes]], file: ExportFile,
) -> Generator[bytes, None, None]:  # fmt: skip
    study = str(options["study"])
    _audit(session_maker, actor, "export", study, {**options, "scope": _scope(actor)})
    tally = _Tally()
    pages = _pages(session_maker, read, int(options["chunk_rows"]), tally)
    status = "failed"
    try:
        yield from write(pages)
        status = "completed"
    except GeneratorExit:
        status = "stopped"
        raise
    finally:
        pages.close()
        file.summary = ExportSummary(tally.n_rows, tally.n_withheld, status)
        _audit(session_maker, actor, "export_end", study,
               {"study": study, "n_rows": tally.n_rows, "n_withheld": tally.n_withheld,
                "status": status})  # fmt: skip


def _pages(
    session_maker, read: Callable[..., _Page], limit: int, tally: _Tally
) -> Generator[Sequence[Any], None, None]:
    """Pages in participant id order, each read in its own transaction by ``read`` (the rows or
    the casebooks of one page); ``tally`` counts the participants handed over."""
    after = 0
    while True:
        with session_maker() as session, session.begin():
            page = read(session, after=after, limit=limit)
        if page.last_id is None:
            return
        tally.n_rows += len(page.items)
        tally.n_withheld += page.n_withheld
        yield page.items
        if len(page.items) < limit:
            return
        after = page.last_id
