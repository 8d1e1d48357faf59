"""Shipments of collected kits from a site to the central laboratory, and their receipt there.

:func:`ship_samples` puts collected kits of one site in a new shipment whose reference names the
site and the site's shipment number (``FR-PA-S0001``, printed on the box); :func:`receive_shipment`
records its arrival at the laboratory. Each kit moves with
:func:`pebs.trial.samples.next_state`; the shipment and every kit get their audit event
(``entity="shipment"``, ``entity_id=<reference>``; ``entity="sample"``, ``entity_id=<kit ID>``)
in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import Conflict, InvalidInput, NotFound
from pebs.services.field_rules import MAX_KITS_PER_SHIPMENT, in_the_future
from pebs.services.samples._kits import canonical_kit_id, find_kit, move, sees_kits_of
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.transaction import instant, local_date, transaction
from pebs.services.trial.study_rules import study_named
from pebs.store.audit import append_event
from pebs.store.models import Country, Participant, Sample, Shipment, Site
from pebs.store.repositories import get_site
from pebs.trial.samples import SampleEvent, SampleState

__all__ = [
    "ReceivedShipment",
    "Shipped",
    "UnchangedKit",
    "receive_shipment",
    "ship_samples",
    "shipment_reference",
]


@dataclass(frozen=True)
class Shipped:
    """A new shipment: its reference goes on the box."""

    reference: str
    site: str
    shipped_on: date
    kit_ids: tuple[str, ...]


@dataclass(frozen=True)
class UnchangedKit:
    """A kit of a received shipment that was no longer ``shipped`` (abandoned meanwhile, or
    already given a result): left as it is."""

    kit_id: str
    state: str


@dataclass(frozen=True)
class ReceivedShipment:
    """A shipment received at the laboratory: every kit is either received or listed unchanged."""

    reference: str
    site: str
    received_at: datetime
    received: tuple[str, ...]
    unchanged: tuple[UnchangedKit, ...]


def shipment_reference(site_code: str, number: int) -> str:
    """The reference of a site's ``number``-th shipment.

    >>> shipment_reference("FR-PA", 1)
    'FR-PA-S0001'
    """
    return f"{site_code}-S{number:04d}"


def _kit_ids(kit_ids: list[str] | tuple[str, ...]) -> list[str]:
    if isinstance(kit_ids, str) or not isinstance(kit_ids, list | tuple):
        raise InvalidInput(f"must be a list of kit IDs, got {kit_ids!r}", field="kit_ids",
                           message_code="error.kit_list")  # fmt: skip
    if not 1 <= len(kit_ids) <= MAX_KITS_PER_SHIPMENT:
        raise InvalidInput(
            f"a shipment holds 1 to {MAX_KITS_PER_SHIPMENT} kits, got {len(kit_ids)}",
            field="kit_ids", message_code="error.kits_per_shipment",
            values={"max": MAX_KITS_PER_SHIPMENT},
        )  # fmt: skip
    canonical = [canonical_kit_id(k) if isinstance(k, str) else k for k in kit_ids]
    if any(not isinstance(k, str) or not k for k in canonical):
        raise InvalidInput("every kit ID must be a non-blank text", field="kit_ids",
                           message_code="error.kit_id_blank")  # fmt: skip
    repeated = sorted({k for k in canonical if canonical.count(k) > 1})
    if repeated:
        raise InvalidInput(f"given more than once: {', '.join(repeated)}", field="kit_ids",
                           message_code="error.kits_repeated",
                           values={"kit_ids": ", ".join(repeated)})  # fmt: skip
    return sorted(canonical)  # locked in one order: two shipments never wait for each other


def _day(value: object, field: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidInput(f"must be a date, got {value!r}", field=field,
                           message_code="error.date")  # fmt: skip
    return value


@refuses_unstorable_text
def ship_samples(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study: str,
    site: str,
    kit_ids: list[str] | tuple[str, ...],
    shipped_on: date,
    *,
    at: datetime | None = None,
) -> Shipped:
    """Put collected kits of ``site`` in a new shipment sent on ``shipped_on`` (a date at the
    site: not in the future, not before any kit's collection). Refused as a whole if any kit is
    not found in your sites, belongs to another site, or is not ``collected``."""
    require(actor, Action.RECORD_SAMPLE)
    shipped_at = instant(at)
    day = _day(shipped_on, "shipped_on")
    wanted = _kit_ids(kit_ids)
    with transaction(session_maker) as session:
        study_row = study_named(session, study)
        site_row = get_site(session, study_row.id, site)
        if site_row is None or not actor.sees_site(site_row.id, site_row.country_id):
            raise NotFound(f"study {study!r} has no site {site!r} (in your sites)")
        country = session.get(Country, site_row.country_id)
        assert country is not None  # a foreign key
        if day > local_date(shipped_at, country.time_zone):
            raise in_the_future("shipped_on", day)
        session.refresh(site_row, with_for_update=True)  # numbers the site's shipments in turn
        found = [find_kit(session, actor, kit_id, for_update=True) for kit_id in wanted]
        for kit in found:
            if kit.site.id != site_row.id:
                raise Conflict(f"kit {kit.sample.kit_id} is from site {kit.site.code}, not {site}")
            if kit.sample.collected_on is not None and kit.sample.collected_on > day:
                raise InvalidInput(
                    f"{day} is before kit {kit.sample.kit_id} was collected "
                    f"({kit.sample.collected_on})", field="shipped_on",
                    message_code="error.shipped_before_collected",
                    values={"day": day, "kit_id": kit.sample.kit_id,
                            "collected": kit.sample.collected_on},
                )  # fmt: skip
        earlier = select(func.count(Shipment.id)).where(Shipment.site_id == site_row.id)
        number = 1 + (session.scalar(earlier) or 0)
        shipment = Shipment(
            reference=shipment_reference(site_row.code, number), site_id=site_row.id,
            shipped_on=day, shipped_at=shipped_at, shipped_by_id=actor.user_id,
        )  # fmt: skip
        session.add(shipment)
        session.flush()
        moves = [move(kit.sample, SampleEvent.SHIP) for kit in found]
        append_event(
            session, actor=actor.username, action="ship", entity="shipment",
            entity_id=shipment.reference, old=None,
            new={"site": site_row.code, "shipped_on": day, "kits": wanted}, at=shipped_at,
        )  # fmt: skip
        for kit, (old, new) in zip(found, moves, strict=True):
            kit.sample.shipment_id = shipment.id
            kit.sample.updated_at = shipped_at
            append_event(
                session, actor=actor.username, action="ship", entity="sample",
                entity_id=kit.sample.kit_id, old={"state": old, "shipment": None},
                new={"participant": kit.participant.study_id, "state": new,
                     "shipment": shipment.reference}, at=shipped_at,
            )  # fmt: skip
        return Shipped(shipment.reference, site_row.code, day, tuple(wanted))


def _received_at(received_at: datetime | None, recorded_at: datetime) -> datetime:
    if received_at is None:
        return recorded_at
    if not isinstance(received_at, datetime):
        raise InvalidInput(f"must be an instant, got {received_at!r}", field="received_at",
                           message_code="error.instant")  # fmt: skip
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise InvalidInput(
            f"naive datetime {received_at.isoformat()}; give a timezone-aware instant",
            field="received_at", message_code="error.instant",
        )  # fmt: skip
    try:
        at = received_at.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(
            f"{received_at.isoformat()} is outside the years 1 to 9999 in UTC",
            field="received_at",
            message_code="error.instant",
        ) from None
    if at > recorded_at:
        raise InvalidInput(f"{at.isoformat()} is in the future", field="received_at",
                           message_code="error.time_in_future")  # fmt: skip
    return at


@refuses_unstorable_text
def receive_shipment(
    session_maker: sessionmaker[Session],
    actor: Actor,
    reference: str,
    *,
    received_at: datetime | None = None,
    at: datetime | None = None,
) -> ReceivedShipment:
    """Record that shipment ``reference`` arrived at the laboratory at ``received_at`` (an
    aware instant, default now; not in the future, not before the day it was shipped): its
    ``shipped`` kits become ``received``; any other kit is listed unchanged, never hidden."""
    require(actor, Action.RECEIVE_SHIPMENT)
    recorded_at = instant(at)
    arrived_at = _received_at(received_at, recorded_at)
    with transaction(session_maker) as session:
        shipment = session.scalar(
            select(Shipment).where(Shipment.reference == reference.strip().upper())
            .with_for_update()
        )  # fmt: skip
        site = None if shipment is None else session.get(Site, shipment.site_id)
        if shipment is None or site is None or not sees_kits_of(actor, site):
            raise NotFound(f"no shipment {reference!r}")
        if shipment.received_at is not None:
            raise Conflict(
                f"shipment {shipment.reference} was already received "
                f"({shipment.received_at.isoformat()})"
            )
        country = session.get(Country, site.country_id)
        assert country is not None  # a foreign key
        if local_date(arrived_at, country.time_zone) < shipment.shipped_on:
            raise InvalidInput(
                f"{arrived_at.isoformat()} is before the shipment was sent "
                f"({shipment.shipped_on})", field="received_at",
                message_code="error.received_before_shipped",
                values={"day": shipment.shipped_on},
            )  # fmt: skip
        shipment.received_at = arrived_at
        shipment.received_by_id = actor.user_id
        rows = session.execute(
            select(Sample, Participant.study_id)
            .join(Participant, Participant.id == Sample.participant_id)
            .where(Sample.shipment_id == shipment.id)
            .order_by(Sample.kit_id)
            .with_for_update(of=Sample)
        ).all()
        received: list[str] = []
        unchanged: list[UnchangedKit] = []
        append_event(
            session, actor=actor.username, action="receive", entity="shipment",
            entity_id=shipment.reference, old={"received_at": None},
            new={"received_at": arrived_at}, at=recorded_at,
        )  # fmt: skip
        for sample, study_id in rows:
            if sample.state != SampleState.SHIPPED.value:
                unchanged.append(UnchangedKit(sample.kit_id, sample.state))
                continue
            old, new = move(sample, SampleEvent.RECEIVE)
            sample.received_at = arrived_at
            sample.updated_at = recorded_at
            append_event(
                session, actor=actor.username, action="receive", entity="sample",
                entity_id=sample.kit_id, old={"state": old, "received_at": None},
                new={"participant": study_id, "state": new, "received_at": arrived_at},
                at=recorded_at,
            )  # fmt: skip
            received.append(sample.kit_id)
        return ReceivedShipment(shipment.reference, site.code, arrived_at, tuple(received),
                                tuple(unchanged))  # fmt: skip
