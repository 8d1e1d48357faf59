"""Randomise a participant: gated, atomic, idempotent, concealed.

In one transaction:

1. her row is locked (``SELECT ... FOR UPDATE``; SQLite: the writer lock of ``BEGIN IMMEDIATE``),
   so a repeated or concurrent request for the same woman waits, then sees the first one's
   allocation and returns it unchanged (**idempotent**: same arm, nothing written);
2. the gate (:func:`pebs.trial.allocation_gate`): pathway at ``consented``, eligible under the
   protocol in force, consent on record, strata values present; every unmet condition is listed;
3. her stratum is locked (:func:`pebs.store.repositories.lock_stratum`: a PostgreSQL advisory
   lock per stratum, so strata proceed in parallel) and the first unused slot of the stratum in
   (list version, position) order is taken by a conditional
   ``UPDATE allocation_slots SET used_by_participant_id = ... WHERE id = ... AND
   used_by_participant_id IS NULL AND unusable_reason IS NULL`` (**atomic**: a slot is taken by
   exactly one transaction; if the update finds it taken, the next one is tried);
4. no slot left: :class:`~.errors.StratumExhausted`, nothing written (never a fallback);
5. the allocation is stored, her strata fields are locked, the pathway moves to
   ``randomised_<arm>``, and the audit event is written.

The result tells the arm; never the list, the slot position or the block.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.trial._gate import lock_strata_fields, open_gate
from pebs.services.trial._participants import find_participant
from pebs.services.trial._transaction import instant, local_date, transaction
from pebs.services.trial.actor import Action, Actor, require
from pebs.services.trial.errors import Conflict, StratumExhausted
from pebs.services.trial.keys import IdentityKeys
from pebs.store.audit import append_event
from pebs.store.models import Allocation, AllocationSlot
from pebs.store.repositories import get_allocation, lock_stratum, next_free_slot
from pebs.trial import ARM_EVENTS

__all__ = ["Allocated", "allocate"]

_ATTEMPTS = 5  # slots tried if a conditional update finds its slot taken (locks make this rare)


@dataclass(frozen=True)
class Allocated:
    """Her allocation. ``created`` is False when an earlier request had already made it."""

    study_id: str
    arm: str
    method: str
    """``list`` or ``override``."""
    stratum: str | None
    allocated_at: datetime
    created: bool


def _result(study_id: str, allocation: Allocation, stratum: str | None, created: bool) -> Allocated:
    return Allocated(
        study_id, allocation.arm, allocation.method, stratum, allocation.allocated_at, created
    )


def allocate(
    session_maker: sessionmaker[Session],
    actor: Actor,
    keys: IdentityKeys,
    study_id: str,
    *,
    on_date: date | None = None,
    at: datetime | None = None,
) -> Allocated:
    """Allocate her the next concealed slot of her stratum (see the module docstring).

    ``on_date`` (default: today in her country) is the randomisation date: her age band and the
    protocol in force are taken on it. Raises :class:`~.errors.AllocationRefused` (gate closed,
    with every reason), :class:`~.errors.StratumExhausted`, :class:`~.errors.NotFound` (not in
    the actor's scope) or :class:`~.errors.PermissionDenied`.
    """
    require(actor, Action.ALLOCATE, needs_account=True)
    allocated_at = instant(at)
    with transaction(session_maker) as session:
        subject = find_participant(session, actor, study_id, for_update=True)
        participant = subject.participant
        existing = get_allocation(session, participant.id)
        if existing is not None:
            return _result(study_id, existing, participant.stratum, created=False)
        study = subject.study(session)
        day = on_date or local_date(allocated_at, subject.country.time_zone)
        gate = open_gate(session, keys, subject, study, day)
        lock_stratum(session, study.id, gate.stratum, is_test=participant.is_test)
        slot_id, arm = _take_slot(session, study.id, gate.stratum, participant.id, allocated_at,
                                  is_test=participant.is_test)  # fmt: skip
        allocation = Allocation(
            participant_id=participant.id, allocation_slot_id=slot_id, arm=arm, method="list",
            allocated_at=allocated_at, allocated_by_id=actor.user_id,
        )  # fmt: skip
        session.add(allocation)
        locked = lock_strata_fields(subject, gate, allocated_at)
        old_state, new_state = subject.apply(ARM_EVENTS[arm])
        session.flush()
        append_event(
            session, actor=actor.username, action="allocate", entity="allocation",
            entity_id=allocation.id, reason="randomisation",
            old={"status": old_state},
            new={"participant": study_id, "arm": arm, "method": "list",
                 "allocation_slot_id": slot_id, "randomised_on": day, "status": new_state,
                 **locked},
            at=allocated_at,
        )  # fmt: skip
        return _result(study_id, allocation, gate.stratum, created=True)


def _take_slot(
    session: Session,
    study_id: int,
    stratum: str,
    participant_id: int,
    at: datetime,
    *,
    is_test: bool,
) -> tuple[int, str]:
    """Take the stratum's next free slot with a conditional UPDATE; (slot id, arm)."""
    for _ in range(_ATTEMPTS):
        slot = next_free_slot(session, study_id, stratum, is_test=is_test)
        if slot is None:
            kind = "test allocation lists" if is_test else "allocation lists"
            raise StratumExhausted(
                f"stratum {stratum} has no unused slot left in the study's {kind}; the "
                "statistician must generate an extension list before anyone else in this "
                "stratum can be randomised",
                stratum,
            )
        taken = session.execute(
            update(AllocationSlot)
            .where(
                AllocationSlot.id == slot.id,
                AllocationSlot.used_by_participant_id.is_(None),
                AllocationSlot.unusable_reason.is_(None),
            )
            .values(used_by_participant_id=participant_id, used_at=at)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken == 1:
            return slot.id, slot.arm
    raise Conflict(f"stratum {stratum}: every slot tried was taken at the same time; try again")
