"""End to end through the services: demo study -> register -> eligible -> consent -> allocate ->
(risk-based) risk + plan / (standard) plan -> visit -> outcome; then the audit chain verifies."""

from __future__ import annotations

from datetime import UTC, date, datetime

from factories import ELIGIBLE, STUDY
from pebs.services.actor import Actor, actor_for
from pebs.services.keys import IdentityKeys
from pebs.services.trial import (
    NewParticipant,
    OutcomeRecord,
    RiskFactors,
    VisitRecord,
    allocate,
    assess_eligibility,
    create_screening_plan,
    generate_allocation_list,
    get_participant_summary,
    load_study_config,
    record_consent,
    record_outcome,
    record_risk_assessment,
    record_visit,
    register_participant,
    verify_audit_chain,
    worklist,
)
from pebs.store.crypto import IdentityCipher

AT = datetime(2025, 6, 2, 8, 30, tzinfo=UTC)
DAY = date(2025, 6, 2)
BIRTH_DATES = (date(1970, 2, 14), date(1968, 3, 15), date(1972, 1, 2), date(1966, 12, 1))
"""Four women aged 50-59 (screened in both arms in Italy): whatever the first block (2, 4 or
6), both arms are drawn."""


def test_women_go_through_the_whole_trial(session_maker) -> None:
    loaded = load_study_config(session_maker, Actor.system("ops"), STUDY, demo_users=True)
    assert loaded.created["site"] == 16
    keys = IdentityKeys.from_settings_values([IdentityCipher.generate_key()], b"s" * 32)
    staff = actor_for(session_maker, "demo-site-staff")  # at IT-TO
    statistician = actor_for(session_maker, "demo-statistician")
    generate_allocation_list(session_maker, statistician, STUDY, slots_per_stratum=8,
                             seed=20250602, strata=["IT-TO:50-59"], at=AT)  # fmt: skip

    arms = []
    for n, born in enumerate(BIRTH_DATES):
        new = NewParticipant("IT-TO", f"Woman {n}", born, national_id=f"ID-{n}")
        study_id = register_participant(session_maker, staff, keys, STUDY, new, at=AT).study_id
        eligibility = assess_eligibility(session_maker, staff, keys, study_id, ELIGIBLE, at=AT)
        assert eligibility.status == "eligible"
        record_consent(session_maker, staff, study_id, language="it", at=AT)
        allocated = allocate(session_maker, staff, keys, study_id, at=AT)
        assert allocated.stratum == "IT-TO:50-59"
        arms.append(allocated.arm)
        if allocated.arm == "risk-based":
            factors = RiskFactors(n_biopsies=0, age_at_menarche=12, age_at_first_birth=28,
                                  n_relatives=1, density="c", prs_z=0.5)  # fmt: skip
            recorded = record_risk_assessment(session_maker, staff, keys, study_id, factors, at=AT)
            plan = recorded.plan
            assert plan.policy == "mypebs-risk-based"
            assert recorded.pathway_state == "plan_given"
        else:
            plan = create_screening_plan(session_maker, staff, keys, study_id, at=AT)
            assert plan.policy == "it"
            assert plan.pathway_state == "in_follow_up"
        assert plan.exams  # every plan ends with an exam at the latest
        due = worklist(session_maker, staff, STUDY, "IT-TO", on=plan.exams[0].due).entries
        expected = next(e for e in due if e.study_id == study_id)
        visit = record_visit(
            session_maker, staff, study_id,
            VisitRecord(expected.due_date, birads=5, recall=True, biopsy=True,
                        histology="invasive"),
            visit_id=expected.visit_id, at=datetime.combine(expected.due_date, AT.timetz()),
        )  # fmt: skip
        outcome = record_outcome(
            session_maker, staff, study_id,
            OutcomeRecord(expected.due_date, "screen_detected", "invasive", "pT2", "pN0", "cM0"),
            at=datetime.combine(expected.due_date, AT.timetz()),
        )  # fmt: skip
        assert (visit.pathway_state, outcome.stage_group) == ("in_follow_up", "IIA")
        summary = get_participant_summary(session_maker, staff, study_id)
        assert (summary.status, summary.arm, summary.strata_locked) == (
            "in_follow_up", allocated.arm, True,
        )  # fmt: skip

    assert set(arms) == {"standard", "risk-based"}
    report = verify_audit_chain(session_maker)
    assert report.ok
    assert report.n_events == report.head_id > sum(loaded.created.values())
