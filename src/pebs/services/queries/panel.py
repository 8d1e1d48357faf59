"""Her queries for her page: each with the item's value now, and the form instances of her
casebook a new query may name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.casebook_content import casebook_of
from pebs.services.queries.views import QuerySummary, summary_of
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.subject import find_participant
from pebs.store.models import DataQuery
from pebs.trial.casebook import FormInstance
from pebs.trial.forms import form_named
from pebs.trial.item_values import value_text

__all__ = ["FormChoice", "HerQuery", "QueryPanel", "query_panel"]


@dataclass(frozen=True)
class HerQuery:
    query: QuerySummary
    current_value: str | None
    """The item's value now, as text (``None``: missing)."""


@dataclass(frozen=True)
class FormChoice:
    """A form instance of her casebook (a repeating form's by its key), with the first day it
    holds, to tell its instances apart."""

    form: str
    key: int | None
    day: date | None


@dataclass(frozen=True)
class QueryPanel:
    queries: tuple[HerQuery, ...]
    """Every query on her record, newest first."""
    instances: tuple[FormChoice, ...]
    """Her form instances, in pathway order (empty when she withdrew the use of her data)."""


def _day(instance: FormInstance) -> date | None:
    for value in instance.values.values():
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
    return None


@refuses_unstorable_text
def query_panel(session_maker: sessionmaker[Session], actor: Actor, study_id: str) -> QueryPanel:
    """Her queries (with the item's value now) and her form instances
    (:data:`Action.READ_QUERIES`; :class:`NotFound` outside the caller's scope)."""
    require(actor, Action.READ_QUERIES)
    with session_maker() as session, session.begin():
        subject = find_participant(session, actor, study_id)
        casebook = casebook_of(session, subject.participant.id, subject.country.study_id)
        values = {(i.form, i.key or 0): i.values for i in casebook.forms}
        stored = session.scalars(
            select(DataQuery)
            .where(DataQuery.participant_id == subject.participant.id)
            .order_by(DataQuery.id.desc())
        ).all()
        queries = tuple(
            HerQuery(
                summary_of(query, study_id, subject.site.code),
                value_text(
                    form_named(query.form).item(query.item),
                    values.get((query.form, query.form_key), {}).get(query.item),
                ),
            )
            for query in stored
        )
    instances = tuple(FormChoice(i.form, i.key, _day(i)) for i in casebook.forms)
    return QueryPanel(queries, () if casebook.data_use_withdrawn else instances)
