"""Query helpers. They never commit: the calling service owns the transaction.

Participant data is always read through a :class:`Scope` (the caller's sites or country), so a
site user cannot reach another site's participants whatever the entry point; an out-of-scope
participant is simply not found (as if it did not exist).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Row, Select, bindparam, func, insert, select, text, tuple_, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from pebs.store.models import (
    Allocation,
    Country,
    Participant,
    ParticipantIdentity,
    Site,
    Study,
    User,
    Visit,
)
from pebs.trial.vocabularies import COUNTRY_ROLES, PARTICIPANT_ROLES, SITE_ROLES

__all__ = [
    "Scope",
    "count_due_visits",
    "due_visits",
    "expected_visit_due",
    "get_allocation",
    "get_site",
    "get_study",
    "get_user",
    "insert_participant",
    "insert_participants",
    "list_participants",
    "next_participant_sequence",
    "participant_with_hmac",
    "participants_with_hmacs",
    "participants_with_source_ids",
    "registration_site",
    "registration_sites_of",
    "set_participant_status",
    "set_participant_statuses",
    "set_site_sequences",
    "site_sequences",
]


@dataclass(frozen=True)
class Scope:
    """Which participants a caller may see: ``None`` means "not restricted" on that level.

    >>> Scope.for_sites(3).site_ids
    frozenset({3})
    >>> Scope.nothing().site_ids
    frozenset()
    """

    site_ids: frozenset[int] | None = None
    country_ids: frozenset[int] | None = None

    @classmethod
    def everything(cls) -> Scope:
        return cls()

    @classmethod
    def nothing(cls) -> Scope:
        return cls(site_ids=frozenset())

    @classmethod
    def for_sites(cls, *site_ids: int) -> Scope:
        return cls(site_ids=frozenset(site_ids))

    @classmethod
    def for_countries(cls, *country_ids: int) -> Scope:
        return cls(country_ids=frozenset(country_ids))

    @classmethod
    def of_user(cls, user: User) -> Scope:
        """Site roles see their site, country coordinators their country, central roles all (the
        laboratory: no participant).

        A disabled account, or a scoped role without its site/country, sees nothing.
        """
        if not user.is_active:
            return cls.nothing()
        if user.role in SITE_ROLES:
            return cls.nothing() if user.site_id is None else cls.for_sites(user.site_id)
        if user.role in COUNTRY_ROLES:
            return cls.nothing() if user.country_id is None else cls.for_countries(user.country_id)
        if user.role not in PARTICIPANT_ROLES:
            return cls.nothing()
        return cls.everything()

    def apply(
        self, statement: Select, site_column: InstrumentedAttribute[int] = Participant.site_id
    ) -> Select:
        """Restrict ``statement`` (which selects participant data) to this scope."""
        if self.site_ids is not None:
            statement = statement.where(site_column.in_(sorted(self.site_ids)))
        if self.country_ids is not None:
            sites = select(Site.id).where(Site.country_id.in_(sorted(self.country_ids)))
            statement = statement.where(site_column.in_(sites))
        return statement


# --- configuration -------------------------------------------------------------------------


def get_study(session: Session, name: str) -> Study | None:
    return session.scalar(select(Study).where(Study.name == name))


def get_site(session: Session, study_pk: int, site_code: str) -> Site | None:
    """The site with study-wide ``site_code`` (``FR-GR``) of the study with key ``study_pk``."""
    return session.scalar(
        select(Site).join(Country).where(Country.study_id == study_pk, Site.code == site_code)
    )


def get_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


# --- participants --------------------------------------------------------------------------


_REGISTRATION_SITES = (
    select(
        Study.id.label("study_pk"),
        Study.config_sha256,
        Site.id.label("site_id"),
        Site.code.label("site_code"),
        Country.id.label("country_id"),
        Country.code.label("country_code"),
        Country.time_zone,
        Country.languages,
    )
    .join(Country, Country.study_id == Study.id)
    .join(Site, Site.country_id == Country.id)
    .where(Study.name == bindparam("study"), Site.code.in_(bindparam("sites", expanding=True)))
)


def registration_site(session: Session, study: str, site_code: str) -> Row[Any] | None:
    """The site ``site_code`` of ``study`` with its country (keys, time zone, languages) and
    study keys, for registration.

    ``None`` if there is no such site; :func:`get_study` tells whether the study exists.
    """
    return registration_sites_of(session, study, [site_code]).get(site_code)


def registration_sites_of(
    session: Session, study: str, site_codes: Iterable[str]
) -> dict[str, Row[Any]]:
    """:func:`registration_site` for several site codes in one query: the rows found, by code."""
    codes = sorted(set(site_codes))
    if not codes:
        return {}
    rows = session.connection().execute(_REGISTRATION_SITES, {"study": study, "sites": codes})
    return {row.site_code: row for row in rows}


_SITE_SEQUENCES = (
    select(Site.id, Site.last_sequence)
    .where(Site.id.in_(bindparam("site_ids", expanding=True)))
    .order_by(Site.id)
    .with_for_update()
)
_SET_SEQUENCE = (
    update(Site).where(Site.id == bindparam("site_id")).values(last_sequence=bindparam("last"))
)


def site_sequences(session: Session, site_ids: Iterable[int]) -> dict[int, int]:
    """The last participant sequence used at each site, by site id, read in one query that locks
    the sites' rows (in id order) until the transaction ends: the caller counts up from them and
    writes the new values with :func:`set_site_sequences`."""
    wanted = sorted(set(site_ids))
    if not wanted:
        return {}
    rows = session.connection().execute(_SITE_SEQUENCES, {"site_ids": wanted})
    return {row.id: int(row.last_sequence) for row in rows}


def next_participant_sequence(session: Session, site_id: int) -> int:
    """Take and return the site's next participant sequence (1, 2, ...): :func:`site_sequences`
    and :func:`set_site_sequences` for one woman. The site's row stays locked (PostgreSQL) or
    the writer lock held (SQLite) until the transaction ends, so two concurrent registrations at
    one site never get the same number."""
    last = site_sequences(session, [site_id]).get(site_id)
    if last is None:
        raise LookupError(f"site id {site_id} does not exist")
    set_site_sequences(session, {site_id: last + 1})
    return last + 1


def set_site_sequences(session: Session, last: dict[int, int]) -> None:
    """Write the last sequence used at each site (site id -> sequence) in one statement."""
    if last:
        session.connection().execute(
            _SET_SEQUENCE, [{"site_id": site_id, "last": value} for site_id, value in last.items()]
        )


_INSERT_PARTICIPANT = insert(Participant).returning(Participant.id, Participant.study_id)
_INSERT_IDENTITY = insert(ParticipantIdentity)


def insert_participant(session: Session, identity: dict[str, Any], **values: Any) -> int:
    """Store a participant row and her (already encrypted) identity row; returns her id."""
    return insert_participants(session, [(identity, values)])[0]


def insert_participants(
    session: Session, women: list[tuple[dict[str, Any], dict[str, Any]]]
) -> list[int]:
    """:func:`insert_participant` for several women ((identity, participant values) each, every
    one with the same keys): one multi-row statement per table; their ids, in ``women`` order."""
    if not women:
        return []
    connection = session.connection()
    rows = connection.execute(_INSERT_PARTICIPANT, [values for _, values in women])
    ids = {study_id: int(row_id) for row_id, study_id in rows}  # study IDs are unique
    participant_ids = [ids[values["study_id"]] for _, values in women]
    connection.execute(_INSERT_IDENTITY, [
        {"participant_id": participant_id, **identity}
        for participant_id, (identity, _) in zip(participant_ids, women, strict=True)
    ])  # fmt: skip
    return participant_ids


_SET_STATUS = (
    update(Participant)
    .where(Participant.id == bindparam("participant_id"))
    .values(status=bindparam("new_status"))
)


def set_participant_status(session: Session, participant_id: int, status: str) -> None:
    """Write her pathway state (already checked by the caller) with one UPDATE."""
    set_participant_statuses(session, [(participant_id, status)])


def set_participant_statuses(session: Session, states: Iterable[tuple[int, str]]) -> None:
    """Write several women's pathway states ((participant id, state) each, already checked by
    the caller) with one statement; a woman given twice ends with her last state.

    On PostgreSQL one ``UPDATE`` takes the ids and states as two arrays (one command for the
    server, instead of an ``UPDATE`` executed per woman); elsewhere one ``UPDATE`` runs per
    woman, in one call."""
    last = dict(states)
    if not last:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql" and len(last) > 1:
        connection.execute(_SET_STATUSES, {"ids": list(last), "states": list(last.values())})
        return
    connection.execute(_SET_STATUS, [{"participant_id": pid, "new_status": status}
                                     for pid, status in last.items()])  # fmt: skip


_SET_STATUSES = text(
    "UPDATE participants SET status = given.status "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:states AS varchar[])) AS given (id, status) "
    "WHERE participants.id = given.id"
)
"""PostgreSQL: several women's states in one statement (:func:`set_participant_statuses`)."""


