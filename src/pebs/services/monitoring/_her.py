"""The woman a monitoring use case is about, and a form instance of her casebook."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from pebs.services.actor import Actor
from pebs.services.casebook_content import casebook_of
from pebs.services.errors import NotFound
from pebs.services.subject import find_participant
from pebs.trial.casebook import Casebook, FormInstance


@dataclass(frozen=True)
class Her:
    """Her row id, study ID, site and study's row id, and her casebook as stored now."""

    participant_id: int
    study_id: str
    site: str
    study_pk: int
    casebook: Casebook


def find_her(session: Session, actor: Actor, study_id: str) -> Her:
    """Her, in ``actor``'s scope (:class:`NotFound` otherwise), with her casebook. Not the
    writing lookup: verifying, signing and locking do not change her data."""
    subject = find_participant(session, actor, study_id)
    p = subject.participant
    study_pk = subject.country.study_id
    return Her(p.id, p.study_id, subject.site.code, study_pk, casebook_of(session, p.id, study_pk))


def instance_of(her: Her, form: str, key: int) -> FormInstance:
    """Her instance (form, key); :class:`NotFound` if her casebook has none."""
    for instance in her.casebook.forms:
        if instance.form == form and (instance.key or 0) == key:
            return instance
    shown = form if key == 0 else f"{form} {key}"
    raise NotFound(
        f"{her.study_id} has no {shown} form", message_code="error.no_form_instance",
        values={"study_id": her.study_id, "form": shown},
    )  # fmt: skip


def label(form: str, key: int) -> str:
    """``visit 12`` (a repeating form's instance) or ``death``."""
    return form if key == 0 else f"{form} {key}"
