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
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, text, update
from sqlalchemy.orm import Session

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
    "existing_allocation",
    "gate_records",
    "insert_allocation",
    "lock_strata",
    "lock_stratum",
    "next_free_slot",
    "take_slot",
]

_STRATUM_LOCK_CLASS = 0x7065_6273  # "pebs": first key of the two-key advisory locks on strata


_ALLOCATION = select(Allocation.arm, Allocation.method, Allocation.allocated_at).where(
    Allocation.participant_id == bindparam("participant_id")
)


def existing_allocation(session: Session, participant_id: int) -> Row[Any] | None:
    """(arm, method, allocated_at) of her allocation, if she has one."""
    values = {"participant_id": participant_id}
    return session.connection().execute(_ALLOCATION, values).first()


_LATEST_ELIGIBILITY = (
    select(EligibilityAssessment.result, EligibilityAssessment.protocol_version_id)
    .where(EligibilityAssessment.participant_id == bindparam("participant_id"))
    .order_by(EligibilityAssessment.assessed_at.desc(), EligibilityAssessment.id.desc())
    .limit(1)
)
_ACTIVE_CONSENT = (
    select(Consent.id)
    .where(Consent.participant_id == bindparam("participant_id"), Consent.withdrawn_at.is_(None))
    .limit(1)
)
_PROTOCOL_IN_FORCE = (
    select(ProtocolVersion.id, ProtocolVersion.version)
    .where(
        ProtocolVersion.study_id == bindparam("study_pk"),
        ProtocolVersion.effective_from <= bindparam("day"),
    )
    .order_by(ProtocolVersion.effective_from.desc())
    .limit(1)
)
_PROTOCOL_VERSION = select(ProtocolVersion.version).where(ProtocolVersion.id == bindparam("id"))


def gate_records(
    session: Session, participant_id: int, study_pk: int, day: date
) -> tuple[Row[Any] | None, bool, Row[Any] | None]:
    """(latest eligibility (result, protocol_version_id), consent on record, protocol in force
    (id, version)) — the stored facts the allocation gate needs."""
    connection = session.connection()
    who = {"participant_id": participant_id}
    eligibility = connection.execute(_LATEST_ELIGIBILITY, who).first()
    consented = connection.execute(_ACTIVE_CONSENT, who).first() is not None
    protocol = connection.execute(_PROTOCOL_IN_FORCE, {"study_pk": study_pk, "day": day}).first()
    return eligibility, consented, protocol


def protocol_version_label(session: Session, protocol_version_id: int) -> str | None:
    """The version label of a stored protocol version (for messages)."""
    return session.connection().execute(_PROTOCOL_VERSION, {"id": protocol_version_id}).scalar()


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
_LIST_IDS = (
    select(AllocationList.id)
    .where(
        AllocationList.study_id == bindparam("study_pk"),
        AllocationList.is_test == bindparam("is_test"),
    )
    .order_by(AllocationList.version)
)
_FREE_SLOT = (  # uses ix_allocation_slots_free
    select(AllocationSlot.id, AllocationSlot.arm)
    .where(
        AllocationSlot.allocation_list_id == bindparam("list_id"),
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
    connection = session.connection()
    list_ids = connection.execute(_LIST_IDS, {"study_pk": study_pk, "is_test": is_test}).scalars()
    for list_id in list_ids.all():  # a few lists at most
        slot = connection.execute(_FREE_SLOT, {"list_id": list_id, "stratum": stratum}).first()
        if slot is not None:
            return slot
    return None


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
