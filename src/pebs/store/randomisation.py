"""Queries of the allocation path, written as prebuilt Core statements.

Randomisation is the platform's hot path (goal: >= 1,000 register+allocate per second), so
these statements are built once at import and executed on the session's connection: no ORM
objects are loaded or flushed, and SQLAlchemy reuses their compiled form. They never commit.

What they implement is described with the use case (:mod:`pebs.services.trial.allocation`):
her row locked, the stratum locked, the stratum's first free slot taken by a conditional update.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Row, bindparam, exists, insert, select, text, update
from sqlalchemy.orm import Session, aliased

from pebs.store.audit import lock_chain
from pebs.store.inline_lists import inline_list
from pebs.store.models import (
    Allocation,
    AllocationList,
    AllocationSlot,
    Consent,
    EligibilityAssessment,
    Participant,
    ProtocolVersion,
)

__all__ = [
    "Eligibility",
    "GateRecords",
    "ProtocolInForce",
    "RecordsWanted",
    "SlotTaken",
    "StoredAllocation",
    "allocation_records",
    "allocation_records_of",
    "gate_records",
    "insert_allocation",
    "insert_allocations",
    "lock_strata",
    "lock_strata_of",
    "lock_stratum",
    "next_free_slot",
    "next_free_slots",
    "refresh_slot_statistics",
    "take_slot",
    "take_slots",
]

_STRATUM_LOCK_CLASS = 0x7065_6273  # "pebs": first key of the two-key advisory locks on strata


class StoredAllocation(NamedTuple):
    """Her allocation as stored."""

    arm: str
    method: str
    allocated_at: datetime


class Eligibility(NamedTuple):
    """Her latest eligibility assessment: its result and the protocol version it was made under."""

    result: str
    protocol_version_id: int
    protocol_version: str
    """The version label of that protocol (for messages)."""


class ProtocolInForce(NamedTuple):
    """The protocol version in force on a day."""

    id: int
    version: str


class GateRecords(NamedTuple):
    """The stored facts the allocation gate needs."""

    eligibility: Eligibility | None
    consented: bool
    """A consent on record that is not withdrawn."""
    in_force: ProtocolInForce | None
    """The protocol version in force on the day, if any."""


_ASSESSMENT = aliased(EligibilityAssessment)
_LATEST_ASSESSMENT = (  # correlated with her participant row
    select(_ASSESSMENT.id)
    .where(_ASSESSMENT.participant_id == Participant.id)
    .order_by(_ASSESSMENT.assessed_at.desc(), _ASSESSMENT.id.desc())
    .limit(1)
    .scalar_subquery()
)
_ASSESSED_UNDER = aliased(ProtocolVersion)
_RECORDS = (  # one row per woman: every part is a lookup by index
    select(
        Participant.id,
        Allocation.arm,
        Allocation.method,
        Allocation.allocated_at,
        EligibilityAssessment.result,
        EligibilityAssessment.protocol_version_id,
        _ASSESSED_UNDER.version.label("assessed_under"),
        exists()
        .where(Consent.participant_id == Participant.id, Consent.withdrawn_at.is_(None))
        .label("consented"),
    )
    .select_from(Participant)
    .outerjoin(Allocation, Allocation.participant_id == Participant.id)
    .outerjoin(EligibilityAssessment, EligibilityAssessment.id == _LATEST_ASSESSMENT)
    .outerjoin(_ASSESSED_UNDER, _ASSESSED_UNDER.id == EligibilityAssessment.protocol_version_id)
    .where(Participant.id.in_(inline_list("participant_ids")))  # planned per list
)
_PROTOCOLS = (
    select(
        ProtocolVersion.study_id,
        ProtocolVersion.effective_from,
        ProtocolVersion.id,
        ProtocolVersion.version,
    )
    .where(ProtocolVersion.study_id.in_(bindparam("study_pks", expanding=True)))
    .order_by(ProtocolVersion.study_id, ProtocolVersion.effective_from, ProtocolVersion.id)
)


class RecordsWanted(NamedTuple):
    """A woman whose allocation records are wanted, on the randomisation day."""

    participant_id: int
    study_pk: int
    day: date


def allocation_records_of(
    session: Session, wanted: Sequence[RecordsWanted]
) -> list[tuple[StoredAllocation | None, GateRecords]]:
    """:func:`allocation_records` of several women, in ``wanted`` order, read in two statements
    (their records; the protocol versions of their studies) whatever their number."""
    if not wanted:
        return []
    connection = session.connection()
    ids = list(dict.fromkeys(one.participant_id for one in wanted))
    rows = {row.id: row for row in connection.execute(_RECORDS, {"participant_ids": ids})}
    study_pks = list(dict.fromkeys(one.study_pk for one in wanted))
    protocols: dict[int, list[Row[Any]]] = {pk: [] for pk in study_pks}
    for protocol in connection.execute(_PROTOCOLS, {"study_pks": study_pks}):
        protocols[protocol.study_id].append(protocol)
    return [_records(rows[one.participant_id], protocols[one.study_pk], one.day) for one in wanted]


def _records(
    row: Row[Any], protocols: Sequence[Row[Any]], day: date
) -> tuple[StoredAllocation | None, GateRecords]:
    allocation = (
        None if row.arm is None else StoredAllocation(row.arm, row.method, row.allocated_at)
    )
    eligibility = (
        None
        if row.result is None
        else Eligibility(row.result, row.protocol_version_id, row.assessed_under)
    )
    return allocation, GateRecords(eligibility, bool(row.consented), _in_force(protocols, day))


def _in_force(protocols: Sequence[Row[Any]], day: date) -> ProtocolInForce | None:
    """The version in force on ``day``: the latest to take effect on or before it
    (``protocols`` in order of taking effect)."""
    days = [protocol.effective_from for protocol in protocols]
    i = bisect_right(days, day)
    return None if i == 0 else ProtocolInForce(protocols[i - 1].id, protocols[i - 1].version)


def allocation_records(
    session: Session, participant_id: int, study_pk: int, day: date
) -> tuple[StoredAllocation | None, GateRecords]:
    """(her allocation if she has one, the gate's records on ``day``): what randomisation reads
    once her row is locked."""
    [records] = allocation_records_of(session, [RecordsWanted(participant_id, study_pk, day)])
    return records


def gate_records(session: Session, participant_id: int, study_pk: int, day: date) -> GateRecords:
    """The stored facts the allocation gate needs (:func:`allocation_records` without her
    allocation)."""
    return allocation_records(session, participant_id, study_pk, day)[1]


def lock_stratum(session: Session, study_pk: int, stratum: str, *, is_test: bool = False) -> None:
    """Serialise allocations in one stratum until the end of the transaction.

    PostgreSQL: a transaction-level advisory lock on (study, stratum, test flag). SQLite:
    nothing more to do, the transaction already holds the writer lock. Call it before
    :func:`next_free_slot`, so that concurrent allocations take the slots strictly in list
    order and never the same one.

    The audit chain's lock is taken first (:func:`pebs.store.audit.lock_chain`; every allocation
    appends an event, so it would take it later anyway): a list of women allocated in one
    transaction appends her events before it locks the next woman's stratum, and a single
    allocation taking the two locks in the other order could deadlock with it.
    """
    connection = lock_chain(session)
    if connection.dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"{study_pk}\x1f{stratum}\x1f{int(is_test)}".encode()).digest()
    key = int.from_bytes(digest[:4], "big", signed=True)
    connection.execute(_ADVISORY_LOCK, {"class": _STRATUM_LOCK_CLASS, "key": key})


_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:class, :key)")
_ANY_FREE = aliased(AllocationSlot)
_FIRST_LIST_WITH_A_FREE_SLOT = (  # a few lists per study, each probed with the index below
    select(AllocationList.id)
    .where(
        AllocationList.study_id == bindparam("study_pk"),
        AllocationList.is_test == bindparam("is_test"),
        exists().where(
            _ANY_FREE.allocation_list_id == AllocationList.id,
            _ANY_FREE.stratum == bindparam("stratum"),
            _ANY_FREE.used_by_participant_id.is_(None),
            _ANY_FREE.unusable_reason.is_(None),
        ),
    )
    .order_by(AllocationList.version)
    .limit(1)
    .scalar_subquery()
)
_FREE_SLOT = (  # uses ix_allocation_slots_free
    select(AllocationSlot.id, AllocationSlot.arm)
    .where(
        AllocationSlot.allocation_list_id == _FIRST_LIST_WITH_A_FREE_SLOT,
        AllocationSlot.stratum == bindparam("stratum"),
        AllocationSlot.used_by_participant_id.is_(None),
        AllocationSlot.unusable_reason.is_(None),
    )
    .order_by(AllocationSlot.position)
    .limit(bindparam("count"))
)


def next_free_slot(
    session: Session, study_pk: int, stratum: str, *, is_test: bool = False
) -> Row[Any] | None:
    """(id, arm) of the stratum's first unused, usable slot in (list version, position) order;
    ``None`` when every list of the study is exhausted for this stratum."""
    free = next_free_slots(session, study_pk, stratum, 1, is_test=is_test)
    return free[0] if free else None


def next_free_slots(
    session: Session, study_pk: int, stratum: str, count: int, *, is_test: bool = False
) -> list[Row[Any]]:
    """(id, arm) of the stratum's next ``count`` unused, usable slots in position order, all from
    the first list (in version order) that has any: fewer when that list has fewer left (take
    them, then ask again for the next list); empty when every list is exhausted."""
    values = {"study_pk": study_pk, "is_test": is_test, "stratum": stratum, "count": count}
    return list(session.connection().execute(_FREE_SLOT, values))


def refresh_slot_statistics(session: Session) -> None:
    """Give PostgreSQL's planner the statistics of the slots just stored (``ANALYZE``, in the
    caller's transaction: its own new rows are counted); a no-op on SQLite.

    Until the table is analysed (autovacuum does it within a minute or so), the planner takes
    the default selectivity of ``IS NULL`` for the free-slot index's condition: it thinks that
    index nearly empty and takes a slot (:data:`_TAKE_SLOT`, a lookup by ``id`` that also says
    "still free") by scanning every free slot of the index instead of one primary-key lookup,
    which makes a bulk import right after a list's generation quadratic (0.3-0.7 ms per woman
    at 2,000-85,000 free slots, against about 0.04 ms). A role that does not own the table gets
    a warning and the old statistics, not an error.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"ANALYZE {AllocationSlot.__tablename__}"))


