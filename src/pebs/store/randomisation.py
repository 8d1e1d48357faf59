"""Queries of the allocation path, written as prebuilt Core statements.

Randomisation is the platform's hot path (goal: >= 1,000 register+allocate per second), so
these statements are built once at import and executed on the session's connection: no ORM
objects are loaded or flushed, and SQLAlchemy reuses their compiled form. They never commit.

What they implement is described with the use case (:mod:`pebs.services.trial.allocation`):
her row locked, the stratum locked, the stratum's first free slot taken by a conditional update.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Row, bindparam, exists, insert, select, text, update
from sqlalchemy.orm import Session, aliased

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
    "StoredAllocation",
    "allocation_records",
    "gate_records",
    "insert_allocation",
    "lock_strata",
    "lock_stratum",
    "next_free_slot",
    "take_slot",
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
_LATEST_ASSESSMENT = (
    select(_ASSESSMENT.id)
    .where(_ASSESSMENT.participant_id == bindparam("participant_id"))
    .order_by(_ASSESSMENT.assessed_at.desc(), _ASSESSMENT.id.desc())
    .limit(1)
    .scalar_subquery()
)
_IN_FORCE = (
    select(ProtocolVersion.id)
    .where(
        ProtocolVersion.study_id == bindparam("study_pk"),
        ProtocolVersion.effective_from <= bindparam("day"),
    )
    .order_by(ProtocolVersion.effective_from.desc())
    .limit(1)
    .scalar_subquery()
)
_ASSESSED_UNDER, _PROTOCOL = aliased(ProtocolVersion), aliased(ProtocolVersion)
_RECORDS = (  # one row (her participant row anchors it): every part is a lookup by index
    select(
        Allocation.arm,
        Allocation.method,
        Allocation.allocated_at,
        EligibilityAssessment.result,
        EligibilityAssessment.protocol_version_id,
        _ASSESSED_UNDER.version.label("assessed_under"),
        exists()
        .where(
            Consent.participant_id == bindparam("participant_id"), Consent.withdrawn_at.is_(None)
        )
        .label("consented"),
        _PROTOCOL.id.label("in_force_id"),
        _PROTOCOL.version.label("in_force_version"),
    )
    .select_from(Participant)
    .outerjoin(Allocation, Allocation.participant_id == Participant.id)
    .outerjoin(EligibilityAssessment, EligibilityAssessment.id == _LATEST_ASSESSMENT)
    .outerjoin(_ASSESSED_UNDER, _ASSESSED_UNDER.id == EligibilityAssessment.protocol_version_id)
    .outerjoin(_PROTOCOL, _PROTOCOL.id == _IN_FORCE)
    .where(Participant.id == bindparam("participant_id"))
)


def allocation_records(
    session: Session, participant_id: int, study_pk: int, day: date
) -> tuple[StoredAllocation | None, GateRecords]:
    """(her allocation if she has one, the gate's records on ``day``), read in one statement:
    what randomisation reads once her row is locked."""
    values = {"participant_id": participant_id, "study_pk": study_pk, "day": day}
    row = session.connection().execute(_RECORDS, values).one()
    allocation = (
        None if row.arm is None else StoredAllocation(row.arm, row.method, row.allocated_at)
    )
    eligibility = (
        None
        if row.result is None
        else Eligibility(row.result, row.protocol_version_id, row.assessed_under)
    )
    in_force = (
        None if row.in_force_id is None else ProtocolInForce(row.in_force_id, row.in_force_version)
    )
    return allocation, GateRecords(eligibility, bool(row.consented), in_force)


def gate_records(session: Session, participant_id: int, study_pk: int, day: date) -> GateRecords:
    """The stored facts the allocation gate needs (:func:`allocation_records` without her
    allocation)."""
    return allocation_records(session, participant_id, study_pk, day)[1]


def lock_stratum(session: Session, study_pk: int, stratum: str, *, is_test: bool = False) -> None:
    """Serialise allocations in one stratum until the end of the transaction.

    PostgreSQL: a transaction-level advisory lock on (study, stratum, test flag); allocations in
    other strata proceed in parallel. SQLite: nothing to do, the transaction already holds the
    writer lock. Call it before :func:`next_free_slot`, so that concurrent allocations take the
    slots strictly in list order and never the same one.
    """
    connection = session.connection()
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
    .limit(1)
)


def next_free_slot(
    session: Session, study_pk: int, stratum: str, *, is_test: bool = False
) -> Row[Any] | None:
    """(id, arm) of the stratum's first unused, usable slot in (list version, position) order;
    ``None`` when every list of the study is exhausted for this stratum."""
    values = {"study_pk": study_pk, "is_test": is_test, "stratum": stratum}
    return session.connection().execute(_FREE_SLOT, values).first()


_TAKE_SLOT = (
    update(AllocationSlot)
    .where(
        AllocationSlot.id == bindparam("slot_id"),
        AllocationSlot.used_by_participant_id.is_(None),
        AllocationSlot.unusable_reason.is_(None),
    )
    .values(used_by_participant_id=bindparam("participant_id"), used_at=bindparam("used_at"))
)


def take_slot(session: Session, slot_id: int, participant_id: int, at: datetime) -> bool:
    """Mark the slot used by her if it is still free; False if another transaction took it."""
    values = {"slot_id": slot_id, "participant_id": participant_id, "used_at": at}
    return session.connection().execute(_TAKE_SLOT, values).rowcount == 1


_INSERT_ALLOCATION = insert(Allocation).returning(Allocation.id)


def insert_allocation(session: Session, **values: Any) -> int:
    """Store an allocation row; returns its id."""
    return int(session.connection().execute(_INSERT_ALLOCATION, values).scalar_one())


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
    session.connection().execute(_LOCK_STRATA, {"participant_id": participant_id, **values})
