"""Her risk and plan computed when her data is complete: the questionnaire, the density of her
baseline mammogram and the PRS of her saliva sample, arriving in any order.

Expected risks come from the study's model called directly (:mod:`pebs.risk.registry`, the demo
study's default model calibrated to Italy) on inputs written out here, and from the manual
assessment of another woman with the same inputs; expected levels from the MyPeBS order low <
average < high < very_high (NCT03672331). The demo study requires every input and allows no
provisional assessment (``src/pebs/trial/studies/mypebs-demo.toml``); the PRS is stored as the
laboratory import would store it, as an accepted genotype result.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from importlib.resources import files

import pytest
from sqlalchemy import func, select

from pebs.risk.inputs import RiskInputs
from pebs.risk.registry import DEFAULT_MODEL, five_year_model
from pebs.services.actor import Actor
from pebs.services.errors import Conflict, InvalidFields, InvalidInput
from pebs.services.trial import (
    RiskFactors,
    VisitRecord,
    load_study_config,
    record_risk_assessment,
    record_risk_questionnaire,
    record_visit,
    risk_pending,
)
from pebs.services.trial.risk_completion import complete_risk_in, complete_risks_in
from pebs.store.models import (
    AuditEvent,
    GenotypeResult,
    LabBatch,
    Participant,
    PlannedExam,
    RiskAssessment,
    RiskQuestionnaire,
    Sample,
    ScreeningPlan,
    Study,
    Visit,
)

QUESTIONNAIRE = RiskFactors(n_biopsies=1, atypical_hyperplasia=False, age_at_menarche=11,
                            age_at_first_birth=32, n_relatives=1)  # fmt: skip
"""High-risk answers (with density c and PRS +1.0: level high)."""
LOW_QUESTIONNAIRE = RiskFactors(n_biopsies=0, age_at_menarche=15, age_at_first_birth=20,
                                n_relatives=0)  # fmt: skip
"""Low-risk answers (with density a and PRS -2.0: level low); no biopsy, so no hyperplasia."""


def _model_risk(age: int, **inputs) -> tuple[float, str]:
    """Five-year risk and level from the study's model, called directly."""
    model = five_year_model(DEFAULT_MODEL, "IT")
    result = model.assess(RiskInputs(age=[age], **{k: [v] for k, v in inputs.items()}))
    return float(result.risk_5y[0]), str(result.level[0])


HIGH_RISK, HIGH_LEVEL = _model_risk(
    52, n_biopsies=1, atypical_hyperplasia=0, age_at_menarche=11, age_at_first_birth=32,
    n_relatives=1, density="c", prs_z=1.0,
)  # fmt: skip
LOW_RISK, LOW_LEVEL = _model_risk(
    52, n_biopsies=0, atypical_hyperplasia=None, age_at_menarche=15, age_at_first_birth=20,
    n_relatives=0, density="a", prs_z=-2.0,
)  # fmt: skip


def _pid(trial, study_id: str) -> int:
    with trial.sessions() as session:
        return session.scalar(select(Participant.id).where(Participant.study_id == study_id))


def _questionnaire(trial, study_id, factors=QUESTIONNAIRE, **kwargs):
    return record_risk_questionnaire(trial.sessions, trial.staff, trial.keys, study_id, factors,
                                     answered_on=trial.TODAY, at=trial.AT, **kwargs)  # fmt: skip


def _density(trial, study_id, density="c", *, day=None, visit_type="screening"):
    record = VisitRecord(performed_date=day or trial.TODAY, modality="mammography",
                         visit_type=visit_type, birads=1, density=density,
                         density_reader="Dr Radiologist")  # fmt: skip
    return record_visit(trial.sessions, trial.staff, study_id, record, keys=trial.keys,
                        at=trial.AT)  # fmt: skip


_KITS = iter(range(10**6))


def _sample(session, participant_id: int, *, state="genotyped", collected_on=None) -> Sample:
    sample = Sample(kit_id=f"MP-T{next(_KITS):07d}", participant_id=participant_id, state=state,
                    collected_on=collected_on)  # fmt: skip
    session.add(sample)
    session.flush()
    return sample


def _prs(trial, study_id: str, z: float) -> str | None:
    """An accepted genotype result stored as the laboratory import stores it, then her risk."""
    participant_id = _genotype(trial, study_id, z)
    with trial.sessions.begin() as session:
        return complete_risk_in(session, participant_id=participant_id,
                                actor=trial.actor("data_manager"), keys=trial.keys,
                                at=trial.AT)  # fmt: skip


