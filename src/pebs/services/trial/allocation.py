"""Randomise a participant: gated, atomic, idempotent, concealed.

In one transaction:

1. her row is locked (``SELECT ... FOR UPDATE``; SQLite: the writer lock of ``BEGIN IMMEDIATE``),
   so a repeated or concurrent request for the same woman waits, then sees the first one's
   allocation and returns it unchanged (**idempotent**: same arm, nothing written);
2. the gate (:func:`pebs.trial.allocation_gate`): pathway at ``consented``, eligible under the
   protocol in force, consent on record, strata values present; every unmet condition is listed;
3. her stratum is locked (:func:`pebs.store.randomisation.lock_stratum`: on PostgreSQL the
   audit chain's lock, then an advisory lock per stratum) and the first unused slot of the
   stratum in (list version, position) order is taken by a conditional
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

An **imported** allocation (:class:`ImportedAllocation`: a trial migrating from another system)
keeps the arm and instant that system gave her, with its method and reference, and is stored
with method ``imported``: she passes the same gate, her stratum is computed and locked, her
pathway moves and the audit event is written, but no slot is taken (the lists' machinery never
sees her).

:func:`allocate_in` randomises a list of women in the caller's transaction (the enrolment
import) as if they came one after the other: their rows are locked in one statement, each
stratum once, each stratum's next slots read for its women in list order by one query, and the
slots of every stratum taken by one conditional update (:func:`allocate` is that list form called
with one woman).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import Conflict, InvalidInput, NotFound, ServiceError, StratumExhausted
from pebs.services.field_rules import unknown_choice
from pebs.services.keys import IdentityKeys
from pebs.services.samples.at_randomisation import (
    Randomised,
    current_kit_id,
    kits_at_randomisation,
)
from pebs.services.storable_text import refuse_unstorable, refuses_unstorable_text
from pebs.services.subject import one_found, participants_facts
from pebs.services.transaction import instant, local_date, transaction
from pebs.services.trial._gate import GateFacts, OpenGate, open_gate, strata_fields
from pebs.services.trial.study_rules import strata_by_digest
from pebs.store.audit import append_event
from pebs.store.randomisation import (
    GateRecords,
    RecordsWanted,
    SlotTaken,
    allocation_records_of,
    insert_allocations,
    lock_strata_of,
    lock_stratum,
    next_free_slots,
    take_slots,
)
from pebs.trial import ARM_EVENTS, TransitionError, transition

__all__ = ["Allocated", "AllocationRequest", "ImportedAllocation", "allocate", "allocate_in"]

_ATTEMPTS = 5  # slots tried if a conditional update finds its slot taken (locks make this rare)
_SOURCE_CHARS = 64  # the allocations table's source_method and source_reference


@dataclass(frozen=True)
class Allocated:
    """Her allocation. ``created`` is False when an earlier request had already made it."""

    study_id: str
    arm: str
    method: str
    """``list``, ``override`` or ``imported``."""
    stratum: str | None
    allocated_at: datetime
    created: bool
    kit_id: str | None = None
    """Her saliva kit, when her arm and study give her one at randomisation."""


@dataclass(frozen=True)
class ImportedAllocation:
    """An allocation made by the system a trial migrates from, kept as it was made there."""

    arm: str
    """One of the arms (:data:`pebs.trial.ARM_EVENTS`)."""
    source_method: str
    """How that system allocated her, in its own words (``minimisation``, ``block``...)."""
    source_reference: str | None = None
    """That system's reference of the allocation (a randomisation number)."""


@dataclass(frozen=True)
class AllocationRequest:
    """A woman to randomise (:func:`allocate_in`)."""

    study_id: str
    on_date: date | None = None
    """The randomisation date (default: the day of ``at`` in her country)."""
    at: datetime | None = None
    """The instant of her allocation (default: now)."""
    imported: ImportedAllocation | None = None
    """Her allocation as another system made it: kept, no slot taken."""


