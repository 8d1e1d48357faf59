"""Risk assessment of risk-based women and screening plans for both arms."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select

from pebs.risk.personalised import MODEL_ID, MODEL_VERSION, assess, country_model
from pebs.screening import Woman, load_policy, plan
from pebs.services.errors import Conflict, InvalidInput
from pebs.services.trial import (
    RiskFactors,
    create_screening_plan,
    record_risk_assessment,
    record_visit,
)
from pebs.services.trial.visits import VisitRecord
from pebs.store.models import PlannedExam, RiskAssessment, ScreeningPlan, Visit

HIGH = RiskFactors(n_biopsies=1, atypical_hyperplasia=False, age_at_menarche=11,
                   age_at_first_birth=32, n_relatives=1, density="c", prs_z=1.0)  # fmt: skip


def _record(trial, study_id, factors=HIGH, **kwargs):
    return record_risk_assessment(trial.sessions, trial.staff, trial.keys, study_id, factors,
                                  at=trial.AT, **kwargs)  # fmt: skip


def test_risk_is_stored_with_model_inputs_outputs_and_the_level_plan(trial) -> None:
    study_id = trial.allocated("risk-based")
    recorded = _record(trial, study_id)

    expected = assess(country_model("IT"), age=[52], n_biopsies=[1], atypical_hyperplasia=[0],
                      age_at_menarche=[11], age_at_first_birth=[32], n_relatives=[1],
                      density=["c"], prs_z=[1.0])  # fmt: skip
    assert recorded.risk_5y == pytest.approx(float(expected.risk_5y[0]), rel=1e-12)
    assert recorded.level == expected.level[0]
    assert (recorded.model, recorded.model_version) == (MODEL_ID, MODEL_VERSION)
    assert recorded.pathway_state == "plan_given" == recorded.plan.pathway_state

    policy = load_policy("mypebs-risk-based")
    woman = Woman(trial.BORN_52, arm="risk-based", level=recorded.level,
                  risk_5y=recorded.risk_5y, density="c")  # fmt: skip
    reference = plan(policy, woman, trial.TODAY)
    assert [(e.due, e.modality) for e in recorded.plan.exams] == [
        (e.due, e.modality) for e in reference.exams
    ]
    assert recorded.plan.policy == "mypebs-risk-based"
    assert recorded.plan.end == reference.end

    with trial.sessions() as session:
        row = session.get(RiskAssessment, recorded.assessment_id)
        assert row.inputs["age"] == 52
        assert row.inputs["country"] == "IT"
        assert row.inputs["density"] == "c"
        assert row.inputs["assessed_on"] == "2025-03-03"
        assert row.outputs["risk_5y"] == recorded.risk_5y
        assert row.level == recorded.level
        stored = session.scalar(select(ScreeningPlan))
        assert stored.risk_assessment_id == row.id
        assert stored.arm == "risk-based"
        exams = session.scalars(select(PlannedExam).order_by(PlannedExam.id)).all()
        visits = session.scalars(select(Visit).order_by(Visit.id)).all()
        assert [v.planned_exam_id for v in visits] == [e.id for e in exams]
        assert visits[-1].visit_type == "end_of_study"
    risk_event, plan_event = trial.db.events()[-2:]
    assert (risk_event.entity, plan_event.entity) == ("risk_assessment", "screening_plan")
    assert risk_event.new["level"] == recorded.level
    assert plan_event.old == {"status": "randomised_risk_based"}
    assert plan_event.new["status"] == "plan_given"


def test_the_standard_arm_gets_her_country_programme_and_starts_follow_up(trial) -> None:
    study_id = trial.allocated("standard", site="FR-PA")
    created = create_screening_plan(trial.sessions, trial.actor("data_manager"), trial.keys,
                                    study_id, at=trial.AT)  # fmt: skip
    assert created.policy == "fr"
    assert created.arm == "standard"
    assert created.pathway_state == "in_follow_up"
    reference = plan(load_policy("fr"), Woman(trial.BORN_52), trial.TODAY, years=4)
    assert [(e.due, e.modality) for e in created.exams] == [
        (e.due, e.modality) for e in reference.exams
    ]
    event = trial.db.events()[-1]
    assert event.old == {"status": "randomised_standard"}
    assert event.new["policy"] == "fr"


def test_risk_assessment_is_for_the_risk_based_arm_only(trial) -> None:
    study_id = trial.allocated("standard")
    before = trial.db.rows()
    with pytest.raises(Conflict, match="'randomised_standard': cannot record a risk assessment"):
        _record(trial, study_id)
    risk_based = trial.allocated("risk-based")
    with pytest.raises(Conflict, match="has no risk assessment"):
        create_screening_plan(trial.sessions, trial.staff, trial.keys, risk_based, at=trial.AT)
    with pytest.raises(InvalidInput, match="density"):
        _record(trial, risk_based, RiskFactors(density="x"))
    with pytest.raises(InvalidInput, match="age_at_menarche must be"):
        _record(trial, risk_based, replace(HIGH, age_at_menarche=60))
    assert trial.db.rows()["risk_assessments"] == before["risk_assessments"]


def test_a_new_assessment_supersedes_the_plan_and_keeps_performed_visits(trial) -> None:
    study_id = trial.allocated("risk-based")
    first = _record(trial, study_id)
    with trial.sessions() as session:
        first_visit = session.scalar(select(Visit).order_by(Visit.due_date).limit(1))
    record_visit(trial.sessions, trial.staff, study_id, VisitRecord(trial.TODAY, birads=1),
                 visit_id=first_visit.id, at=trial.AT)  # fmt: skip
    second = _record(trial, study_id, replace(HIGH, prs_z=1.5), on_date=date(2025, 4, 2),
                     last_screen=trial.TODAY)  # fmt: skip
    assert second.pathway_state == "in_follow_up"  # no move back along the pathway
    with trial.sessions() as session:
        plans = session.scalars(select(ScreeningPlan).order_by(ScreeningPlan.id)).all()
        assert plans[0].superseded_at is not None
        assert plans[1].superseded_at is None
        kept = session.scalars(select(Visit).where(Visit.planned_exam_id.in_(
            select(PlannedExam.id).where(PlannedExam.screening_plan_id == plans[0].id)
        ))).all()  # fmt: skip
        assert [v.id for v in kept] == [first_visit.id]
    assert trial.db.events()[-1].new["superseded_plans"] == [first.plan.plan_id]