def list_participants(
    session: Session,
    scope: Scope,
    *,
    site_id: int | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[Participant]:
    """One page of participants in id order (keyset paging: pass the last id as ``after_id``)."""
    statement = select(Participant).where(Participant.id > after_id)
    if site_id is not None:
        statement = statement.where(Participant.site_id == site_id)
    statement = scope.apply(statement).order_by(Participant.id).limit(limit)
    return list(session.scalars(statement))


_HMAC_OWNERS = select(
    ParticipantIdentity.national_id_hmac, ParticipantIdentity.participant_id
).where(ParticipantIdentity.national_id_hmac.in_(bindparam("hmacs", expanding=True)))


def participant_with_hmac(session: Session, national_id_hmac: str) -> int | None:
    """Id of the participant whose national-ID HMAC is ``national_id_hmac`` (any site).

    Deliberately unscoped: the service decides what to reveal (e.g. "already registered").
    """
    return participants_with_hmacs(session, [national_id_hmac]).get(national_id_hmac)


def participants_with_hmacs(session: Session, hmacs: Iterable[str]) -> dict[str, int]:
    """:func:`participant_with_hmac` for several HMACs in one query: the owners found, by HMAC."""
    wanted = sorted(set(hmacs))
    if not wanted:
        return {}
    rows = session.connection().execute(_HMAC_OWNERS, {"hmacs": wanted})
    return {hmac: int(owner) for hmac, owner in rows}


_SOURCE_OWNERS = select(Participant.source_id, Participant.id).where(
    Participant.source_id.in_(bindparam("source_ids", expanding=True))
)


def participants_with_source_ids(session: Session, source_ids: Iterable[str]) -> dict[str, int]:
    """The participants (ids) carrying each of ``source_ids`` (a source system's identifier of
    an imported woman), by source ID, in one query."""
    wanted = sorted(set(source_ids))
    if not wanted:
        return {}
    rows = session.connection().execute(_SOURCE_OWNERS, {"source_ids": wanted})
    return {source_id: int(owner) for source_id, owner in rows}


def expected_visit_due(
    session: Session, participant_id: int, due_date: date, modality: str | None
) -> int | None:
    """The id of her first expected visit (of her plan, not yet recorded) due on ``due_date``
    with ``modality``; ``None`` if there is none."""
    return session.scalar(
        select(Visit.id)
        .where(
            Visit.participant_id == participant_id,
            Visit.due_date == due_date,
            Visit.modality == modality,
            Visit.planned_exam_id.is_not(None),
            Visit.performed_date.is_(None),
        )
        .order_by(Visit.id)
        .limit(1)
    )


# --- randomisation -------------------------------------------------------------------------


def get_allocation(session: Session, participant_id: int) -> Allocation | None:
    return session.scalar(select(Allocation).where(Allocation.participant_id == participant_id))


def _due_visits_statement(
    scope: Scope, on: date, site_ids: Iterable[int] | None, overdue_only: bool, *columns: Any
) -> Select:
    """``columns`` of the visits :func:`due_visits` lists (every page): the one set of filters
    that the list and its count share."""
    statement = (
        select(*columns)
        .select_from(Visit)
        .join(Participant, Visit.participant_id == Participant.id)
        .where(Visit.performed_date.is_(None), Visit.window_start <= on)
    )
    if overdue_only:
        statement = statement.where(Visit.window_end <= on)  # the window [start, end) closed
    if site_ids is not None:
        statement = statement.where(Participant.site_id.in_(sorted(set(site_ids))))
    return scope.apply(statement)


def due_visits(
    session: Session,
    scope: Scope,
    *,
    on: date,
    site_ids: Iterable[int] | None = None,
    overdue_only: bool = False,
    after: tuple[date, int] | None = None,
    limit: int = 100,
) -> list[Visit]:
    """Visits not yet performed whose window has opened by ``on`` (overdue: window closed).

    Ordered by (due date, id); pass the last row's ``(due_date, id)`` as ``after`` for the next
    page.
    """
    statement = _due_visits_statement(scope, on, site_ids, overdue_only, Visit)
    if after is not None:
        statement = statement.where(tuple_(Visit.due_date, Visit.id) > tuple_(*after))
    statement = statement.order_by(Visit.due_date, Visit.id).limit(limit)
    return list(session.scalars(statement))


def count_due_visits(
    session: Session,
    scope: Scope,
    *,
    on: date,
    site_ids: Iterable[int] | None = None,
    overdue_only: bool = False,
) -> int:
    """How many visits :func:`due_visits` lists with the same filters, over all its pages."""
    statement = _due_visits_statement(scope, on, site_ids, overdue_only, func.count(Visit.id))
    return session.scalar(statement) or 0
