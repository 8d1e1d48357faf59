"""Many women assessed and planned in one transaction; the study values read once per version.

:func:`evaluate_risks` / :func:`store_risks` write each kind of row with one statement whatever
the number of women, each woman's rows linked to her own; the study's risk rules and arm policies
are cached by the study's configuration digest, so a new version of the study file is used at
once.
"""

from __future__ import annotations

import random
from importlib.resources import files

import pytest
from sqlalchemy import event, select

from pebs.screening import Woman, load_policy, plan
from pebs.services.actor import Actor
from pebs.services.errors import InvalidFields
from pebs.services.subject import find_participant
from pebs.services.transaction import transaction
from pebs.services.trial import (
    RiskFactors,
    create_screening_plan,
    load_study_config,
    record_risk_assessment,
    screening_plan,
)
from pebs.services.trial._returned_ids import ids_in_order
from pebs.services.trial.risk_assessment import (
    RiskToStore,
    RiskWanted,
    evaluate_risks,
    store_risks,
)
from pebs.store.bulk_insert import insert_rows
from pebs.store.models import Participant, PlannedExam, RiskAssessment, ScreeningPlan, Visit

HIGH = RiskFactors(n_biopsies=1, atypical_hyperplasia=False, age_at_menarche=11,
                   age_at_first_birth=32, n_relatives=1, density="c", prs_z=1.0)  # fmt: skip
LOW = RiskFactors(n_biopsies=0, age_at_menarche=15, age_at_first_birth=22, n_relatives=0,
                  density="a", prs_z=-1.5)  # fmt: skip
NO_PRS = RiskFactors(n_biopsies=0, age_at_menarche=13, age_at_first_birth=25, n_relatives=0,
                     density="b")  # fmt: skip
DEMO = files("pebs.trial").joinpath("studies", "mypebs-demo.toml").read_text("utf-8")


def _load_version(trial, tmp_path, old: str, new: str) -> None:
    """The demo study file with ``old`` replaced by ``new``, loaded as a new version."""
    assert old in DEMO
    path = tmp_path / "mypebs-demo.toml"
    path.write_text(DEMO.replace(old, new), encoding="utf-8")
    load_study_config(trial.sessions, Actor.system("test"), path)


def _store_together(trial, study_ids, factors):
    """Each woman evaluated and stored in one transaction, as a bulk importer does."""
    with transaction(trial.sessions) as session:
        subjects = [find_participant(session, trial.staff, one, for_update=True)
                    for one in study_ids]  # fmt: skip
        study = subjects[0].study(session)
        wanted = [RiskWanted(subject, her, trial.TODAY)
                  for subject, her in zip(subjects, factors, strict=True)]  # fmt: skip
        evaluations = evaluate_risks(session, trial.keys, study, wanted)
        stored = [RiskToStore(subject, one, None)
                  for subject, one in zip(subjects, evaluations, strict=True)]  # fmt: skip
        return store_risks(session, trial.staff, study, stored, plan_years=10, at=trial.AT,
                           reason="import")  # fmt: skip