def _genotype(trial, study_id: str, z: float) -> int:
    """An accepted genotype result stored as the laboratory import stores it; her row id."""
    participant_id = _pid(trial, study_id)
    with trial.sessions.begin() as session:
        sample = _sample(session, participant_id)
        study_pk = session.scalar(select(Study.id).where(Study.name == trial.STUDY))
        batch = LabBatch(reference=f"B-{sample.id}", study_pk=study_pk, file_name="batch.vcf",
                         file_sha256="0" * 64, score_id="PGS000004", score_version="test",
                         report={})  # fmt: skip
        session.add(batch)
        session.flush()
        session.add(GenotypeResult(
            sample_id=sample.id, batch_id=batch.id, status="accepted", prs_z=z, raw_score=0.1,
            call_rate=0.99, n_variants=313, n_matched=310, n_missing=3, n_imputed=3,
            recorded_at=trial.AT,
        ))  # fmt: skip
    return participant_id


def _assessments(trial, study_id: str) -> list[RiskAssessment]:
    with trial.sessions() as session:
        return list(session.scalars(
            select(RiskAssessment).join(Participant)
            .where(Participant.study_id == study_id).order_by(RiskAssessment.id)
        ))  # fmt: skip


def _status(trial, study_id: str) -> str:
    with trial.sessions() as session:
        return session.scalar(select(Participant.status).where(Participant.study_id == study_id))


def _pending(trial, actor=None, **kwargs):
    page = risk_pending(trial.sessions, actor or trial.staff, trial.STUDY, on=trial.TODAY,
                        **kwargs)  # fmt: skip
    return {entry.study_id: entry for entry in page.entries}


STEPS = {
    "questionnaire": lambda trial, study_id: _questionnaire(trial, study_id).risk_level,
    "density": lambda trial, study_id: _density(trial, study_id).risk_level,
    "prs": lambda trial, study_id: _prs(trial, study_id, 1.0),
}


@pytest.mark.parametrize("last", ["questionnaire", "density", "prs"])
def test_her_risk_is_computed_when_the_last_input_arrives(trial, last) -> None:
    study_id = trial.allocated("risk-based")
    assert _pending(trial)[study_id].missing == ("questionnaire", "density", "prs")
    first, second = [step for step in STEPS if step != last]
    assert STEPS[first](trial, study_id) is None
    assert STEPS[second](trial, study_id) is None
    assert _assessments(trial, study_id) == []  # nothing computed while an input is missing
    assert _status(trial, study_id) == "randomised_risk_based"
    assert _pending(trial)[study_id].missing == (last,)

    assert STEPS[last](trial, study_id) == HIGH_LEVEL == "high"
    [row] = _assessments(trial, study_id)
    assert row.outputs["risk_5y"] == pytest.approx(HIGH_RISK, rel=1e-12)
    assert row.level == "high"
    assert row.model_name == DEFAULT_MODEL
    assert row.model_version
    assert row.outputs["provisional"] is False
    assert {k: row.inputs[k] for k in ("density", "prs_z", "n_relatives", "age")} == {
        "density": "c", "prs_z": 1.0, "n_relatives": 1, "age": 52,
    }  # fmt: skip
    assert _status(trial, study_id) == "plan_given"
    with trial.sessions() as session:
        plan = session.scalar(select(ScreeningPlan).where(ScreeningPlan.risk_assessment_id
                                                          == row.id))  # fmt: skip
        assert plan is not None
        assert plan.superseded_at is None
    [event] = [e for e in trial.db.events() if e.entity == "risk_assessment"]
    assert event.new["automatic"] is True
    assert set(event.new["sources"]) == {"risk_questionnaire", "visit", "genotype_result"}
    assert event.new["model_version"] == row.model_version
    assert study_id not in _pending(trial)
    assert trial.db.chain_ok()


