"""Validation statistics against published tables, hand counts and naive oracles."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm, poisson

from pebs.stats import (
    StatsInputError,
    age_bands,
    c_statistic,
    compare_c_statistics,
    counted_events,
    expected_observed_by_group,
    poisson_interval,
    reclassification,
    risk_groups,
    window_expected,
)

# Exact 95% Poisson limits (Garwood 1936), as tabulated e.g. in Breslow and Day, Statistical
# Methods in Cancer Research vol. II (IARC 1987), and Ulm, Am J Epidemiol 1990;131:373-5.
PUBLISHED_LIMITS = {
    0: (0.0, 3.689),
    1: (0.0253, 5.572),
    2: (0.2422, 7.225),
    5: (1.6235, 11.668),
    8: (3.4538, 15.763),
    10: (4.7954, 18.390),
}


def test_poisson_interval_matches_published_table():
    low, high = poisson_interval(list(PUBLISHED_LIMITS))
    published = np.array(list(PUBLISHED_LIMITS.values()))  # (6, 2)
    np.testing.assert_allclose(low, published[:, 0], atol=6e-4)
    np.testing.assert_allclose(high, published[:, 1], atol=6e-4)


def test_poisson_interval_is_the_exact_poisson_tail_inversion():
    # Definition of the exact interval: P(X >= O | lower) = a/2 and P(X <= O | upper) = a/2.
    counts = np.arange(0, 60)
    low, high = poisson_interval(counts, confidence=0.9)
    np.testing.assert_allclose(poisson.cdf(counts, high), 0.05, rtol=1e-8)
    positive = counts > 0
    np.testing.assert_allclose(poisson.sf(counts[positive] - 1, low[positive]), 0.05, rtol=1e-8)
    assert low[0] == 0.0


def test_poisson_interval_rejects_non_counts():
    with pytest.raises(StatsInputError, match="observed"):
        poisson_interval([1.5])


def test_window_expected_by_hand():
    risks = np.array([0.02, 0.02, 0.02, 0.1])
    years = np.array([5.0, 2.5, 9.0, 1.0])
    expected = [0.02, 1 - math.sqrt(0.98), 0.02, 1 - 0.9**0.2]
    np.testing.assert_allclose(window_expected(risks, years), expected, rtol=1e-14)
    # Two consecutive half windows with the constant hazard give the whole five-year risk.
    half = window_expected([0.02], [2.5])[0]
    assert 1 - (1 - half) ** 2 == pytest.approx(0.02, rel=1e-13)


@pytest.mark.parametrize(
    ("risks", "years", "match"),
    [([1.5], [5.0], "risks"), ([0.01], [0.0], "follow_up_years"), ([0.01], [-1.0], "follow")],
)
def test_window_expected_rejects_percent_and_non_positive_follow_up(risks, years, match):
    with pytest.raises(StatsInputError, match=match):
        window_expected(risks, years)


def test_counted_events_drop_events_after_the_horizon():
    events = counted_events([1, 1, 1, 0, 0], [0.3, 5.0, 5.01, 2.0, 7.0])
    assert events.tolist() == [1, 1, 0, 0, 0]


def test_age_bands_by_hand():
    codes, labels = age_bands([39.99, 40.0, 44.99, 45.0, 69.5, 74.99, 75.0, 88.0])
    assert [labels[c] for c in codes] == [
        "<40", "40-44", "40-44", "45-49", "65-69", "70-74", "75+", "75+",
    ]  # fmt: skip
    assert labels[1:-1] == ("40-44", "45-49", "50-54", "55-59", "60-64", "65-69", "70-74")


def test_risk_groups_are_deciles_of_nearly_equal_size():
    rng = np.random.default_rng(4)
    risks = rng.uniform(0, 0.1, 1003)
    groups = risk_groups(risks)
    sizes = np.bincount(groups)
    assert sizes.size == 10
    assert sizes.max() - sizes.min() <= 1
    # Every woman of a higher decile has a risk at least that of every woman of a lower one.
    highest = [risks[groups == g].max() for g in range(10)]
    lowest = [risks[groups == g].min() for g in range(10)]
    assert all(highest[g] <= lowest[g + 1] for g in range(9))


def test_expected_observed_by_group_against_a_loop_and_the_published_interval():
    rng = np.random.default_rng(9)
    n = 400
    expected = rng.uniform(0.0, 0.05, n)
    events = (rng.random(n) < 0.08).astype(int)
    groups = rng.integers(0, 4, n)
    groups[groups == 2] = 3  # group 2 left empty: dropped from the table
    risks = rng.uniform(0.0, 0.1, n)
    table = expected_observed_by_group(expected, events, groups, ["a", "b", "c", "d"], risks=risks)
    assert table.labels == ("a", "b", "d")
    for row, g in zip(table.rows(), (0, 1, 3), strict=True):
        members = [i for i in range(n) if groups[i] == g]
        e = sum(expected[i] for i in members)
        o = sum(events[i] for i in members)
        assert row["n_women"] == len(members)
        assert row["expected"] == pytest.approx(e, rel=1e-12)
        assert row["observed"] == o
        assert row["ratio"] == pytest.approx(e / o)
        assert row["mean_risk"] == pytest.approx(sum(risks[i] for i in members) / len(members))
    # 8 events with E = 10: the published limits 3.4538 and 15.763 (see PUBLISHED_LIMITS).
    eight = expected_observed_by_group([0.1] * 100, [1] * 8 + [0] * 92, [0] * 100, ["all"])
    assert eight.lower[0] == pytest.approx(10 / 15.763, rel=5e-5)
    assert eight.upper[0] == pytest.approx(10 / 3.4538, rel=5e-5)


def test_expected_observed_by_group_without_events_has_an_open_upper_bound():
    table = expected_observed_by_group([0.01] * 10, [0] * 10, [0] * 10, ["all"])
    assert math.isinf(table.ratio[0])
    assert math.isinf(table.upper[0])
    assert table.lower[0] == pytest.approx(0.1 / 3.689, rel=2e-4)


def _naive_components(scores: np.ndarray, events: np.ndarray):
    """DeLong's structural components from the pairwise kernel (O(m n), no ranks)."""
    v10, v01 = [], []
    for s in scores:
        cases, controls = s[events == 1], s[events == 0]
        kernel = (cases[:, None] > controls[None, :]) + 0.5 * (cases[:, None] == controls)
        v10.append(kernel.mean(axis=1))
        v01.append(kernel.mean(axis=0))
    return np.array(v10), np.array(v01)