@refuses_unstorable_text
def allocate(
    session_maker: sessionmaker[Session],
    actor: Actor,
    keys: IdentityKeys,
    study_id: str,
    *,
    on_date: date | None = None,
    at: datetime | None = None,
    imported: ImportedAllocation | None = None,
) -> Allocated:
    """Allocate her the next concealed slot of her stratum (see the module docstring).

    ``on_date`` (default: today in her country) is the randomisation date: her age band and the
    protocol in force are taken on it. ``imported``: her allocation as the system the trial
    migrates from made it (kept; no slot taken). Raises :class:`~.errors.AllocationRefused`
    (gate closed, with every reason), :class:`~.errors.StratumExhausted`,
    :class:`~.errors.NotFound` (not in the actor's scope) or :class:`~.errors.PermissionDenied`.
    """
    require(actor, Action.ALLOCATE, needs_account=True)
    request = AllocationRequest(study_id, on_date, at, imported)
    with transaction(session_maker) as session:
        [outcome] = allocate_in(session, actor, keys, [request])
        if isinstance(outcome, ServiceError):
            raise outcome
        return outcome


def allocate_in(
    session: Session,
    actor: Actor,
    keys: IdentityKeys,
    requests: Sequence[AllocationRequest],
) -> list[Allocated | ServiceError]:
    """:func:`allocate` for each of ``requests`` in the caller's writing transaction (never
    committed here), as if they came one after the other; in ``requests`` order, her allocation
    or the error that refuses her (nothing is written for a woman refused).

    A fixed number of statements per list and stratum, plus each woman's audit event (and her
    kit, when she is given one). :class:`~.errors.PermissionDenied` is raised for the whole
    list; a database error propagates (the caller rolls back).
    """
    require(actor, Action.ALLOCATE, needs_account=True)
    outcomes: list[Allocated | ServiceError] = []
    for run in _runs_without_repeats(requests):
        outcomes.extend(_allocate_run(session, actor, keys, run))
    return outcomes


def _runs_without_repeats(
    requests: Sequence[AllocationRequest],
) -> Iterator[Sequence[AllocationRequest]]:
    """``requests`` cut into consecutive runs in which no woman appears twice (a repeated
    request must see the allocation that the one before it made)."""
    start, seen = 0, set()
    for i, request in enumerate(requests):
        if request.study_id in seen:
            yield requests[start:i]
            start, seen = i, set()
        seen.add(request.study_id)
    if start < len(requests):
        yield requests[start:]


@dataclass
class _Woman:
    """A woman of the list who passed the gate, on her way to a slot."""

    index: int
    """Her place in the list."""
    her: Row[Any]
    day: date
    at: datetime
    gate: OpenGate
    imported: ImportedAllocation | None = None
    attempts: int = 0
    """Slots tried that another transaction had taken."""


_Placed = tuple[_Woman, int | None, str]
"""A woman with the id and arm of the slot she took (no slot: her imported arm)."""


def _allocate_run(
    session: Session, actor: Actor, keys: IdentityKeys, requests: Sequence[AllocationRequest]
) -> list[Allocated | ServiceError]:
    outcomes: list[Allocated | ServiceError | None] = [None] * len(requests)
    instants: dict[int, datetime] = {}
    for i, request in enumerate(requests):
        try:
            refuse_unstorable({"study_id": request.study_id, "imported": request.imported})
            _check_imported(request.imported)
            instants[i] = instant(request.at)
        except ServiceError as refusal:
            outcomes[i] = refusal
    found = participants_facts(session, actor, [requests[i].study_id for i in instants],
                               for_update=True)  # fmt: skip
    located: list[tuple[int, Row[Any], date]] = []
    for i in instants:
        study_id = requests[i].study_id
        try:
            her = one_found(found, study_id)
        except NotFound as error:
            outcomes[i] = error
            continue
        located.append((i, her, requests[i].on_date or local_date(instants[i], her.time_zone)))
    records = allocation_records_of(session, [
        RecordsWanted(her.participant_id, her.study_pk, day) for _, her, day in located
    ])  # fmt: skip
    women: list[_Woman] = []
    for (i, her, day), (existing, gate_records) in zip(located, records, strict=True):
        if existing is not None:
            kit_id = current_kit_id(session, arm=existing.arm, participant_id=her.participant_id)
            outcomes[i] = Allocated(
                her.study_id, existing.arm, existing.method, her.stratum, existing.allocated_at,
                created=False, kit_id=kit_id,
            )  # fmt: skip
            continue
        try:
            gate = _open_gate(session, keys, her, day, gate_records)
        except ServiceError as refusal:
            outcomes[i] = refusal
            continue
        women.append(_Woman(i, her, day, instants[i], gate, requests[i].imported))
    placed, refused = _take_slots(session, [w for w in women if w.imported is None])
    for woman, refusal in refused:
        outcomes[woman.index] = refusal
    placed.extend((w, None, w.imported.arm) for w in women if w.imported is not None)
    placed.sort(key=lambda one: one[0].index)
    for (woman, _, _), allocated in zip(placed, _store(session, actor, placed), strict=True):
        outcomes[woman.index] = allocated
    done = [outcome for outcome in outcomes if outcome is not None]
    assert len(done) == len(requests)  # each woman allocated or refused
    return done


