"""Lists of data queries, and the worklist of each role.

Every list is scoped by the caller's sites (a site user sees her site's queries, a country
coordinator her country's) and keyset-paged by query id (oldest first). The worklists:

- *to answer* (site staff, site investigators, country coordinators: :data:`Action.ANSWER_QUERY`):
  the open queries of their sites;
- *to review* (data manager, monitor: :data:`Action.CLOSE_QUERY`): the answered queries.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import PERMISSIONS, Action, Actor, require
from pebs.services.errors import InvalidInput, NotFound
from pebs.services.queries.views import QueryPage, scoped_queries, summary_of
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.subject import find_participant
from pebs.store.models import DataQuery, Participant, Site
from pebs.trial.forms import form_names
from pebs.trial.vocabularies import QUERY_KINDS, QUERY_STATES

__all__ = ["MAX_PAGE", "list_queries", "worklist_state"]

MAX_PAGE = 500
"""Most queries on one page."""


def worklist_state(actor: Actor) -> str | None:
    """The state of the queries waiting for ``actor``'s role: ``open`` (to answer),
    ``answered`` (to review), ``None`` for a role that does neither."""
    if actor.role in PERMISSIONS[Action.ANSWER_QUERY]:
        return "open"
    if actor.role in PERMISSIONS[Action.CLOSE_QUERY]:
        return "answered"
    return None


def _choice(value: str | None, allowed: tuple[str, ...], field: str) -> None:
    if value is not None and value not in allowed:
        raise InvalidInput(
            f"{value!r} is not allowed; allowed: {', '.join(allowed)}", field=field,
            message_code="error.choice", values={"allowed": ", ".join(allowed)},
        )  # fmt: skip


@refuses_unstorable_text
def list_queries(
    session_maker: sessionmaker[Session],
    actor: Actor,
    *,
    state: str | None = None,
    site: str | None = None,
    study_id: str | None = None,
    form: str | None = None,
    kind: str | None = None,
    after: int = 0,
    limit: int = 50,
) -> QueryPage:
    """One page of the queries in ``actor``'s scope, filtered by state, site code, participant
    (her study ID), form and kind (:class:`NotFound` for a site or woman outside the scope)."""
    require(actor, Action.READ_QUERIES)
    _choice(state, QUERY_STATES, "state")
    _choice(form, form_names(), "form")
    _choice(kind, QUERY_KINDS, "kind")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"a page holds 1 to {MAX_PAGE} queries, got {limit!r}", field="limit")
    with session_maker() as session, session.begin():
        filters = []
        if study_id is not None:
            filters.append(
                DataQuery.participant_id
                == find_participant(session, actor, study_id).participant.id
            )
        if site is not None:
            site_id = session.scalar(actor.scope.apply(select(Site.id).where(Site.code == site),
                                                       Site.id))  # fmt: skip
            if site_id is None:
                raise NotFound(f"no site {site!r} (in your sites)", message_code="error.no_site",
                               values={"site": site})  # fmt: skip
            filters.append(Participant.site_id == site_id)
        for column, value in ((DataQuery.state, state), (DataQuery.form, form),
                              (DataQuery.kind, kind)):  # fmt: skip
            if value is not None:
                filters.append(column == value)
        total = session.scalar(scoped_queries(actor, func.count(DataQuery.id)).where(*filters))
        rows = session.execute(
            scoped_queries(actor, DataQuery, Participant.study_id, Site.code)
            .where(*filters, DataQuery.id > after)
            .order_by(DataQuery.id)
            .limit(limit)
        ).all()
        entries = tuple(summary_of(query, her, code) for query, her, code in rows)
    next_after = entries[-1].id if len(entries) == limit else None
    return QueryPage(entries, total or 0, next_after)
