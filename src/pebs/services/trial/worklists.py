"""Visit worklists: the expected visits of a site that are due or overdue on a date.

A visit is *due* once its window has opened (``window_start <= on``) and it is not yet
performed, and *overdue* once its window [start, end) has closed (``window_end <= on``). Only
sites in the caller's scope can be listed. Pages are keyset-paged: pass the last entry's
``(due_date, visit_id)`` as ``after``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import InvalidInput, NotFound
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.trial.study_rules import study_named
from pebs.store.models import Participant
from pebs.store.repositories import count_due_visits, due_visits, get_site

__all__ = ["WorklistEntry", "WorklistPage", "worklist"]


@dataclass(frozen=True)
class WorklistEntry:
    study_id: str
    visit_id: int
    visit_type: str
    modality: str | None
    due_date: date
    window_start: date
    window_end: date
    overdue: bool


@dataclass(frozen=True)
class WorklistPage:
    site: str
    on: date
    entries: tuple[WorklistEntry, ...]
    next_after: tuple[date, int] | None
    """Give it as ``after`` for the next page; ``None`` on the last page."""
    total: int
    """The visits of the list on every page (the same filters, whatever ``after``)."""


@refuses_unstorable_text
def worklist(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study: str,
    site: str,
    *,
    on: date,
    overdue_only: bool = False,
    after: tuple[date, int] | None = None,
    limit: int = 100,
) -> WorklistPage:
    """One page of the site's due (or only overdue) visits on ``on``, by due date."""
    require(actor, Action.READ_WORKLIST)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise InvalidInput(f"a page holds 1 to 1000 visits, got {limit!r}", field="limit")
    with session_maker() as session, session.begin():
        study_row = study_named(session, study)
        site_row = get_site(session, study_row.id, site)
        if site_row is None or not actor.sees_site(site_row.id, site_row.country_id):
            raise NotFound(f"study {study!r} has no site {site!r} (in your sites)")
        visits = due_visits(
            session, actor.scope, on=on, site_ids=[site_row.id], overdue_only=overdue_only,
            after=after, limit=limit,
        )  # fmt: skip
        total = count_due_visits(session, actor.scope, on=on, site_ids=[site_row.id],
                                 overdue_only=overdue_only)  # fmt: skip
        ids = {v.participant_id for v in visits}
        rows = session.execute(
            actor.scope.apply(
                select(Participant.id, Participant.study_id).where(Participant.id.in_(ids))
            )
        )
        study_ids = {participant_id: study_id for participant_id, study_id in rows}
    entries = tuple(
        WorklistEntry(
            study_ids[v.participant_id],
            v.id,
            v.visit_type,
            v.modality,
            v.due_date,
            v.window_start,
            v.window_end,
            overdue=v.window_end <= on,
        )
        for v in visits
    )
    last = entries[-1] if len(entries) == limit else None
    next_after = None if last is None else (last.due_date, last.visit_id)
    return WorklistPage(site, on, entries, next_after, total)
