"""Demo data, risk-based arm: saliva kits at every stage, real laboratory imports, and her risk
computed the trial's way (questionnaire + baseline density + PRS), or pending with what is
missing."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from pebs.services.actor import actor_for
from pebs.services.trial import risk_pending, seed_demo_participants
from pebs.services.trial._demo_cohort import DemoWoman
from pebs.services.trial._demo_follow_up import Enrolled
from pebs.services.trial._demo_samples import plan_kits
from pebs.store.models import (
    Allocation,
    AuditEvent,
    GenotypeResult,
    LabBatch,
    Participant,
    RiskAssessment,
    Sample,
    Shipment,
    Visit,
)
from pebs.trial.samples import SampleState

TODAY = date(2025, 9, 1)
LAST = TODAY - timedelta(days=1)
START = datetime(2024, 3, 1, 9, tzinfo=UTC)
COUNTING = {"assigned", "collected", "shipped", "received", "genotyped"}
"""Kit states that count (the kit services' rule: at most one per woman)."""


def test_kits_go_through_every_stage_and_risks_come_from_the_laboratory(trial) -> None:
    seeded = seed_demo_participants(
        trial.sessions, trial.actor("data_manager"), trial.keys, trial.STUDY, n=60, seed=11,
        today=TODAY, statistician=trial.actor("statistician"),
        laboratory=actor_for(trial.sessions, "demo-laboratory"),
    )  # fmt: skip
    with trial.sessions() as session:
        samples = session.scalars(select(Sample)).all()
        by_id = {s.id: s for s in samples}
        arms = dict(session.execute(select(Allocation.participant_id, Allocation.arm)).all())
        shipments = session.scalars(select(Shipment)).all()
        sites = dict(session.execute(select(Participant.id, Participant.site_id)).all())
        results = session.scalars(select(GenotypeResult)).all()
        n_batches = len(session.scalars(select(LabBatch.id)).all())
        assessments = session.scalars(select(RiskAssessment)).all()
        automatic = {
            int(event.entity_id) for event in session.scalars(
                select(AuditEvent).where(AuditEvent.entity == "risk_assessment",
                                         AuditEvent.action == "assess"))
            if event.new.get("automatic")
        }  # fmt: skip
        baselines = {
            v.participant_id: v for v in session.scalars(
                select(Visit).where(Visit.visit_type == "screening", Visit.density.is_not(None))
                .order_by(Visit.performed_date.desc()))
        }  # fmt: skip
        statuses = dict(session.execute(select(Participant.id, Participant.status)).all())

    # every state a kit rests in (failed_qc is left in the same import, for a new kit)
    assert {s.state for s in samples} == set(SampleState) - {SampleState.FAILED_QC}
    assert seeded.by_kit_state == {
        state: sum(s.state == state for s in samples) for state in {s.state for s in samples}
    }
    assert {arms[s.participant_id] for s in samples} == {"risk-based"}
    for woman in {s.participant_id for s in samples}:
        assert sum(s.state in COUNTING for s in samples if s.participant_id == woman) <= 1
    abandoned = [s for s in samples if s.state == "abandoned"]
    assert all(s.abandoned_reason for s in abandoned)
    replacements = [s for s in samples if s.replaces_sample_id is not None]
    assert replacements
    assert {by_id[s.replaces_sample_id].state for s in replacements} == {"recollection_requested"}
    # shipments: each holds its site's kits; the latest boxes may still be on their way
    assert len(shipments) == seeded.n_shipments
    for shipment in shipments:
        kits = [s for s in samples if s.shipment_id == shipment.id]
        assert kits
        assert {sites[s.participant_id] for s in kits} == {shipment.site_id}
        assert all(s.collected_on is not None and s.collected_on < shipment.shipped_on
                   for s in kits)  # fmt: skip
        if shipment.received_at is None:
            assert {s.state for s in kits} == {"shipped"}
    assert any(s.received_at is None for s in shipments)
    # genotype results only through the laboratory's batches
    assert n_batches == seeded.n_lab_batches >= 1
    assert {r.status for r in results} == {"accepted", "failed_qc"}
    for result in results:
        sample = by_id[result.sample_id]
        assert sample.state == ("genotyped" if result.status == "accepted"
                                else "recollection_requested")  # fmt: skip
    # automatic assessments: the PRS and the density of her records, after they were recorded
    prs = {by_id[r.sample_id].participant_id: r for r in results if r.status == "accepted"}
    assert len(automatic) == seeded.n_automatic_risks >= 1
    by_hand = [a for a in assessments if a.id not in automatic]
    assert len(by_hand) == seeded.n_risks_by_hand >= 1
    for assessment in assessments:
        woman = assessment.participant_id
        assert assessment.inputs["density"] == baselines[woman].density
        if assessment.id in automatic:
            assert assessment.inputs["prs_z"] == prs[woman].prs_z
            assert assessment.assessed_at >= prs[woman].recorded_at
        else:  # she declined to give saliva: her PRS will never come
            assert assessment.inputs["prs_z"] == "unknown"
            assert {s.state for s in samples if s.participant_id == woman} == {"abandoned"}
    planned = {w for w, status in statuses.items() if status in ("plan_given", "in_follow_up")}
    assert {a.participant_id for a in assessments} >= {
        w for w in planned if arms[w] == "risk-based"
    }
    # the risk-pending worklist has women missing each input
    pending = risk_pending(trial.sessions, trial.actor("data_manager"), trial.STUDY, on=TODAY,
                           limit=1000).entries  # fmt: skip
    for kind in ("questionnaire", "density", "prs"):
        assert any(kind in entry.missing for entry in pending), kind
    assert trial.db.chain_ok()


def _enrolled(n: int, rng: random.Random) -> list[Enrolled]:
    """Randomised women of two arms at three sites over 520 days (no DemoWoman: the plan never
    reads her answers)."""
    women = []
    for i in range(n):
        at = START + timedelta(days=rng.randint(0, 520), hours=rng.randint(0, 8))
        arm, site = ("risk-based" if i % 2 else "standard"), f"SITE-{i % 3}"
        woman: DemoWoman = None  # type: ignore[assignment]
        women.append(
            Enrolled(f"{site}-{i:06d}", site, arm, at.date(), None, at, woman, at, f"K{i}")
        )
    return women


def test_the_plan_keeps_the_workflow_s_order_and_shows_every_stage() -> None:
    """Pure: the planned days follow the workflow (docs/trial/samples.md) and cadences of the
    demo (ships every 14 days per site, batches every 42 days, 6 weeks after receipt)."""
    for seed, n in ((1, 12), (2, 40), (3, 200)):
        plan = plan_kits(_enrolled(n, random.Random(seed)), random.Random(seed), LAST,
                         has_lab=True)  # fmt: skip
        stages = {kit.stage for kit in plan.kits}
        assert {"assigned", "collected", "shipped", "received", "genotyped",
                "abandoned"} <= stages, (seed, stages)  # fmt: skip
        assert any(kit.fails for kit in plan.kits)
        assert any(k.replaces is not None and k.collect is None for k in plan.kits)  # due
        assert {kit.owner.arm for kit in plan.kits} == {"risk-based"}
        batch_days = {kit.genotype for kit in plan.kits if kit.genotype is not None}
        assert all((day - plan.epoch).days % 42 == 0 for day in batch_days)
        for kit in plan.kits:
            days = [kit.collect, kit.ship, kit.receive, kit.genotype]
            present = [d for d in days if d is not None]
            assert days[: len(present)] == present  # no step without the one before
            assert all(d <= LAST for d in present)
            if kit.collect is not None:
                assert kit.collect >= kit.owner.allocated_at.date()
            if kit.ship is not None:
                assert kit.ship > kit.collect
                assert (kit.ship - plan.epoch).days % 14 == plan.sites.index(kit.owner.site)
            if kit.receive is not None:
                assert 2 <= (kit.receive - kit.ship).days <= 4
            if kit.genotype is not None:
                assert kit.genotype >= kit.receive + timedelta(days=42)
                assert kit.genotype < kit.receive + timedelta(days=84)
            if kit.replaces is not None:
                assert kit.replaces.fails
                assert kit.collect is None or kit.collect >= kit.replaces.genotype
        boxes = {(k.owner.site, k.ship): k.receive for k in plan.kits if k.ship is not None}
        for kit in plan.kits:
            if kit.ship is not None:
                assert kit.receive == boxes[(kit.owner.site, kit.ship)]  # a box arrives whole


def test_without_a_laboratory_the_kits_stop_when_shipped() -> None:
    plan = plan_kits(_enrolled(40, random.Random(5)), random.Random(5), LAST, has_lab=False)
    assert {kit.stage for kit in plan.kits} <= {"assigned", "collected", "shipped", "abandoned"}
    assert any(kit.stage == "shipped" for kit in plan.kits)
