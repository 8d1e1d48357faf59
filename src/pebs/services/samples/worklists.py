"""A site's kit worklists on a date: what its staff must act on.

Four lists (a kit collected long ago and never shipped is both to send and overdue; the
last two never share a kit):

- ``to_send``: kits collected and not shipped yet (pack them: :func:`~.shipments.ship_samples`);
- ``overdue``: kits collected, shipped or received whose result is overdue: no genotype result
  (and no failed quality control) more than the study's ``[samples] result_expected_weeks``
  after collection (``result_due = collected_on + weeks``; overdue when ``on > result_due``);
- ``recollections_due``: kits given to replace a failed one, not collected yet;
- ``not_collected``: first kits (not replacing another) assigned and not collected yet.

Only a site in the caller's scope can be listed (the laboratory has no worklist: it sees no
participant, and these lists name the women).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import InvalidInput, NotFound
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.trial.study_rules import sample_rules_of, study_named
from pebs.store.models import Participant, Sample, Shipment
from pebs.store.repositories import get_site
from pebs.trial.samples import SampleState, is_overdue, result_due

__all__ = ["KitWorklistEntry", "KitWorklists", "kit_worklists"]

_S = SampleState
_AWAITING_RESULT = (_S.COLLECTED.value, _S.SHIPPED.value, _S.RECEIVED.value)


@dataclass(frozen=True)
class KitWorklistEntry:
    kit_id: str
    study_id: str
    state: str
    assigned_at: datetime
    collected_on: date | None
    shipment: str | None
    result_due: date | None
    """``collected_on`` plus the study's ``result_expected_weeks``."""
    replaces: str | None
    """The failed kit a recollection kit replaces."""


@dataclass(frozen=True)
class KitWorklists:
    site: str
    on: date
    result_expected_weeks: int
    to_send: tuple[KitWorklistEntry, ...]
    overdue: tuple[KitWorklistEntry, ...]
    recollections_due: tuple[KitWorklistEntry, ...]
    not_collected: tuple[KitWorklistEntry, ...]


@refuses_unstorable_text
def kit_worklists(
    session_maker: sessionmaker[Session], actor: Actor, study: str, site: str, *, on: date
) -> KitWorklists:
    """The four kit lists of ``site`` on ``on`` (see the module docstring), oldest first."""
    require(actor, Action.READ_WORKLIST)
    if isinstance(on, datetime) or not isinstance(on, date):
        raise InvalidInput(f"must be a date, got {on!r}", field="on")
    with session_maker() as session, session.begin():
        study_row = study_named(session, study)
        site_row = get_site(session, study_row.id, site)
        if site_row is None or not actor.sees_site(site_row.id, site_row.country_id):
            raise NotFound(f"study {study!r} has no site {site!r} (in your sites)")
        weeks = sample_rules_of(study_row).result_expected_weeks
        replaced = aliased(Sample)
        rows = session.execute(
            actor.scope.apply(
                select(Sample, Participant.study_id, Shipment.reference, replaced.kit_id)
                .join(Participant, Participant.id == Sample.participant_id)
                .outerjoin(Shipment, Shipment.id == Sample.shipment_id)
                .outerjoin(replaced, replaced.id == Sample.replaces_sample_id)
                .where(
                    Participant.site_id == site_row.id,
                    Sample.state.in_((_S.ASSIGNED.value, *_AWAITING_RESULT)),
                )
                .order_by(Sample.collected_on, Sample.assigned_at, Sample.id)
            )
        ).all()
    lists: dict[str, list[KitWorklistEntry]] = {
        "to_send": [], "overdue": [], "recollections_due": [], "not_collected": []
    }  # fmt: skip
    for sample, study_id, reference, replaces in rows:
        due = result_due(sample.collected_on, weeks)
        entry = KitWorklistEntry(
            sample.kit_id, study_id, sample.state, sample.assigned_at, sample.collected_on,
            reference, due, replaces,
        )  # fmt: skip
        if sample.state == _S.ASSIGNED.value:
            lists["not_collected" if replaces is None else "recollections_due"].append(entry)
            continue
        if sample.state == _S.COLLECTED.value:
            lists["to_send"].append(entry)
        if is_overdue(sample.state, sample.collected_on, weeks, on):
            lists["overdue"].append(entry)
    return KitWorklists(
        site_row.code, on, weeks, *(tuple(lists[name]) for name in
                                    ("to_send", "overdue", "recollections_due", "not_collected")),
    )  # fmt: skip
