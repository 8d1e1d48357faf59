"""Kaplan-Meier and Aalen-Johansen: hand examples and a per-time loop oracle."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pebs.stats import StatsInputError, aalen_johansen, kaplan_meier


def _km_oracle(times, events):
    """Plain loop over distinct times (independent of the vectorised code)."""
    out = []
    s, greenwood = 1.0, 0.0
    for t in sorted(set(times)):
        at_risk = sum(1 for u in times if u >= t)
        d = sum(1 for u, e in zip(times, events, strict=True) if u == t and e)
        if d:
            s *= 1 - d / at_risk
            greenwood += d / (at_risk * (at_risk - d)) if at_risk > d else math.inf
        out.append((t, at_risk, d, s, greenwood))
    return out


def test_hand_example():
    # 5 women: events at 1, 2, 3; censored at 2 and 4.
    curve = kaplan_meier([1, 2, 2, 3, 4], [1, 1, 0, 1, 0])
    assert curve.times.tolist() == [1, 2, 3, 4]
    assert curve.n_at_risk.tolist() == [5, 4, 2, 1]
    np.testing.assert_allclose(curve.survival, [0.8, 0.6, 0.3, 0.3])
    # Greenwood at t=2: 0.6^2 (1/(5*4) + 1/(4*3)) = 0.36 * 0.13333 = 0.048
    assert curve.std_error[1] == pytest.approx(math.sqrt(0.048))
    # log(-log) interval at t=1: S^exp(+-1.95996 * sqrt(1/20) / log 0.8)
    spread = 1.959963984540054 * math.sqrt(1 / 20) / math.log(0.8)
    assert curve.lower[0] == pytest.approx(0.8 ** math.exp(-spread))
    assert curve.upper[0] == pytest.approx(0.8 ** math.exp(spread))
    assert curve.survival_at([0.5, 1, 2.5, 10]).tolist() == pytest.approx([1, 0.8, 0.6, 0.3])
    assert curve.cumulative_incidence_at(3) == pytest.approx(0.7)


@settings(max_examples=60, deadline=None)
@given(
    times=arrays(np.float64, st.integers(1, 40), elements=st.integers(0, 12).map(float)),
    data=st.data(),
)
def test_matches_loop_oracle(times, data):
    events = data.draw(arrays(np.int64, times.shape, elements=st.integers(0, 1)))
    curve = kaplan_meier(times, events)
    oracle = _km_oracle(times.tolist(), events.tolist())
    assert curve.times.tolist() == [row[0] for row in oracle]
    assert curve.n_at_risk.tolist() == [row[1] for row in oracle]
    np.testing.assert_allclose(curve.survival, [row[3] for row in oracle], atol=1e-12)
    finite = np.array([row[3] > 0 for row in oracle])
    expected_se = np.array([row[3] * math.sqrt(row[4]) if row[3] > 0 else 0 for row in oracle])
    np.testing.assert_allclose(curve.std_error[finite], expected_se[finite], rtol=1e-10)
    assert np.all((curve.lower <= curve.survival + 1e-12) & (curve.survival <= curve.upper + 1e-12))


def test_no_censoring_is_the_empirical_survival():
    rng = np.random.default_rng(3)
    times = rng.exponential(5.0, 300)
    curve = kaplan_meier(times, np.ones(300))
    empirical = np.array([(times > t).mean() for t in curve.times])
    np.testing.assert_allclose(curve.survival, empirical, atol=1e-12)


def test_aalen_johansen_hand_example():
    # 4 women: cause 1 at t=1, cause 2 at t=2, cause 1 at t=3, censored at t=4.
    cif = aalen_johansen([1, 2, 3, 4], [1, 2, 1, 0], cause=1)
    # F(1) = 1/4; S(2-) = 3/4, no cause 1 at 2; S(3-) = 3/4 * 2/3 = 1/2; F(3) = 1/4 + 1/2 * 1/2.
    np.testing.assert_allclose(cif.cumulative_incidence, [0.25, 0.25, 0.5, 0.5])
    assert cif.at([0, 2.5, 9]).tolist() == pytest.approx([0, 0.25, 0.5])
    other = aalen_johansen([1, 2, 3, 4], [1, 2, 1, 0], cause=2)
    np.testing.assert_allclose(other.cumulative_incidence, [0, 0.25, 0.25, 0.25])


def test_aalen_johansen_one_cause_is_one_minus_kaplan_meier():
    rng = np.random.default_rng(4)
    times = rng.integers(0, 20, 500).astype(float)
    events = rng.integers(0, 2, 500)
    cif = aalen_johansen(times, events, cause=1)
    km = kaplan_meier(times, events)
    np.testing.assert_allclose(cif.cumulative_incidence, 1 - km.survival, atol=1e-12)


def test_aalen_johansen_without_censoring_is_the_empirical_fraction():
    rng = np.random.default_rng(5)
    times = rng.exponential(3.0, 400)
    causes = rng.integers(1, 4, 400)
    for cause in (1, 2, 3):
        cif = aalen_johansen(times, causes, cause=cause)
        empirical = np.array([np.mean((times <= t) & (causes == cause)) for t in cif.times])
        np.testing.assert_allclose(cif.cumulative_incidence, empirical, atol=1e-12)


def test_all_causes_and_survival_sum_to_one():
    rng = np.random.default_rng(6)
    times = rng.integers(0, 10, 300).astype(float)
    causes = rng.integers(0, 3, 300)
    total = sum(aalen_johansen(times, causes, cause=k).cumulative_incidence for k in (1, 2))
    any_cause = kaplan_meier(times, (causes > 0).astype(int))
    np.testing.assert_allclose(total + any_cause.survival, 1.0, atol=1e-12)


def test_bad_arguments():
    with pytest.raises(StatsInputError, match="times"):
        kaplan_meier([-1, 2], [1, 0])
    with pytest.raises(StatsInputError, match="events"):
        kaplan_meier([1, 2], [1, 2])
    with pytest.raises(StatsInputError, match="events"):
        kaplan_meier([1, 2], [1])
    with pytest.raises(StatsInputError, match="cause"):
        aalen_johansen([1, 2], [1, 0], cause=0)
