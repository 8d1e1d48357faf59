"""Conflicting genotype results: a genotyped kit that a later batch scored differently.

An import never overwrites a result: the different one is stored with status ``conflict``
(:mod:`.batch_import`) and waits here for the data manager, who keeps

- the ``stored`` result: every open conflict of the kit becomes ``rejected``; or
- the ``new`` one: the latest open conflict becomes ``accepted``, the accepted result it replaces
  ``superseded``, any other open conflict ``rejected``; her risk and plan are then computed
  again from the new PRS (:func:`pebs.services.trial.risk_completion.complete_risk_in`).

Each changed result gets an audit event (``genotype_result``/``resolve``) with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import InvalidInput, NotFound
from pebs.services.field_rules import REASON_CHARS, unknown_choice
from pebs.services.keys import IdentityKeys
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.transaction import instant, transaction
from pebs.services.trial.risk_completion import complete_risk_in
from pebs.store.audit import append_event
from pebs.store.models import GenotypeResult, LabBatch, Participant, Sample

__all__ = [
    "KEEP_CHOICES",
    "ConflictResolved",
    "GenotypeConflict",
    "open_genotype_conflicts",
    "resolve_genotype_conflict",
]

KEEP_CHOICES = ("stored", "new")
"""Which result a resolution keeps: the one stored first, or the conflicting new one."""


@dataclass(frozen=True)
class GenotypeConflict:
    """An open conflict: the kit's accepted result and the different one a later batch gave."""

    kit_id: str
    study_id: str
    """Her pseudonym (the data manager's view; never shown to the laboratory)."""
    result_id: int
    batch: str
    recorded_at: datetime
    prs_z: float | None
    call_rate: float
    stored_result_id: int | None
    stored_batch: str | None
    stored_prs_z: float | None
    stored_call_rate: float | None


@dataclass(frozen=True)
class ConflictResolved:
    kit_id: str
    kept: str
    accepted_result_id: int | None
    """The kit's accepted result after the resolution (``None``: it has none)."""
    superseded: tuple[int, ...]
    rejected: tuple[int, ...]
    risk_level: str | None
    """Her new risk level when keeping the new result completed a new assessment."""


@refuses_unstorable_text
def open_genotype_conflicts(
    session_maker: sessionmaker[Session], actor: Actor
) -> tuple[GenotypeConflict, ...]:
    """Every conflict not yet resolved, oldest first, with the kit's accepted result."""
    require(actor, Action.RESOLVE_GENOTYPES)
    new, stored = aliased(GenotypeResult), aliased(GenotypeResult)
    new_batch, stored_batch = aliased(LabBatch), aliased(LabBatch)
    statement = (
        select(Sample.kit_id, Participant.study_id, new.id, new_batch.reference, new.recorded_at,
               new.prs_z, new.call_rate, stored.id, stored_batch.reference, stored.prs_z,
               stored.call_rate)
        .join(Sample, Sample.id == new.sample_id)
        .join(Participant, Participant.id == Sample.participant_id)
        .join(new_batch, new_batch.id == new.batch_id)
        .outerjoin(stored, (stored.sample_id == new.sample_id) & (stored.status == "accepted"))
        .outerjoin(stored_batch, stored_batch.id == stored.batch_id)
        .where(new.status == "conflict", new.resolved_at.is_(None))
        .order_by(new.recorded_at, new.id)
    )  # fmt: skip
    with session_maker() as session:
        return tuple(GenotypeConflict(*row) for row in session.execute(statement))


@refuses_unstorable_text
def resolve_genotype_conflict(
    session_maker: sessionmaker[Session],
    actor: Actor,
    keys: IdentityKeys,
    kit_id: str,
    *,
    keep: str,
    reason: str,
    at: datetime | None = None,
) -> ConflictResolved:
    """Resolve the open conflicts of ``kit_id`` by keeping the ``stored`` or the ``new`` result
    (see the module docstring). :class:`NotFound` for a kit without an open conflict;
    :class:`InvalidInput` for another ``keep`` or an empty or too long ``reason``."""
    require(actor, Action.RESOLVE_GENOTYPES, needs_account=True)
    if keep not in KEEP_CHOICES:
        raise unknown_choice("keep", keep, KEEP_CHOICES)
    reason = reason.strip()
    if not 1 <= len(reason) <= REASON_CHARS:
        raise InvalidInput(f"give 1 to {REASON_CHARS} characters", field="reason")
    when = instant(at)
    with transaction(session_maker) as session:
        sample = session.scalar(select(Sample).where(Sample.kit_id == kit_id).with_for_update())
        results = [] if sample is None else list(session.scalars(
            select(GenotypeResult).where(GenotypeResult.sample_id == sample.id)
            .order_by(GenotypeResult.recorded_at, GenotypeResult.id)
        ))  # fmt: skip
        conflicts = [r for r in results if r.status == "conflict" and r.resolved_at is None]
        if sample is None or not conflicts:
            raise NotFound(f"kit {kit_id!r} has no open genotype conflict")
        accepted = [r for r in results if r.status == "accepted"]
        if keep == "stored":
            changes = {r.id: "rejected" for r in conflicts}
        else:
            changes = {r.id: "rejected" for r in conflicts[:-1]}
            changes |= {r.id: "superseded" for r in accepted}
            changes[conflicts[-1].id] = "accepted"
        for result in results:
            if result.id in changes:
                _resolve(session, actor, result, changes[result.id], kit_id, keep, reason, when)
        level = None
        if keep == "new":
            participant = session.get(Participant, sample.participant_id, with_for_update=True)
            assert participant is not None  # a foreign key
            level = complete_risk_in(
                session, participant_id=participant.id, actor=actor, keys=keys, at=when
            )
        if keep == "new":
            kept: int | None = conflicts[-1].id
        else:
            kept = accepted[-1].id if accepted else None
        return ConflictResolved(
            kit_id, keep, kept, tuple(i for i, s in changes.items() if s == "superseded"),
            tuple(i for i, s in changes.items() if s == "rejected"), level,
        )  # fmt: skip


def _resolve(
    session: Session, actor: Actor, result: GenotypeResult, status: str, kit_id: str, keep: str,
    reason: str, when: datetime,
) -> None:  # fmt: skip
    old = result.status
    result.status = status
    result.resolved_at = when
    result.resolved_by_id = actor.user_id
    result.resolution_reason = reason
    append_event(
        session, actor=actor.username, action="resolve", entity="genotype_result",
        entity_id=result.id, reason=reason, old={"status": old},
        new={"kit_id": kit_id, "status": status, "kept": keep}, at=when,
    )  # fmt: skip
