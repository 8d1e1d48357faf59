"""Record the visits of many women at once: :func:`record_visits_in`, the list form of
:func:`pebs.services.trial.visits.record_visit` (the enrolment import's visits).

Each visit gets the same checks as on the visit page (:mod:`.visits`: BI-RADS 0-6, histology
only with a biopsy, a density read on a mammogram with its reader...), the same pathway move
(her first visit starts her follow-up) and its own audit event; a visit refused writes nothing.
A visit given with the ``due_date`` of an expected visit of her plan (same modality, not yet
recorded) records that visit; otherwise an unplanned one is added. A density that completes a
risk-based woman's data computes her risk and plan in the same transaction
(:func:`.risk_completion.complete_risk_in`), as one at a time. The study's edit checks run on
the women's data once their visits of the list are stored, their casebooks read together
(:func:`pebs.services.queries.edit_check_runs.run_edit_checks_of`): the queries open at the end
are those that one visit at a time would leave open.

The women (rows locked in id order) and their expected visits are each read in one query; the
new visits are inserted, the expected ones updated and the pathway states written in one
statement each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import InvalidInput, ServiceError
from pebs.services.keys import IdentityKeys
from pebs.services.queries.edit_check_runs import run_edit_checks_of
from pebs.services.storable_text import refuse_unstorable
from pebs.services.subject import Moves, one_found, participants_facts, require_state
from pebs.services.transaction import instant, local_date
from pebs.services.trial._returned_ids import ids_in_order
from pebs.services.trial.risk_completion import complete_risk_in
from pebs.services.trial.visits import (
    RESULT_FIELDS,
    STARTS_FOLLOW_UP,
    VisitRecord,
    VisitRecorded,
    check_density_modality,
    check_visit_record,
)
from pebs.store.audit import append_event
from pebs.store.models import Participant, Visit
from pebs.trial import COLLECTING, Event, State

__all__ = ["VisitRequest", "record_visits_in"]


@dataclass(frozen=True)
class VisitRequest:
    """One visit to record (:func:`record_visits_in`)."""

    study_id: str
    record: VisitRecord
    due_date: date | None = None
    """The due date of the expected visit of her plan it records (``None``: unplanned)."""
    at: datetime | None = None
    """When it is recorded (default: now)."""


@dataclass
class _Placed:
    index: int
    her: Any
    request: VisitRequest
    at: datetime
    expected: Any | None
    """The expected visit recorded (its row), or ``None`` for a new unplanned visit."""
    old_state: str
    new_state: str
    visit_id: int = 0


_PLANNED = select(
    Visit.id, Visit.participant_id, Visit.due_date, Visit.modality, Visit.visit_type,
    Visit.performed_date,
).where(
    Visit.participant_id.in_(bindparam("participant_ids", expanding=True)),
    Visit.planned_exam_id.is_not(None),
).order_by(Visit.id)  # fmt: skip
"""The women's planned visits, found by her index (``performed_date IS NULL`` in the query
would let SQLite read every visit not yet performed, of every woman, through that column's
index)."""
_INSERT = insert(Visit).returning(
    Visit.id, Visit.participant_id, Visit.performed_date, Visit.modality, Visit.visit_type
)
_UPDATE = (
    update(Visit)
    .where(Visit.id == bindparam("visit_id"))
    .values({name: bindparam(name) for name in (*RESULT_FIELDS, "recorded_at", "recorded_by_id")})
)
_STATUS = select(Participant.status).where(Participant.id == bindparam("participant_id"))


def record_visits_in(
    session: Session, actor: Actor, keys: IdentityKeys | None, requests: Sequence[VisitRequest]
) -> list[VisitRecorded | ServiceError]:
    """Record each visit of ``requests`` in the caller's transaction (never committed here), as
    if one after the other: in ``requests`` order, the visit recorded or the error that refuses
    it (nothing written for it). A density needs ``keys`` (her age, for her risk)."""
    require(actor, Action.RECORD_FOLLOW_UP)
    results: list[VisitRecorded | ServiceError | None] = [None] * len(requests)
    found = participants_facts(
        session, actor, [r.study_id for r in requests if isinstance(r.study_id, str)],
        for_update=True,
    )  # fmt: skip
    expected = _expected_visits(session, [her.participant_id for her in found.values()])
    moves = Moves()
    placed: list[_Placed] = []
    for index, request in enumerate(requests):
        try:
            placed.append(_place(request, index, found, expected, moves, keys))
        except ServiceError as error:
            results[index] = error
    _write(session, actor, placed)
    moves.write(session)
    for one in placed:
        record, her = one.request.record, one.her
        append_event(
            session, actor=actor.username, action="record", entity="visit",
            entity_id=one.visit_id, reason="visit results",
            old={"status": one.old_state, "performed_date": None},
            new={"participant": her.study_id, "planned": one.expected is not None,
                 "visit_type": _visit_type(one), "modality": _modality(one),
                 "due_date": _due(one), "status": one.new_state,
                 **{name: getattr(record, name) for name in RESULT_FIELDS}},
            at=one.at,
        )  # fmt: skip
    for one in placed:
        level, state = None, one.new_state
        if one.request.record.density is not None and keys is not None:
            level = complete_risk_in(
                session, participant_id=one.her.participant_id, actor=actor, keys=keys, at=one.at
            )
            state = session.scalar(_STATUS, {"participant_id": one.her.participant_id}) or state
        record = one.request.record
        results[one.index] = VisitRecorded(
            one.her.study_id, one.visit_id, one.expected is not None, _visit_type(one),
            _modality(one), _due(one), record.performed_date, record.birads, state, level,
        )  # fmt: skip
    if placed:
        run_edit_checks_of(session, [one.her.participant_id for one in placed], at=placed[-1].at)
    return [result for result in results if result is not None]


def _expected_visits(session: Session, participant_ids: list[int]) -> dict[tuple, list[Any]]:
    """Her expected visits not recorded yet, by (participant id, due date, modality), in id
    order."""
    if not participant_ids:
        return {}
    by_key: dict[tuple, list[Any]] = {}
    for row in session.execute(_PLANNED, {"participant_ids": sorted(participant_ids)}):
        if row.performed_date is None:
            by_key.setdefault((row.participant_id, row.due_date, row.modality), []).append(row)
    return by_key


def _place(
    request: VisitRequest, index: int, found: dict[str, Any], expected: dict[tuple, list[Any]],
    moves: Moves, keys: IdentityKeys | None,
) -> _Placed:  # fmt: skip
    """Her visit checked and its pathway move made in ``moves``; the error refusing it raised."""
    record = request.record
    refuse_unstorable({"request": request})
    if record.density is not None and keys is None:
        raise InvalidInput("a density needs the identity keys (her age for her risk)",
                           field="density")  # fmt: skip
    at = instant(request.at)
    her = one_found(found, request.study_id)
    state = moves.status(her)
    require_state(her.study_id, state, COLLECTING, "record a visit")
    check_visit_record(record, local_date(at, her.time_zone))
    queue = None
    if request.due_date is not None:
        queue = expected.get((her.participant_id, request.due_date, record.modality))
    visit = queue[0] if queue else None
    check_density_modality(record, record.modality if visit is None else visit.modality)
    if queue:
        queue.pop(0)  # recorded: not expected any more
    old_state = new_state = state
    if State(state) in STARTS_FOLLOW_UP:
        old_state, new_state = moves.advance(her, Event.FOLLOW_UP_STARTED)
    return _Placed(index, her, request, at, visit, old_state, new_state)


def _write(session: Session, actor: Actor, placed: list[_Placed]) -> None:
    """Insert the unplanned visits and update the expected ones; set each one's id."""
    connection = session.connection()
    new = [one for one in placed if one.expected is None]
    if new:
        rows = [{
            "participant_id": one.her.participant_id, "visit_type": one.request.record.visit_type,
            "modality": one.request.record.modality, "due_date": one.request.record.performed_date,
            "window_start": one.request.record.performed_date,
            "window_end": one.request.record.performed_date, "recorded_at": one.at,
            "recorded_by_id": actor.user_id,
            **{name: getattr(one.request.record, name) for name in RESULT_FIELDS},
        } for one in new]  # fmt: skip
        returned = connection.execute(_INSERT, rows)
        keys = [(r["participant_id"], r["performed_date"], r["modality"], r["visit_type"])
                for r in rows]  # fmt: skip
        for one, visit_id in zip(new, ids_in_order(returned, keys), strict=True):
            one.visit_id = visit_id
    planned = [one for one in placed if one.expected is not None]
    if planned:
        connection.execute(_UPDATE, [{
            "visit_id": one.expected.id, "recorded_at": one.at, "recorded_by_id": actor.user_id,
            **{name: getattr(one.request.record, name) for name in RESULT_FIELDS},
        } for one in planned])  # fmt: skip
        for one in planned:
            one.visit_id = one.expected.id


def _visit_type(one: _Placed) -> str:
    return one.request.record.visit_type if one.expected is None else one.expected.visit_type


def _modality(one: _Placed) -> str | None:
    return one.request.record.modality if one.expected is None else one.expected.modality


def _due(one: _Placed) -> date:
    return one.request.record.performed_date if one.expected is None else one.expected.due_date