def _open_gate(
    session: Session, keys: IdentityKeys, her: Row[Any], day: date, records: GateRecords
) -> OpenGate:
    """The gate opened for her (:func:`~pebs.services.trial._gate.open_gate`) or its refusal."""
    if her.date_of_birth_enc is None:
        raise Conflict(
            f"{her.study_id} has no identity record (date of birth)",
            message_code="error.no_identity",
        )
    facts = GateFacts(
        her.participant_id, her.study_id, her.status, her.study_pk, her.study_name,
        her.site_code, her.country_code, keys.cipher.decrypt_date(her.date_of_birth_enc),
    )  # fmt: skip
    strata = strata_by_digest(session, her.study_pk, her.config_sha256)
    return open_gate(session, facts, strata, day, records)


def _take_slots(
    session: Session, women: Sequence[_Woman]
) -> tuple[list[_Placed], list[tuple[_Woman, ServiceError]]]:
    """Give each woman the next free slot of her stratum, in list order: (the women placed, in
    list order, with their slot id and arm; the women refused, with why).

    Each stratum is locked once (in a fixed order: concurrent lists wait instead of
    deadlocking) and its next slots read by one query; the slots of every stratum are then
    taken by one conditional update; a slot found taken by another transaction is retried for
    its woman (and a stratum whose list ran out before its women, in the next list)."""
    strata: dict[tuple[int, str, bool], list[_Woman]] = {}
    for woman in women:
        key = (woman.her.study_pk, woman.gate.stratum, bool(woman.her.is_test))
        strata.setdefault(key, []).append(woman)
    placed: list[_Placed] = []
    refused: list[tuple[_Woman, ServiceError]] = []
    locked: set[tuple[int, str, bool]] = set()
    while strata:
        offered: list[tuple[tuple[int, str, bool], list[tuple[Any, _Woman]]]] = []
        for key, pending in sorted(strata.items()):
            study_pk, stratum, is_test = key
            if key not in locked:
                lock_stratum(session, study_pk, stratum, is_test=is_test)
                locked.add(key)
            free = next_free_slots(session, study_pk, stratum, len(pending), is_test=is_test)
            if not free:
                refused.extend((woman, _exhausted(stratum, is_test=is_test)) for woman in pending)
                continue
            offered.append((key, list(zip(free, pending, strict=False))))
        taken = take_slots(session, [
            SlotTaken(slot.id, woman.her.participant_id, woman.at)
            for _, pairs in offered for slot, woman in pairs
        ])  # fmt: skip
        next_round: dict[tuple[int, str, bool], list[_Woman]] = {}
        for key, pairs in offered:
            retried = []
            for slot, woman in pairs:
                if slot.id in taken:
                    placed.append((woman, slot.id, slot.arm))
                    continue
                woman.attempts += 1
                if woman.attempts < _ATTEMPTS:
                    retried.append(woman)
                else:
                    refused.append((woman, Conflict(
                        f"stratum {key[1]}: every slot tried was taken at the same time; "
                        "try again", message_code="error.try_again",
                    )))  # fmt: skip
            rest = retried + strata[key][len(pairs) :]
            if rest:
                next_round[key] = rest
        strata = next_round
    return placed, refused


