"""The study's participants in the caller's scope, a keyset page at a time.

Every bulk read of participant data (the participant export, casebooks, the dashboards) starts
from the same scoped query: her site and country joined, the study's participants only (real
ones unless test participants are asked for), restricted to the caller's sites or country
(:meth:`pebs.store.repositories.Scope.apply`). A page is the participants whose row id follows
the previous page's last (``WHERE id > :after ORDER BY id LIMIT :n``), so a page costs the same
wherever it is in the study, and rows added meanwhile appear if their id comes later.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from pebs.services.actor import Actor
from pebs.store.models import Allocation, Country, Death, Participant, Site

__all__ = ["in_study", "participants_after"]


def in_study(
    statement: Select, actor: Actor, study_pk: int, *, include_test: bool = False
) -> Select:
    """Join ``statement`` (whose FROM starts at :class:`Participant`) to her site and country,
    keep the study's participants (real ones unless ``include_test``) in ``actor``'s scope."""
    statement = (
        statement.join(Site, Participant.site_id == Site.id)
        .join(Country, Site.country_id == Country.id)
        .where(Country.study_id == study_pk)
    )
    if not include_test:
        statement = statement.where(Participant.is_test.is_(False))
    return actor.scope.apply(statement)


def participants_after(
    session: Session,
    actor: Actor,
    study_pk: int,
    *,
    after: int,
    limit: int,
    include_test: bool,
    only: Sequence[int] | None = None,
) -> Sequence[Row[tuple[Participant, str, str, Allocation | None, Death | None]]]:
    """The page of at most ``limit`` participants with row id > ``after``, in id order: each
    with her site code, country code, allocation and death (``None`` if she has none).
    ``only``: the participants with these row ids alone (a use case's list of women)."""
    statement = (
        select(Participant, Site.code, Country.code, Allocation, Death)
        .select_from(Participant)
        .outerjoin(Allocation, Allocation.participant_id == Participant.id)
        .outerjoin(Death, Death.participant_id == Participant.id)
    )
    statement = in_study(statement, actor, study_pk, include_test=include_test)
    if only is not None:
        statement = statement.where(Participant.id.in_(list(only)))
    return session.execute(
        statement.where(Participant.id > after).order_by(Participant.id).limit(limit)
    ).all()
