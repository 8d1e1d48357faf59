"""Giving a woman a saliva kit, inside the caller's transaction.

Used by the kit use cases, by randomisation (a kit for every woman randomised to the risk-based
arm when the study's ``[samples] assign_at`` is ``randomisation``) and by the laboratory import (a
new kit when a sample fails quality control). The caller holds the transaction and her row lock;
this writes the sample and its audit event and returns the new kit ID.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from pebs.services.errors import Conflict
from pebs.store.audit import append_event
from pebs.store.models import Sample
from pebs.trial.samples import SampleRules, SampleState, new_kit_id

__all__ = ["KIT_ATTEMPTS", "assign_kit_in"]

KIT_ATTEMPTS = 8
"""New random kit IDs tried before giving up (a clash among 36**8 IDs is very rare)."""
_KIT_ID_TAKEN = select(Sample.id).where(Sample.kit_id == bindparam("kit_id"))  # built once


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
    for _ in range(KIT_ATTEMPTS):
        kit_id = new_kit_id(rules.kit_prefix)
        if session.scalar(_KIT_ID_TAKEN, {"kit_id": kit_id}) is None:
            break
    else:
        raise Conflict(f"no unused kit ID found after {KIT_ATTEMPTS} tries; try again")
    sample = Sample(
        kit_id=kit_id, participant_id=participant_id, state=SampleState.ASSIGNED.value,
        replaces_sample_id=None if replaces is None else replaces.id, assigned_at=at,
        assigned_by_id=user_id, updated_at=at,
    )  # fmt: skip
    session.add(sample)
    session.flush()
    new = {"participant": study_id, "kit_id": kit_id, "state": sample.state}
    if replaces is not None:
        new["replaces"] = replaces.kit_id
    append_event(session, actor=actor, action="kit_assigned", entity="sample",
                 entity_id=kit_id, reason=reason, new=new, at=at)  # fmt: skip
    return sample
