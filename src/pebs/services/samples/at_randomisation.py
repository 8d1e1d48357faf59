"""Kits and the allocated arm: a kit for every woman randomised to the risk-based arm when her
study's ``[samples] assign_at`` is ``randomisation``, and her open kits abandoned when a manual
correction moves her out of that arm.

Called by randomisation (:mod:`pebs.services.trial.allocation`) and by the data manager's manual
allocation (:mod:`pebs.services.trial.override`) inside their transaction, with her row locked:
the kit and its audit event are written, or nothing is.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from pebs.services.actor import Actor
from pebs.services.errors import Conflict
from pebs.services.samples._kits import move, open_kit
from pebs.services.samples.kit_assignment import assign_kit_in
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
    "abandon_kits_leaving_arm",
    "abandon_open_kits_in",
    "current_kit_id",
    "kit_at_randomisation",
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
    if arm != KIT_ARM:
        return None
    rules = sample_rules_by_digest(session, study_pk, config_sha256)
    if rules.assign_at != AT_RANDOMISATION:
        return None
    existing = open_kit(session, participant_id)
    if existing is not None:
        return existing.kit_id
    sample = assign_kit_in(
        session, participant_id=participant_id, study_id=study_id, rules=rules,
        actor=actor.username, user_id=actor.user_id, at=at,
        reason=f"randomisation to the {KIT_ARM} arm",
    )  # fmt: skip
    return sample.kit_id


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
