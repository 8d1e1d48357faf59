"""Randomise a participant: gated, atomic, idempotent, concealed.

In one transaction:

1. her row is locked (``SELECT ... FOR UPDATE``; SQLite: the writer lock of ``BEGIN IMMEDIATE``),
   so a repeated or concurrent request for the same woman waits, then sees the first one's
   allocation and returns it unchanged (**idempotent**: same arm, nothing written);
2. the gate (:func:`pebs.trial.allocation_gate`): pathway at ``consented``, eligible under the
   protocol in force, consent on record, strata values present; every unmet condition is listed;
3. her stratum is locked (:func:`pebs.store.randomisation.lock_stratum`: a PostgreSQL advisory
   lock per stratum, so strata proceed in parallel) and the first unused slot of the stratum in
   (list version, position) order is taken by a conditional
   ``UPDATE allocation_slots SET used_by_participant_id = ... WHERE id = ... AND
   used_by_participant_id IS NULL AND unusable_reason IS NULL`` (**atomic**: a slot is taken by
   exactly one transaction; if the update finds it taken, the next one is tried);
4. no slot left: :class:`~.errors.StratumExhausted`, nothing written (never a fallback);
5. the allocation is stored, her strata fields are locked, the pathway moves to
   ``randomised_<arm>``, and the audit event is written;
6. a woman of the risk-based arm whose study assigns saliva kits at randomisation
   (``[samples] assign_at``) is given her kit (:mod:`pebs.services.samples.at_randomisation`),
   audited just before the allocation, whose event names the kit.

The result tells the arm; never the list, the slot position or the block.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import Conflict, NotFound, StratumExhausted
from pebs.services.keys import IdentityKeys
from pebs.services.samples.at_randomisation import current_kit_id, kit_at_randomisation
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.transaction import instant, local_date, transaction
from pebs.services.trial._gate import GateFacts, open_gate, strata_fields
from pebs.services.trial.study_rules import strata_by_digest
from pebs.store.audit import append_event
from pebs.store.participant_lookup import Projection, participant_in_scope
from pebs.store.randomisation import (
    allocation_records,
    insert_allocation,
    lock_strata,
    lock_stratum,
    next_free_slot,
    take_slot,
)
from pebs.trial import ARM_EVENTS, TransitionError, transition

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
    kit_id: str | None = None
    """Her saliva kit, when her arm and study give her one at randomisation."""


@refuses_unstorable_text
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
        her = participant_in_scope(
            session, actor.scope, study_id, projection=Projection.FACTS, for_update=True
        )
        if her is None:
            raise NotFound(
                f"no participant {study_id!r} (in your sites)",
                message_code="error.no_participant",
                values={"study_id": study_id},
            )
        day = on_date or local_date(allocated_at, her.time_zone)
        existing, records = allocation_records(session, her.participant_id, her.study_pk, day)
        if existing is not None:
            kit_id = current_kit_id(session, arm=existing.arm, participant_id=her.participant_id)
            return Allocated(study_id, existing.arm, existing.method, her.stratum,
                             existing.allocated_at, created=False, kit_id=kit_id)  # fmt: skip
        if her.date_of_birth_enc is None:
            raise Conflict(
                f"{study_id} has no identity record (date of birth)",
                message_code="error.no_identity",
            )
        facts = GateFacts(
            her.participant_id, study_id, her.status, her.study_pk, her.study_name,
            her.site_code, her.country_code, keys.cipher.decrypt_date(her.date_of_birth_enc),
        )  # fmt: skip
        strata = strata_by_digest(session, her.study_pk, her.config_sha256)
        gate = open_gate(session, facts, strata, day, records)
        lock_stratum(session, her.study_pk, gate.stratum, is_test=her.is_test)
        slot_id, arm = _take_slot(session, her.study_pk, gate.stratum, her.participant_id,
                                  allocated_at, is_test=her.is_test)  # fmt: skip
        try:
            new_state = transition(her.status, ARM_EVENTS[arm]).value
        except TransitionError as error:  # the gate checked the state: a bug if reached
            raise Conflict(f"{study_id}: {error}") from None
        allocation_id = insert_allocation(
            session, participant_id=her.participant_id, allocation_slot_id=slot_id, arm=arm,
            method="list", allocated_at=allocated_at, allocated_by_id=actor.user_id,
        )  # fmt: skip
        fields = strata_fields(gate, her.age_band, allocated_at)
        lock_strata(session, her.participant_id, status=new_state, **fields)
        kit_id = kit_at_randomisation(
            session, arm=arm, participant_id=her.participant_id, study_id=study_id,
            study_pk=her.study_pk, config_sha256=her.config_sha256, actor=actor, at=allocated_at,
        )  # fmt: skip
        append_event(
            session, actor=actor.username, action="allocate", entity="allocation",
            entity_id=allocation_id, reason="randomisation",
            old={"status": her.status},
            new={"participant": study_id, "arm": arm, "method": "list",
                 "allocation_slot_id": slot_id, "randomised_on": day, "status": new_state,
                 **fields, **({} if kit_id is None else {"kit_id": kit_id})},
            at=allocated_at,
        )  # fmt: skip
        return Allocated(
            study_id, arm, "list", gate.stratum, allocated_at, created=True, kit_id=kit_id
        )


def _take_slot(
    session: Session,
    study_pk: int,
    stratum: str,
    participant_id: int,
    at: datetime,
    *,
    is_test: bool,
) -> tuple[int, str]:
    """Take the stratum's next free slot with a conditional UPDATE; (slot id, arm)."""
    for _ in range(_ATTEMPTS):
        slot = next_free_slot(session, study_pk, stratum, is_test=is_test)
        if slot is None:
            kind = "test allocation lists" if is_test else "allocation lists"
            raise StratumExhausted(
                f"stratum {stratum} has no unused slot left in the study's {kind}; the "
                "statistician must generate an extension list before anyone else in this "
                "stratum can be randomised",
                stratum,
            )
        if take_slot(session, slot.id, participant_id, at):
            return slot.id, slot.arm
    raise Conflict(
        f"stratum {stratum}: every slot tried was taken at the same time; try again",
        message_code="error.try_again",
    )
