"""A data query's workflow: raise, answer (or correct), close, re-open; and one query read.

States (``docs/trial/queries.md``)::

    raise -> open --answer--> answered --close--> closed
               ^  \\________________close_________/   |
               |___________re-open_(answered, closed)__|

- a data manager or monitor raises a query on an item of her record: the question, optionally a
  proposed value (checked against the item's type, codes and range), the item's value then;
- her site (site staff, investigator, country coordinator) answers an open query in words, and
  may give a corrected value where a use case records it (:mod:`.corrections`);
- a data manager or monitor closes an open or answered query, or re-opens an answered or closed
  one (with the reason: the answer does not settle it).

Every step is a note of the query's thread and an audit event (``data_query``, action
``raise``/``answer``/``close``/``reopen``) in the same transaction. A correction is recorded by
its own use case first (its own transaction and audit event), then the answer names it; if the
correction made an edit check pass, the system has closed the query meanwhile and the answer is
added to its closed thread.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.casebook_content import casebook_of
from pebs.services.data_locks import refuse_if_study_locked
from pebs.services.errors import Conflict, InvalidInput, NotFound
from pebs.services.form_instance import checked_form
from pebs.services.keys import IdentityKeys
from pebs.services.queries.corrections import CORRECTABLE, correct
from pebs.services.queries.edit_check_runs import SYSTEM
from pebs.services.queries.views import (
    QueryDetail,
    find_query,
    note_row,
    notes_of,
    summary_of,
)
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.subject import find_participant
from pebs.services.transaction import instant, transaction
from pebs.store.audit import append_event
from pebs.store.models import Country, DataQuery, Participant, Site
from pebs.trial.casebook import Casebook
from pebs.trial.forms import Form, FormError, Item, form_named, form_names
from pebs.trial.item_values import MAX_TEXT, parse_value, value_text

__all__ = [
    "TEXT_CHARS",
    "answer_query",
    "close_query",
    "get_query",
    "raise_query",
    "reopen_query",
]

TEXT_CHARS = 2000
"""Longest question, answer or reason."""


def _text(value: Any, field: str, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"give 1 to {TEXT_CHARS} characters", field=field,
                           message_code="error.required")  # fmt: skip
    if len(value) > TEXT_CHARS:
        raise InvalidInput(f"give 1 to {TEXT_CHARS} characters", field=field,
                           message_code="error.too_long", values={"max": TEXT_CHARS})  # fmt: skip
    return value.strip()


def _form_item(form: Any, item: Any) -> Form:
    """The form ``form`` of the catalogue, having item ``item``; :class:`InvalidInput` naming
    the forms (or its items) otherwise."""
    try:
        definition = form_named(form)
    except FormError as error:
        raise InvalidInput(str(error), field="form", message_code="error.choice",
                           values={"allowed": ", ".join(form_names())}) from None  # fmt: skip
    try:
        definition.item(item)
    except FormError as error:
        names = ", ".join(i.name for i in definition.items)
        raise InvalidInput(str(error), field="item", message_code="error.choice",
                           values={"allowed": names}) from None  # fmt: skip
    return definition


def _value_refusal(item: Item, problem: str, field: str) -> InvalidInput:
    """The refusal of a value of ``item``, with the catalogue message saying what it may be."""
    if item.codes or item.data_type == "boolean":
        allowed = ", ".join(item.codes) if item.codes else "true, false"
        return InvalidInput(problem, field=field, message_code="error.choice",
                            values={"allowed": allowed})  # fmt: skip
    if item.data_type == "date":
        return InvalidInput(problem, field=field, message_code="error.date")
    if item.data_type == "datetime":
        return InvalidInput(problem, field=field, message_code="error.instant")
    if item.minimum is not None and item.maximum is not None:
        low, high = f"{item.minimum:g}", f"{item.maximum:g}"
        if item.data_type == "integer":
            return InvalidInput(problem, field=field, message_code="error.integer",
                                values={"low": low, "high": high})  # fmt: skip
        return InvalidInput(problem, field=field, message_code="error.number",
                            values={"low": low, "high": high})  # fmt: skip
    return InvalidInput(problem, field=field, message_code="error.too_long",
                        values={"max": MAX_TEXT})  # fmt: skip


def _value(form: Form, item: str, text: Any, field: str) -> Any:
    try:
        return parse_value(form, item, text)
    except FormError as error:
        raise _value_refusal(form.item(item), str(error), field) from None


def _instance_value(casebook: Casebook, form: Form, key: int | None, item: str) -> Any:
    """The item's value in her casebook (:class:`NotFound` for an instance she does not have;
    a form that does not repeat may have no data yet: its value is missing)."""
    if casebook.data_use_withdrawn:
        raise Conflict(f"{casebook.study_id} withdrew the use of her data: no query on it",
                       message_code="error.query_data_use_withdrawn")  # fmt: skip
    for instance in casebook.instances(form.name):
        if instance.key == key:
            return instance.values[item]
    if form.repeating:
        raise NotFound(
            f"{casebook.study_id} has no {form.name} {key}",
            message_code="error.query_no_instance",
            values={"study_id": casebook.study_id, "form": form.name, "key": key},
        )
    return None


def _detail(session: Session, query: DataQuery, study_id: str, site: str) -> QueryDetail:
    form = form_named(query.form)
    casebook = casebook_of(session, query.participant_id, _study_pk(session, query))
    current = None
    if not casebook.data_use_withdrawn:
        for instance in casebook.instances(form.name):
            if (instance.key or 0) == query.form_key:
                current = value_text(form.item(query.item), instance.values[query.item])
    return QueryDetail(summary_of(query, study_id, site), current,
                       (query.form, query.item) in CORRECTABLE, notes_of(query))  # fmt: skip


_STUDY_OF = (
    select(Country.study_id)
    .select_from(Participant)
    .join(Site, Site.id == Participant.site_id)
    .join(Country, Country.id == Site.country_id)
)


def _study_pk(session: Session, query: DataQuery) -> int:
    return session.execute(_STUDY_OF.where(Participant.id == query.participant_id)).scalar_one()


@refuses_unstorable_text
def raise_query(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study_id: str,
    *,
    form: str,
    item: str,
    question: str,
    key: int | None = None,
    proposed_value: str | None = None,
    at: datetime | None = None,
) -> QueryDetail:
    """Raise a query on her ``form.item`` (``key``: a repeating form's row id)."""
    require(actor, Action.RAISE_QUERY, needs_account=True)
    definition = _form_item(form, item)
    checked_form(definition.name, key)
    text = _text(question, "question")
    proposed = None
    if proposed_value is not None:
        parsed = _value(definition, item, proposed_value, "proposed_value")
        proposed = value_text(definition.item(item), parsed)
    when = instant(at)
    with transaction(session_maker) as session:
        subject = find_participant(session, actor, study_id)
        refuse_if_study_locked(session, subject.country.study_id)  # no new query once locked
        casebook = casebook_of(session, subject.participant.id, subject.country.study_id)
        value = value_text(definition.item(item),
                           _instance_value(casebook, definition, key, item))  # fmt: skip
        query = DataQuery(
            participant_id=subject.participant.id, form=definition.name, item=item,
            form_key=key or 0, kind="manual", state="open", question=text, value=value,
            proposed_value=proposed, raised_at=when, raised_by=actor.username,
            raised_by_id=actor.user_id, updated_at=when,
        )  # fmt: skip
        note_row(query, "raise", actor, when, text=text, value=proposed)
        session.add(query)
        session.flush()
        append_event(
            session, actor=actor.username, action="raise", entity="data_query",
            entity_id=query.id, reason=text,
            new={"participant": study_id, "form": definition.name, "form_key": key, "item": item,
                 "kind": "manual", "value": value, "proposed_value": proposed,
                 "state": "open"},
            at=when,
        )  # fmt: skip
        return _detail(session, query, study_id, subject.site.code)


def _step(
    session: Session, actor: Actor, query: DataQuery, study_id: str, step: str, state: str,
    when: datetime, text: str | None, **extra: Any,
) -> None:  # fmt: skip
    old = query.state
    query.state = state
    query.closed_by = actor.username if state == "closed" else None
    note_row(query, step, actor, when, text=text, **extra)
    session.flush()
    append_event(
        session, actor=actor.username, action=step, entity="data_query", entity_id=query.id,
        reason=text, old={"state": old},
        new={"participant": study_id, "state": state, **extra}, at=when,
    )  # fmt: skip


def _refuse(query: DataQuery, doing: str, allowed: tuple[str, ...]) -> Conflict:
    return Conflict(
        f"data query {query.id} is {query.state}: cannot {doing} "
        f"(possible when {', '.join(allowed)})",
        message_code="error.query_state",
        values={"state": query.state, "allowed_states": allowed},
    )


@refuses_unstorable_text
def answer_query(
    session_maker: sessionmaker[Session],
    actor: Actor,
    query_id: int,
    *,
    text: str,
    corrected_value: str | None = None,
    keys: IdentityKeys | None = None,
    at: datetime | None = None,
) -> QueryDetail:
    """Answer an open query in words; with ``corrected_value``, first record the value through
    the use case that records its form (:mod:`.corrections`; ``keys``: for a risk factor)."""
    require(actor, Action.ANSWER_QUERY, needs_account=True)
    answer = _text(text, "text")
    with session_maker() as session, session.begin():
        query, study_id, _ = find_query(session, actor, query_id)
        if query.state != "open":
            raise _refuse(query, "answer it", ("open",))
        form, item, key = form_named(query.form), query.item, query.form_key or None
    extra: dict[str, Any] = {}
    if corrected_value is not None:
        value = _value(form, item, corrected_value, "corrected_value")
        extra = {"value": value_text(form.item(item), value),
                 "correction": correct(session_maker, actor, keys, study_id, form.name, key,
                                       item, value)}  # fmt: skip
    when = instant(at)
    with transaction(session_maker) as session:
        query, study_id, site = find_query(session, actor, query_id, for_update=True)
        if query.state == "open":
            _step(session, actor, query, study_id, "answer", "answered", when, answer, **extra)
        elif extra and query.closed_by == SYSTEM.username:  # the correction passed its check
            _step(session, actor, query, study_id, "answer", "closed", when, answer, **extra)
            query.closed_by = SYSTEM.username
        else:
            raise _refuse(query, "answer it", ("open",))
        return _detail(session, query, study_id, site)


@refuses_unstorable_text
def close_query(
    session_maker: sessionmaker[Session],
    actor: Actor,
    query_id: int,
    *,
    text: str | None = None,
    at: datetime | None = None,
) -> QueryDetail:
    """Close an open or answered query (``text``: why, optional)."""
    require(actor, Action.CLOSE_QUERY, needs_account=True)
    reason = _text(text, "text", required=False)
    when = instant(at)
    with transaction(session_maker) as session:
        query, study_id, site = find_query(session, actor, query_id, for_update=True)
        if query.state == "closed":
            raise _refuse(query, "close it", ("open", "answered"))
        _step(session, actor, query, study_id, "close", "closed", when, reason)
        return _detail(session, query, study_id, site)


@refuses_unstorable_text
def reopen_query(
    session_maker: sessionmaker[Session],
    actor: Actor,
    query_id: int,
    *,
    text: str,
    at: datetime | None = None,
) -> QueryDetail:
    """Re-open an answered or closed query (``text``: why the answer does not settle it)."""
    require(actor, Action.CLOSE_QUERY, needs_account=True)
    reason = _text(text, "text")
    when = instant(at)
    with transaction(session_maker) as session:
        query, study_id, site = find_query(session, actor, query_id, for_update=True)
        if query.state == "open":
            raise _refuse(query, "re-open it", ("answered", "closed"))
        if query.kind == "edit_check" and query.state == "closed":
            _refuse_second_open(session, query)
        _step(session, actor, query, study_id, "reopen", "open", when, reason)
        return _detail(session, query, study_id, site)


def _refuse_second_open(session: Session, query: DataQuery) -> None:
    """:class:`Conflict` when the same check has another query not closed on the item."""
    other = session.scalar(
        select(DataQuery.id).where(
            DataQuery.participant_id == query.participant_id,
            DataQuery.check_id == query.check_id, DataQuery.form == query.form,
            DataQuery.form_key == query.form_key, DataQuery.item == query.item,
            DataQuery.state != "closed",
        )
    )  # fmt: skip
    if other is not None:
        raise Conflict(
            f"edit check {query.check_id} already has query {other} open on this item",
            message_code="error.query_open_already", values={"query_id": other},
        )  # fmt: skip


@refuses_unstorable_text
def get_query(session_maker: sessionmaker[Session], actor: Actor, query_id: int) -> QueryDetail:
    """One query with the item's value now and its thread (:class:`NotFound` outside scope)."""
    require(actor, Action.READ_QUERIES)
    with session_maker() as session, session.begin():
        query, study_id, site = find_query(session, actor, query_id)
        return _detail(session, query, study_id, site)
