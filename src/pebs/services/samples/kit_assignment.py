"""Giving a woman a saliva kit, inside the caller's transaction.

Used by the kit use cases, by randomisation (a kit for every woman randomised to the risk-based
arm when the study's ``[samples] assign_at`` is ``randomisation``) and by the laboratory import (a
new kit when a sample fails quality control). The caller holds the transaction and her row lock;
this writes the sample and its audit event and returns the new kit ID.

:func:`store_kits` writes the kits of several women in one statement (randomisation of a list of
women); their events are then written one by one (:func:`audit_kit`), each where the woman's own
events go.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from pebs.services.errors import Conflict
from pebs.store.audit import append_event
from pebs.store.models import Sample
from pebs.trial.samples import SampleRules, SampleState, new_kit_id

__all__ = ["KIT_ATTEMPTS", "NewKit", "assign_kit_in", "audit_kit", "store_kits"]

KIT_ATTEMPTS = 8
"""New random kit IDs tried before giving up (a clash among 36**8 IDs is very rare)."""
_KIT_IDS_TAKEN = select(Sample.kit_id).where(  # built once
    Sample.kit_id.in_(bindparam("kit_ids", expanding=True))
)
_INSERT_KITS = insert(Sample)
_BY_KIT_ID = select(Sample).where(Sample.kit_id == bindparam("kit_id"))


@dataclass(frozen=True)
class NewKit:
    """A kit to give a woman."""

    participant_id: int
    study_id: str
    """Her pseudonym (for the audit)."""
    at: datetime
    reason: str | None = None
    replaces: Sample | None = None
    """The failed sample this kit recollects (its state must already say so)."""


def assign_kit_in(
    session: Session,
    *,
    participant_id: int,
    study_id: str,
    rules: SampleRules,
    actor: str,
    user_id: int | None,
    at: datetime,
    replaces: Sample | None = None,
    reason: str | None = None,
) -> Sample:
    """A new kit in state ``assigned`` for her (``study_id``: her pseudonym, for the audit).

    ``replaces``: the failed sample this kit recollects (its state must already say so).
    """
    kit = NewKit(participant_id, study_id, at, reason, replaces)
    [kit_id] = store_kits(session, [kit], rules=rules, user_id=user_id)
    audit_kit(session, kit, kit_id, actor=actor)
    sample = session.scalar(_BY_KIT_ID, {"kit_id": kit_id})
    assert sample is not None  # stored above
    return sample


def store_kits(
    session: Session, kits: Sequence[NewKit], *, rules: SampleRules, user_id: int | None
) -> list[str]:
    """Store each of ``kits`` in state ``assigned`` under a new random kit ID (one statement);
    their kit IDs, in order. The caller writes each one's :func:`audit_kit` event."""
    kit_ids = _unused_kit_ids(session, rules, len(kits))
    session.connection().execute(_INSERT_KITS, [
        {"kit_id": kit_id, "participant_id": kit.participant_id,
         "state": SampleState.ASSIGNED.value,
         "replaces_sample_id": None if kit.replaces is None else kit.replaces.id,
         "assigned_at": kit.at, "assigned_by_id": user_id, "updated_at": kit.at}
        for kit, kit_id in zip(kits, kit_ids, strict=True)
    ])  # fmt: skip
    return kit_ids


def audit_kit(session: Session, kit: NewKit, kit_id: str, *, actor: str) -> None:
    """The audit event of ``kit``, stored as ``kit_id`` (:func:`store_kits`)."""
    new = {"participant": kit.study_id, "kit_id": kit_id, "state": SampleState.ASSIGNED.value}
    if kit.replaces is not None:
        new["replaces"] = kit.replaces.kit_id
    append_event(session, actor=actor, action="kit_assigned", entity="sample",
                 entity_id=kit_id, reason=kit.reason, new=new, at=kit.at)  # fmt: skip


def _unused_kit_ids(session: Session, rules: SampleRules, count: int) -> list[str]:
    """``count`` new random kit IDs, distinct and unused (:data:`KIT_ATTEMPTS` draws each)."""
    kit_ids: list[str | None] = [None] * count
    for _ in range(KIT_ATTEMPTS):
        drawn = {i: new_kit_id(rules.kit_prefix) for i, kit_id in enumerate(kit_ids)
                 if kit_id is None}  # fmt: skip
        if not drawn:
            break
        taken = set(session.scalars(_KIT_IDS_TAKEN, {"kit_ids": list(drawn.values())}))
        chosen = {kit_id for kit_id in kit_ids if kit_id is not None}
        for i, kit_id in drawn.items():
            if kit_id not in taken and kit_id not in chosen:
                kit_ids[i] = kit_id
                chosen.add(kit_id)
    if None in kit_ids:
        raise Conflict(f"no unused kit ID found after {KIT_ATTEMPTS} tries; try again")
    return [kit_id for kit_id in kit_ids if kit_id is not None]