_TAKE_SLOT = (
    update(AllocationSlot)
    .where(
        AllocationSlot.id == bindparam("slot_id"),
        AllocationSlot.used_by_participant_id.is_(None),
        AllocationSlot.unusable_reason.is_(None),
    )
    .values(used_by_participant_id=bindparam("participant_id"), used_at=bindparam("used_at"))
)


class SlotTaken(NamedTuple):
    """A slot to be marked used by a woman at an instant."""

    slot_id: int
    participant_id: int
    used_at: datetime


def take_slot(session: Session, slot_id: int, participant_id: int, at: datetime) -> bool:
    """Mark the slot used by her if it is still free; False if another transaction took it."""
    return take_slots(session, [SlotTaken(slot_id, participant_id, at)]) == {slot_id}


_SLOTS_USED_BY = select(AllocationSlot.id, AllocationSlot.used_by_participant_id).where(
    AllocationSlot.id.in_(bindparam("slot_ids", expanding=True))
)


def take_slots(session: Session, takes: Sequence[SlotTaken]) -> set[int]:
    """Mark each slot used by its woman if it is still free (the conditional update of
    :func:`take_slot`, one statement for all); the ids of the slots taken. A slot that another
    transaction took meanwhile is not (its woman must try another)."""
    if not takes:
        return set()
    connection = session.connection()
    rows = [{"slot_id": one.slot_id, "participant_id": one.participant_id,
             "used_at": one.used_at} for one in takes]  # fmt: skip
    if connection.execute(_TAKE_SLOT, rows).rowcount == len(takes):
        return {one.slot_id for one in takes}
    ours = {(one.slot_id, one.participant_id) for one in takes}
    used = connection.execute(_SLOTS_USED_BY, {"slot_ids": [one.slot_id for one in takes]})
    return {slot_id for slot_id, owner in used if (slot_id, owner) in ours}


