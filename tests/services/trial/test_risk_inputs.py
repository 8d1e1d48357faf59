"""Risk assessment inputs: value, "unknown" or absent; the study's rules; a lowered level.

The expectations come from the demo study file's ``[risk_assessment]`` section as written in
``src/pebs/trial/studies/mypebs-demo.toml`` (every input required, no provisional assessment)
and from the level order low < average < high < very_high (MyPeBS, NCT03672331).
"""

from __future__ import annotations

from dataclasses import replace
from importlib.resources import files

import numpy as np
import pytest
from sqlalchemy import select

from pebs.risk.personalised import assess, country_model
from pebs.services.actor import Actor
from pebs.services.errors import InvalidFields, LevelLowered
from pebs.services.trial import UNKNOWN, RiskFactors, load_study_config, record_risk_assessment
from pebs.store.models import RiskAssessment, ScreeningPlan

ALL_INPUTS = ["n_biopsies", "atypical_hyperplasia", "age_at_menarche", "age_at_first_birth",
              "n_relatives", "density", "prs_z"]  # fmt: skip
CLASSICAL = ["n_biopsies", "age_at_menarche", "age_at_first_birth", "n_relatives"]
HIGH = RiskFactors(n_biopsies=1, atypical_hyperplasia=False, age_at_menarche=11,
                   age_at_first_birth=32, n_relatives=1, density="c", prs_z=1.0)  # fmt: skip
LOW = RiskFactors(n_biopsies=0, age_at_menarche=15, age_at_first_birth=20, n_relatives=0,
                  density="a", prs_z=-2.0)  # fmt: skip
"""No biopsy: atypical hyperplasia is not asked (absent is allowed)."""


def _record(trial, study_id, factors, **kwargs):
    return record_risk_assessment(trial.sessions, trial.staff, trial.keys, study_id, factors,
                                  at=trial.AT, **kwargs)  # fmt: skip


def _level(**factors) -> str:
    """The model's level for a woman aged 52 in Italy (the test participants)."""
    result = assess(country_model("IT"), age=[52], **{k: [v] for k, v in factors.items()})
    return str(result.level[0])


def test_absent_inputs_are_refused_naming_each_and_nothing_is_stored(trial) -> None:
    study_id = trial.allocated("risk-based")
    before, events = trial.db.rows(), len(trial.db.events())
    with pytest.raises(InvalidFields) as refused:
        _record(trial, study_id, RiskFactors())
    assert list(refused.value.fields) == ALL_INPUTS
    assert "not answered" in str(refused.value)
    with pytest.raises(InvalidFields) as refused:
        _record(trial, study_id, replace(HIGH, age_at_menarche=None, density=None))
    assert list(refused.value.fields) == ["age_at_menarche", "density"]
    assert trial.db.rows() == before
    assert len(trial.db.events()) == events


def test_unknown_answers_are_recorded_listed_and_scored_by_the_missing_rule(trial) -> None:
    study_id = trial.allocated("risk-based")
    factors = replace(HIGH, age_at_menarche=UNKNOWN, n_relatives=UNKNOWN, density=UNKNOWN)
    recorded = _record(trial, study_id, factors)
    assert recorded.unknown_inputs == ("age_at_menarche", "n_relatives", "density")
    assert recorded.rr_classical is None  # a classical factor is unknown: the component too
    assert recorded.rr_density is None
    assert recorded.rr_prs == pytest.approx(1.61**1.0, rel=1e-9)
    assert recorded.provisional is False
    # Unknown is the model's missing-covariate rule (NaN), not the lowest category (menarche
    # >= 14, no relative): the two give different risks.
    unknown = assess(country_model("IT"), age=[52], n_biopsies=[1], atypical_hyperplasia=[0],
                     age_at_menarche=[np.nan], age_at_first_birth=[32], n_relatives=[np.nan],
                     density=[""], prs_z=[1.0])  # fmt: skip
    lowest = assess(country_model("IT"), age=[52], n_biopsies=[1], atypical_hyperplasia=[0],
                    age_at_menarche=[14], age_at_first_birth=[32], n_relatives=[0],
                    density=[""], prs_z=[1.0])  # fmt: skip
    assert recorded.risk_5y == pytest.approx(float(unknown.risk_5y[0]), rel=1e-12)
    assert recorded.risk_5y != pytest.approx(float(lowest.risk_5y[0]), rel=1e-6)
    with trial.sessions() as session:
        row = session.scalar(select(RiskAssessment))
        assert row.inputs["age_at_menarche"] == "unknown"
        assert row.inputs["density"] == "unknown"
        assert row.inputs["n_biopsies"] == 1
        assert row.outputs["unknown_inputs"] == ["age_at_menarche", "n_relatives", "density"]
        assert row.outputs["rr_classical"] is None
        assert row.outputs["provisional"] is False
        assert session.scalar(select(ScreeningPlan)).risk_assessment_id == row.id
    event = [e for e in trial.db.events() if e.entity == "risk_assessment"][-1]
    assert event.new["unknown_inputs"] == ["age_at_menarche", "n_relatives", "density"]


