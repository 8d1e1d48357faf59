"""The kits a caller may reach, a woman's open kit, and a kit's move to its next state.

Scope: a kit is reached through its woman's site, with the caller's participant scope (site
roles: their site; country coordinators: their country; central roles: everything). The
laboratory has no participant scope, yet works with every kit by its ID: :func:`kit_scope` gives
it every site, and the views it reads (:mod:`.views`) never carry a participant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from pebs.services.actor import LABORATORY_ROLE, Actor
from pebs.services.errors import Conflict, NotFound
from pebs.store.models import Country, Participant, Sample, Site
from pebs.store.repositories import Scope
from pebs.trial.samples import (
    SampleEvent,
    SampleState,
    SampleTransitionError,
    is_valid_kit_id,
    next_state,
)

CLOSED_STATES = (
    SampleState.ABANDONED.value,
    SampleState.FAILED_QC.value,
    SampleState.RECOLLECTION_REQUESTED.value,
)
"""States of a kit that no longer counts as hers: a woman has at most one kit in any other state
(a genotyped kit counts: she has her result)."""


@dataclass(frozen=True)
class FoundKit:
    """A kit with its woman, her site and country."""

    sample: Sample
    participant: Participant
    site: Site
    country: Country


def kit_scope(actor: Actor) -> Scope:
    """The sites whose kits ``actor`` may reach: the laboratory every site, others their
    participant scope."""
    return Scope.everything() if actor.role == LABORATORY_ROLE else actor.scope


def sees_kits_of(actor: Actor, site: Site) -> bool:
    """Whether ``actor`` may reach the kits of ``site``."""
    return actor.role == LABORATORY_ROLE or actor.sees_site(site.id, site.country_id)


def canonical_kit_id(text: str) -> str:
    """A kit ID as typed or scanned: surrounding blanks removed, letters in capitals."""
    return text.strip().upper()


def find_kit(session: Session, actor: Actor, kit_id: str, *, for_update: bool = False) -> FoundKit:
    """The kit ``kit_id`` in ``actor``'s reach (:func:`kit_scope`), or :class:`NotFound` (a kit
    ID whose check character does not match says so: a typing error)."""
    statement = (
        select(Sample, Participant, Site, Country)
        .join(Participant, Participant.id == Sample.participant_id)
        .join(Site, Site.id == Participant.site_id)
        .join(Country, Country.id == Site.country_id)
        .where(Sample.kit_id == kit_id)
    )
    statement = kit_scope(actor).apply(statement)
    if for_update:
        statement = statement.with_for_update(of=Sample)
    row = session.execute(statement).first()
    if row is None:
        if not is_valid_kit_id(kit_id):
            raise NotFound(
                f"no kit {kit_id!r}: a kit ID is PREFIX-, 8 characters and a check character, "
                "and this one's check character does not match (a typing error?)",
                message_code="error.kit_check", values={"kit_id": kit_id},
            )  # fmt: skip
        raise NotFound(
            f"no kit {kit_id!r} (in your sites)",
            message_code="error.no_kit",
            values={"kit_id": kit_id},
        )
    return FoundKit(*row)


_OPEN_KIT = (  # built once: randomisation to the kit arm reads it
    select(Sample)
    .where(Sample.participant_id == bindparam("participant_id"), Sample.state.not_in(CLOSED_STATES))
    .order_by(Sample.id.desc())
    .limit(1)
)


def open_kit(session: Session, participant_id: int) -> Sample | None:
    """Her kit that still counts (not in :data:`CLOSED_STATES`), if any."""
    return session.scalar(_OPEN_KIT, {"participant_id": participant_id})


_OPEN_KITS = (
    select(Sample.participant_id, Sample.kit_id)
    .where(
        Sample.participant_id.in_(bindparam("participant_ids", expanding=True)),
        Sample.state.not_in(CLOSED_STATES),
    )
    .order_by(Sample.id)
)


def open_kit_ids(session: Session, participant_ids: Sequence[int]) -> dict[int, str]:
    """The kit ID of each woman's :func:`open_kit`, by her row id (a woman without one is
    absent), read in one statement."""
    if not participant_ids:
        return {}
    rows = session.execute(_OPEN_KITS, {"participant_ids": list(participant_ids)})
    return {participant_id: kit_id for participant_id, kit_id in rows}  # the latest wins


def move(sample: Sample, event: SampleEvent) -> tuple[str, str]:
    """Move the kit to its state after ``event``: (old, new) state, :class:`Conflict` with the
    transition's own message when the event is not possible in its state."""
    try:
        new = next_state(sample.state, event)
    except SampleTransitionError as error:
        raise Conflict(f"kit {sample.kit_id}: {error}") from None
    old = sample.state
    sample.state = new.value
    return old, new.value
