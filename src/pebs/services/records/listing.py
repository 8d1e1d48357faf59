"""One page of the caller's participants: filtered, searched by study ID, keyset-paged."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, Integer, Select, bindparam, func, select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import InvalidInput, NotFound
from pebs.services.storable_text import refuses_unstorable_text
from pebs.store.models import Allocation, Country, Participant, Site
from pebs.store.repositories import Scope
from pebs.trial import ARM_EVENTS
from pebs.trial.vocabularies import PARTICIPANT_STATES

__all__ = ["MAX_LIMIT", "ParticipantPage", "ParticipantRow", "list_participants"]

MAX_LIMIT = 500


@dataclass(frozen=True)
class ParticipantRow:
    study_id: str
    site: str
    country: str
    status: str
    age_band: str | None
    arm: str | None
    is_test: bool
    registered_at: datetime


@dataclass(frozen=True)
class ParticipantPage:
    rows: tuple[ParticipantRow, ...]
    next_after: int | None
    """Give it as ``after`` for the next page; ``None`` on the last page."""
    total: int
    """The participants that match the filters (all pages)."""


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_SITE = select(Site.__table__.c.id, Site.__table__.c.country_id).where(
    Site.__table__.c.code == bindparam("site_code")
)


@functools.lru_cache(maxsize=256)
def _statements(
    scope: Scope, by_site: bool, by_status: bool, by_arm: bool, by_search: bool
) -> tuple[Select, Select]:
    """(count, page) of one shape of request: the caller's scope and which filters are given.

    The page's rows carry the count of every page (an uncorrelated subquery, evaluated once), so
    a page is one statement; the count alone is for an empty page. The values (site code,
    status, arm, search pattern, ``after``, ``limit``) are bound parameters, so a shape's
    statements are built once and SQLAlchemy compiles each once (it caches the compiled SQL of
    a statement object it has seen). Columns, not entities: no ORM object per row. The count
    needs no join but the allocation's, and that only to filter by arm (a participant has at
    most one allocation; every participant has a site).
    """
    participants, allocations = Participant.__table__.c, Allocation.__table__.c
    sites, countries = Site.__table__.c, Country.__table__.c
    conditions = []
    if by_site:
        site_id = select(sites.id).where(sites.code == bindparam("site_code")).scalar_subquery()
        conditions.append(participants.site_id == site_id)
    if by_status:
        conditions.append(participants.status == bindparam("status"))
    if by_arm:
        conditions.append(allocations.arm == bindparam("arm"))
    if by_search:
        conditions.append(participants.study_id.like(bindparam("pattern"), escape="\\"))
    counted = Participant.__table__
    if by_arm:
        counted = counted.join(Allocation.__table__, allocations.participant_id == participants.id)
    count = scope.apply(
        select(func.count()).select_from(counted).where(*conditions), participants.site_id
    )
    page = scope.apply(
        select(
            participants.id, participants.study_id, sites.code, countries.code,
            participants.status, participants.age_band, allocations.arm, participants.is_test,
            participants.registered_at, count.scalar_subquery(),
        )
        .join_from(Participant.__table__, Site.__table__, participants.site_id == sites.id)
        .join(Country.__table__, sites.country_id == countries.id)
        .outerjoin(Allocation.__table__, allocations.participant_id == participants.id)
        .where(*conditions, participants.id > bindparam("after"))
        .order_by(participants.id)
        .limit(bindparam("limit", type_=Integer)),
        participants.site_id,
    )  # fmt: skip
    return count, page


@refuses_unstorable_text
def list_participants(
    session_maker: sessionmaker[Session],
    actor: Actor,
    *,
    site: str | None = None,
    status: str | None = None,
    arm: str | None = None,
    search: str | None = None,
    after: int = 0,
    limit: int = 50,
) -> ParticipantPage:
    """Participants in the actor's scope, in registration order (pseudonymised).

    ``search`` matches part of the study ID (identifying data is encrypted, never searched);
    ``site`` outside the actor's scope is :class:`~pebs.services.errors.NotFound`.
    """
    require(actor, Action.READ_PARTICIPANT)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            f"a page holds 1 to {MAX_LIMIT} participants, got {limit!r}", field="limit"
        )
    if status is not None and status not in PARTICIPANT_STATES:
        raise InvalidInput(
            f"{status!r} is unknown; states: {', '.join(PARTICIPANT_STATES)}", field="status"
        )
    if arm is not None and arm not in ARM_EVENTS:
        raise InvalidInput(f"{arm!r} is unknown; arms: {', '.join(ARM_EVENTS)}", field="arm")
    values: dict[str, object] = {"status": status, "arm": arm, "after": after, "limit": limit}
    if search:
        values["pattern"] = f"%{_like_escaped(search.strip().upper())}%"
    count, page = _statements(actor.scope, site is not None, status is not None,
                              arm is not None, bool(search))  # fmt: skip
    if site is not None:
        values["site_code"] = site
    engine = session_maker.kw["bind"]  # no ORM session: the page is read as rows
    with engine.connect() as plain:
        connection = plain.execution_options(**_one_statement(engine))
        result = connection.execute(page, values).all()
        if result:  # a row of the site: the site exists and is in the actor's scope
            total = result[0][-1]
        else:
            if site is not None:
                found = connection.execute(_SITE, {"site_code": site}).first()
                if found is None or not actor.sees_site(found.id, found.country_id):
                    raise NotFound(f"no site {site!r} (in your sites)")
            total = connection.execute(count, values).scalar_one()
    rows = tuple(ParticipantRow(*row[1:-1]) for row in result)
    next_after = result[-1][0] if len(result) == limit else None
    return ParticipantPage(rows, next_after, total)


def _one_statement(engine: Engine) -> dict[str, str]:
    """On PostgreSQL, read in autocommit mode: the page is one statement, its own snapshot, so
    no ``BEGIN`` and ``ROLLBACK`` round trips are needed (SQLite, in process, keeps its
    transactions: its connections begin transactions themselves, :mod:`pebs.store.engine`)."""
    if engine.dialect.name == "postgresql":
        return {"isolation_level": "AUTOCOMMIT"}
    return {}
