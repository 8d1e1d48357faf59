"""Visits, outcomes (TNM -> AJCC stage), deaths, questionnaires and visit worklists."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from pebs.services.errors import Conflict, InvalidInput, NotFound
from pebs.services.trial import (
    OutcomeRecord,
    RiskFactors,
    VisitRecord,
    create_screening_plan,
    record_death,
    record_outcome,
    record_questionnaire,
    record_risk_assessment,
    record_visit,
    worklist,
)
from pebs.store.models import Outcome, Visit


def _planned(trial, site: str = "IT-TO") -> str:
    """A standard-arm woman with her plan (Italy: biennial mammography from 50)."""
    study_id = trial.allocated("standard", site=site)
    create_screening_plan(trial.sessions, trial.actor("data_manager"), trial.keys, study_id,
                          at=trial.AT)  # fmt: skip
    return study_id


def _first_visit(trial) -> Visit:
    with trial.sessions() as session:
        return session.scalar(select(Visit).order_by(Visit.due_date, Visit.id).limit(1))


def test_an_expected_visit_is_recorded_with_its_results(trial) -> None:
    study_id = _planned(trial)
    visit = _first_visit(trial)
    record = VisitRecord(date(2025, 3, 20), birads=4, recall=True, biopsy=True,
                         histology="benign")  # fmt: skip
    recorded = record_visit(trial.sessions, trial.staff, study_id, record, visit_id=visit.id,
                            at=trial.AT.replace(day=21))  # fmt: skip
    assert recorded.planned
    assert recorded.visit_id == visit.id
    assert recorded.birads == 4
    with trial.sessions() as session:
        stored = session.get(Visit, visit.id)
        assert (stored.performed_date, stored.histology, stored.recorded_by_id) == (
            date(2025, 3, 20), "benign", trial.staff.user_id,
        )  # fmt: skip
    event = trial.db.events()[-1]
    assert (event.entity, event.entity_id, event.new["birads"]) == ("visit", str(visit.id), 4)
    with pytest.raises(Conflict, match="already recorded"):
        record_visit(trial.sessions, trial.staff, study_id, record, visit_id=visit.id)


def test_an_unplanned_visit_starts_follow_up_of_a_risk_based_woman(trial) -> None:
    study_id = trial.allocated("risk-based")
    answered = RiskFactors(n_biopsies=0, age_at_menarche=13, age_at_first_birth="nulliparous",
                           n_relatives=0, density="b", prs_z=0.0)  # fmt: skip
    record_risk_assessment(trial.sessions, trial.staff, trial.keys, study_id, answered,
                           at=trial.AT)  # fmt: skip
    recorded = record_visit(trial.sessions, trial.staff, study_id,
                            VisitRecord(trial.TODAY, birads=0, modality="ultrasound"),
                            at=trial.AT)  # fmt: skip
    assert (recorded.planned, recorded.visit_type, recorded.pathway_state) == (
        False, "recall", "in_follow_up",
    )  # fmt: skip


VISIT_CHECKS = [
    (VisitRecord(date(2025, 3, 1), birads=7), "BI-RADS category 0 to 6"),
    (VisitRecord(date(2025, 3, 1), histology="dcis"), "needs biopsy=True"),
    (VisitRecord(date(2025, 3, 1), biopsy=True, histology="cancer"), "'cancer' is unknown"),
    (VisitRecord(date(2026, 3, 1)), "in the future"),
    (VisitRecord(date(2025, 3, 1), modality="xray"), "'xray' is unknown"),
]


def test_visit_edit_checks(trial, subtests) -> None:
    study_id = _planned(trial)
    before = trial.db.rows()
    for record, message in VISIT_CHECKS:
        with subtests.test(message=message):
            with pytest.raises(InvalidInput, match=message):
                record_visit(trial.sessions, trial.staff, study_id, record, at=trial.AT)
            assert trial.db.rows() == before


def test_visits_need_a_randomised_woman(trial) -> None:
    study_id = trial.consented()
    with pytest.raises(Conflict, match="cannot record a visit"):
        record_visit(trial.sessions, trial.staff, study_id, VisitRecord(trial.TODAY), at=trial.AT)


def test_an_outcome_is_staged_from_its_tnm(trial) -> None:
    study_id = _planned(trial)
    outcome = record_outcome(
        trial.sessions, trial.staff, study_id,
        OutcomeRecord(date(2025, 2, 1), "screen_detected", "invasive", "pT1c", "pN1mi(sn)", "cM0"),
        at=trial.AT,
    )  # fmt: skip
    assert (outcome.tnm, outcome.stage_group) == ("pT1c pN1mi cM0", "IB")
    dcis = record_outcome(trial.sessions, trial.staff, study_id,
                          OutcomeRecord(date(2025, 2, 2), "interval", "dcis", "pTis (DCIS)", "pN0",
                                        "cM0"), at=trial.AT)  # fmt: skip
    assert dcis.stage_group == "0"
    unstaged = record_outcome(trial.sessions, trial.staff, study_id,
                              OutcomeRecord(date(2025, 2, 3), "clinical", "invasive"),
                              at=trial.AT)  # fmt: skip
    assert unstaged.stage_group is None
    with trial.sessions() as session:
        stored = session.get(Outcome, outcome.outcome_id)
        assert (stored.t_category, stored.n_category, stored.m_category) == ("pT1c", "pN1mi", "cM0")
    outcome_events = [event for event in trial.db.events() if event.entity == "outcome"]
    assert outcome_events[-1].new["stage_group"] is None  # then the edit check's query


OUTCOME_CHECKS = [
        (OutcomeRecord(date(2025, 2, 1), "screen_detected", "dcis", "T2", "N0", "M0"),
         "does not match T category T2"),
        (OutcomeRecord(date(2025, 2, 1), "clinical", "invasive", "T1", "N0", None),
         "give all three"),
        (OutcomeRecord(date(2025, 2, 1), "clinical", "invasive", "T0", "N0", "M0"),
         "has no stage group"),
        (OutcomeRecord(date(2025, 2, 1), "by_chance", "invasive"), "detection_mode"),
]  # fmt: skip


def test_outcome_edit_checks(trial, subtests) -> None:
    study_id = _planned(trial)
    before = trial.db.rows()
    for record, message in OUTCOME_CHECKS:
        with subtests.test(message=message):
            with pytest.raises(InvalidInput, match=message):
                record_outcome(trial.sessions, trial.staff, study_id, record, at=trial.AT)
            assert trial.db.rows() == before


def test_a_death_ends_the_pathway_once(trial) -> None:
    study_id = _planned(trial)
    died = record_death(trial.sessions, trial.staff, study_id, date_of_death=date(2025, 3, 1),
                        cause="other", cause_icd10="I21.9", at=trial.AT)  # fmt: skip
    assert died.pathway_state == "died"
    assert trial.db.events()[-1].old == {"status": "in_follow_up"}
    with pytest.raises(Conflict):
        record_death(trial.sessions, trial.staff, study_id, date_of_death=date(2025, 3, 1),
                     cause="other", at=trial.AT)  # fmt: skip
    with pytest.raises(InvalidInput, match="cause"):
        record_death(trial.sessions, trial.staff, study_id, date_of_death=date(2025, 3, 1),
                     cause="old age")  # fmt: skip


def test_questionnaires_once_per_instrument_and_time_point(trial) -> None:
    study_id = trial.consented()
    answers = {"item_1": 3, "item_2": 4, "item_3": None}  # null: not answered

    def record(timepoint: int, instrument: str = "STAI-6 demo", answers=answers):
        return record_questionnaire(
            trial.sessions, trial.staff, study_id, instrument=instrument,
            timepoint_months=timepoint, answers=answers, completed_on=trial.TODAY, at=trial.AT,
        )  # fmt: skip

    assert record(0).timepoint_months == 0
    assert record(0, "EQ-5D-5L", {"vas": 80}).instrument == "EQ-5D-5L"
    with pytest.raises(Conflict, match="already recorded"):
        record(0)
    with pytest.raises(InvalidInput, match="allowed: 0, 3, 12, 48"):
        record(6)
    stored = [e.new["answers"] for e in trial.db.events() if e.entity == "questionnaire_response"]
    assert stored == [answers, {"vas": 80}]


def test_the_worklist_shows_due_and_overdue_visits_of_a_site_in_scope(trial) -> None:
    turin = _planned(trial)  # first exam due on the plan start, 2025-03-03
    _planned(trial, site="IT-MI")

    def listing(actor, site="IT-TO", **kwargs):
        return worklist(trial.sessions, actor, trial.STUDY, site, **kwargs)

    page = listing(trial.staff, on=date(2025, 3, 10))
    assert [(e.study_id, e.due_date, e.overdue) for e in page.entries] == [
        (turin, date(2025, 3, 3), False)
    ]
    late = listing(trial.actor("monitor"), on=date(2025, 7, 1), overdue_only=True)
    assert [e.overdue for e in late.entries] == [True]
    assert listing(trial.staff, on=date(2025, 3, 1)).entries == ()
    with pytest.raises(NotFound):
        listing(trial.staff, site="IT-MI", on=date(2025, 3, 10))
    france = trial.add_user("coord-fr", "country_coordinator", country="FR")
    with pytest.raises(NotFound):
        listing(france, on=date(2025, 3, 10))
    assert len(listing(trial.actor("coordinator"), site="IT-MI", on=date(2025, 3, 10)).entries)


def test_the_worklist_total_counts_every_page_with_the_same_filters(trial) -> None:
    turin = sorted(_planned(trial) for _ in range(3))  # each: first exam due 2025-03-03
    _planned(trial, site="IT-MI")  # another site: never in IT-TO's list
    first = worklist(trial.sessions, trial.staff, trial.STUDY, "IT-TO", on=date(2025, 3, 10),
                     limit=2)  # fmt: skip
    assert (len(first.entries), first.total) == (2, 3)
    last = worklist(trial.sessions, trial.staff, trial.STUDY, "IT-TO", on=date(2025, 3, 10),
                    limit=2, after=first.next_after)  # fmt: skip
    assert (len(last.entries), last.total, last.next_after) == (1, 3, None)
    assert sorted(e.study_id for e in first.entries + last.entries) == turin
    none_overdue = worklist(trial.sessions, trial.staff, trial.STUDY, "IT-TO",
                            on=date(2025, 3, 10), overdue_only=True, limit=2)  # fmt: skip
    assert (none_overdue.entries, none_overdue.total) == ((), 0)
