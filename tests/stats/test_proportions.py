"""Wilson and Clopper-Pearson intervals against scipy.stats.binomtest and hand computation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binomtest

from pebs.stats import StatsInputError, proportion_interval

SCIPY_METHOD = {"wilson": "wilson", "clopper-pearson": "exact"}


@pytest.mark.parametrize("method", ["wilson", "clopper-pearson"])
@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (10, 10), (204, 42_500), (1, 1), (57, 90)])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_matches_scipy_binomtest(method, k, n, confidence):
    ours = proportion_interval(k, n, confidence=confidence, method=method)
    theirs = binomtest(k, n).proportion_ci(confidence_level=confidence, method=SCIPY_METHOD[method])
    np.testing.assert_allclose((ours.lower, ours.upper), (theirs.low, theirs.high), atol=1e-12)


def test_wilson_by_hand():
    # 3 of 10, z = 1.95996: centre (0.3 + z^2/20) / (1 + z^2/10), half-width z sqrt(...)/(...).
    z = 1.959963984540054
    centre = (0.3 + z**2 / 20) / (1 + z**2 / 10)
    half = z * math.sqrt(0.3 * 0.7 / 10 + z**2 / 400) / (1 + z**2 / 10)
    ci = proportion_interval(3, 10)
    assert (ci.lower, ci.upper) == pytest.approx((centre - half, centre + half), rel=1e-12)
    assert (round(ci.lower, 4), round(ci.upper, 4)) == (0.1078, 0.6032)


def test_clopper_pearson_zero_events_rule_of_three_style_bound():
    # x = 0: the upper bound solves (1 - p)^n = alpha/2, i.e. 1 - 0.025^(1/n).
    ci = proportion_interval(0, 50, method="clopper-pearson")
    assert ci.lower == 0.0
    assert ci.upper == pytest.approx(1 - 0.025 ** (1 / 50), rel=1e-10)


def test_arrays_in_arrays_out():
    ci = proportion_interval(np.array([1, 5, 9]), 10, method="clopper-pearson")
    assert ci.lower.shape == (3,)
    assert np.all(ci.lower <= ci.estimate)
    assert np.all(ci.estimate <= ci.upper)


@given(k=st.integers(0, 200), extra=st.integers(0, 200))
def test_interval_contains_the_estimate(k, extra):
    n = k + extra
    if n == 0:
        n = 1
    for method in ("wilson", "clopper-pearson"):
        ci = proportion_interval(k, n, method=method)
        assert 0 <= ci.lower <= ci.estimate <= ci.upper <= 1
        assert (ci.lower == 0) == (k == 0)
        assert (ci.upper == 1) == (k == n)


def test_bad_arguments():
    with pytest.raises(StatsInputError, match="events"):
        proportion_interval(11, 10)
    with pytest.raises(StatsInputError, match="confidence"):
        proportion_interval(1, 10, confidence=95)
    with pytest.raises(StatsInputError, match="method"):
        proportion_interval(1, 10, method="agresti")
