"""What a monitor verifies, a data manager locks and an investigator signs: a woman's casebook
read from the database, and the SHA-256 digests that pin it.

Her casebook is read by :func:`pebs.services.records.casebooks.casebook_page` (the same reader
as the casebook exports), as a page of one starting at her row id. Digests are SHA-256 of the
canonical JSON (:func:`pebs.store.audit.canonical_json`: sorted keys, no whitespace, UTF-8, UTC
instants with a ``Z``, dates ``YYYY-MM-DD``) of

- a form instance: ``{"form": name, "key": key or 0, "values": {item: value, ...}}``;
- her casebook: ``{"study_id", "site", "country", "data_use_withdrawn", "forms": [instance,
  ...]}`` with the instances in pathway order.

Any change of a value, an instance added or removed, changes the digest; the same values give
the same digest on SQLite and PostgreSQL, today and after a restore.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pebs.services.actor import Actor
from pebs.store.audit import canonical_json
from pebs.store.models import Participant
from pebs.trial.casebook import Casebook, FormInstance

__all__ = [
    "InstanceKey",
    "casebook_of",
    "casebook_sha256",
    "casebooks_of",
    "instance_key",
    "instance_sha256",
]

InstanceKey = tuple[str, int]
"""(form, key): a form instance of her casebook; the key is ``0`` for a form that does not
repeat."""

_READER = Actor(username="system:casebook-digest", role="data_manager")
"""Reads a casebook only to compute its digests (no caller's scope applies: the caller was
already scoped when her row was found)."""


def instance_key(instance: FormInstance) -> InstanceKey:
    """The (form, key) of an instance as stored (``0`` for a form that does not repeat)."""
    return instance.form, instance.key or 0


def _instance_document(instance: FormInstance) -> dict[str, Any]:
    return {"form": instance.form, "key": instance.key or 0, "values": dict(instance.values)}


def _sha256(document: Any) -> str:
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


def instance_sha256(instance: FormInstance) -> str:
    """SHA-256 (hex) of one form instance's canonical JSON."""
    return _sha256(_instance_document(instance))


def casebook_sha256(casebook: Casebook) -> str:
    """SHA-256 (hex) of her whole casebook's canonical JSON."""
    return _sha256({
        "study_id": casebook.study_id, "site": casebook.site, "country": casebook.country,
        "data_use_withdrawn": casebook.data_use_withdrawn,
        "forms": [_instance_document(instance) for instance in casebook.forms],
    })  # fmt: skip


def casebook_of(session: Session, participant_id: int, study_pk: int) -> Casebook:
    """Her casebook as stored now, read in ``session``'s transaction."""
    # Imported here: the records services' package imports her page's view, which builds on
    # the monitoring services, which build on this module.
    from pebs.services.records.casebooks import casebook_page

    page = casebook_page(
        session, _READER, study_pk, after=participant_id - 1, limit=1, include_test=True
    )
    return page.casebooks[0]


def casebooks_of(
    session: Session,
    participant_ids: Sequence[int],
    study_pk: int,
    *,
    forms: Collection[str] | None = None,
) -> dict[int, Casebook]:
    """:func:`casebook_of` for several women of one study, by row id, in one page read;
    ``forms``: the instances of these forms alone (and registration; ``None``: every form)."""
    from pebs.services.records.casebooks import casebook_page  # see casebook_of

    wanted = sorted(set(participant_ids))
    if not wanted:
        return {}
    page = casebook_page(
        session,
        _READER,
        study_pk,
        after=wanted[0] - 1,
        limit=len(wanted),
        include_test=True,
        only=wanted,
        forms=forms,
    )
    rows = session.execute(
        select(Participant.study_id, Participant.id).where(Participant.id.in_(wanted))
    )
    ids = {study_id: pid for study_id, pid in rows}
    return {ids[book.study_id]: book for book in page.casebooks}
