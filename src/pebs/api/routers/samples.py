"""Saliva kits and shipments: a woman's kits, a kit by its ID, collection, abandonment,
replacement, shipments (listed, read) and their receipt, a site's kit worklists and a box's
manifest (CSV).

The laboratory reads kits, shipments and manifests and receives shipments; it never finds a
participant (her kits are under ``/participants/{study_id}/kits``: 404 for it).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import Path, Query, Response
from pydantic import AwareDatetime, BeforeValidator, Field, Strict

from pebs.api.deps import CurrentActor
from pebs.api.errors import error_responses
from pebs.api.routers._body import Body
from pebs.api.routers._dates import IsoDate
from pebs.api.routers._params import SiteCode, StudyId
from pebs.api.routers._router import Router
from pebs.api.routers._text import Text
from pebs.http.deps import SessionMakerDep
from pebs.services.errors import Conflict, NotFound
from pebs.services.field_rules import (
    KIT_ID_CHARS,
    MAX_KITS_PER_SHIPMENT,
    REASON_CHARS,
    SHIPMENT_REFERENCE_CHARS,
    SITE_CODE_CHARS,
    STUDY_NAME_CHARS,
)
from pebs.services.samples import (
    MAX_SHIPMENTS_PER_PAGE,
    KitAssigned,
    KitMoved,
    KitView,
    KitWorklists,
    ReceivedShipment,
    Recollection,
    ShipmentPage,
    ShipmentView,
    Shipped,
    WomanKits,
    abandon_sample,
    assign_kit,
    kit_manifest,
    kit_worklists,
    list_shipments,
    receive_shipment,
    record_collection,
    request_recollection,
    sample_by_kit,
    samples_of,
    ship_samples,
    shipment_by_reference,
)

router = Router(tags=["kits"])

KitId = Annotated[
    Text,
    Path(min_length=1, max_length=KIT_ID_CHARS, description="The kit ID on the tube",
         examples=["MP-7QX2K9ZDL"]),
]  # fmt: skip
Reference = Annotated[
    Text,
    Path(min_length=1, max_length=SHIPMENT_REFERENCE_CHARS, description="A shipment's reference",
         examples=["FR-PA-S0001"]),
]  # fmt: skip
StudyName = Annotated[Text, Query(min_length=1, max_length=STUDY_NAME_CHARS,
                                  examples=["mypebs-demo"])]  # fmt: skip

_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _date_time_text(value: object) -> object:
    if isinstance(value, datetime) or (isinstance(value, str) and _RFC3339.fullmatch(value)):
        return value
    raise ValueError(f"give a date and time with its offset (RFC 3339), got {value!r}")


Instant = Annotated[AwareDatetime, Strict(False), BeforeValidator(_date_time_text)]
"""An instant sent as RFC 3339 text with its offset (``2025-03-24T09:30:00+01:00``)."""


class KitIn(Body):
    reason: Text | None = Field(
        default=None, max_length=REASON_CHARS, description="Why (audited; default: by hand)"
    )


class CollectionIn(Body):
    collected_on: IsoDate = Field(description="The day she gave saliva, at her site")


class ReasonIn(Body):
    reason: Text = Field(min_length=1, max_length=REASON_CHARS)


class ShipmentIn(Body):
    study: Text = Field(min_length=1, max_length=STUDY_NAME_CHARS, examples=["mypebs-demo"])
    site: Text = Field(min_length=1, max_length=SITE_CODE_CHARS, examples=["IT-TO"])
    kit_ids: list[Annotated[Text, Field(min_length=1, max_length=KIT_ID_CHARS)]] = Field(
        min_length=1, max_length=MAX_KITS_PER_SHIPMENT
    )
    shipped_on: IsoDate = Field(description="The day the box leaves the site")


class ReceiptIn(Body):
    received_at: Instant | None = Field(default=None, description="When it arrived (default: now)")


@router.get("/participants/{study_id}/kits", response_model=WomanKits)
def kits_of(study_id: StudyId, actor: CurrentActor, sessions: SessionMakerDep):
    """Her saliva kits, oldest first."""
    return samples_of(sessions, actor, study_id)


@router.post(
    "/participants/{study_id}/kits", response_model=KitAssigned, status_code=201,
    responses=error_responses(Conflict),
)  # fmt: skip
def assign(study_id: StudyId, body: KitIn, actor: CurrentActor, sessions: SessionMakerDep):
    """Give her a new kit (risk-based arm, no kit that still counts)."""
    return assign_kit(sessions, actor, study_id, reason=body.reason)


@router.get("/kits/{kit_id}", response_model=KitView)
def kit(kit_id: KitId, actor: CurrentActor, sessions: SessionMakerDep):
    """One kit: state, site, shipment, dates (her study ID except for the laboratory)."""
    return sample_by_kit(sessions, actor, kit_id)


@router.post(
    "/kits/{kit_id}/collection", response_model=KitMoved, responses=error_responses(Conflict)
)
def collection(kit_id: KitId, body: CollectionIn, actor: CurrentActor, sessions: SessionMakerDep):
    """Record the day she gave saliva in the kit."""
    return record_collection(sessions, actor, kit_id, body.collected_on)


@router.post(
    "/kits/{kit_id}/abandonment", response_model=KitMoved, responses=error_responses(Conflict)
)
def abandonment(kit_id: KitId, body: ReasonIn, actor: CurrentActor, sessions: SessionMakerDep):
    """Give up a kit that will bring no result."""
    return abandon_sample(sessions, actor, kit_id, reason=body.reason)


@router.post(
    "/kits/{kit_id}/recollection", response_model=Recollection, status_code=201,
    responses=error_responses(Conflict),
)  # fmt: skip
def recollection(kit_id: KitId, body: ReasonIn, actor: CurrentActor, sessions: SessionMakerDep):
    """Replace a kit that failed quality control by a new kit."""
    return request_recollection(sessions, actor, kit_id, reason=body.reason)


@router.post(
    "/shipments", response_model=Shipped, status_code=201,
    responses=error_responses(NotFound, Conflict),
)  # fmt: skip
def ship(body: ShipmentIn, actor: CurrentActor, sessions: SessionMakerDep):
    """Put collected kits of a site in a new shipment (all or none)."""
    return ship_samples(sessions, actor, body.study, body.site, body.kit_ids, body.shipped_on)


@router.get("/shipments", response_model=ShipmentPage, responses=error_responses(NotFound))
def shipments(
    actor: CurrentActor,
    sessions: SessionMakerDep,
    study: StudyName,
    site: Annotated[
        Text | None,
        Query(min_length=1, max_length=SITE_CODE_CHARS, description="One site (default: every "
              "site you see)", examples=["IT-TO"]),
    ] = None,
    open_only: Annotated[bool, Query(description="Only shipments not received yet")] = False,
    limit: Annotated[int, Query(ge=1, le=MAX_SHIPMENTS_PER_PAGE)] = 50,
    after: Annotated[
        Text | None,
        Query(min_length=1, max_length=SHIPMENT_REFERENCE_CHARS,
              description="The previous page's next_after (the reference of its last shipment)"),
    ] = None,
):  # fmt: skip
    """One page of the study's shipments of your sites, newest first (by the day each box left
    its site), each with its number of kits."""
    return list_shipments(sessions, actor, study, site, open_only=open_only, limit=limit,
                          after=after)  # fmt: skip


@router.get("/shipments/{reference}", response_model=ShipmentView)
def shipment(reference: Reference, actor: CurrentActor, sessions: SessionMakerDep):
    """A shipment and its kits."""
    return shipment_by_reference(sessions, actor, reference)


@router.post(
    "/shipments/{reference}/receipt", response_model=ReceivedShipment,
    responses=error_responses(Conflict),
)  # fmt: skip
def receipt(reference: Reference, body: ReceiptIn, actor: CurrentActor, sessions: SessionMakerDep):
    """Record the shipment's arrival at the laboratory."""
    return receive_shipment(sessions, actor, reference, received_at=body.received_at)