def test_the_automatic_assessment_equals_the_manual_one_for_the_same_inputs(trial) -> None:
    automatic = trial.allocated("risk-based")
    _questionnaire(trial, automatic)
    _density(trial, automatic)
    _prs(trial, automatic, 1.0)
    manual = trial.allocated("risk-based")
    record_risk_assessment(trial.sessions, trial.staff, trial.keys, manual,
                           replace(QUESTIONNAIRE, density="c", prs_z=1.0), at=trial.AT)  # fmt: skip
    [a] = _assessments(trial, automatic)
    [m] = _assessments(trial, manual)
    assert a.outputs == m.outputs
    assert a.inputs == m.inputs
    assert (a.level, a.model_name, a.model_version) == (m.level, m.model_name, m.model_version)


def test_the_same_inputs_are_not_assessed_twice_and_a_changed_input_reassesses(trial) -> None:
    study_id = trial.allocated("risk-based")
    _density(trial, study_id)
    _prs(trial, study_id, 1.0)
    assert _questionnaire(trial, study_id).risk_level == "high"
    assert _questionnaire(trial, study_id).risk_level is None  # the same answers again
    assert len(_assessments(trial, study_id)) == 1
    # A later mammogram's density is not her baseline: nothing changes.
    assert _density(trial, study_id, "a", day=trial.TODAY).risk_level is None
    assert len(_assessments(trial, study_id)) == 1
    # A new PRS (a resolved conflict) that raises her risk: a new assessment, a new plan.
    assert _prs(trial, study_id, 2.5) in ("high", "very_high")
    rows = _assessments(trial, study_id)
    assert len(rows) == 2
    assert rows[-1].inputs["prs_z"] == 2.5
    with trial.sessions() as session:
        current = session.scalars(select(ScreeningPlan).where(
            ScreeningPlan.superseded_at.is_(None), ScreeningPlan.participant_id
            == _pid(trial, study_id))).all()  # fmt: skip
        assert [p.risk_assessment_id for p in current] == [rows[-1].id]


def test_a_clinicians_later_assessment_is_not_redone_from_older_records(trial) -> None:
    study_id = trial.allocated("risk-based")
    _questionnaire(trial, study_id)
    _density(trial, study_id)
    _prs(trial, study_id, 1.0)
    later = trial.AT + timedelta(hours=1)
    by_hand = record_risk_assessment(
        trial.sessions, trial.staff, trial.keys, study_id,
        replace(QUESTIONNAIRE, n_relatives=2, density="c", prs_z=1.0), at=later,
    )  # fmt: skip
    # A later mammogram (not her baseline) brings nothing new: her hand assessment stands.
    record = VisitRecord(performed_date=trial.TODAY, modality="mammography",
                         visit_type="screening", density="b", density_reader="Dr R")  # fmt: skip
    recorded = record_visit(trial.sessions, trial.staff, study_id, record, keys=trial.keys,
                            at=later + timedelta(hours=1))  # fmt: skip
    assert recorded.risk_level is None
    assert [r.id for r in _assessments(trial, study_id)][-1] == by_hand.assessment_id
    assert not [e for e in trial.db.events() if e.action == "hold_risk"]


def test_an_automatic_assessment_never_lowers_her_level(trial) -> None:
    assert (HIGH_LEVEL, LOW_LEVEL) == ("high", "low")  # the set-up: a lowering by two levels
    study_id = trial.allocated("risk-based")
    first = record_risk_assessment(trial.sessions, trial.staff, trial.keys, study_id,
                                   replace(QUESTIONNAIRE, density="c", prs_z=1.0),
                                   at=trial.AT)  # fmt: skip
    _questionnaire(trial, study_id, LOW_QUESTIONNAIRE)
    _density(trial, study_id, "a")
    before, status = trial.db.rows(), _status(trial, study_id)
    assert _prs(trial, study_id, -2.0) is None
    assert [r.id for r in _assessments(trial, study_id)] == [first.assessment_id]
    assert _status(trial, study_id) == status
    holds = [e for e in trial.db.events() if e.action == "hold_risk"]
    assert len(holds) == 1
    assert holds[0].entity_id == study_id
    assert "lower her level from high to low" in holds[0].reason
    entry = _pending(trial)[study_id]
    assert entry.missing == ()
    assert entry.held is not None
    assert (entry.held.held, entry.held.level, entry.held.previous_level) == (
        "lowered", "low", "high",
    )  # fmt: skip
    # The same inputs again: still held, no second hold.
    participant_id = _pid(trial, study_id)
    with trial.sessions.begin() as session:
        again = complete_risk_in(session, participant_id=participant_id, actor=trial.staff,
                                 keys=trial.keys, at=trial.AT)  # fmt: skip
    assert again is None
    assert len([e for e in trial.db.events() if e.action == "hold_risk"]) == 1
    assert trial.db.rows()["risk_assessments"] == before["risk_assessments"]
    # A clinician confirms the lower level by hand: she leaves the worklist.
    confirmed = record_risk_assessment(
        trial.sessions, trial.staff, trial.keys, study_id,
        replace(LOW_QUESTIONNAIRE, density="a", prs_z=-2.0), confirm_lower=True,
        reason="held automatic assessment confirmed", at=trial.AT,
    )  # fmt: skip
    assert confirmed.level == "low"
    assert confirmed.risk_5y == pytest.approx(LOW_RISK, rel=1e-12)
    assert study_id not in _pending(trial)
    assert trial.db.chain_ok()


