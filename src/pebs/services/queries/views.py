"""What a data query looks like to its readers: a summary for the lists, the detail with its
thread, and the scoped lookup of one query by id.

A query is found through its participant: outside the caller's scope it does not exist
(:class:`~pebs.services.errors.NotFound`, as for the participant herself).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from pebs.services.actor import Actor
from pebs.services.data_locks import refuse_if_study_locked
from pebs.services.errors import NotFound
from pebs.store.models import Country, DataQuery, DataQueryNote, Participant, Site

__all__ = [
    "QueryDetail",
    "QueryNote",
    "QueryPage",
    "QuerySummary",
    "days_between",
    "find_query",
    "note_row",
    "notes_of",
    "scoped_queries",
    "summary_of",
]


@dataclass(frozen=True)
class QueryNote:
    """One step of a query's thread."""

    step: str
    """``raise``, ``answer``, ``close`` or ``reopen``."""
    text: str | None
    value: str | None
    """Raise: the proposed value; answer: the corrected value (as text)."""
    correction: str | None
    """The row the correction was recorded as (``risk_questionnaire:17``)."""
    at: datetime
    actor: str


@dataclass(frozen=True)
class QuerySummary:
    """A query as the lists show it."""

    id: int
    study_id: str
    site: str
    form: str
    item: str
    key: int | None
    """A repeating form's instance (its row id); ``None`` for a form that does not repeat."""
    kind: str
    """``manual`` or ``edit_check``."""
    check_id: str | None
    state: str
    """``open``, ``answered`` or ``closed``."""
    question: str
    """The raiser's text (an edit check's message, in English: pages show it translated)."""
    value: str | None
    """The item's value when the query was raised, as text (``None``: missing)."""
    proposed_value: str | None
    raised_at: datetime
    raised_by: str
    updated_at: datetime
    """When its last step was taken."""
    closed_by: str | None
    """Who closed it (``system``: the edit check passes again)."""


@dataclass(frozen=True)
class QueryDetail:
    """A query with the item's value now, whether an answer may correct it, and its thread."""

    query: QuerySummary
    current_value: str | None
    """The item's value now, as text (``None``: missing)."""
    correctable: bool
    """An answer may carry a corrected value, recorded by the use case that records the form
    (otherwise the site answers in words and corrects the form itself where it can)."""
    notes: tuple[QueryNote, ...]


@dataclass(frozen=True)
class QueryPage:
    """One page of queries (by id), and how many the filters give over every page."""

    entries: tuple[QuerySummary, ...]
    total: int
    next_after: int | None
    """Give it as ``after`` for the next page; ``None`` on the last page."""


def scoped_queries(actor: Actor, *columns: object) -> Select:
    """``SELECT columns`` of queries joined to their participant and site, in ``actor``'s
    scope."""
    statement = (
        select(*columns)
        .select_from(DataQuery)
        .join(Participant, Participant.id == DataQuery.participant_id)
        .join(Site, Site.id == Participant.site_id)
    )
    return actor.scope.apply(statement)


def summary_of(query: DataQuery, study_id: str, site: str) -> QuerySummary:
    """The summary of a stored query."""
    return QuerySummary(
        query.id, study_id, site, query.form, query.item, query.form_key or None, query.kind,
        query.check_id, query.state, query.question, query.value, query.proposed_value,
        query.raised_at, query.raised_by, query.updated_at, query.closed_by,
    )  # fmt: skip


def find_query(
    session: Session, actor: Actor, query_id: int, *, for_update: bool = False
) -> tuple[DataQuery, str, str]:
    """The query ``query_id`` with its participant's study ID and site code, if she is in
    ``actor``'s scope; :class:`NotFound` otherwise (``for_update`` locks the query's row)."""
    statement = scoped_queries(actor, DataQuery, Participant.study_id, Site.code).where(
        DataQuery.id == query_id
    )
    if for_update:
        statement = statement.with_for_update(of=DataQuery)
    row = session.execute(statement).first()
    if row is None:
        raise NotFound(
            f"no data query {query_id} (in your sites)",
            message_code="error.no_query",
            values={"query_id": query_id},
        )
    if for_update:  # a locked study takes no more writes, its queries' steps among them
        study_pk = session.execute(
            select(Country.study_id)
            .join(Site, Site.country_id == Country.id)
            .join(Participant, Participant.site_id == Site.id)
            .where(Participant.id == row[0].participant_id)
        ).scalar_one()
        refuse_if_study_locked(session, study_pk)
    return row[0], row[1], row[2]


def notes_of(query: DataQuery) -> tuple[QueryNote, ...]:
    """Its thread, oldest first."""
    return tuple(
        QueryNote(note.step, note.text, note.value, note.correction, note.at, note.actor)
        for note in query.notes
    )


def days_between(start: datetime, end: datetime) -> float:
    """Days from ``start`` to ``end`` (fractional; 0 if ``end`` is earlier)."""
    return max((end - start).total_seconds() / 86400.0, 0.0)


def note_row(query: DataQuery, step: str, actor: Actor, at: datetime, **values: object) -> None:
    """Add a note of ``step`` to ``query``'s thread and mark it updated at ``at``."""
    query.notes.append(
        DataQueryNote(step=step, at=at, actor=actor.username, actor_id=actor.user_id, **values)
    )
    query.updated_at = at
