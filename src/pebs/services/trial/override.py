"""Overrides of randomisation: manual assignment, and marking a list slot unusable.

Both need a privileged role (:data:`~.actor.PERMISSIONS`), a reason and an explicit
``confirm=True``, and both are audited with old and new values.

- :func:`override_allocation` (data manager): assigns an arm by hand. For a woman not yet
  randomised the gate still applies (eligible, consent, strata values) and her strata fields are
  locked, but no list slot is used. For a woman already randomised it corrects her arm, only
  while nothing arm-specific has happened yet (pathway still at ``randomised_<arm>``); the slot
  she used stays used.
- Saliva kits follow the arm (:mod:`pebs.services.samples.at_randomisation`): a woman allocated
  (or corrected) to the risk-based arm is given her kit when her study assigns kits at
  randomisation; a correction out of that arm abandons her kits that have no result yet.
- :func:`mark_slot_unusable` (statistician): takes an unused slot out of the list (for instance a
  slot revealed by accident); allocation skips it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import Conflict, InvalidInput, NotFound
from pebs.services.keys import IdentityKeys
from pebs.services.samples.at_randomisation import abandon_kits_leaving_arm, kit_at_randomisation
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.subject import birth_date, find_participant
from pebs.services.transaction import instant, local_date, transaction
from pebs.services.trial._gate import GateFacts, open_gate, strata_fields
from pebs.services.trial.allocation import Allocated
from pebs.services.trial.study_rules import arm_named, strata_of
from pebs.store.audit import append_event
from pebs.store.models import Allocation, AllocationSlot
from pebs.store.randomisation import lock_stratum
from pebs.store.repositories import get_allocation
from pebs.trial import ARM_EVENTS

__all__ = ["SlotMarked", "mark_slot_unusable", "override_allocation"]


@dataclass(frozen=True)
class SlotMarked:
    slot_id: int
    reason: str


def _confirmed(confirm: bool, reason: str) -> str:
    if confirm is not True:
        raise InvalidInput(
            "an override must be confirmed explicitly (confirm=True)", field="confirm"
        )
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("an override needs a reason", field="reason")
    return reason.strip()


@refuses_unstorable_text
def override_allocation(
    session_maker: sessionmaker[Session],
    actor: Actor,
    keys: IdentityKeys,
    study_id: str,
    *,
    arm: str,
    reason: str,
    confirm: bool = False,
    on_date: date | None = None,
    at: datetime | None = None,
) -> Allocated:
    """Assign (or correct) her arm by hand; see the module docstring."""
    require(actor, Action.OVERRIDE_ALLOCATION, needs_account=True)
    reason = _confirmed(confirm, reason)
    overridden_at = instant(at)
    with transaction(session_maker) as session:
        subject = find_participant(session, actor, study_id, for_update=True)
        participant = subject.participant
        study = subject.study(session)
        arm_named(session, study, arm)
        existing = get_allocation(session, participant.id)
        if existing is None:
            day = on_date or local_date(overridden_at, subject.country.time_zone)
            facts = GateFacts(
                participant.id, study_id, participant.status, study.id, study.name,
                subject.site.code, subject.country.code, birth_date(session, keys, participant),
            )  # fmt: skip
            gate = open_gate(session, facts, strata_of(study), day)
            lock_stratum(session, study.id, gate.stratum, is_test=participant.is_test)
            allocation = Allocation(
                participant_id=participant.id, arm=arm, method="override",
                override_reason=reason, allocated_at=overridden_at,
                allocated_by_id=actor.user_id,
            )  # fmt: skip
            session.add(allocation)
            fields = strata_fields(gate, participant.age_band, overridden_at)
            for name, value in fields.items():
                setattr(participant, name, value)
            old_state, new_state = subject.apply(ARM_EVENTS[arm])
            old: dict[str, object] = {"status": old_state, "arm": None}
            new = {"arm": arm, "method": "override", "status": new_state, **fields}
        else:
            if existing.arm == arm:
                raise Conflict(f"{study_id} is already allocated to {arm}")
            expected_state = ARM_EVENTS[existing.arm].value
            if participant.status != expected_state:
                raise Conflict(
                    f"{study_id} is {participant.status!r}: her arm can be corrected only "
                    f"before anything arm-specific happened (state {expected_state!r})"
                )
            old = {"arm": existing.arm, "method": existing.method, "status": participant.status}
            allocation = existing
            allocation.arm, allocation.method = arm, "override"
            allocation.override_reason = reason
            participant.status = ARM_EVENTS[arm].value
            new = {"arm": arm, "method": "override", "status": participant.status}
            abandon_kits_leaving_arm(
                session, participant_id=participant.id, study_id=study_id, new_arm=arm,
                actor=actor, at=overridden_at, reason=reason,
            )  # fmt: skip
        session.flush()
        kit_id = kit_at_randomisation(
            session, arm=arm, participant_id=participant.id, study_id=study_id,
            study_pk=study.id, config_sha256=study.config_sha256, actor=actor, at=overridden_at,
        )  # fmt: skip
        if kit_id is not None:
            new["kit_id"] = kit_id
        append_event(
            session, actor=actor.username, action="override", entity="allocation",
            entity_id=allocation.id, reason=reason, old=old,
            new={"participant": study_id, **new}, at=overridden_at,
        )  # fmt: skip
        return Allocated(study_id, arm, "override", participant.stratum,
                         allocation.allocated_at, created=True, kit_id=kit_id)  # fmt: skip


@refuses_unstorable_text
def mark_slot_unusable(
    session_maker: sessionmaker[Session],
    actor: Actor,
    slot_id: int,
    *,
    reason: str,
    confirm: bool = False,
    at: datetime | None = None,
) -> SlotMarked:
    """Take an unused slot out of its list (statistician); allocation skips it."""
    require(actor, Action.MARK_SLOT_UNUSABLE, needs_account=True)
    reason = _confirmed(confirm, reason)
    marked_at = instant(at)
    with transaction(session_maker) as session:
        slot = session.get(AllocationSlot, slot_id, with_for_update=True)
        if slot is None:
            raise NotFound(f"no allocation slot {slot_id}")
        if slot.used_by_participant_id is not None:
            raise Conflict(f"slot {slot_id} is already used; a used slot cannot be withdrawn")
        if slot.unusable_reason is not None:
            raise Conflict(f"slot {slot_id} is already unusable ({slot.unusable_reason})")
        slot.unusable_reason = reason
        session.flush()
        append_event(
            session, actor=actor.username, action="mark_unusable", entity="allocation_slot",
            entity_id=slot_id, reason=reason, old={"unusable_reason": None},
            new={"unusable_reason": reason}, at=marked_at,
        )  # fmt: skip
    return SlotMarked(slot_id, reason)
