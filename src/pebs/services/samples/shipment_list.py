"""A study's shipments as a caller may list them: newest first, a page at a time.

Scope: a site role lists its site's shipments, a country coordinator her country's, central
roles and the laboratory every site's (:func:`~._kits.kit_scope`). A row names the box only
(reference, site, days, number of kits), never a woman.

Newest first means by the day the box left the site, latest first (then the latest recorded);
pages are keyset-paged on that order: ``after`` is the reference of the previous page's last
shipment (:attr:`ShipmentPage.next_after`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import InvalidInput, NotFound
from pebs.services.samples._kits import kit_scope, sees_kits_of
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.trial.study_rules import study_named
from pebs.store.models import Country, Sample, Shipment, Site
from pebs.store.repositories import get_site

__all__ = ["MAX_SHIPMENTS_PER_PAGE", "ShipmentPage", "ShipmentRow", "list_shipments"]

MAX_SHIPMENTS_PER_PAGE = 500


@dataclass(frozen=True)
class ShipmentRow:
    reference: str
    site: str
    shipped_on: date
    """The day the box left the site (at the site)."""
    received_at: datetime | None
    """When the laboratory recorded its arrival; ``None`` while it travels."""
    n_kits: int


@dataclass(frozen=True)
class ShipmentPage:
    study: str
    site: str | None
    """The site listed, or ``None``: every site in the caller's scope."""
    rows: tuple[ShipmentRow, ...]
    """Newest first."""
    next_after: str | None
    """Give it as ``after`` for the next page; ``None`` on the last page."""
    total: int
    """The shipments of the list on every page (the same filters, whatever ``after``)."""


def _limit(limit: object) -> int:
    if (
        isinstance(limit, bool)
        or not isinstance(limit, int)
        or not (1 <= limit <= MAX_SHIPMENTS_PER_PAGE)
    ):
        raise InvalidInput(
            f"a page holds 1 to {MAX_SHIPMENTS_PER_PAGE} shipments, got {limit!r}", field="limit"
        )
    return limit


@refuses_unstorable_text
def list_shipments(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study: str,
    site: str | None = None,
    *,
    open_only: bool = False,
    limit: int = 50,
    after: str | None = None,
) -> ShipmentPage:
    """One page of the shipments of ``study`` (of ``site``, or of every site you see), newest
    first; ``open_only``: only those not received yet. :class:`NotFound` for an unknown study or
    a site you do not see; :class:`InvalidInput` (field ``after``) for an ``after`` that is not
    a shipment of this list."""
    require(actor, Action.READ_SAMPLES)
    limit = _limit(limit)
    with session_maker() as session, session.begin():
        study_row = study_named(session, study)
        where = [Country.study_id == study_row.id]
        site_code = None
        if site is not None:
            site_row = get_site(session, study_row.id, site)
            if site_row is None or not sees_kits_of(actor, site_row):
                raise NotFound(f"study {study!r} has no site {site!r} (in your sites)")
            where.append(Shipment.site_id == site_row.id)
            site_code = site_row.code
        if open_only:
            where.append(Shipment.received_at.is_(None))

        def shipments(*columns: Any) -> Select:
            statement = (
                select(*columns)
                .join(Site, Site.id == Shipment.site_id)
                .join(Country, Country.id == Site.country_id)
                .where(*where)
            )
            return kit_scope(actor).apply(statement, Shipment.site_id)

        statement = shipments(Shipment.id, Shipment.reference, Site.code, Shipment.shipped_on,
                              Shipment.received_at)  # fmt: skip
        total = session.scalar(shipments(func.count(Shipment.id))) or 0
        if after is not None:
            last = session.execute(
                shipments(Shipment.shipped_on, Shipment.id)
                .where(Shipment.reference == after.strip().upper())
            ).first()  # fmt: skip
            if last is None:
                raise InvalidInput(f"{after!r} is not a shipment of this list", field="after")
            statement = statement.where(or_(
                Shipment.shipped_on < last.shipped_on,
                and_(Shipment.shipped_on == last.shipped_on, Shipment.id < last.id),
            ))  # fmt: skip
        found = session.execute(
            statement.order_by(Shipment.shipped_on.desc(), Shipment.id.desc()).limit(limit)
        ).all()
        counts = dict(
            session.execute(
                select(Sample.shipment_id, func.count(Sample.id))
                .where(Sample.shipment_id.in_([row.id for row in found]))
                .group_by(Sample.shipment_id)
            ).all()
        )
    rows = tuple(
        ShipmentRow(row.reference, row.code, row.shipped_on, row.received_at,
                    counts.get(row.id, 0))
        for row in found
    )  # fmt: skip
    next_after = rows[-1].reference if len(rows) == limit else None
    return ShipmentPage(study_row.name, site_code, rows, next_after, total)
