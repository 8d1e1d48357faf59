"""What a letter says, gathered from the database (``letter_data``), and the kinds refused."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from importlib.resources import files

import pytest
from sqlalchemy import select

from pebs.risk import cards
from pebs.services.errors import Conflict, InvalidInput, NotFound
from pebs.services.letters import letter_data
from pebs.services.trial import RiskFactors, record_risk_assessment, withdraw
from pebs.store.models import AuditEvent, Participant, PlannedExam, RiskAssessment, ScreeningPlan

TURIN = "Turin demo breast centre (fictional)"


def _demo_site(code: str) -> dict:
    """The site's table in the shipped study file, read independently of pebs.trial."""
    text = files("pebs.trial").joinpath("studies", "mypebs-demo.toml").read_text("utf-8")
    return next(s for s in tomllib.loads(text)["site"] if s["code"] == code)


def _data(women, study_id, kind, **kwargs):
    return letter_data(women.sessions, women.lab.staff, women.lab.keys, study_id, kind,
                       on=women.ISSUED.date(), **kwargs)  # fmt: skip


def test_a_risk_result_has_her_final_risk_as_a_proportion_and_her_plan_to_come(women) -> None:
    data = _data(women, women.result, "risk_result")
    with women.sessions() as session:
        her = select(Participant.id).where(Participant.study_id == women.result)
        assessment = session.scalar(select(RiskAssessment).where(
            RiskAssessment.participant_id == her.scalar_subquery()
        ).order_by(RiskAssessment.id.desc()))  # fmt: skip
        plan = session.scalar(select(ScreeningPlan).where(
            ScreeningPlan.participant_id == her.scalar_subquery(),
            ScreeningPlan.superseded_at.is_(None)))  # fmt: skip
        exams = session.scalars(
            select(PlannedExam)
            .where(
                PlannedExam.screening_plan_id == plan.id,
                PlannedExam.due_date >= women.ISSUED.date(),
            )
            .order_by(PlannedExam.due_date)
        ).all()
        expected_exams = [(e.due_date, e.modality, e.rule) for e in exams]
        percent, level = assessment.outputs["risk_5y_pct"], assessment.level
    assert not assessment.outputs["provisional"]
    # stored twice, as a percent and as a proportion: the letter takes the proportion
    assert data.five_year_risk == pytest.approx(percent / 100.0, rel=1e-12)
    assert 0 < data.five_year_risk < 0.2
    assert data.level == level
    assert [(e.due, e.modality, e.rule) for e in data.exams] == expected_exams
    assert expected_exams, "her plan has exams to come"
    assert {e.place for e in data.exams} == {TURIN}
    assert {e.policy for e in data.exams} == {"mypebs-risk-based"}
    assert data.plan_end == plan.end_date
    assert (data.full_name, data.study_id, data.language) == ("Test Woman", women.result, "it")
    turin = _demo_site("IT-TO")
    assert (data.site.name, data.site.phone, data.site.email, data.site.address) == (
        turin["name"],
        turin["phone"],
        turin["email"],
        turin["address"],
    )
    assert data.model is not None
    assert data.model.card_url == "/models/personalised-IT"
    assert cards.card("personalised-IT").id.casefold() == "personalised-it"
    assert set(data.components) == {"rr_classical", "rr_prs", "rr_density"}
    assert data.inputs["country"] == "IT"


def test_an_unknown_component_reaches_the_letter_as_unknown_not_as_one(women) -> None:
    with women.sessions() as session:
        her = select(Participant.id).where(Participant.study_id == women.result)
        answers = session.scalar(select(RiskAssessment.inputs).where(
            RiskAssessment.participant_id == her.scalar_subquery()
        ).order_by(RiskAssessment.id.desc()))  # fmt: skip
    factors = RiskFactors(**{name: answers[name] for name in (
        "n_biopsies", "atypical_hyperplasia", "age_at_menarche", "age_at_first_birth",
        "n_relatives", "prs_z")}, density="unknown")  # fmt: skip
    record_risk_assessment(women.sessions, women.lab.staff, women.lab.keys, women.result,
                           factors, confirm_lower=True, reason="density not readable",
                           at=women.ISSUED - timedelta(days=1))  # fmt: skip
    data = _data(women, women.result, "risk_result")
    assert data.components["rr_density"] is None
    assert data.components["rr_classical"] is not None
    assert data.inputs["density"] == "unknown"


def test_reading_the_facts_is_audited_as_a_view_of_her_identity(women) -> None:
    _data(women, women.result, "risk_result")
    with women.sessions() as session:
        last = session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert (last.action, last.entity_id, last.actor) == (
        "read_identity",
        women.result,
        "demo-site-staff",
    )


def test_a_recollection_names_the_new_kit_and_the_doctor_copy_only_a_risk_result(women) -> None:
    data = _data(women, women.failed, "recollection")
    assert data.kit_id == women.new_kit
    with pytest.raises(InvalidInput) as refused:
        _data(women, women.failed, "recollection", recipient="doctor")
    assert (refused.value.field, refused.value.message_code) == (
        "recipient",
        "error.letter_doctor_copy",
    )
    doctor = _data(women, women.result, "risk_result", recipient="doctor", language="en")
    assert (doctor.recipient, doctor.language) == ("doctor", "en")


@pytest.mark.parametrize(
    ("who", "kind", "code"),
    [
        ("failed", "risk_result", "error.letter_no_final_risk"),
        ("result", "recollection", "error.letter_no_recollection"),
        ("result", "standard_arm", "error.letter_not_standard_arm"),
        ("standard", "risk_result", "error.letter_not_risk_arm"),
        ("standard", "recollection", "error.letter_no_recollection"),
    ],
)
def test_a_kind_that_does_not_apply_to_her_is_refused_naming_the_kind(women, who, kind,
                                                                      code) -> None:  # fmt: skip
    study_id = women.standard(site="IT-TO") if who == "standard" else getattr(women, who)
    with pytest.raises(InvalidInput) as refused:
        _data(women, study_id, kind)
    assert (refused.value.field, refused.value.message_code) == ("kind", code)


@pytest.mark.parametrize(("field", "value"), [("kind", "birthday"), ("recipient", "sister"),
                                              ("language", "xx")])  # fmt: skip
def test_unknown_choices_are_refused_with_the_allowed_values(women, field, value) -> None:
    kwargs = {"kind": "risk_result", "recipient": "woman", "language": None, field: value}
    kind = kwargs.pop("kind")
    with pytest.raises(InvalidInput) as refused:
        _data(women, women.result, kind, **kwargs)
    assert refused.value.field == field
    assert refused.value.message_code == "error.choice"


def test_no_letter_to_a_woman_who_withdrew_nor_outside_the_scope(women) -> None:
    withdraw(women.sessions, women.lab.manager, women.failed, level="no_further_contact",
             reason="test", at=women.ISSUED)  # fmt: skip
    with pytest.raises(Conflict):
        _data(women, women.failed, "recollection")
    standard = women.standard(site="FR-PA")
    with pytest.raises(NotFound):  # site staff at IT-TO
        _data(women, standard, "standard_arm")