def test_inputs_the_model_rejects_are_held_for_a_clinician(trial) -> None:
    study_id = trial.allocated("risk-based")
    unknown = RiskFactors(n_biopsies="unknown", atypical_hyperplasia="unknown",
                          age_at_menarche="unknown", age_at_first_birth="unknown",
                          n_relatives="unknown")  # fmt: skip
    _questionnaire(trial, study_id, unknown)  # valid answers: she knows none of them
    _density(trial, study_id)
    assert _prs(trial, study_id, 0.5) is None
    assert _assessments(trial, study_id) == []
    entry = _pending(trial)[study_id]
    assert entry.held is not None
    assert entry.held.held == "rejected"
    assert "no classical risk factor is known" in entry.held.reason


def test_with_provisional_allowed_the_prs_gives_the_final_assessment(trial, tmp_path) -> None:
    text = files("pebs.trial").joinpath("studies", "mypebs-demo.toml").read_text("utf-8")
    assert "allow_provisional = false" in text
    path = tmp_path / "mypebs-demo.toml"
    path.write_text(text.replace("allow_provisional = false", "allow_provisional = true"),
                    encoding="utf-8")  # fmt: skip
    load_study_config(trial.sessions, Actor.system("test"), path)
    study_id = trial.allocated("risk-based")
    recorded = _questionnaire(trial, study_id)
    assert (recorded.risk_level, recorded.missing) == (None, ("density", "prs"))
    level = _density(trial, study_id).risk_level
    [provisional] = _assessments(trial, study_id)
    assert provisional.outputs["provisional"] is True
    assert level == provisional.level
    entry = _pending(trial)[study_id]
    assert (entry.missing, entry.provisional_level) == (("prs",), provisional.level)
    assert _prs(trial, study_id, 1.0) == "high"
    final = _assessments(trial, study_id)[-1]
    assert final.outputs["provisional"] is False
    assert final.outputs["risk_5y"] == pytest.approx(HIGH_RISK, rel=1e-12)
    assert study_id not in _pending(trial)


def test_the_worklist_shows_her_kit_and_an_overdue_result(trial) -> None:
    late, recent, assessed = (trial.allocated("risk-based") for _ in range(3))
    late_id, recent_id = _pid(trial, late), _pid(trial, recent)
    with trial.sessions.begin() as session:
        _sample(session, late_id, state="shipped", collected_on=trial.TODAY - timedelta(weeks=13))
        _sample(session, recent_id, state="collected",
                collected_on=trial.TODAY - timedelta(weeks=2))  # fmt: skip
    record_risk_assessment(trial.sessions, trial.staff, trial.keys, assessed,
                           replace(QUESTIONNAIRE, density="c", prs_z=1.0), at=trial.AT)  # fmt: skip
    pending = _pending(trial)
    assert assessed not in pending
    kit = pending[late].kit
    assert kit is not None
    assert kit.state == "shipped"
    assert kit.overdue is True
    assert kit.result_due == trial.TODAY - timedelta(weeks=1)  # 12 weeks (demo study)
    assert pending[recent].kit.overdue is False
    assert pending[recent].kit.collected_on == trial.TODAY - timedelta(weeks=2)
    # Pages by study ID.
    first = risk_pending(trial.sessions, trial.staff, trial.STUDY, on=trial.TODAY, limit=1)
    assert [e.study_id for e in first.entries] == [min(late, recent)]
    second = risk_pending(trial.sessions, trial.staff, trial.STUDY, on=trial.TODAY, limit=1,
                          after=first.next_after)  # fmt: skip
    assert [e.study_id for e in second.entries] == [max(late, recent)]