_INSERT_ALLOCATION = insert(Allocation).returning(Allocation.id, Allocation.participant_id)


def insert_allocation(session: Session, **values: Any) -> int:
    """Store an allocation row; returns its id."""
    return insert_allocations(session, [values])[0]


def insert_allocations(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Store allocation rows (one per woman) in one statement; their ids, in ``rows`` order."""
    if not rows:
        return []
    returned = session.connection().execute(_INSERT_ALLOCATION, list(rows))
    ids = {owner: row_id for row_id, owner in returned}  # she has one allocation at most
    return [ids[row["participant_id"]] for row in rows]


_LOCK_STRATA = (
    update(Participant)
    .where(Participant.id == bindparam("participant_id"))
    .values(
        status=bindparam("status"),
        age_band=bindparam("age_band"),
        stratum=bindparam("stratum"),
        strata=bindparam("strata", type_=Participant.__table__.c.strata.type),
        strata_locked_at=bindparam("strata_locked_at"),
    )
)


def lock_strata(session: Session, participant_id: int, **values: Any) -> None:
    """Write her new pathway status and lock her stratification fields."""
    lock_strata_of(session, [{"participant_id": participant_id, **values}])


def lock_strata_of(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """:func:`lock_strata` for several women (each row: ``participant_id`` and the values), in
    one statement."""
    if rows:
        session.connection().execute(_LOCK_STRATA, list(rows))
