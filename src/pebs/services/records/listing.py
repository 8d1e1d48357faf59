"""One page of the caller's participants: filtered, searched by study ID, keyset-paged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import InvalidInput, NotFound
from pebs.services.storable_text import refuses_unstorable_text
from pebs.store.models import Allocation, Country, Participant, Site
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


_COLUMNS = (Participant.id, Participant.study_id, Participant.status, Participant.age_band,
            Participant.is_test, Participant.registered_at)  # fmt: skip


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


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
    statement = (  # columns, not entities: no ORM object per row
        select(*_COLUMNS, Site.code, Country.code, Allocation.arm)
        .join(Site, Participant.site_id == Site.id)
        .join(Country, Site.country_id == Country.id)
        .outerjoin(Allocation, Allocation.participant_id == Participant.id)
    )
    with session_maker() as session:
        if site is not None:
            site_row = session.scalar(select(Site).where(Site.code == site))
            if site_row is None or not actor.sees_site(site_row.id, site_row.country_id):
                raise NotFound(f"no site {site!r} (in your sites)")
            statement = statement.where(Participant.site_id == site_row.id)
        if status is not None:
            statement = statement.where(Participant.status == status)
        if arm is not None:
            statement = statement.where(Allocation.arm == arm)
        if search:
            pattern = f"%{_like_escaped(search.strip().upper())}%"
            statement = statement.where(Participant.study_id.like(pattern, escape="\\"))
        statement = actor.scope.apply(statement)
        total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        page = statement.where(Participant.id > after).order_by(Participant.id).limit(limit)
        result = session.execute(page).all()
    rows = tuple(
        ParticipantRow(study_id, site_code, country_code, status_, age_band, arm_name, is_test,
                       registered_at)
        for _, study_id, status_, age_band, is_test, registered_at, site_code, country_code,
        arm_name in result
    )  # fmt: skip
    next_after = result[-1][0] if len(result) == limit else None
    return ParticipantPage(rows, next_after, total)
