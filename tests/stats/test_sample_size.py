"""Sample size and power: hand computations, internal consistency and Monte Carlo of the test."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr, ndtri

from pebs.stats import (
    StatsInputError,
    noninferiority_difference,
    noninferiority_ratio,
    power_difference,
    power_ratio,
    sample_size_difference,
    sample_size_ratio,
)

Z_975, Z_80, Z_90 = 1.959963984540054, 0.8416212335729143, 1.2815515655446004


def test_wald_ratio_sample_size_by_hand_mypebs_assumptions():
    # 480 per 100,000 in both arms, margin 1.25, one-sided 2.5 %, 80 % power:
    # n = (1.95996 + 0.84162)^2 * 2 * (1 - 0.0048) / 0.0048 / ln(1.25)^2 = 65,363.2 -> 65,364.
    n = (Z_975 + Z_80) ** 2 * 2 * (1 - 0.0048) / 0.0048 / math.log(1.25) ** 2
    assert 65_363 < n < 65_364
    design = sample_size_ratio(0.0048, margin=1.25, power=0.8, method="wald")
    assert (design.n_ref, design.n_new, design.n_total) == (65_364, 65_364, 130_728)


def test_blackwelder_difference_sample_size_by_hand():
    # Blackwelder (1982) formula: p = 0.8 in both arms, margin 0.10, one-sided 2.5 %, 90 % power:
    # n = (1.95996 + 1.28155)^2 * 2 * 0.8 * 0.2 / 0.1^2 = 336.24 -> 337 per arm.
    assert pytest.approx(336.24, abs=0.01) == (Z_975 + Z_90) ** 2 * 0.32 / 0.01
    assert sample_size_difference(0.8, margin=0.1, power=0.9, method="wald").n_ref == 337


def test_mypebs_power_of_85000_women_by_hand():
    # Wald, log scale: z = ln(1.25) / sqrt(2 (1 - p)/p / 42,500) - 1.95996.
    z = math.log(1.25) / math.sqrt(2 * (1 - 0.0048) / 0.0048 / 42_500) - Z_975
    assert power_ratio(0.0048, 42_500, 42_500, margin=1.25, method="wald") == pytest.approx(
        ndtr(z), abs=1e-12
    )
    assert 0.60 < ndtr(z) < 0.64


@pytest.mark.parametrize("method", ["score", "wald"])
@pytest.mark.parametrize("allocation", [1.0, 2.0, 0.5])
@pytest.mark.parametrize("ratio", [1.0, 0.8])
def test_ratio_sample_size_is_the_smallest_reaching_the_power(method, allocation, ratio):
    design = sample_size_ratio(
        0.05, margin=1.3, ratio=ratio, power=0.85, allocation=allocation, method=method
    )
    assert design.power >= 0.85
    # The continuous solution n* lies in (n_ref - 1, n_ref]: one woman fewer per unit misses.
    below = power_ratio(
        0.05,
        allocation * (design.n_ref - 1),
        design.n_ref - 1,
        margin=1.3,
        ratio=ratio,
        method=method,
    )
    assert below < 0.85
    assert allocation * (design.n_ref - 1) < design.n_new <= math.ceil(allocation * design.n_ref)


@pytest.mark.parametrize("method", ["score", "wald"])
def test_difference_sample_size_is_the_smallest_reaching_the_power(method):
    design = sample_size_difference(0.3, margin=0.05, difference=-0.01, power=0.9, method=method)
    assert design.power >= 0.9
    below = power_difference(
        0.3, design.n_ref - 1, design.n_ref - 1, margin=0.05, difference=-0.01, method=method
    )
    assert below < 0.9


def test_dropout_inflates_enrolment():
    design = sample_size_ratio(0.0048, margin=1.25, power=0.8, dropout=0.2)
    assert design.n_ref_enrolled == math.ceil(design.n_ref / 0.8)
    assert design.n_total_enrolled == design.n_new_enrolled + design.n_ref_enrolled
    assert design.n_total_enrolled >= design.n_total / 0.8


def test_score_and_wald_agree_for_large_samples_and_no_effect():
    score = sample_size_ratio(0.0048, margin=1.25, method="score").n_ref
    wald = sample_size_ratio(0.0048, margin=1.25, method="wald").n_ref
    assert abs(score - wald) / wald < 0.01


def _simulated_power(test, n_new, n_ref, p_new, p_ref, reps, seed, **kwargs):
    rng = np.random.default_rng(seed)
    x1, x0 = rng.binomial(n_new, p_new, reps), rng.binomial(n_ref, p_ref, reps)
    return float(np.mean(test(x1, n_new, x0, n_ref, **kwargs).noninferior))


@pytest.mark.parametrize(
    ("method", "allocation", "ratio"),
    [("score", 1.0, 1.0), ("wald", 1.0, 1.0), ("score", 2.0, 0.9), ("wald", 0.5, 1.1)],
)
def test_monte_carlo_power_matches_the_ratio_formula(method, allocation, ratio):
    """10,000 simulated trials of the designed size reach the designed power (+- 2.5 points)."""
    design = sample_size_ratio(
        0.1, margin=1.25, ratio=ratio, power=0.8, allocation=allocation, method=method
    )
    simulated = _simulated_power(
        noninferiority_ratio,
        design.n_new,
        design.n_ref,
        design.proportion_new,
        0.1,
        10_000,
        seed=7,
        margin=1.25,
        method=method,
    )
    assert simulated == pytest.approx(design.power, abs=0.025)


@pytest.mark.parametrize("method", ["score", "wald"])
def test_monte_carlo_power_matches_the_difference_formula(method):
    design = sample_size_difference(0.2, margin=0.05, power=0.8, method=method)
    simulated = _simulated_power(
        noninferiority_difference,
        design.n_new,
        design.n_ref,
        0.2,
        0.2,
        10_000,
        seed=8,
        margin=0.05,
        method=method,
    )
    assert simulated == pytest.approx(design.power, abs=0.025)


def test_monte_carlo_power_of_the_mypebs_design():
    """42,500 women per arm, 480 per 100,000, margin 1.25: about 62 % power (MC oracle)."""
    formula = power_ratio(0.0048, 42_500, 42_500, margin=1.25)
    simulated = _simulated_power(
        noninferiority_ratio, 42_500, 42_500, 0.0048, 0.0048, 10_000, seed=9, margin=1.25
    )
    assert simulated == pytest.approx(formula, abs=0.025)
    assert 0.59 < simulated < 0.65


def test_power_grows_with_sample_size_and_shrinks_with_smaller_margin():
    sizes = [5_000, 20_000, 80_000]
    powers = [power_ratio(0.01, n, n, margin=1.25) for n in sizes]
    assert powers == sorted(powers)
    assert power_ratio(0.01, 20_000, 20_000, margin=1.15) < powers[1]


def test_z_quantiles_used_in_hand_computations():
    assert ndtri(0.975) == pytest.approx(Z_975)
    assert ndtri(0.8) == pytest.approx(Z_80)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"margin": 1.25, "ratio": 1.3}, "ratio"),
        ({"margin": 0.9}, "margin"),
        ({"margin": 1.25, "power": 0.4}, "power"),
        ({"margin": 1.25, "dropout": 1.0}, "dropout"),
        ({"margin": 1.25, "allocation": 0}, "allocation"),
        ({"margin": 1.25, "method": "exact"}, "method"),
    ],
)
def test_bad_design_arguments_name_the_argument(kwargs, message):
    with pytest.raises(StatsInputError, match=message):
        sample_size_ratio(0.0048, **kwargs)


def test_bad_proportion_is_rejected():
    with pytest.raises(StatsInputError, match="proportion_ref"):
        sample_size_difference(1.2, margin=0.1)
    with pytest.raises(StatsInputError, match="proportion_ref"):
        power_ratio(48, 100, 100, margin=1.25)  # percent instead of proportion