def test_the_worklist_is_scoped_and_lists_only_the_risk_based_arm(trial) -> None:
    here = trial.allocated("risk-based")
    standard = trial.allocated("standard")
    other_site = trial.allocated("risk-based", site="FR-PA")
    pending = _pending(trial)
    assert here in pending
    assert standard not in pending
    assert other_site not in pending
    assert other_site in _pending(trial, trial.actor("data_manager"))
    assert _pending(trial, trial.actor("data_manager"), site="FR-PA").keys() == {other_site}


def test_a_density_on_a_standard_arm_woman_computes_nothing(trial) -> None:
    study_id = trial.allocated("standard")
    assert _density(trial, study_id).risk_level is None
    assert _assessments(trial, study_id) == []


def test_the_questionnaire_is_checked_like_an_assessment(trial) -> None:
    study_id = trial.allocated("risk-based")
    before = trial.db.rows()
    with pytest.raises(InvalidFields) as refused:
        _questionnaire(trial, study_id, replace(QUESTIONNAIRE, age_at_menarche=None))
    assert list(refused.value.fields) == ["age_at_menarche"]
    with pytest.raises(InvalidFields) as refused:
        _questionnaire(trial, study_id, replace(QUESTIONNAIRE, n_relatives="two"))
    assert list(refused.value.fields) == ["n_relatives"]
    with pytest.raises(InvalidFields) as refused:
        _questionnaire(trial, study_id, replace(QUESTIONNAIRE, density="c", prs_z=0.3))
    assert set(refused.value.fields) == {"density", "prs_z"}
    with pytest.raises(InvalidInput) as refused:
        record_risk_questionnaire(trial.sessions, trial.staff, trial.keys, study_id,
                                  QUESTIONNAIRE, answered_on=trial.TODAY + timedelta(days=1),
                                  at=trial.AT)  # fmt: skip
    assert refused.value.field == "answered_on"
    with pytest.raises(Conflict):
        _questionnaire(trial, trial.allocated("standard"))
    after = trial.db.rows()
    assert after["risk_questionnaires"] == before["risk_questionnaires"] == 0
    stored = _questionnaire(trial, study_id)
    with trial.sessions() as session:
        row = session.get(RiskQuestionnaire, stored.questionnaire_id)
        assert row.answers == {"n_biopsies": 1, "atypical_hyperplasia": False,
                               "age_at_menarche": 11, "age_at_first_birth": 32,
                               "n_relatives": 1}  # fmt: skip
        assert row.answered_on == trial.TODAY
        event = session.scalar(select(AuditEvent).where(AuditEvent.entity == "risk_questionnaire"))
        assert event.new["answers"] == row.answers
        assert event.entity_id == str(row.id)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"density": "e", "density_reader": "Dr R"}, "density"),
        ({"density": "c"}, "density_reader"),
        ({"density": "c", "density_reader": "  "}, "density_reader"),
        ({"density": "c", "density_reader": "x" * 201}, "density_reader"),
        ({"density_reader": "Dr R"}, "density_reader"),
        ({"density": "c", "density_reader": "Dr R", "modality": "mri"}, "density"),
    ],
)
def test_a_density_needs_a_reader_and_a_mammogram(trial, changes, field) -> None:
    study_id = trial.allocated("risk-based")
    record = VisitRecord(**{"performed_date": trial.TODAY, "modality": "mammography",
                            "visit_type": "screening", **changes})  # fmt: skip
    before = trial.db.rows()
    with pytest.raises(InvalidInput) as refused:
        record_visit(trial.sessions, trial.staff, study_id, record, keys=trial.keys, at=trial.AT)
    assert refused.value.field == field
    assert trial.db.rows() == before


def test_the_baseline_density_is_the_first_screening_mammogram_with_one(trial) -> None:
    study_id = trial.allocated("risk-based")
    _density(trial, study_id, "a", visit_type="diagnostic")  # not a screening visit
    _density(trial, study_id, "c", day=trial.TODAY - timedelta(days=30))
    _density(trial, study_id, "d", day=trial.TODAY - timedelta(days=10))
    _questionnaire(trial, study_id)
    assert _prs(trial, study_id, 1.0) == "high"
    [row] = _assessments(trial, study_id)
    assert row.inputs["density"] == "c"
    with trial.sessions() as session:
        assert session.scalar(select(func.count()).select_from(RiskAssessment)) == 1


