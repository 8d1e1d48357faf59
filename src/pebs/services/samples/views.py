"""Kits and shipments as a caller may read them.

- :func:`samples_of`: a woman's kits, by her study ID (roles that see participants, in scope;
  the laboratory never finds a woman);
- :func:`sample_by_kit`: one kit by its ID: its state, site, shipment and dates. The laboratory
  reads every kit this way, and never gets her study ID, identity or arm (nor the free-text
  reason of an abandonment, which may describe her); other roles get her study ID;
- :func:`shipment_by_reference`: a shipment and its kits (kit IDs and states only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, sessionmaker

from pebs.services.actor import LABORATORY_ROLE, Action, Actor, require
from pebs.services.errors import NotFound
from pebs.services.samples._kits import canonical_kit_id, find_kit, sees_kits_of
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.subject import find_participant
from pebs.store.models import Sample, Shipment, Site

__all__ = [
    "KitView",
    "ParticipantKit",
    "ShipmentKit",
    "ShipmentView",
    "WomanKits",
    "sample_by_kit",
    "samples_of",
    "shipment_by_reference",
]


@dataclass(frozen=True)
class ParticipantKit:
    """One of her kits, oldest first."""

    kit_id: str
    state: str
    assigned_at: datetime
    collected_on: date | None
    shipment: str | None
    shipped_on: date | None
    received_at: datetime | None
    result_at: datetime | None
    replaces: str | None
    """The failed kit this one replaces."""
    abandoned_reason: str | None


@dataclass(frozen=True)
class WomanKits:
    study_id: str
    kits: tuple[ParticipantKit, ...]


@dataclass(frozen=True)
class KitView:
    """One kit by its ID. ``study_id`` is ``None`` for the laboratory, which never sees a
    participant."""

    kit_id: str
    state: str
    site: str
    study_id: str | None
    assigned_at: datetime
    collected_on: date | None
    shipment: str | None
    shipped_on: date | None
    received_at: datetime | None
    result_at: datetime | None
    replaces: str | None


@dataclass(frozen=True)
class ShipmentKit:
    kit_id: str
    state: str
    collected_on: date | None


@dataclass(frozen=True)
class ShipmentView:
    reference: str
    site: str
    shipped_on: date
    shipped_at: datetime
    received_at: datetime | None
    kits: tuple[ShipmentKit, ...]


_replaced = aliased(Sample)


def _kit_rows(session: Session, *where):
    return session.execute(
        select(Sample, Shipment.reference, Shipment.shipped_on, _replaced.kit_id)
        .outerjoin(Shipment, Shipment.id == Sample.shipment_id)
        .outerjoin(_replaced, _replaced.id == Sample.replaces_sample_id)
        .where(*where)
        .order_by(Sample.assigned_at, Sample.id)
    ).all()


@refuses_unstorable_text
def samples_of(session_maker: sessionmaker[Session], actor: Actor, study_id: str) -> WomanKits:
    """Her kits, oldest first (:class:`NotFound` outside your sites)."""
    require(actor, Action.READ_SAMPLES)
    with session_maker() as session, session.begin():
        participant = find_participant(session, actor, study_id).participant
        rows = _kit_rows(session, Sample.participant_id == participant.id)
        kits = tuple(
            ParticipantKit(s.kit_id, s.state, s.assigned_at, s.collected_on, reference,
                           shipped_on, s.received_at, s.result_at, replaces, s.abandoned_reason)
            for s, reference, shipped_on, replaces in rows
        )  # fmt: skip
        return WomanKits(participant.study_id, kits)


@refuses_unstorable_text
def sample_by_kit(session_maker: sessionmaker[Session], actor: Actor, kit_id: str) -> KitView:
    """One kit by its ID (see the module docstring for what the laboratory gets)."""
    require(actor, Action.READ_SAMPLES)
    with session_maker() as session, session.begin():
        found = find_kit(session, actor, canonical_kit_id(kit_id))
        s, reference, shipped_on, replaces = _kit_rows(session, Sample.id == found.sample.id)[0]
        study_id = None if actor.role == LABORATORY_ROLE else found.participant.study_id
        return KitView(
            s.kit_id, s.state, found.site.code, study_id, s.assigned_at, s.collected_on,
            reference, shipped_on, s.received_at, s.result_at, replaces,
        )  # fmt: skip


@refuses_unstorable_text
def shipment_by_reference(
    session_maker: sessionmaker[Session], actor: Actor, reference: str
) -> ShipmentView:
    """A shipment and its kits (:class:`NotFound` for a shipment of a site you do not see)."""
    require(actor, Action.READ_SAMPLES)
    with session_maker() as session, session.begin():
        row = session.execute(
            select(Shipment, Site)
            .join(Site, Site.id == Shipment.site_id)
            .where(Shipment.reference == reference.strip().upper())
        ).first()
        if row is None or not sees_kits_of(actor, row.Site):
            raise NotFound(f"no shipment {reference!r} (in your sites)")
        shipment, site = row
        kits = session.execute(
            select(Sample.kit_id, Sample.state, Sample.collected_on)
            .where(Sample.shipment_id == shipment.id)
            .order_by(Sample.kit_id)
        ).all()
        return ShipmentView(
            shipment.reference, site.code, shipment.shipped_on, shipment.shipped_at,
            shipment.received_at, tuple(ShipmentKit(*k) for k in kits),
        )  # fmt: skip