@pytest.mark.parametrize("seed", [1, 2])
def test_auc_difference_matches_the_naive_structural_components(seed):
    rng = np.random.default_rng(seed)
    n = 300
    events = (rng.random(n) < 0.2).astype(int)
    a = np.round(rng.normal(events * 0.8, 1.0), 1)  # rounding makes ties
    b = np.round(0.6 * a + rng.normal(events * 0.3, 1.0), 1)
    result = compare_c_statistics(a, b, events)
    v10, v01 = _naive_components(np.vstack([a, b]), events)
    m, k = v10.shape[1], v01.shape[1]
    s = np.cov(v10) / m + np.cov(v01) / k  # DeLong et al. 1988, eq. for the 2 x 2 covariance
    auc = v10.mean(axis=1)
    se = math.sqrt(s[0, 0] + s[1, 1] - 2 * s[0, 1])
    assert (result.auc_a, result.auc_b) == pytest.approx(tuple(auc), abs=1e-12)
    assert result.std_error == pytest.approx(se, rel=1e-10)
    assert result.z == pytest.approx((auc[0] - auc[1]) / se, rel=1e-10)
    assert result.p_value == pytest.approx(2 * norm.sf(abs(auc[0] - auc[1]) / se), rel=1e-9)
    assert result.correlation == pytest.approx(s[0, 1] / math.sqrt(s[0, 0] * s[1, 1]))
    # Each model's own standard error is the one of the single C-statistic.
    assert result.std_error_a == pytest.approx(c_statistic(a, events).std_error, rel=1e-10)
    assert result.std_error_b == pytest.approx(c_statistic(b, events).std_error, rel=1e-10)


