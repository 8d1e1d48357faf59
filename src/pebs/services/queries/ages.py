"""How many data queries each site has waiting, and for how long (a dashboard).

Per site of the study in the caller's scope (also a site without queries): the queries open
(waiting for the site) and answered (waiting for review), and the **days** the open ones have
been open, in whole days since they were raised (median and maximum; ``None`` when none is
open). Queries of test participants are not counted, as on the other dashboards.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.participant_pages import in_study
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.transaction import instant
from pebs.services.trial.study_rules import study_named
from pebs.store.models import Country, DataQuery, Participant, Site

__all__ = ["QueryAges", "SiteQueries", "query_ages"]


@dataclass(frozen=True)
class SiteQueries:
    """The queries of one site (``all``: every site of the caller's scope)."""

    site: str
    n_open: int
    n_answered: int
    median_days_open: float | None
    """Median of the open queries' whole days since raised (``None``: none open)."""
    max_days_open: int | None


@dataclass(frozen=True)
class QueryAges:
    study: str
    on: datetime
    """The instant the ages are counted at (UTC)."""
    sites: tuple[SiteQueries, ...]
    total: SiteQueries


def _site(code: str, states: Sequence[str], days: Sequence[int]) -> SiteQueries:
    return SiteQueries(
        code, sum(s == "open" for s in states), sum(s == "answered" for s in states),
        float(statistics.median(days)) if days else None, max(days) if days else None,
    )  # fmt: skip


@refuses_unstorable_text
def query_ages(
    session_maker: sessionmaker[Session], actor: Actor, study: str, *, on: datetime | None = None
) -> QueryAges:
    """Open and answered queries per site, with the ages of the open ones (module docstring)."""
    require(actor, Action.READ_QUERIES)
    when = instant(on)
    with session_maker() as session, session.begin():
        study_pk = study_named(session, study).id
        codes = session.scalars(actor.scope.apply(
            select(Site.code).join(Country, Country.id == Site.country_id)
            .where(Country.study_id == study_pk).order_by(Site.code), Site.id,
        )).all()  # fmt: skip
        rows = session.execute(
            in_study(select(Site.code, DataQuery.state, DataQuery.raised_at)
                     .select_from(Participant)
                     .join(DataQuery, DataQuery.participant_id == Participant.id), actor, study_pk)
            .where(DataQuery.state != "closed")
        ).all()  # fmt: skip
    states: dict[str, list[str]] = defaultdict(list)
    days: dict[str, list[int]] = defaultdict(list)
    for code, state, raised_at in rows:
        states[code].append(state)
        if state == "open":
            days[code].append(max((when - raised_at).days, 0))
    every_state = [s for code in codes for s in states[code]]
    every_day = [d for code in codes for d in days[code]]
    return QueryAges(
        study, when, tuple(_site(code, states[code], days[code]) for code in codes),
        _site("all", every_state, every_day),
    )  # fmt: skip
