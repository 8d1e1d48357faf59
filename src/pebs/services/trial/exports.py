"""Streamed, paged, audited exports of participant research data (CSV, with a data dictionary).

:func:`export_participants_csv` returns an iterator of CSV text chunks: the header first, then
one chunk per page of ``chunk_rows`` participants read with keyset pagination
(:mod:`._export_rows`), each page in its own short read transaction, so an export of 85,000
women never holds them all in memory nor a lock for the whole export. Pages follow the
participants' ids; rows added while an export runs appear in it if their id comes after the
current page.

Pseudonymised by default: study ID, site, country and research data (:data:`RESEARCH_COLUMNS`).
Identifying columns (:data:`IDENTITY_COLUMNS`: name, date of birth, contact, national ID,
decrypted) only with ``include_identity=True`` for :data:`IDENTITY_ROLES` (the roles that
register women and so hold their identity anyway); every other role gets
:class:`~.errors.PermissionDenied`. A woman who withdrew the use of her data keeps her row (so
the rows add up to the participants in scope) with every research column empty.

Audit: two events, each in its own transaction. ``export`` is written (and committed) before
the header is produced, with who, what, the options and the scope: no data leaves without an
audit record, even if the export then fails or the client disconnects. ``export_end`` is
written when the stream ends, with the number of rows (and of withheld rows) and how it ended:
``completed``, ``stopped`` (the consumer closed the stream early) or ``failed``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from pebs.io.csv_writer import csv_text
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.trial._export_columns import (
    IDENTITY_COLUMNS,
    RESEARCH_COLUMNS,
    Column,
    data_dictionary,
    dictionary_csv,
)
from pebs.services.trial._export_rows import csv_value, read_page
from pebs.services.trial._study_rules import study_named
from pebs.services.trial._transaction import transaction
from pebs.services.trial.actor import PERMISSIONS, Action, Actor, require
from pebs.services.trial.errors import InvalidInput, PermissionDenied
from pebs.services.trial.keys import IdentityKeys
from pebs.store.audit import append_event

__all__ = [
    "IDENTITY_COLUMNS",
    "IDENTITY_ROLES",
    "MAX_CHUNK_ROWS",
    "RESEARCH_COLUMNS",
    "Column",
    "ExportSummary",
    "data_dictionary",
    "dictionary_csv",
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


def _check(actor: Actor, include_identity: bool, keys: IdentityKeys | None, chunk_rows: int):
    require(actor, Action.READ_PARTICIPANT)
    if include_identity and actor.role not in IDENTITY_ROLES:
        raise PermissionDenied(
            f"{actor.username} ({actor.role}) may not export identifying data; allowed roles: "
            + ", ".join(sorted(IDENTITY_ROLES))
        )
    if include_identity and keys is None:
        raise InvalidInput("keys: identifying data can only be exported with the identity keys")
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int):
        raise InvalidInput(f"chunk_rows: give a whole number of rows, got {chunk_rows!r}")
    if not 1 <= chunk_rows <= MAX_CHUNK_ROWS:
        raise InvalidInput(f"chunk_rows: 1 to {MAX_CHUNK_ROWS:,} rows per chunk, got {chunk_rows}")


def _scope(actor: Actor) -> dict[str, object]:
    scope = actor.scope
    return {
        "role": actor.role,
        "site_ids": None if scope.site_ids is None else sorted(scope.site_ids),
        "country_ids": None if scope.country_ids is None else sorted(scope.country_ids),
    }


def _csv(rows) -> str:
    return csv_text([csv_value(value) for value in row] for row in rows)


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
    """Stream the participants of ``study`` in the caller's scope as CSV text chunks.

    Parameters
    ----------
    include_identity
        Add the identifying columns (needs ``keys`` and a role in :data:`IDENTITY_ROLES`).
    chunk_rows
        Participants per page and per chunk (1 to 10,000).
    keys
        The identity keys, to decrypt identifying data.
    include_test
        Include test/training participants (default: real participants only).

    Returns
    -------
    Iterator[str]
        The header line, then one chunk of rows per page. Checks (role, options, study) run
        when called, before anything is streamed; the ``export`` audit event is committed when
        the first chunk is requested (module docstring).
    """
    _check(actor, include_identity, keys, chunk_rows)
    with session_maker() as session, session.begin():
        study_pk = study_named(session, study).id
    columns = data_dictionary(include_identity=include_identity)
    options = {"study": study, "format": "csv", "include_identity": include_identity,
               "include_test": include_test, "chunk_rows": chunk_rows}  # fmt: skip
    return _stream(session_maker, actor, study_pk, columns, options,
                   keys if include_identity else None)  # fmt: skip


def _audit(session_maker, actor: Actor, action: str, study: str, new: dict) -> None:
    with transaction(session_maker) as session:
        append_event(
            session, actor=actor.username, action=action, entity="participant_export",
            entity_id=study, reason="participant data export", new=new,
        )  # fmt: skip


def _stream(session_maker, actor, study_pk, columns, options, keys) -> Iterator[str]:
    study = str(options["study"])
    _audit(session_maker, actor, "export", study,
           {**options, "scope": _scope(actor), "columns": [c.name for c in columns]})  # fmt: skip
    n_rows = n_withheld = 0
    status = "failed"
    try:
        yield _csv([[c.name for c in columns]])
        after = 0
        while True:
            with session_maker() as session, session.begin():
                page = read_page(
                    session, actor, study_pk, after=after, limit=int(options["chunk_rows"]),
                    include_test=bool(options["include_test"]), keys=keys,
                )  # fmt: skip
            if page.last_id is None:
                break
            n_rows += len(page.rows)
            n_withheld += page.n_withheld
            yield _csv(page.rows)
            if len(page.rows) < int(options["chunk_rows"]):
                break
            after = page.last_id
        status = "completed"
    except GeneratorExit:
        status = "stopped"
        raise
    finally:
        summary = ExportSummary(n_rows, n_withheld, status)
        _audit(session_maker, actor, "export_end", study,
               {"study": study, "n_rows": summary.n_rows, "n_withheld": summary.n_withheld,
                "status": summary.status})  # fmt: skip
