"""Kits and the allocated arm: a kit for every woman randomised to the risk-based arm when her
study's ``[samples] assign_at`` is ``randomisation``, and her open kits abandoned when a manual
correction moves her out of that arm.

Called by randomisation (:mod:`pebs.services.trial.allocation`) and by the data manager's manual
allocation (:mod:`pebs.services.trial.override`) inside their transaction, with her row locked:
the kit and its audit event are written, or nothing is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from pebs.services.actor import Actor
from pebs.services.errors import Conflict
from pebs.services.samples._kits import move, open_kit, open_kit_ids
from pebs.services.samples.kit_assignment import NewKit, audit_kit, store_kits
from pebs.store.audit import append_event
from pebs.store.models import Sample, Study
from pebs.trial.samples import (
    SampleEvent,
    SampleRules,
    SampleTransitionError,
    next_state,
    sample_rules_from_json,
)

__all__ = [
    "KIT_ARM",
    "KitAtRandomisation",
    "Randomised",
    "abandon_kits_leaving_arm",
    "abandon_open_kits_in",
    "current_kit_id",
    "kit_at_randomisation",
    "kits_at_randomisation",
    "sample_rules_by_digest",
]

KIT_ARM = "risk-based"
"""The arm whose women give saliva (their polygenic score is part of their risk)."""
AT_RANDOMISATION = "randomisation"
"""``[samples] assign_at`` value: a kit is assigned when she is randomised to :data:`KIT_ARM`."""

_STUDY_CONFIG = select(Study.config).where(Study.id == bindparam("study_pk"))
_RULES_CACHE: dict[tuple[int, str], SampleRules] = {}


def sample_rules_by_digest(
    session: Session, study_pk: int, config_sha256: str | None
) -> SampleRules:
    """The study's kit rules, read once per process and configuration digest (randomisation is
    the hot path; a stored configuration never changes without its SHA-256 changing)."""
    if config_sha256 is None:
        raise Conflict(f"study id {study_pk} has no stored configuration; load it again")
    key = (study_pk, config_sha256)
    rules = _RULES_CACHE.get(key)
    if rules is None:
        config = session.connection().execute(_STUDY_CONFIG, {"study_pk": study_pk}).scalar()
        rules = sample_rules_from_json((config or {}).get("samples"))
        if len(_RULES_CACHE) > 64:  # studies and their versions: a handful per installation
            _RULES_CACHE.clear()
        _RULES_CACHE[key] = rules
    return rules


def kit_at_randomisation(
    session: Session,
    *,
    arm: str,
    participant_id: int,
    study_id: str,
    study_pk: int,
    config_sha256: str | None,
    actor: Actor,
    at: datetime,
) -> str | None:
    """Her new kit ID when she was just allocated :data:`KIT_ARM` and her study assigns kits at
    randomisation (her open kit, if she already has one); else ``None``."""
    woman = Randomised(participant_id, study_id, study_pk, config_sha256, arm, at)
    [kit] = kits_at_randomisation(session, [woman], user_id=actor.user_id)
    if kit is None:
        return None
    kit.audit(session, actor)
    return kit.kit_id


@dataclass(frozen=True)
class Randomised:
    """A woman just allocated ``arm`` (:func:`kits_at_randomisation`)."""

    participant_id: int
    study_id: str
    study_pk: int
    config_sha256: str | None
    arm: str
    at: datetime


@dataclass(frozen=True)
class KitAtRandomisation:
    """Her kit: a new one stored (``new`` set: its event is still to be written), or her open
    kit."""

    kit_id: str
    new: NewKit | None

    def audit(self, session: Session, actor: Actor) -> None:
        """Write the new kit's audit event (nothing for a kit she already had)."""
        if self.new is not None:
            audit_kit(session, self.new, self.kit_id, actor=actor.username)