def test_nulliparous_is_an_answer_to_first_birth(trial) -> None:
    study_id = trial.allocated("risk-based")
    recorded = _record(trial, study_id, replace(HIGH, age_at_first_birth="nulliparous"))
    expected = assess(country_model("IT"), age=[52], n_biopsies=[1], atypical_hyperplasia=[0],
                      age_at_menarche=[11], age_at_first_birth=[np.nan], nulliparous=[True],
                      n_relatives=[1], density=["c"], prs_z=[1.0])  # fmt: skip
    assert recorded.risk_5y == pytest.approx(float(expected.risk_5y[0]), rel=1e-12)
    assert recorded.unknown_inputs == ()


def test_no_classical_factor_known_is_refused(trial) -> None:
    study_id = trial.allocated("risk-based")
    before = trial.db.rows()
    unknown = RiskFactors(n_biopsies=UNKNOWN, atypical_hyperplasia=UNKNOWN,
                          age_at_menarche=UNKNOWN, age_at_first_birth=UNKNOWN,
                          n_relatives=UNKNOWN, density="b", prs_z=0.5)  # fmt: skip
    with pytest.raises(InvalidFields) as refused:
        _record(trial, study_id, unknown)
    assert sorted(refused.value.fields) == sorted(CLASSICAL)
    assert "no classical risk factor is known" in str(refused.value)
    assert trial.db.rows() == before


def test_values_of_the_wrong_kind_are_named(trial) -> None:
    study_id = trial.allocated("risk-based")
    with pytest.raises(InvalidFields) as refused:
        _record(trial, study_id, replace(HIGH, n_biopsies="two", density="e", prs_z="high"))
    assert set(refused.value.fields) == {"n_biopsies", "density", "prs_z"}


def _allow_provisional(trial, tmp_path, allow: bool) -> None:
    text = files("pebs.trial").joinpath("studies", "mypebs-demo.toml").read_text("utf-8")
    assert "allow_provisional = false" in text
    path = tmp_path / "mypebs-demo.toml"
    path.write_text(text.replace("allow_provisional = false", f"allow_provisional = {allow}"
                                 .lower()), encoding="utf-8")  # fmt: skip
    load_study_config(trial.sessions, Actor.system("test"), path)


def test_without_the_prs_an_assessment_is_provisional_only_if_the_study_allows(
    trial, tmp_path
) -> None:
    study_id = trial.allocated("risk-based")
    awaiting = replace(HIGH, prs_z=None)
    with pytest.raises(InvalidFields) as refused:
        _record(trial, study_id, awaiting)
    assert list(refused.value.fields) == ["prs_z"]

    _allow_provisional(trial, tmp_path, True)
    recorded = _record(trial, study_id, awaiting)
    assert recorded.provisional is True
    assert recorded.rr_prs is None
    assert "prs_z" in recorded.unknown_inputs
    with trial.sessions() as session:
        assert session.get(RiskAssessment, recorded.assessment_id).outputs["provisional"] is True
    # An explicit "unknown" PRS (no result will come) is a final assessment.
    final = _record(trial, study_id, replace(HIGH, prs_z=UNKNOWN), confirm_lower=True,
                    reason="final assessment")  # fmt: skip
    assert final.provisional is False
    assert final.unknown_inputs == ("prs_z",)


def test_a_lower_level_needs_a_confirmation_and_a_reason(trial) -> None:
    high = _level(n_biopsies=1, atypical_hyperplasia=0, age_at_menarche=11,
                  age_at_first_birth=32, n_relatives=1, density="c", prs_z=1.0)  # fmt: skip
    low = _level(n_biopsies=0, atypical_hyperplasia=None, age_at_menarche=15,
                 age_at_first_birth=20, n_relatives=0, density="a", prs_z=-2.0)  # fmt: skip
    assert (high, low) == ("high", "low")  # the set-up: a lowering by two levels
    study_id = trial.allocated("risk-based")
    first = _record(trial, study_id, HIGH)
    assert first.previous_level is None
    before, events = trial.db.rows(), len(trial.db.events())

    for kwargs in ({}, {"reason": "new density reading"}, {"confirm_lower": True},
                   {"confirm_lower": True, "reason": "  "}):  # fmt: skip
        with pytest.raises(LevelLowered) as refused:
            _record(trial, study_id, LOW, **kwargs)
        assert (refused.value.previous_level, refused.value.new_level) == ("high", "low")
        assert trial.db.rows() == before
        assert len(trial.db.events()) == events

    recorded = _record(trial, study_id, LOW, confirm_lower=True, reason="new density reading")
    assert (recorded.level, recorded.previous_level) == ("low", "high")
    event = [e for e in trial.db.events() if e.entity == "risk_assessment"][-1]
    assert event.reason == "new density reading"
    assert event.old == {"level": "high", "risk_assessment": first.assessment_id}
    assert event.new["lowered_from"] == "high"
    assert event.new["confirm_lower"] is True
    assert trial.db.chain_ok()
    # The same or a higher level needs no confirmation.
    assert _record(trial, study_id, LOW).level == "low"
    assert _record(trial, study_id, HIGH).level == "high"
