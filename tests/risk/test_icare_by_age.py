"""Calibration conditional on the start age (pebs.risk.icare.by_age)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pebs.risk import icare
from pebs.risk._arrays import ModelInputError

INCIDENCE = [0.001, 0.002, 0.003, 0.004]
MORTALITY = [0.01, 0.01, 0.02, 0.02]


def test_one_reference_row_per_age_reproduces_the_tables_for_that_woman():
    """With one reference woman per start age, her risk is the tables' own whole-year sum."""
    cal = icare.calibrate_by_age(
        INCIDENCE, MORTALITY, first_age=50, start_ages=[50, 51, 52], horizon=2,
        reference_designs=[[[0.0]], [[0.7]], [[-0.3]]], log_rr=[1.0],
    )  # fmt: skip
    for k, (age, x) in enumerate([(50, 0.0), (51, 0.7), (52, -0.3)]):
        lam, mu = INCIDENCE[k : k + 2], MORTALITY[k : k + 2]
        expected = lam[0] + lam[1] * math.exp(-(lam[0] + mu[0]))
        result = icare.risk_by_age(cal, [[x]], age_start=age)
        assert result.risk[0] == pytest.approx(expected, rel=1e-12)


def test_each_start_age_uses_its_own_reference_women():
    """Two ages with different populations: each age's mean risk matches the tables."""
    designs = [[[0.0], [1.0]], [[0.0], [0.0]]]  # age 50: half with RR e; age 51: nobody
    cal = icare.calibrate_by_age(
        INCIDENCE, MORTALITY, first_age=50, start_ages=[50, 51], horizon=3,
        reference_designs=designs, log_rr=[1.0],
    )  # fmt: skip
    assert cal.baseline_hazard[1] == pytest.approx(INCIDENCE[1:4], rel=1e-12)  # E = 1 at 51
    first_year = icare.risk_by_age(cal, [[0.0], [1.0]], age_start=50).risk
    # Over the first year nobody has left: the mean hazard times one year is the incidence.
    one_year = icare.calibrate_by_age(
        INCIDENCE, MORTALITY, first_age=50, start_ages=[50], horizon=1,
        reference_designs=[designs[0]], log_rr=[1.0],
    )  # fmt: skip
    once = icare.risk_by_age(one_year, [[0.0], [1.0]], age_start=50).risk
    assert once.mean() == pytest.approx(INCIDENCE[0], rel=1e-12)
    assert first_year[1] > first_year[0]


def test_missing_covariates_are_matched_with_women_of_her_age():
    rng = np.random.default_rng(4)
    designs = [rng.normal(size=(400, 2)), rng.normal(loc=1.0, size=(400, 2))]
    cal = icare.calibrate_by_age(
        INCIDENCE, MORTALITY, first_age=50, start_ages=[50, 51], horizon=2,
        reference_designs=designs, log_rr=[0.5, 0.5],
    )  # fmt: skip
    result = icare.risk_by_age(cal, [[np.nan, np.nan], [np.nan, np.nan]], age_start=[50, 51])
    assert result.used_missing_rule.all()
    for k, age in enumerate((50, 51)):
        population = icare.population_mean_risk(cal.at(age), age, 2)[0]
        assert result.risk[k] == pytest.approx(population, rel=1e-12)
        assert result.n_matched[k] == 400


def test_rows_outside_the_start_ages_are_flagged_not_raised():
    cal = icare.calibrate_by_age(
        INCIDENCE, MORTALITY, first_age=50, start_ages=[50, 51], horizon=2,
        reference_designs=[[[0.0]], [[0.0]]], log_rr=[1.0],
    )  # fmt: skip
    result = icare.risk_by_age(cal, [[0.0], [0.0], [0.0]], age_start=[49, 52, 50.5])
    assert np.isnan(result.risk).all()
    assert (result.error == icare.IcareError.AGE_START_INVALID).all()


def test_bad_arguments_name_the_argument():
    with pytest.raises(ModelInputError, match="start_ages"):
        icare.calibrate_by_age(
            INCIDENCE, MORTALITY, first_age=50, start_ages=[50, 52], horizon=1,
            reference_designs=[[[0.0]], [[0.0]]], log_rr=[1.0],
        )  # fmt: skip
    with pytest.raises(ModelInputError, match="start_ages"):
        icare.calibrate_by_age(
            INCIDENCE, MORTALITY, first_age=50, start_ages=[52, 53], horizon=2,
            reference_designs=[[[0.0]], [[0.0]]], log_rr=[1.0],
        )  # fmt: skip
    with pytest.raises(ModelInputError, match="reference_designs"):
        icare.calibrate_by_age(
            INCIDENCE, MORTALITY, first_age=50, start_ages=[50, 51], horizon=2,
            reference_designs=[[[0.0]]], log_rr=[1.0],
        )  # fmt: skip


def test_yearly_terms_are_the_probability_within_the_year():
    lam, mu = icare.yearly_terms([0.002], [0.01])
    # Competing exponential hazards: P(cancer first within one year) = λ/(λ+μ)·(1 - exp(-(λ+μ))).
    assert lam[0] == pytest.approx(0.002 / 0.012 * (1 - math.exp(-0.012)), rel=1e-14)
    assert lam[0] + mu[0] == pytest.approx(0.012, rel=1e-15)