@router.get("/worklists/{site}/kits", response_model=KitWorklists, tags=["worklists"])
def worklists(
    site: SiteCode, actor: CurrentActor, sessions: SessionMakerDep, study: StudyName, on: IsoDate
):
    """The site's kits to send, overdue results, recollections due and kits not collected."""
    return kit_worklists(sessions, actor, study, site, on=on)


_CSV = {"text/csv": {"schema": {"type": "string"}}}


@router.get(
    "/manifests/{site}",
    response_class=Response,
    responses={200: {"content": _CSV, "description": "kit_id, collected_on, shipment, site"}},
)
def manifest(
    site: SiteCode,
    actor: CurrentActor,
    sessions: SessionMakerDep,
    study: StudyName,
    shipment: Annotated[
        Text | None,
        Query(
            min_length=1,
            max_length=SHIPMENT_REFERENCE_CHARS,
            description="The shipment (default: the site's kits waiting to be sent)",
        ),
    ] = None,
) -> Response:
    """A box's manifest as CSV: no name, no study ID, no arm."""
    found = kit_manifest(sessions, actor, study, site, shipment=shipment)
    return Response(
        found.content, media_type=found.media_type,
        headers={"Content-Disposition": f'attachment; filename="{found.file_name}"'},
    )  # fmt: skip