def test_a_density_without_the_identity_keys_is_refused(trial) -> None:
    study_id = trial.allocated("risk-based")
    record = VisitRecord(performed_date=trial.TODAY, modality="mammography",
                         visit_type="screening", density="c", density_reader="Dr R")  # fmt: skip
    with pytest.raises(InvalidInput) as refused:
        record_visit(trial.sessions, trial.staff, study_id, record, at=trial.AT)
    assert refused.value.field == "density"


def _scenario(trial, name: str) -> str:
    """A woman whose data has just been completed (or not) in one of these ways; her study ID.

    Her last input is stored without completing her risk: the completion under test does it.
    """
    site = "FR-PA" if name == "first_in_france" else "IT-TO"
    study_id = trial.allocated("standard" if name == "standard_arm" else "risk-based", site=site)
    if name == "standard_arm":
        _density(trial, study_id)
        return study_id
    if name == "lowered":
        record_risk_assessment(trial.sessions, trial.staff, trial.keys, study_id,
                               replace(QUESTIONNAIRE, density="c", prs_z=1.0),
                               at=trial.AT)  # fmt: skip
    low = name == "lowered"
    unknown = RiskFactors(n_biopsies="unknown", atypical_hyperplasia="unknown",
                          age_at_menarche="unknown", age_at_first_birth="unknown",
                          n_relatives="unknown")  # fmt: skip
    answers = {"lowered": LOW_QUESTIONNAIRE, "rejected": unknown}.get(name, QUESTIONNAIRE)
    if site == "IT-TO":
        _questionnaire(trial, study_id, answers)
    else:  # a staff member of her own site records it
        record_risk_questionnaire(trial.sessions, trial.actor("data_manager"), trial.keys,
                                  study_id, answers, answered_on=trial.TODAY,
                                  at=trial.AT)  # fmt: skip
    if site == "IT-TO":
        _density(trial, study_id, "a" if low else "c")
    else:
        record = VisitRecord(performed_date=trial.TODAY, modality="mammography",
                             visit_type="screening", birads=1, density="c",
                             density_reader="Dr Radiologist")  # fmt: skip
        record_visit(trial.sessions, trial.actor("data_manager"), study_id, record,
                     keys=trial.keys, at=trial.AT)  # fmt: skip
    if name in ("unchanged", "raised"):
        assert _prs(trial, study_id, 1.0) == "high"
    if name != "no_prs":
        _genotype(trial, study_id, {"raised": 2.5, "lowered": -2.0}.get(name, 1.0))
    return study_id


SCENARIOS = ("first", "first_in_france", "standard_arm", "no_prs", "unchanged", "raised",
             "lowered", "rejected")  # fmt: skip
"""Every decision :func:`complete_risk_in` makes: store a first or a new assessment (in two
countries), nothing (another arm, an input missing, inputs unchanged), hold (lowered,
rejected)."""

_ID_KEYS = {"plan_id": "screening_plans", "risk_assessment_id": "risk_assessments",
            "risk_assessment": "risk_assessments",
            "superseded_plans": "screening_plans"}  # fmt: skip
"""Keys of the audit values that hold row ids, and their tables."""
_LINKS = {"risk_assessments": {}, "screening_plans": {"risk_assessment_id": "risk_assessments"},
          "planned_exams": {"screening_plan_id": "screening_plans"},
          "visits": {"planned_exam_id": "planned_exams"}}  # fmt: skip
"""The tables compared, and their columns that hold row ids of another compared table."""
_ENTITIES = {"risk_assessment": "risk_assessments", "screening_plan": "screening_plans"}


def _her_rows(session, participant_id: int) -> dict[str, list]:
    """Her rows of the compared tables and of the tables her inputs come from, by id."""
    rows = {}
    for model in (RiskAssessment, ScreeningPlan, RiskQuestionnaire, Visit):
        rows[model.__tablename__] = list(session.scalars(
            select(model).where(model.participant_id == participant_id).order_by(model.id)
        ))  # fmt: skip
    rows["genotype_results"] = list(session.scalars(
        select(GenotypeResult).join(Sample).where(Sample.participant_id == participant_id)
        .order_by(GenotypeResult.id)
    ))  # fmt: skip
    rows["planned_exams"] = list(session.scalars(
        select(PlannedExam).join(ScreeningPlan)
        .where(ScreeningPlan.participant_id == participant_id).order_by(PlannedExam.id)
    ))  # fmt: skip
    return rows


