"""Risk pending: risk-based women whose final risk assessment is not there yet, and why.

A woman of the risk-based arm is listed while she has no assessment, or only a provisional one
(without the PRS), or while an automatic assessment of hers is held for a clinician
(:mod:`.risk_completion`: it would have lowered her level, or the model rejected her inputs).
Each entry says what her final assessment still waits for (``questionnaire``, ``density``,
``prs``: the study's ``[risk_assessment]`` rules, the same as the automatic assessment's) and
where her latest saliva kit is: its state, the day it was collected and shipped, and whether its
result is overdue (no result ``[samples] result_expected_weeks`` after collection). Only women
in the caller's scope are listed, by study ID, keyset-paged (``after``: the last study ID of the
previous page).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, Select, exists, or_, select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import InvalidInput, NotFound
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.trial._latest_rows import FirstPer
from pebs.services.trial.risk_assessment import RISK_ARM_STATES, latest_assessments, risk_rules
from pebs.services.trial.risk_completion import HOLD_ACTION, inputs_for, pending_holds
from pebs.services.trial.study_rules import sample_rules_of, study_named
from pebs.store.models import (
    AuditEvent,
    Country,
    Participant,
    RiskAssessment,
    Sample,
    Shipment,
    Site,
)
from pebs.store.repositories import get_site
from pebs.trial import State
from pebs.trial.risk_inputs import RiskInputRules
from pebs.trial.samples import is_overdue, result_due

__all__ = [
    "HeldAssessment",
    "KitProgress",
    "RiskPendingEntry",
    "RiskPendingPage",
    "risk_pending",
]

MAX_PAGE = 1000
_BATCH = 500
"""Candidates read per query while a page fills."""


@dataclass(frozen=True)
class KitProgress:
    """Her latest saliva kit."""

    kit_id: str
    state: str
    collected_on: date | None
    shipped_on: date | None
    result_due: date | None
    """Collection day plus the study's ``result_expected_weeks``."""
    overdue: bool
    """Collected, shipped or received, and ``result_due`` has passed."""


@dataclass(frozen=True)
class HeldAssessment:
    """An automatic assessment that was not stored and waits for a clinician."""

    held: str
    """``lowered`` (it would lower her level) or ``rejected`` (the model rejects her inputs)."""
    level: str | None
    previous_level: str | None
    reason: str
    held_at: datetime


@dataclass(frozen=True)
class RiskPendingEntry:
    study_id: str
    site: str
    pathway_state: str
    missing: tuple[str, ...]
    """What her final assessment waits for: ``questionnaire``, ``density``, ``prs``."""
    provisional_level: str | None
    """Her level from a provisional assessment (without the PRS), if that is what she has."""
    kit: KitProgress | None
    held: HeldAssessment | None


@dataclass(frozen=True)
class RiskPendingPage:
    study: str
    on: date
    entries: tuple[RiskPendingEntry, ...]
    next_after: str | None
    """Give it as ``after`` for the next page; ``None`` on the last page."""


def _candidates(study_pk: int) -> Select:
    """Risk-arm women who may be pending: not yet assessed, ever assessed provisionally, or held
    (read exactly afterwards)."""
    provisional = exists().where(
        RiskAssessment.participant_id == Participant.id,
        RiskAssessment.outputs["provisional"].as_boolean(),
    )
    held = exists().where(
        AuditEvent.entity == "participant", AuditEvent.entity_id == Participant.study_id,
        AuditEvent.action == HOLD_ACTION,
    )  # fmt: skip
    return (
        select(Participant, Site.code)
        .join(Site, Participant.site_id == Site.id)
        .join(Country, Site.country_id == Country.id)
        .where(
            Country.study_id == study_pk,
            Participant.status.in_([s.value for s in RISK_ARM_STATES]),
            or_(Participant.status == State.RANDOMISED_RISK_BASED.value, provisional, held),
        )
    )


_LATEST_SAMPLE = FirstPer(Sample, Sample.participant_id,
                          (Sample.assigned_at.desc(), Sample.id.desc()))  # fmt: skip


def _kits(
    session: Session, participant_ids: Iterable[int], weeks: int, on: date
) -> dict[int, KitProgress]:
    samples = _LATEST_SAMPLE(session, participant_ids)
    shipments = {
        row.id: row.shipped_on
        for row in session.execute(
            select(Shipment.id, Shipment.shipped_on).where(
                Shipment.id.in_({s.shipment_id for s in samples.values() if s.shipment_id})
            )
        )
    }
    kits = {}
    for owner, sample in samples.items():
        due = result_due(sample.collected_on, weeks)
        overdue = is_overdue(sample.state, sample.collected_on, weeks, on)
        kits[owner] = KitProgress(
            sample.kit_id, sample.state, sample.collected_on,
            shipments.get(sample.shipment_id) if sample.shipment_id else None, due, overdue,
        )  # fmt: skip
    return kits


def _held(event: AuditEvent) -> HeldAssessment:
    new = event.new or {}
    return HeldAssessment(str(new.get("held")), new.get("level"), new.get("previous_level"),
                          event.reason or "", event.at)  # fmt: skip


@refuses_unstorable_text
def risk_pending(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study: str,
    *,
    on: date,
    site: str | None = None,
    after: str | None = None,
    limit: int = 100,
) -> RiskPendingPage:
    """One page of the risk-based women (of ``site``, or every site in scope) whose final risk
    assessment is pending on ``on``, by study ID."""
    require(actor, Action.READ_WORKLIST)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"a page holds 1 to {MAX_PAGE} women, got {limit!r}", field="limit")
    entries: list[RiskPendingEntry] = []
    with session_maker() as session, session.begin():
        study_row = study_named(session, study)
        rules = risk_rules(session, study_row)
        weeks = sample_rules_of(study_row).result_expected_weeks
        statement = actor.scope.apply(_candidates(study_row.id))
        if site is not None:
            site_row = get_site(session, study_row.id, site)
            if site_row is None or not actor.sees_site(site_row.id, site_row.country_id):
                raise NotFound(f"study {study!r} has no site {site!r} (in your sites)")
            statement = statement.where(Participant.site_id == site_row.id)
        last = after
        while len(entries) < limit:
            page = statement.order_by(Participant.study_id).limit(_BATCH)
            if last is not None:
                page = page.where(Participant.study_id > last)
            batch = session.execute(page).all()
            if not batch:
                break
            last = batch[-1][0].study_id
            entries.extend(_entries(session, batch, rules, weeks, on))
    entries = entries[:limit]
    next_after = entries[-1].study_id if len(entries) == limit else None
    return RiskPendingPage(study, on, tuple(entries), next_after)


def _entries(
    session: Session, batch: Sequence[Row[Any]], rules: RiskInputRules, weeks: int, on: date
) -> list[RiskPendingEntry]:
    ids = [participant.id for participant, _ in batch]
    assessments = latest_assessments(session, ids)
    holds = pending_holds(session, {p.id: p.study_id for p, _ in batch})
    inputs = inputs_for(session, ids)
    kits = _kits(session, ids, weeks, on)
    entries = []
    for participant, site_code in batch:
        latest = assessments.get(participant.id)
        hold = holds.get(participant.id)
        provisional = latest is not None and bool(latest.outputs.get("provisional"))
        if latest is not None and not provisional and hold is None:
            continue
        entries.append(RiskPendingEntry(
            participant.study_id, site_code, participant.status,
            inputs[participant.id].missing(rules, final=True),
            latest.level if provisional and latest is not None else None,
            kits.get(participant.id), None if hold is None else _held(hold),
        ))  # fmt: skip
    return entries