def kits_at_randomisation(
    session: Session, women: Sequence[Randomised], *, user_id: int | None
) -> list[KitAtRandomisation | None]:
    """:func:`kit_at_randomisation` for several women (each once), in ``women`` order, the new
    kits stored in one statement per study; their audit events are the caller's to write
    (:meth:`KitAtRandomisation.audit`), each in its woman's place."""
    given: list[KitAtRandomisation | None] = [None] * len(women)
    wanted: dict[int, list[int]] = {}
    for i, woman in enumerate(women):
        if woman.arm != KIT_ARM:
            continue
        rules = sample_rules_by_digest(session, woman.study_pk, woman.config_sha256)
        if rules.assign_at == AT_RANDOMISATION:
            wanted.setdefault(woman.study_pk, []).append(i)
    if not wanted:
        return given
    opened = open_kit_ids(session, [women[i].participant_id for ids in wanted.values()
                                    for i in ids])  # fmt: skip
    for ids in wanted.values():
        new: list[tuple[int, NewKit]] = []
        for i in ids:
            woman = women[i]
            if woman.participant_id in opened:
                given[i] = KitAtRandomisation(opened[woman.participant_id], None)
            else:
                new.append((i, NewKit(woman.participant_id, woman.study_id, woman.at,
                                      reason=f"randomisation to the {KIT_ARM} arm")))  # fmt: skip
        if not new:
            continue
        first = women[new[0][0]]
        rules = sample_rules_by_digest(session, first.study_pk, first.config_sha256)
        kit_ids = store_kits(session, [kit for _, kit in new], rules=rules, user_id=user_id)
        for (i, kit), kit_id in zip(new, kit_ids, strict=True):
            given[i] = KitAtRandomisation(kit_id, kit)
    return given


def current_kit_id(session: Session, *, arm: str, participant_id: int) -> str | None:
    """Her kit that still counts when she is in :data:`KIT_ARM` (a repeated randomisation
    request returns it), else ``None``."""
    if arm != KIT_ARM:
        return None
    existing = open_kit(session, participant_id)
    return None if existing is None else existing.kit_id


def abandon_kits_leaving_arm(
    session: Session,
    *,
    participant_id: int,
    study_id: str,
    new_arm: str,
    actor: Actor,
    at: datetime,
    reason: str,
) -> tuple[str, ...]:
    """Abandon her open kits when her arm is corrected to ``new_arm`` (nothing changes when
    ``new_arm`` is :data:`KIT_ARM`); their kit IDs."""
    if new_arm == KIT_ARM:
        return ()
    return abandon_open_kits_in(
        session, participant_id=participant_id, study_id=study_id, actor=actor, at=at,
        why=f"arm corrected to {new_arm}: {reason}",
    )  # fmt: skip


def abandon_open_kits_in(
    session: Session, *, participant_id: int, study_id: str, actor: Actor, at: datetime, why: str
) -> tuple[str, ...]:
    """Abandon, with reason ``why``, her kits that may still be abandoned
    (:func:`pebs.trial.samples.next_state`: every state before a result, and a failed one); their
    kit IDs. A genotyped kit stays."""
    samples = session.scalars(
        select(Sample)
        .where(Sample.participant_id == participant_id)
        .order_by(Sample.id)
        .with_for_update()
    ).all()
    abandoned = []
    for sample in samples:
        if not _abandonable(sample.state):
            continue
        old, new = move(sample, SampleEvent.ABANDON)
        sample.abandoned_reason = why
        sample.updated_at = at
        append_event(
            session, actor=actor.username, action="abandon", entity="sample",
            entity_id=sample.kit_id, reason=why, old={"state": old},
            new={"participant": study_id, "state": new}, at=at,
        )  # fmt: skip
        abandoned.append(sample.kit_id)
    return tuple(abandoned)


def _abandonable(state: str) -> bool:
    try:
        next_state(state, SampleEvent.ABANDON)
    except SampleTransitionError:
        return False
    return True
