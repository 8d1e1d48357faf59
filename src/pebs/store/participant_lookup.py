"""The one scoped lookup of a participant by her pseudonymous study ID.

Every use case that works on one woman finds her here, through the caller's
:class:`~pebs.store.repositories.Scope`: a participant outside the scope is not found. Two
projections of the same query exist, both built once per scope and cached:

- :attr:`Projection.RECORDS`: her :class:`Participant`, :class:`Site` and :class:`Country` rows
  as ORM objects (use cases that change her records);
- :attr:`Projection.FACTS`: one flat row of the columns randomisation needs (her status, stratum,
  site, country, study and encrypted date of birth), read without building ORM objects.

:func:`participants_in_scope` finds several women by their study IDs in one statement, in either
projection (list forms of the use cases).

``for_update`` locks her row until the transaction ends (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite's writer lock already serialises every writing transaction), so two requests
about the same woman run one after the other and the second sees what the first committed.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, Select, bindparam, select
from sqlalchemy.orm import Session

from pebs.store.inline_lists import inline_list
from pebs.store.models import Country, Participant, ParticipantIdentity, Site, Study
from pebs.store.repositories import Scope

__all__ = ["Projection", "participant_in_scope", "participants_in_scope"]


class Projection(enum.Enum):
    """What the lookup returns about her."""

    RECORDS = "records"
    FACTS = "facts"


def participant_in_scope(
    session: Session,
    scope: Scope,
    study_id: str,
    *,
    projection: Projection = Projection.RECORDS,
    for_update: bool = False,
) -> Row[Any] | None:
    """The participant with pseudonymous ``study_id`` if she is in ``scope``, else ``None``."""
    statement = _statement(scope, projection, for_update, many=False)
    parameters = {"study_id": study_id}
    if projection is Projection.RECORDS:
        return session.execute(statement, parameters).first()
    return session.connection().execute(statement, parameters).first()


def participants_in_scope(
    session: Session,
    scope: Scope,
    study_ids: Sequence[str],
    *,
    projection: Projection = Projection.FACTS,
    for_update: bool = False,
) -> dict[str, Row[Any]]:
    """:func:`participant_in_scope` for several study IDs in one statement: the women found, by
    study ID (an ID not found, or outside ``scope``, is absent). ``for_update`` locks their rows
    in row id order (concurrent lists then wait for each other instead of deadlocking)."""
    if not study_ids:
        return {}
    statement = _statement(scope, projection, for_update, many=True)
    parameters = {"study_ids": list(dict.fromkeys(study_ids))}
    if projection is Projection.RECORDS:
        return {row[0].study_id: row for row in session.execute(statement, parameters)}
    return {row.study_id: row for row in session.connection().execute(statement, parameters)}


def _columns(projection: Projection) -> Select:
    if projection is Projection.RECORDS:
        return select(Participant, Site, Country)
    return select(
        Participant.id.label("participant_id"),
        Participant.study_id,
        Participant.status,
        Participant.is_test,
        Participant.stratum,
        Participant.age_band,
        Site.code.label("site_code"),
        Country.code.label("country_code"),
        Country.time_zone,
        Study.id.label("study_pk"),
        Study.name.label("study_name"),
        Study.config_sha256,
        ParticipantIdentity.date_of_birth_enc,
    )


@lru_cache(maxsize=512)
def _statement(scope: Scope, projection: Projection, for_update: bool, *, many: bool) -> Select:
    statement = (
        _columns(projection)
        .join(Site, Participant.site_id == Site.id)
        .join(Country, Site.country_id == Country.id)
    )
    if projection is Projection.FACTS:
        statement = statement.join(Study, Country.study_id == Study.id).outerjoin(
            ParticipantIdentity, ParticipantIdentity.participant_id == Participant.id
        )
    if many:
        wanted = Participant.study_id.in_(inline_list("study_ids"))
        statement = statement.where(wanted).order_by(Participant.id)
    else:
        statement = statement.where(Participant.study_id == bindparam("study_id"))
    statement = scope.apply(statement)
    return statement.with_for_update(of=Participant) if for_update else statement
