"""Whole-trial import from CSV files: allocations kept as the source system made them (no slot
taken), follow-up records from the visits and diagnoses files, women stored before skipped
(importing twice = importing once), and a dry run that stores nothing. SQLite and PostgreSQL.

Expected values come from the hand-written files below and the demo study's definition (strata
``<site>:<age band>``; BI-RADS 0-6), never from a first run of the import."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import select

from factories import AT, ELIGIBLE
from pebs.services.trial.trial_import import import_csv_files
from pebs.store.models import Allocation, AllocationSlot, Outcome, Participant, Visit

STEP = [AT.replace(minute=k).isoformat() for k in range(5)]
CRITERIA = {f"eligibility.{name}": ("yes" if ok else "no") for name, ok in ELIGIBLE.items()}


def _woman(source_id: str, **changes: str) -> dict[str, str]:
    row = {
        "source_id": source_id, "site": "IT-TO", "name": "Test Woman",
        "birth_date": "1972-05-10", "national_id": f"N-{source_id}", "registered_at": STEP[0],
        **CRITERIA, "assessed_at": STEP[1], "consented_at": STEP[2], "consent_language": "it",
        "allocated_at": STEP[3], "arm": "standard", "allocation_method": "minimisation",
        "allocation_reference": f"R-{source_id}", "n_biopsies": "0", "age_at_menarche": "13",
        "age_at_first_birth": "nulliparous", "n_relatives": "1", "density": "c",
        "prs_z": "0.4", "risk_at": STEP[4],
    }  # fmt: skip
    row.update(changes)
    return row


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _import(trial, women: Path, **options):
    outcomes = []
    summary = import_csv_files(
        trial.sessions, trial.actor("data_manager"), trial.keys, trial.STUDY, women,
        on_outcome=outcomes.append, **options,
    )  # fmt: skip
    return summary, outcomes


def test_an_imported_allocation_is_kept_and_takes_no_slot(trial, tmp_path) -> None:
    trial.lists(["IT-TO:50-59"], slots=4)
    women = _write(tmp_path / "women.csv", [
        _woman("S1"),  # standard, as the source system allocated her
        _woman("S2", arm="risk-based", allocation_method="block", allocation_reference=""),
        _woman("S3", arm="control"),  # not an arm of the study
        _woman("S4", arm="", allocation_method="", allocation_reference=""),  # a list slot
    ])  # fmt: skip
    _summary, outcomes = _import(trial, women)

    by_line = {o.line: o for o in outcomes}
    assert (by_line[2].reached, by_line[2].arm) == ("plan", "standard")
    assert (by_line[3].reached, by_line[3].arm) == ("plan", "risk-based")
    assert (by_line[4].refused_step, by_line[4].refused_field) == ("allocate", "arm")
    assert "risk-based" in by_line[4].message
    assert "standard" in by_line[4].message
    with trial.sessions() as session:
        stored = {
            p.source_id: (a.method, a.arm, a.source_method, a.source_reference,
                          a.allocation_slot_id is None, p.stratum, p.strata_locked_at is not None)
            for p, a in session.execute(select(Participant, Allocation).join(
                Allocation, Allocation.participant_id == Participant.id))
        }  # fmt: skip
        used = session.scalars(
            select(AllocationSlot.used_by_participant_id).where(
                AllocationSlot.used_by_participant_id.is_not(None)
            )
        ).all()
    assert stored["S1"] == ("imported", "standard", "minimisation", "R-S1", True, "IT-TO:50-59",
                            True)  # fmt: skip
    assert stored["S2"] == ("imported", "risk-based", "block", None, True, "IT-TO:50-59", True)
    assert stored["S4"][0] == "list"
    assert not stored["S4"][4]
    assert len(used) == 1  # only the woman without an imported arm took a slot
    assert trial.db.chain_ok()


def test_an_arm_needs_the_source_method_and_instant(trial, tmp_path) -> None:
    women = _write(tmp_path / "women.csv", [
        _woman("S1", allocation_method=""),
        _woman("S2", allocated_at=""),
        _woman("S3", arm="", allocation_reference=""),
    ])  # fmt: skip
    _, outcomes = _import(trial, women)
    refused = {o.line: (o.refused_step, o.refused_field) for o in outcomes}
    assert refused == {
        2: ("read", "allocation_method"),
        3: ("read", "allocated_at"),
        4: ("read", "allocation_method"),
    }
    assert trial.db.rows()["participants"] == 0


def test_importing_twice_leaves_the_database_as_importing_once(trial, tmp_path) -> None:
    women = _write(tmp_path / "women.csv", [
        _woman("S1"), _woman("S2", arm="risk-based"),
        _woman("S3", national_id=""),  # known by her source_id only
        _woman("", national_id="N-S4"),  # known by her national ID only
        _woman("S5", consented_at=""),  # stops at eligibility
    ])  # fmt: skip
    visits = _write(tmp_path / "visits.csv", [
        {"source_id": "S1", "visit_type": "screening", "modality": "mammography",
         "performed_date": "2025-03-01", "birads": "1"},
    ])  # fmt: skip
    first, _ = _import(trial, women, visits=visits)
    once = trial.db.rows()
    events = len(trial.db.events())
    second, outcomes = _import(trial, women, visits=visits)

    assert first.skipped == 0
    assert first.recorded["visit"] == 1
    assert second.skipped == 5
    assert all(o.skipped and o.study_id for o in outcomes)
    assert trial.db.rows() == once
    assert len(trial.db.events()) == events


def test_a_file_repeating_a_woman_refuses_the_repeat(trial, tmp_path) -> None:
    women = _write(tmp_path / "women.csv", [_woman("S1"), _woman("S1", national_id="other")])
    summary, outcomes = _import(trial, women)
    assert (outcomes[1].refused_step, outcomes[1].skipped) == ("register", False)
    assert "S1" in outcomes[1].message
    assert summary.skipped == 0


def test_visits_and_diagnoses_are_recorded_through_their_use_cases(trial, tmp_path) -> None:
    women = _write(tmp_path / "women.csv", [_woman("S1"), _woman("S2", consented_at="")])
    visits = _write(tmp_path / "visits.csv", [
        {"source_id": "S1", "visit_type": "screening", "modality": "mammography",
         "performed_date": "2025-03-01", "birads": "4", "biopsy": "yes",
         "histology": "invasive"},
        {"source_id": "S1", "visit_type": "screening", "modality": "mammography",
         "performed_date": "2025-03-02", "birads": "7"},  # line 3: not a BI-RADS category
        {"source_id": "S2", "visit_type": "screening", "modality": "mammography",
         "performed_date": "2025-03-02", "birads": "1"},  # line 4: she was never allocated
        {"source_id": "S9", "visit_type": "screening", "modality": "mammography",
         "performed_date": "2025-03-02", "birads": "1"},  # line 5: no such woman
        {"source_id": "S1", "visit_type": "screening", "modality": "mammography",
         "performed_date": "1/3/2025", "birads": "1"},  # line 6: unreadable date
    ])  # fmt: skip
    diagnoses = _write(tmp_path / "diagnoses.csv", [
        {"source_id": "S1", "diagnosis_date": "2025-03-02", "detection_mode": "screen_detected",
         "behaviour": "invasive", "t": "pT1c", "n": "pN0", "m": "cM0"},
    ])  # fmt: skip
    summary, outcomes = _import(trial, women, visits=visits, diagnoses=diagnoses)

    refused = {(o.file, o.line): (o.refused_step, o.refused_field) for o in outcomes
               if o.is_record}  # fmt: skip
    assert refused == {
        ("visits", 3): ("visit", "birads"),
        ("visits", 5): ("read", "source_id"),
        ("visits", 6): ("read", "performed_date"),
    }
    # S2's visit is not tried: she stopped before allocation (her row's outcome says so)
    assert summary.recorded == {"visit": 1, "outcome": 1}
    assert summary.reached == {"plan": 1, "eligibility": 1}
    with trial.sessions() as session:
        visit = session.scalars(select(Visit).where(Visit.performed_date.is_not(None))).one()
        outcome = session.scalars(select(Outcome)).one()
    assert (visit.birads, visit.histology) == (4, "invasive")
    assert (outcome.t_category, outcome.stage_group) == ("pT1c", "IA")  # AJCC 8th: T1 N0 M0
    assert trial.db.chain_ok()


def test_a_dry_run_checks_every_row_and_stores_nothing(trial, tmp_path) -> None:
    women = _write(tmp_path / "women.csv", [
        _woman("S1"), _woman("S2", birth_date="10/05/1972"), _woman("S3", arm="control"),
        _woman("S4", **{"eligibility.history_breast_cancer": "yes"}),
    ])  # fmt: skip
    visits = _write(tmp_path / "visits.csv", [
        {"source_id": "S1", "modality": "mammography", "performed_date": "2025-03-01",
         "birads": "9"},
    ])  # fmt: skip
    before, events = trial.db.rows(), len(trial.db.events())
    dry, dry_outcomes = _import(trial, women, visits=visits, dry_run=True)
    assert trial.db.rows() == before
    assert len(trial.db.events()) == events
    assert dry.dry_run
    assert dry.commits == 0

    real, outcomes = _import(trial, women, visits=visits)
    refusals = [(o.file, o.line, o.refused_step, o.refused_field) for o in outcomes]
    assert [(o.file, o.line, o.refused_step, o.refused_field) for o in dry_outcomes] == refusals
    assert refusals == [
        ("women", 2, None, None), ("visits", 2, "visit", "birads"),
        ("women", 3, "read", "birth_date"), ("women", 4, "allocate", "arm"),
        ("women", 5, "consent", None),  # a screen failure: no consent
    ]  # fmt: skip
    assert dry.reached == real.reached
