"""Conflicting genotype results wait for the data manager, who keeps the stored or the new one."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lab_factories import Lab, dosages
from pebs.services.errors import InvalidInput, NotFound, PermissionDenied
from pebs.services.laboratory import (
    import_genotype_batch,
    open_genotype_conflicts,
    resolve_genotype_conflict,
)
from pebs.services.operations import deep_verify
from pebs.store.models import GenotypeResult, Participant, RiskAssessment, Sample


def _import(lab: Lab, samples) -> None:
    import_genotype_batch(lab.sessions, lab.laboratory, lab.keys, lab.STUDY, lab.file(samples),
                          at=lab.IMPORTED)  # fmt: skip


def _results(lab: Lab, kit_id: str) -> list[GenotypeResult]:
    with lab.sessions() as session:
        return list(session.scalars(
            select(GenotypeResult).join(Sample).where(Sample.kit_id == kit_id)
            .order_by(GenotypeResult.id)
        ))  # fmt: skip


def _risks(lab: Lab, kit_id: str) -> list[RiskAssessment]:
    with lab.sessions() as session:
        return list(session.scalars(
            select(RiskAssessment).join(Participant).join(Sample)
            .where(Sample.kit_id == kit_id).order_by(RiskAssessment.id)
        ))  # fmt: skip


def _conflicted(lab: Lab) -> str:
    """A genotyped kit (her risk computed) that a second batch scored differently."""
    [kit] = lab.shipped()
    _import(lab, {kit: dosages(0)})
    _import(lab, {kit: dosages(1)})
    return kit


def _resolve(lab: Lab, kit: str, keep: str, actor=None):
    return resolve_genotype_conflict(
        lab.sessions, actor or lab.manager, lab.keys, kit, keep=keep,
        reason="re-genotyped: the first run had a plate swap", at=lab.IMPORTED,
    )  # fmt: skip


def test_open_conflicts_show_both_results(lab: Lab) -> None:
    kit = _conflicted(lab)
    accepted, new = _results(lab, kit)
    [conflict] = open_genotype_conflicts(lab.sessions, lab.manager)
    assert (conflict.kit_id, conflict.result_id, conflict.stored_result_id) == (
        kit,
        new.id,
        accepted.id,
    )
    assert (conflict.prs_z, conflict.stored_prs_z) == (new.prs_z, accepted.prs_z)
    assert conflict.batch != conflict.stored_batch


def test_keeping_the_new_result_supersedes_the_stored_one_and_reassesses_her(lab: Lab) -> None:
    kit = _conflicted(lab)
    accepted, new = _results(lab, kit)
    [first_risk] = _risks(lab, kit)

    resolved = _resolve(lab, kit, "new")

    old, kept = _results(lab, kit)
    assert (old.status, kept.status) == ("superseded", "accepted")
    assert resolved.accepted_result_id == new.id
    assert resolved.superseded == (accepted.id,)
    assert resolved.rejected == ()
    assert kept.resolution_reason == "re-genotyped: the first run had a plate swap"
    assert kept.resolved_by_id == lab.manager.user_id
    assert kept.resolved_at is not None
    risks = _risks(lab, kit)
    assert [r.id for r in risks[:1]] == [first_risk.id]
    assert risks[-1].inputs["prs_z"] == new.prs_z != first_risk.inputs["prs_z"]
    assert open_genotype_conflicts(lab.sessions, lab.manager) == ()
    with lab.sessions() as session:
        report = deep_verify(session.connection())
    assert report.ok, report.mismatches


def test_keeping_the_stored_result_rejects_the_new_one(lab: Lab) -> None:
    kit = _conflicted(lab)
    accepted, new = _results(lab, kit)
    n_risks = len(_risks(lab, kit))

    resolved = _resolve(lab, kit, "stored")

    assert [r.status for r in _results(lab, kit)] == ["accepted", "rejected"]
    assert (resolved.accepted_result_id, resolved.rejected) == (accepted.id, (new.id,))
    assert len(_risks(lab, kit)) == n_risks
    with pytest.raises(NotFound, match="no open genotype conflict"):
        _resolve(lab, kit, "stored")


def test_keeping_the_newest_of_two_conflicts_rejects_the_other(lab: Lab) -> None:
    kit = _conflicted(lab)
    _import(lab, {kit: dosages(2)})
    _, first, second = _results(lab, kit)
    resolved = _resolve(lab, kit, "new")
    assert [r.status for r in _results(lab, kit)] == ["superseded", "rejected", "accepted"]
    assert (resolved.accepted_result_id, resolved.rejected) == (second.id, (first.id,))


def test_resolution_refusals(lab: Lab) -> None:
    kit = _conflicted(lab)
    with pytest.raises(InvalidInput) as refused:
        _resolve(lab, kit, "both")
    assert refused.value.field == "keep"
    with pytest.raises(InvalidInput) as refused:
        resolve_genotype_conflict(lab.sessions, lab.manager, lab.keys, kit, keep="new",
                                  reason="  ")  # fmt: skip
    assert refused.value.field == "reason"
    for actor in (lab.laboratory, lab.staff):
        with pytest.raises(PermissionDenied):
            _resolve(lab, kit, "new", actor)
        with pytest.raises(PermissionDenied):
            open_genotype_conflicts(lab.sessions, actor)
    assert [r.status for r in _results(lab, kit)] == ["accepted", "conflict"]