def test_auc_difference_hand_example():
    # Cases are rows 2 and 4. Model a: cases 0.4, 0.8 above both controls 0.1, 0.3 -> AUC 1,
    # components all 1 (variance 0). Model b: cases 0.2, 0.4; V10 = (1/2, 1), V01 = (1, 1/2):
    # var = 0.125 / 2 + 0.125 / 2 = 0.125, covariance with a 0.
    result = compare_c_statistics([0.1, 0.4, 0.3, 0.8], [0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1])
    assert (result.auc_a, result.auc_b, result.difference) == (1.0, 0.75, 0.25)
    assert result.std_error == pytest.approx(math.sqrt(0.125))
    assert result.z == pytest.approx(0.25 / math.sqrt(0.125))
    assert result.p_value == pytest.approx(0.4795001221869535, rel=1e-9)  # 2 * (1 - Phi(0.7071))


def test_auc_difference_of_a_model_with_itself_is_zero():
    rng = np.random.default_rng(3)
    risks = rng.random(50)
    result = compare_c_statistics(risks, risks, (rng.random(50) < 0.3).astype(int))
    assert (result.difference, result.std_error, result.z, result.p_value) == (0.0, 0.0, 0.0, 1.0)


def test_auc_difference_needs_both_outcomes():
    with pytest.raises(StatsInputError, match="at least one event"):
        compare_c_statistics([0.1, 0.2], [0.3, 0.4], [0, 0])


def test_reclassification_and_nri_hand_counted():
    # Events (10): 3 move up 0 -> 1, 1 moves down 1 -> 0, 6 stay at 0.
    # Non-events (20): 4 move down 1 -> 0, 2 move up 1 -> 2, 14 stay at 1.
    reference = [0, 0, 0, 1] + [0] * 6 + [1] * 20
    new = [1, 1, 1, 0] + [0] * 6 + [0] * 4 + [2] * 2 + [1] * 14
    events = [1] * 10 + [0] * 20
    r = reclassification(reference, new, events, n_categories=3)
    np.testing.assert_array_equal(r.events, [[6, 3, 0], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(r.non_events, [[0, 0, 0], [4, 14, 2], [0, 0, 0]])
    assert r.nri_events == pytest.approx((3 - 1) / 10)
    assert r.nri_non_events == pytest.approx((4 - 2) / 20)
    assert r.nri == pytest.approx(0.3)
    # Pencina et al. 2008: SE^2 = (up + down)_e / n_e^2 + (up + down)_ne / n_ne^2.
    assert r.std_error_events == pytest.approx(math.sqrt(4) / 10)
    assert r.std_error_non_events == pytest.approx(math.sqrt(6) / 20)
    se = math.sqrt(4 / 100 + 6 / 400)
    assert r.std_error == pytest.approx(se)
    assert r.z == pytest.approx(0.3 / se)
    assert r.p_value == pytest.approx(2 * norm.sf(0.3 / se))
    assert (r.lower, r.upper) == pytest.approx((0.3 - 1.959963984540054 * se,
                                                0.3 + 1.959963984540054 * se))  # fmt: skip
    assert r.n_women.sum() == 30


def test_reclassification_without_events_has_no_event_part():
    r = reclassification([0, 1], [1, 1], [0, 0], n_categories=2)
    assert math.isnan(r.nri_events)
    assert math.isnan(r.nri)
    assert r.nri_non_events == pytest.approx(-0.5)


def test_reclassification_rejects_categories_out_of_range():
    with pytest.raises(StatsInputError, match="new"):
        reclassification([0, 1], [0, 4], [0, 1], n_categories=4)