def _check_imported(imported: ImportedAllocation | None) -> None:
    if imported is None:
        return
    if imported.arm not in ARM_EVENTS:
        raise unknown_choice("arm", imported.arm, tuple(ARM_EVENTS))
    for name in ("source_method", "source_reference"):
        text = getattr(imported, name)
        if text is None and name == "source_reference":
            continue
        if not isinstance(text, str) or not text.strip() or len(text) > _SOURCE_CHARS:
            raise InvalidInput(
                f"give the source system's {name.removeprefix('source_')} "
                f"(1 to {_SOURCE_CHARS} characters)",
                field=f"allocation_{name.removeprefix('source_')}",
            )


def _exhausted(stratum: str, *, is_test: bool) -> StratumExhausted:
    kind = "test allocation lists" if is_test else "allocation lists"
    return StratumExhausted(
        f"stratum {stratum} has no unused slot left in the study's {kind}; the statistician "
        "must generate an extension list before anyone else in this stratum can be randomised",
        stratum,
    )


def _store(session: Session, actor: Actor, placed: Sequence[_Placed]) -> list[Allocated]:
    """Store the allocations of the women ``placed`` (in list order), lock their strata, move
    their pathways, give their kits; each woman's audit events in list order."""
    states, fields = [], []
    for woman, _, arm in placed:
        try:
            states.append(transition(woman.her.status, ARM_EVENTS[arm]).value)
        except TransitionError as error:  # the gate checked the state: a bug if reached
            raise Conflict(f"{woman.her.study_id}: {error}") from None
        fields.append(strata_fields(woman.gate, woman.her.age_band, woman.at))
    ids = insert_allocations(session, [
        {"participant_id": woman.her.participant_id, "allocation_slot_id": slot_id, "arm": arm,
         "method": _method(woman), "allocated_at": woman.at, "allocated_by_id": actor.user_id,
         **_source(woman)}
        for woman, slot_id, arm in placed
    ])  # fmt: skip
    lock_strata_of(session, [
        {"participant_id": woman.her.participant_id, "status": state, **locked}
        for (woman, _, _), state, locked in zip(placed, states, fields, strict=True)
    ])  # fmt: skip
    kits = kits_at_randomisation(session, [
        Randomised(woman.her.participant_id, woman.her.study_id, woman.her.study_pk,
                   woman.her.config_sha256, arm, woman.at) for woman, _, arm in placed
    ], user_id=actor.user_id)  # fmt: skip
    allocated = []
    for (woman, slot_id, arm), allocation_id, state, locked, kit in zip(
        placed, ids, states, fields, kits, strict=True
    ):
        her, kit_id = woman.her, None if kit is None else kit.kit_id
        if kit is not None:
            kit.audit(session, actor)
        method = _method(woman)
        append_event(
            session, actor=actor.username, action="allocate", entity="allocation",
            entity_id=allocation_id, reason=_REASONS[method],
            old={"status": her.status},
            new={"participant": her.study_id, "arm": arm, "method": method,
                 "allocation_slot_id": slot_id, "randomised_on": woman.day, "status": state,
                 **locked, **({} if kit_id is None else {"kit_id": kit_id}), **_source(woman)},
            at=woman.at,
        )  # fmt: skip
        allocated.append(Allocated(her.study_id, arm, method, woman.gate.stratum, woman.at,
                                   created=True, kit_id=kit_id))  # fmt: skip
    return allocated


_REASONS = {"list": "randomisation", "imported": "allocation imported from the source system"}


def _method(woman: _Woman) -> str:
    return "list" if woman.imported is None else "imported"


def _source(woman: _Woman) -> dict[str, str | None]:
    """The source system's method and reference (``None`` for a list allocation)."""
    imported = woman.imported
    if imported is None:
        return {"source_method": None, "source_reference": None}
    return {"source_method": imported.source_method.strip(),
            "source_reference": (imported.source_reference or "").strip() or None}  # fmt: skip
