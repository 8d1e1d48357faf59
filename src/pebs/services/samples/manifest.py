"""The manifest of a box of kits: the list that travels with it to the laboratory.

One row per kit: its ID, the day it was collected, the shipment's reference and the site
(:data:`MANIFEST_COLUMNS`); never a name, a study ID or an arm, so the laboratory may read it.
For a shipment, the manifest lists its kits; without one, the site's kits waiting to be sent
(collected, not shipped: the packing list of the next box). Written by the export writers of
:mod:`pebs.io.exports` (CSV: text a spreadsheet would run as a formula is made inert).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pebs.io.exports import WRITERS, Column
from pebs.services.actor import Action, Actor, require
from pebs.services.errors import NotFound
from pebs.services.samples._kits import sees_kits_of
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.trial.study_rules import study_named
from pebs.store.models import Participant, Sample, Shipment
from pebs.store.repositories import get_site
from pebs.trial.samples import SampleState

__all__ = ["MANIFEST_COLUMNS", "Manifest", "kit_manifest"]

MANIFEST_COLUMNS: tuple[Column, ...] = (
    Column("kit_id", "string", "", "the kit ID printed on the tube"),
    Column("collected_on", "date", "", "the day she gave saliva (at the site)"),
    Column("shipment", "string", "", "the shipment's reference (empty: not shipped yet)"),
    Column("site", "string", "", "the site that collected the kit"),
)
"""The manifest's columns, in order."""


@dataclass(frozen=True)
class Manifest:
    """A manifest file: ``content`` in ``media_type``, to be saved as ``file_name``."""

    site: str
    shipment: str | None
    n_kits: int
    file_name: str
    media_type: str
    content: bytes


@refuses_unstorable_text
def kit_manifest(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study: str,
    site: str,
    *,
    shipment: str | None = None,
) -> Manifest:
    """The manifest of shipment ``shipment`` of ``site``, or (``None``) of the site's kits to
    send, ordered by kit ID. :class:`NotFound` for a site you do not see or a shipment of
    another site."""
    require(actor, Action.READ_SAMPLES)
    writer = WRITERS["csv"]
    with session_maker() as session, session.begin():
        study_row = study_named(session, study)
        site_row = get_site(session, study_row.id, site)
        if site_row is None or not sees_kits_of(actor, site_row):
            raise NotFound(f"study {study!r} has no site {site!r} (in your sites)")
        statement = (
            select(Sample.kit_id, Sample.collected_on, Shipment.reference)
            .join(Participant, Participant.id == Sample.participant_id)
            .outerjoin(Shipment, Shipment.id == Sample.shipment_id)
            .order_by(Sample.kit_id)
        )
        if shipment is None:
            statement = statement.where(
                Participant.site_id == site_row.id, Sample.state == SampleState.COLLECTED.value
            )
        else:
            found = session.scalar(
                select(Shipment.id).where(
                    Shipment.reference == shipment.strip().upper(),
                    Shipment.site_id == site_row.id,
                )
            )
            if found is None:
                raise NotFound(f"site {site_row.code} has no shipment {shipment!r}")
            statement = statement.where(Sample.shipment_id == found)
        rows = [(kit_id, collected_on, reference, site_row.code)
                for kit_id, collected_on, reference in session.execute(statement)]  # fmt: skip
    name = shipment.strip().upper() if shipment is not None else f"{site_row.code}-to-send"
    return Manifest(
        site_row.code, None if shipment is None else shipment.strip().upper(), len(rows),
        f"{name}-manifest.{writer.extension}", writer.media_type,
        b"".join(writer.chunks(MANIFEST_COLUMNS, [rows])),
    )  # fmt: skip