def test_women_stored_together_each_get_the_plan_of_their_own_level(trial, monkeypatch) -> None:
    factors = [HIGH, LOW, HIGH, LOW, LOW]
    study_ids = [trial.allocated("risk-based") for _ in factors]
    inserts: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.startswith("INSERT INTO"):
            inserts.append(statement.split()[2])

    bulk: list[tuple[str, int]] = []  # the visits go in one bulk insert (PostgreSQL: a COPY)

    def bulk_insert(connection, table, rows) -> None:
        bulk.append((table.name, len(rows)))
        insert_rows(connection, table, rows)

    monkeypatch.setattr(screening_plan, "insert_rows", bulk_insert)
    with trial.sessions() as session:
        engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", note)
    try:
        recorded = _store_together(trial, study_ids, factors)
    finally:
        event.remove(engine, "before_cursor_execute", note)

    for table in ("risk_assessments", "screening_plans", "planned_exams"):
        assert inserts.count(table) == 1, (table, inserts)  # one statement for the five women
    assert [table for table, _ in bulk] == ["visits"]  # one command for the five women
    copied = engine.dialect.name == "postgresql"  # its COPY is not an INSERT statement
    assert inserts.count("visits") == (0 if copied else 1)
    assert inserts.count("audit_events") == 2 * len(factors)  # each woman's two events
    assert {r.level for r in recorded} == {recorded[0].level, recorded[1].level}
    assert recorded[0].level != recorded[1].level  # two plans of different rules
    policy = load_policy("mypebs-risk-based")
    with trial.sessions() as session:
        for study_id, her, risk in zip(study_ids, factors, recorded, strict=True):
            assert risk.pathway_state == "plan_given"
            reference = plan(policy, Woman(trial.BORN_52, arm="risk-based", level=risk.level,
                                           risk_5y=risk.risk_5y, density=her.density),
                             trial.TODAY, years=10)  # fmt: skip
            assert [(e.due, e.modality) for e in risk.plan.exams] == [
                (e.due, e.modality) for e in reference.exams
            ]
            stored = session.get(ScreeningPlan, risk.plan.plan_id)
            assert stored.risk_assessment_id == risk.assessment_id
            owner = session.get(RiskAssessment, risk.assessment_id).participant_id
            assert stored.participant_id == owner
            assert session.get(Participant, owner).study_id == study_id
            exams = session.scalars(select(PlannedExam).where(
                PlannedExam.screening_plan_id == stored.id).order_by(PlannedExam.due_date)
            ).all()  # fmt: skip
            assert [(e.due_date, e.modality) for e in exams] == [
                (e.due, e.modality) for e in reference.exams
            ]
            for exam in exams:
                visit = session.scalar(select(Visit).where(Visit.planned_exam_id == exam.id))
                assert visit.participant_id == owner
                assert (visit.due_date, visit.window_start, visit.window_end, visit.modality) == (
                    exam.due_date,
                    exam.window_start,
                    exam.window_end,
                    exam.modality,
                )
    assert trial.db.chain_ok()


def test_a_woman_is_stored_once_per_call(trial) -> None:
    study_id = trial.allocated("risk-based")
    before = trial.db.rows()
    with pytest.raises(ValueError, match="once per call"):
        _store_together(trial, [study_id, study_id], [HIGH, HIGH])
    assert trial.db.rows() == before


def test_a_new_study_version_changes_the_arm_policy_at_once(trial, tmp_path) -> None:
    study_id = trial.allocated("standard")

    def plan():
        return create_screening_plan(trial.sessions, trial.staff, trial.keys, study_id,
                                     at=trial.AT)  # fmt: skip

    assert plan().policy == "it"  # Italy's programme (standard_policy of the demo file)
    _load_version(trial, tmp_path, 'policy = "country"', 'policy = "ecibc"')
    assert plan().policy == "ecibc"


def test_a_new_study_version_changes_the_risk_rules_at_once(trial, tmp_path) -> None:
    study_id = trial.allocated("risk-based")

    def record():
        return record_risk_assessment(trial.sessions, trial.staff, trial.keys, study_id, NO_PRS,
                                      at=trial.AT)  # fmt: skip

    with pytest.raises(InvalidFields) as refused:
        record()  # the demo file requires every input and no provisional assessment
    assert "prs_z" in refused.value.fields
    _load_version(trial, tmp_path, "allow_provisional = false", "allow_provisional = true")
    assert record().provisional is True


def test_returned_ids_are_matched_by_the_values_given() -> None:
    keys = [(1, "a"), (2, "b"), (1, "a"), (3, "c")]
    rows = [(10, 1, "a"), (11, 2, "b"), (12, 1, "a"), (13, 3, "c")]
    random.Random(4).shuffle(rows)
    assert ids_in_order(rows, keys) == [10, 11, 12, 13]
