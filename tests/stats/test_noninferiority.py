"""Non-inferiority tests: published intervals, scipy, a likelihood oracle and Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar
from scipy.special import ndtri
from scipy.stats import chi2_contingency
from scipy.stats.contingency import relative_risk

from pebs.stats import StatsInputError, noninferiority_difference, noninferiority_ratio
from pebs.stats._score import (
    constrained_difference,
    constrained_ratio,
    score_z_difference,
    score_z_ratio,
)

# Newcombe RG. Interval estimation for the difference between independent proportions:
# comparison of eleven methods. Stat Med 1998;17:873-890, Table II, example (a): 56/70 vs 48/80,
# 95 % intervals to 4 decimals. Wald: method 1; Mee (score, = Farrington-Manning): method 5;
# Miettinen-Nurminen: method 6.
NEWCOMBE_A = {
    "wald": (0.0575, 0.3425),
    "score": (0.0533, 0.3377),
    "miettinen-nurminen": (0.0528, 0.3382),
}


@pytest.mark.parametrize("method", sorted(NEWCOMBE_A))
def test_difference_interval_matches_newcombe_1998(method):
    result = noninferiority_difference(56, 70, 48, 80, margin=0.1, alpha=0.025, method=method)
    assert result.estimate == pytest.approx(0.8 - 0.6)
    np.testing.assert_allclose((result.lower, result.upper), NEWCOMBE_A[method], atol=5e-5)


@pytest.mark.parametrize(
    ("x1", "n1", "x0", "n0"), [(190, 42_500, 204, 42_500), (15, 100, 30, 120), (3, 50, 9, 40)]
)
@pytest.mark.parametrize("alpha", [0.025, 0.05])
def test_wald_ratio_interval_is_scipy_katz_interval(x1, n1, x0, n0, alpha):
    result = noninferiority_ratio(x1, n1, x0, n0, margin=1.25, alpha=alpha, method="wald")
    scipy_rr = relative_risk(x1, n1, x0, n0)
    ci = scipy_rr.confidence_interval(confidence_level=1 - 2 * alpha)
    assert result.estimate == pytest.approx(scipy_rr.relative_risk, rel=1e-12)
    np.testing.assert_allclose((result.lower, result.upper), (ci.low, ci.high), rtol=1e-10)


@pytest.mark.parametrize(
    ("x1", "n1", "x0", "n0"), [(15, 100, 30, 120), (3, 50, 9, 40), (0, 30, 4, 30)]
)
def test_score_at_no_effect_is_pearson_chi_square(x1, n1, x0, n0):
    table = [[x1, n1 - x1], [x0, n0 - x0]]
    pearson = chi2_contingency(table, correction=False).statistic
    n = n1 + n0
    # Margins must exceed the no-effect value, so test just above it (1 + 1e-15, 1e-15).
    for fn, null in ((noninferiority_ratio, 1.0 + 1e-15), (noninferiority_difference, 1e-15)):
        z_fm = fn(x1, n1, x0, n0, margin=null, method="score").statistic
        z_mn = fn(x1, n1, x0, n0, margin=null, method="miettinen-nurminen").statistic
        assert z_fm**2 == pytest.approx(pearson, rel=1e-9)
        assert z_mn**2 == pytest.approx(pearson * (n - 1) / n, rel=1e-9)


def _numeric_constrained(x1, n1, x0, n0, link):
    """Maximise the binomial log-likelihood over p0 with p1 = link(p0) (independent oracle)."""

    def negative_loglik(p0):
        p1 = link(p0)
        return -(
            x1 * np.log(p1)
            + (n1 - x1) * np.log1p(-p1)
            + x0 * np.log(p0)
            + (n0 - x0) * np.log1p(-p0)
        )

    return negative_loglik


@pytest.mark.parametrize(
    ("x1", "n1", "x0", "n0", "ratio"),
    [
        (15, 100, 30, 120, 1.25),
        (3, 50, 9, 40, 0.7),
        (40, 45, 20, 60, 2.0),
        (204, 42_500, 190, 42_500, 1.25),
    ],
)
def test_constrained_ratio_estimates_maximise_the_likelihood(x1, n1, x0, n0, ratio):
    p1, p0 = constrained_ratio(x1, n1, x0, n0, ratio)
    bound = min(1.0, 1.0 / ratio) - 1e-12
    oracle = minimize_scalar(
        _numeric_constrained(x1, n1, x0, n0, lambda p: ratio * p),
        bounds=(1e-12, bound),
        method="bounded",
        options={"xatol": 1e-13},
    )
    assert float(p0) == pytest.approx(oracle.x, rel=1e-6)
    assert float(p1) == pytest.approx(ratio * oracle.x, rel=1e-6)


@pytest.mark.parametrize(
    ("x1", "n1", "x0", "n0", "difference"),
    [
        (56, 70, 48, 80, 0.1),
        (15, 100, 30, 120, 0.05),
        (3, 50, 9, 40, -0.2),
        (204, 42_500, 190, 42_500, 0.0012),
    ],
)
def test_constrained_difference_estimates_maximise_the_likelihood(x1, n1, x0, n0, difference):
    p1, p0 = constrained_difference(x1, n1, x0, n0, difference)
    low, high = max(0.0, -difference) + 1e-12, min(1.0, 1.0 - difference) - 1e-12
    oracle = minimize_scalar(
        _numeric_constrained(x1, n1, x0, n0, lambda p: p + difference),
        bounds=(low, high),
        method="bounded",
        options={"xatol": 1e-13},
    )
    assert float(p0) == pytest.approx(oracle.x, rel=1e-6, abs=1e-12)
    assert float(p1) - float(p0) == pytest.approx(difference, abs=1e-12)


@pytest.mark.parametrize("method", ["score", "miettinen-nurminen"])
@pytest.mark.parametrize(
    ("x1", "n1", "x0", "n0"), [(15, 100, 30, 120), (3, 50, 9, 40), (56, 70, 48, 80)]
)
def test_score_interval_bounds_are_where_the_test_statistic_crosses(method, x1, n1, x0, n0):
    alpha = 0.025
    z = ndtri(1 - alpha)
    correction = method == "miettinen-nurminen"
    ratio = noninferiority_ratio(x1, n1, x0, n0, margin=1.25, alpha=alpha, method=method)
    difference = noninferiority_difference(x1, n1, x0, n0, margin=0.1, alpha=alpha, method=method)
    for bound, target in ((ratio.lower, z), (ratio.upper, -z)):
        assert score_z_ratio(x1, n1, x0, n0, bound, correction=correction) == pytest.approx(
            target, abs=1e-8
        )
    for bound, target in ((difference.lower, z), (difference.upper, -z)):
        assert score_z_difference(x1, n1, x0, n0, bound, correction=correction) == pytest.approx(
            target, abs=1e-8
        )


def test_mypebs_like_trial_is_non_inferior_on_both_scales():
    ratio = noninferiority_ratio(190, 42_500, 204, 42_500, margin=1.25)
    difference = noninferiority_difference(190, 42_500, 204, 42_500, margin=0.0012)
    assert ratio.conclusion == difference.conclusion == "non-inferior"
    assert ratio.upper < 1.25
    assert difference.upper < 0.0012
    assert ratio.p_value < 0.025
    assert ratio.confidence == pytest.approx(0.95)


def test_superiority_when_the_upper_bound_is_below_one():
    result = noninferiority_ratio(100, 10_000, 200, 10_000, margin=1.25)
    assert result.superior
    assert result.conclusion == "superior"


def test_inferior_arm_is_not_shown_non_inferior():
    result = noninferiority_ratio(300, 10_000, 200, 10_000, margin=1.25)
    assert not result.noninferior
    assert result.conclusion == "not shown"


@pytest.mark.parametrize("method", ["score", "miettinen-nurminen", "wald"])
def test_zero_counts_give_finite_p_values_and_open_bounds(method):
    result = noninferiority_ratio([0, 5, 0], 100, [3, 0, 0], 100, margin=1.25, method=method)
    assert np.all(np.isfinite(result.p_value))
    assert np.all((result.p_value >= 0) & (result.p_value <= 1))
    if method != "wald":
        assert result.lower[0] == 0.0
        assert np.isinf(result.upper[1])
        assert result.p_value[2] == pytest.approx(0.5)


@pytest.mark.parametrize("fn", [noninferiority_ratio, noninferiority_difference])
@pytest.mark.parametrize("method", ["score", "wald"])
def test_vectorised_equals_one_by_one(fn, method):
    margin = 1.3 if fn is noninferiority_ratio else 0.02
    x1, x0 = np.array([10, 20, 35, 0]), np.array([12, 18, 30, 5])
    together = fn(x1, 400, x0, 380, margin=margin, method=method)
    for i in range(x1.size):
        alone = fn(int(x1[i]), 400, int(x0[i]), 380, margin=margin, method=method)
        for field in ("estimate", "lower", "upper", "statistic", "p_value"):
            assert getattr(together, field)[i] == pytest.approx(getattr(alone, field), rel=1e-12)
        assert together.conclusion[i] == alone.conclusion


@settings(max_examples=60, deadline=None)
@given(
    x1=st.integers(0, 59),
    x0=st.integers(1, 60),
    n1=st.integers(60, 400),
    n0=st.integers(60, 400),
    margin=st.floats(1.05, 3.0),
    method=st.sampled_from(["score", "miettinen-nurminen", "wald"]),
)
def test_non_inferiority_decision_agrees_with_interval_and_p_value(x1, x0, n1, n0, margin, method):
    result = noninferiority_ratio(x1, n1, x0, n0, margin=margin, method=method)
    assert result.lower <= result.upper
    if abs(result.upper - margin) > 1e-9 * margin:
        assert bool(result.noninferior) == (result.upper < margin)
    if method != "wald":  # the Wald p-value is not monotone in the counts (its SE shrinks)
        worse = noninferiority_ratio(x1 + 1, n1, x0, n0, margin=margin, method=method)
        assert worse.p_value >= result.p_value - 1e-12  # more events in the new arm: weaker


@pytest.mark.parametrize(
    ("method", "scale"),
    [
        ("score", "ratio"),
        ("wald", "ratio"),
        ("score", "difference"),
        ("miettinen-nurminen", "difference"),
    ],
)
def test_monte_carlo_type_one_error_at_the_margin(method, scale):
    """At the boundary of H0 the rejection rate is alpha (20,000 trials; 4.5 MC standard errors)."""
    rng = np.random.default_rng(20240611)
    n, p_ref, alpha, reps = 3_000, 0.05, 0.025, 20_000
    if scale == "ratio":
        p_new = 1.25 * p_ref
        fn, margin = noninferiority_ratio, 1.25
    else:
        p_new = p_ref + 0.02
        fn, margin = noninferiority_difference, 0.02
    x1, x0 = rng.binomial(n, p_new, reps), rng.binomial(n, p_ref, reps)
    rate = np.mean(fn(x1, n, x0, n, margin=margin, alpha=alpha, method=method).noninferior)
    mc_se = np.sqrt(alpha * (1 - alpha) / reps)
    assert abs(rate - alpha) < 4.5 * mc_se + 0.002


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"margin": 1.0}, "margin"),
        ({"margin": 1.25, "alpha": 0.6}, "alpha"),
        ({"margin": 1.25, "method": "exact"}, "method"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, message):
    with pytest.raises(StatsInputError, match=message):
        noninferiority_ratio(5, 100, 5, 100, **kwargs)


def test_bad_counts_are_rejected():
    with pytest.raises(StatsInputError, match="events_new"):
        noninferiority_ratio(101, 100, 5, 100, margin=1.25)
    with pytest.raises(StatsInputError, match="n_ref"):
        noninferiority_difference(1, 100, 0, 0, margin=0.1)
    with pytest.raises(StatsInputError, match="events_ref"):
        noninferiority_difference(1, 100, 2.5, 10, margin=0.1)
    with pytest.raises(StatsInputError, match="margin"):
        noninferiority_difference(1, 100, 2, 10, margin=1.5)
