"""Genotype batch import: every report category, what is stored, dry runs, re-imports, quality
control at the study's thresholds, PRS values, risk completion and what the laboratory sees.

Expected PRS values are computed here from the packaged scoring file read with :mod:`csv`
(:data:`lab_factories.VARIANTS`): ``raw = sum(dosage x weight)`` over called variants plus
``2 f x weight`` over missing ones, ``z = (raw - mean) / sd`` with CanRisk's published constants.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lab_factories import PRS313_MEAN, PRS313_SD, VARIANTS, Lab, dosages
from pebs.services.errors import InvalidInput, PermissionDenied
from pebs.services.laboratory import Outcome, genotype_batch, import_genotype_batch
from pebs.services.operations import deep_verify
from pebs.services.samples import abandon_sample, record_collection, ship_samples
from pebs.store.models import (
    AuditEvent,
    Base,
    GenotypeResult,
    LabBatch,
    Participant,
    RiskAssessment,
    Sample,
)
from pebs.trial.samples import new_kit_id

N = len(VARIANTS)


def _import(lab: Lab, path, *, actor=None, **kwargs):
    return import_genotype_batch(lab.sessions, actor or lab.laboratory, lab.keys, lab.STUDY,
                                 path, at=lab.IMPORTED, **kwargs)  # fmt: skip


def _rows(lab: Lab) -> dict[str, int]:
    with lab.sessions() as session:
        return {table.name: session.scalar(select(func.count()).select_from(table)) or 0
                for table in Base.metadata.sorted_tables}  # fmt: skip


def _results(lab: Lab, kit_id: str) -> list[GenotypeResult]:
    with lab.sessions() as session:
        return list(session.scalars(
            select(GenotypeResult).join(Sample).where(Sample.kit_id == kit_id)
            .order_by(GenotypeResult.id)
        ))  # fmt: skip


def _deep_ok(lab: Lab) -> bool:
    with lab.sessions() as session:
        report = deep_verify(session.connection())
    assert report.ok, (report.summary, report.mismatches)
    return report.ok


def test_each_sample_lands_in_its_category(lab: Lab) -> None:
    accepted, failing, twice, abandoned = lab.shipped(4)
    collected = lab.collected()
    assigned = lab.kit(lab.woman())
    abandon_sample(lab.sessions, lab.manager, abandoned, reason="tube broken", at=lab.AT)
    unknown = new_kit_id("MP")
    malformed = "MP-NOTAKIT"
    other_prefix = new_kit_id("ZZ")
    path = lab.file([
        (accepted, dosages(0)), (failing, dosages(1, no_calls=40)), (twice, dosages(2)),
        (unknown, dosages(0)), (malformed, dosages(0)), (collected, dosages(0)),
        (twice, dosages(2)), (assigned, dosages(0)), (abandoned, dosages(0)),
        (other_prefix, dosages(0)),
    ])  # fmt: skip

    report = _import(lab, path)

    assert report.kits[Outcome.ACCEPTED] == (accepted,)
    assert report.kits[Outcome.FAILED_QC] == (failing,)
    assert report.kits[Outcome.UNKNOWN_KIT] == (unknown, malformed, other_prefix)
    assert report.kits[Outcome.NOT_SHIPPED] == (collected, assigned)
    assert report.kits[Outcome.DUPLICATE] == (twice,)
    assert report.kits[Outcome.ABANDONED] == (abandoned,)
    assert report.counts == {"accepted": 1, "failed_qc": 1, "unknown_kit": 3, "not_shipped": 2,
                             "duplicate": 1, "unchanged": 0, "conflict": 0,
                             "already_failed": 0, "abandoned": 1}  # fmt: skip
    assert report.n_samples == 10
    assert report.stored
    assert report.reference.startswith("LB-")
    assert (lab.state(accepted), lab.state(failing)) == ("genotyped", "recollection_requested")
    assert [lab.state(k) for k in (twice, collected, assigned, abandoned)] == [
        "shipped",
        "collected",
        "assigned",
        "abandoned",
    ]  # nothing stored for refusals
    [good] = _results(lab, accepted)
    [bad] = _results(lab, failing)
    assert (good.status, good.qc_reason, bad.status) == ("accepted", None, "failed_qc")
    assert f"{N - 40} of {N} variants called" in bad.qc_reason
    for kit in (twice, collected, assigned, abandoned):
        assert _results(lab, kit) == []
    with lab.sessions() as session:
        failed = session.scalar(select(Sample).where(Sample.kit_id == failing))
        replacement = session.scalar(select(Sample).where(Sample.replaces_sample_id == failed.id))
        assert replacement.state == "assigned"
        assert replacement.participant_id == failed.participant_id
        batch = session.scalar(select(LabBatch).where(LabBatch.reference == report.reference))
        assert batch.report["counts"] == report.counts
        assert batch.file_name == path.name
        assert batch.imported_by_id == lab.laboratory.user_id
    assert _deep_ok(lab)


def test_the_same_file_again_changes_nothing_and_says_so(lab: Lab) -> None:
    good, bad = lab.shipped(2)
    path = lab.file({good: dosages(0), bad: dosages(1, no_calls=60)})
    first = _import(lab, path)
    rows, n_events = _rows(lab), len(_events(lab))

    again = _import(lab, path)

    assert again.kits[Outcome.UNCHANGED] == (good, bad)
    assert again.changes_nothing
    assert not again.stored
    assert again.reference is None
    assert again.previous_imports == (first.reference,)
    assert _rows(lab) == rows
    assert len(_events(lab)) == n_events


def _events(lab: Lab) -> list[AuditEvent]:
    with lab.sessions() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_a_dry_run_stores_nothing_and_reports_what_the_import_does(lab: Lab) -> None:
    good, bad = lab.shipped(2)
    path = lab.file({good: dosages(0), bad: dosages(1, no_calls=60), new_kit_id("MP"): dosages(0)})
    rows, n_events = _rows(lab), len(_events(lab))

    dry = _import(lab, path, dry_run=True)

    assert _rows(lab) == rows
    assert len(_events(lab)) == n_events
    assert (dry.dry_run, dry.reference) == (True, None)
    assert lab.state(good) == lab.state(bad) == "shipped"
    real = _import(lab, path)
    assert real.kits == dry.kits
    assert real.counts == dry.counts
    assert real.n_risks_completed == dry.n_risks_completed == 1
    assert real.stored
    assert not real.dry_run


def test_a_different_result_is_a_conflict_and_overwrites_nothing(lab: Lab) -> None:
    [kit] = lab.shipped()
    first = _import(lab, lab.file({kit: dosages(0)}))
    [accepted] = _results(lab, kit)

    second = _import(lab, lab.file({kit: dosages(1)}))

    assert second.kits[Outcome.CONFLICT] == (kit,)
    assert second.stored
    stored, conflict = _results(lab, kit)
    assert (stored.id, stored.status, stored.prs_z) == (accepted.id, "accepted", accepted.prs_z)
    assert conflict.status == "conflict"
    assert conflict.prs_z != accepted.prs_z
    assert conflict.resolved_at is None
    assert lab.state(kit) == "genotyped"
    assert second.reference != first.reference
    again = _import(lab, lab.file({kit: dosages(1)}))  # the conflict is already stored
    assert again.kits[Outcome.UNCHANGED] == (kit,)
    assert not again.stored
    assert _deep_ok(lab)


def test_a_kit_that_failed_before_refuses_a_different_result(lab: Lab) -> None:
    [kit] = lab.shipped()
    _import(lab, lab.file({kit: dosages(0, no_calls=100)}))
    report = _import(lab, lab.file({kit: dosages(2)}))
    assert report.kits[Outcome.ALREADY_FAILED] == (kit,)
    assert not report.stored
    assert [r.status for r in _results(lab, kit)] == ["failed_qc"]


def _expected_prs(values: list[int | None], absent: frozenset[int]) -> tuple[float, float]:
    raw = 0.0
    for j, v in enumerate(VARIANTS):
        dosage = 2 * v.frequency if j in absent or values[j] is None else values[j]
        raw += dosage * v.weight
    return raw, (raw - PRS313_MEAN) / PRS313_SD


def test_prs_and_provenance_are_stored_as_computed_independently(lab: Lab) -> None:
    one, two = lab.shipped(2)
    absent = frozenset({10, 100, 250})  # apart from the no-calls (the first ones)
    first, second = dosages(0), dosages(2, no_calls=5)
    report = _import(lab, lab.file({one: first, two: second}, absent=absent))

    assert report.kits[Outcome.ACCEPTED] == (one, two)
    assert len(report.absent_variants) == 3
    assert report.n_variants == N == 313
    for kit, values, no_calls in ((one, first, 0), (two, second, 5)):
        [result] = _results(lab, kit)
        raw, z = _expected_prs(values, absent)
        assert result.raw_score == pytest.approx(raw, abs=1e-12)
        assert result.prs_z == pytest.approx(z, abs=1e-11)
        assert (result.n_variants, result.n_matched, result.n_missing, result.n_imputed) == (
            313,
            313 - 3 - no_calls,
            no_calls,
            3,
        )
        assert result.call_rate == pytest.approx((313 - 3 - no_calls) / 313)
    with lab.sessions() as session:
        batch = session.scalar(select(LabBatch).where(LabBatch.reference == report.reference))
    assert (batch.score_id, batch.score_version) == (
        "PGS000004",
        "1658bc30cf5b561b51f055f8ad3550978f13315a4b866e2e340418bf9d9ef835",
    )
    path_bytes = (lab.tmp / batch.file_name).read_bytes()
    assert batch.file_sha256 == hashlib.sha256(path_bytes).hexdigest() == report.file_sha256


def test_call_rate_at_the_studys_threshold(lab: Lab) -> None:
    lab.set_lab_rules(min_call_rate=0.96)  # 0.96 x 313 = 300.48: at least 301 called
    exact, short = lab.shipped(2)
    report = _import(lab, lab.file({exact: dosages(0, no_calls=N - 301),
                                    short: dosages(0, no_calls=N - 300)}))  # fmt: skip
    assert report.kits[Outcome.ACCEPTED] == (exact,)
    assert report.kits[Outcome.FAILED_QC] == (short,)
    assert report.min_call_rate == 0.96
    [failed] = _results(lab, short)
    assert "300 of 313 variants called" in failed.qc_reason
    assert "at least 301" in failed.qc_reason


def test_imputed_variants_at_the_studys_threshold(lab: Lab) -> None:
    lab.set_lab_rules(min_call_rate=0.5, max_imputed=5)
    [kit] = lab.shipped()
    five, six = frozenset(range(5)), frozenset(range(6))
    rows = _rows(lab)
    with pytest.raises(InvalidInput, match="at most 5 imputed") as refused:
        _import(lab, lab.file({kit: dosages(0)}, absent=six))
    assert refused.value.field == "file"
    assert _rows(lab) == rows
    report = _import(lab, lab.file({kit: dosages(0)}, absent=five))
    assert report.kits[Outcome.ACCEPTED] == (kit,)
    assert report.max_imputed == 5


def test_a_file_that_is_no_vcf_stores_nothing(lab: Lab) -> None:
    path = lab.tmp / "results.vcf"
    path.write_text("kit,prs\nMP-1,0.3\n", encoding="utf-8")
    rows = _rows(lab)
    with pytest.raises(InvalidInput, match="#CHROM") as refused:
        _import(lab, path)
    assert refused.value.field == "file"
    assert _rows(lab) == rows


def test_an_accepted_result_completes_her_risk_when_her_data_is_complete(lab: Lab) -> None:
    complete = lab.shipped()[0]
    [waiting] = lab.shipped(questionnaire=False)
    report = _import(lab, lab.file({complete: dosages(0), waiting: dosages(1)}))
    assert report.n_risks_completed == 1
    [result] = _results(lab, complete)
    with lab.sessions() as session:

        def assessments(kit_id: str) -> list[RiskAssessment]:
            return list(session.scalars(
                select(RiskAssessment).join(Participant).join(Sample).where(Sample.kit_id == kit_id)
            ))  # fmt: skip

        [risk] = assessments(complete)
        assert risk.inputs["prs_z"] == result.prs_z
        assert assessments(waiting) == []


def test_only_the_laboratory_and_the_data_manager_import(lab: Lab) -> None:
    [kit] = lab.shipped()
    path = lab.file({kit: dosages(0)})
    with pytest.raises(PermissionDenied):
        _import(lab, path, actor=lab.staff)
    assert _import(lab, path, actor=lab.manager).kits[Outcome.ACCEPTED] == (kit,)


def test_the_laboratory_sees_kit_ids_only(lab: Lab) -> None:
    kits = lab.shipped(2)
    report = _import(lab, lab.file({kits[0]: dosages(0), kits[1]: dosages(1, no_calls=80)}))
    with lab.sessions() as session:
        study_ids = list(session.scalars(select(Participant.study_id)))
        levels = list(session.scalars(select(RiskAssessment.level)))
    stored = genotype_batch(lab.sessions, lab.laboratory, report.reference)
    assert stored.kits == report.kits
    assert stored.reference == report.reference
    for shown in (repr(report.as_json()), repr(stored.as_json())):
        assert not any(study_id in shown for study_id in study_ids)
        assert "risk-based" not in shown
        assert "Test Woman" not in shown
        assert not any(f"'{level}'" in shown for level in levels)
    assert set(report.as_json()) == {
        "reference", "study", "file_name", "file_sha256", "score_id", "score_version",
        "normalisation", "imported_at", "dry_run", "min_call_rate", "max_imputed", "n_variants",
        "absent_variants", "n_samples", "counts", "kits", "n_risks_completed",
        "previous_imports"}  # fmt: skip


def test_an_imported_kit_moves_on_once_collected_and_shipped_later(lab: Lab) -> None:
    """A kit refused as not shipped is accepted when the same file comes back after shipping."""
    kit = lab.kit(lab.woman())
    path = lab.file({kit: dosages(0)})
    assert _import(lab, path).kits[Outcome.NOT_SHIPPED] == (kit,)
    record_collection(lab.sessions, lab.manager, kit, lab.TODAY, at=lab.AT)
    ship_samples(lab.sessions, lab.manager, lab.STUDY, "IT-TO", [kit], lab.TODAY,
                 at=lab.AT + timedelta(hours=1))  # fmt: skip
    assert _import(lab, path).kits[Outcome.ACCEPTED] == (kit,)