def _stored(trial, study_id: str, after_event: int) -> dict:
    """Everything stored for her, each row id replaced by its rank among her rows of its table
    and her study ID by ``"her"``; with her audit events after event ``after_event``."""
    with trial.sessions() as session:
        participant = session.scalar(select(Participant).where(Participant.study_id == study_id))
        rows = _her_rows(session, participant.id)
        ranks = {(table, row.id): i for table, listed in rows.items()
                 for i, row in enumerate(listed)}  # fmt: skip

        def rank(table: str, row_id):
            return None if row_id is None else ranks[(table, row_id)]

        def columns(row, table: str) -> dict:
            values = {c.key: getattr(row, c.key) for c in row.__table__.columns}
            values |= {key: rank(target, values[key]) for key, target in _LINKS[table].items()}
            values["id"] = rank(table, row.id)
            values.pop("participant_id", None)
            return values

        def normal(value, key=None):
            if isinstance(value, dict) and key == "sources":
                return {table: rank(table + "s", row_id) for table, row_id in value.items()}
            if isinstance(value, dict):
                return {k: normal(v, k) for k, v in value.items()}
            if key in _ID_KEYS and isinstance(value, list):
                return [rank(_ID_KEYS[key], v) for v in value]
            if key in _ID_KEYS:
                return rank(_ID_KEYS[key], value)
            return "her" if value == study_id else value

        events = []
        for event in session.scalars(select(AuditEvent).where(AuditEvent.id > after_event)
                                     .order_by(AuditEvent.id)):  # fmt: skip
            if event.entity_id != study_id and (event.new or {}).get("participant") != study_id:
                continue
            entity_id = ("her" if event.entity_id == study_id
                         else rank(_ENTITIES[event.entity], int(event.entity_id)))  # fmt: skip
            events.append((event.actor, event.action, event.entity, entity_id, event.reason,
                           event.at, normal(event.old), normal(event.new)))  # fmt: skip
        return {
            "status": participant.status,
            **{table: [columns(row, table) for row in rows[table]] for table in _LINKS},
            "events": events,
        }


def test_the_batch_form_stores_what_the_single_form_stores(trial) -> None:
    alone = {name: _scenario(trial, name) for name in SCENARIOS}
    together = {name: _scenario(trial, name) for name in SCENARIOS}
    manager = trial.actor("data_manager")
    later = trial.AT + timedelta(hours=2)
    start = trial.db.events()[-1].id
    levels = {}
    for name, study_id in alone.items():
        with trial.sessions.begin() as session:
            levels[name] = complete_risk_in(session, participant_id=_pid(trial, study_id),
                                            actor=manager, keys=trial.keys, at=later)  # fmt: skip
    middle = trial.db.events()[-1].id
    ids = {name: _pid(trial, study_id) for name, study_id in together.items()}
    with trial.sessions.begin() as session:
        batch = complete_risks_in(session, participant_ids=list(ids.values()), actor=manager,
                                  keys=trial.keys, at=later)  # fmt: skip
    assert batch == {ids[name]: level for name, level in levels.items()}
    # The decisions themselves, from the scenarios (not from either form's output).
    assert levels == {"first": "high", "first_in_france": levels["first_in_france"],
                      "standard_arm": None, "no_prs": None, "unchanged": None,
                      "raised": levels["raised"], "lowered": None, "rejected": None}  # fmt: skip
    assert levels["first_in_france"] in ("average", "high", "very_high")
    assert levels["raised"] in ("high", "very_high")
    for name in SCENARIOS:
        single, batched = _stored(trial, alone[name], start), _stored(trial, together[name], middle)
        assert batched == single, name
        n_events = {"first": 2, "first_in_france": 2, "raised": 2, "lowered": 1, "rejected": 1}
        assert len(single["events"]) == n_events.get(name, 0), name
    raised = _stored(trial, together["raised"], middle)
    plan_event = raised["events"][1][-1]
    assert plan_event["superseded_plans"] == [0]  # her first plan, by rank
    assert plan_event["removed_expected_visits"] > 0
    assert trial.db.chain_ok()
