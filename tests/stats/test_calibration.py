"""E/O ratio, Hosmer-Lemeshow and C-statistic against hand values and brute-force oracles."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from pebs.stats import StatsInputError, c_statistic, expected_observed, hosmer_lemeshow


def test_expected_observed_exact_poisson_by_table():
    # Exact 95 % Poisson limits for 8 events: 3.4538 and 15.7632 (Garwood 1936; e.g. the
    # tables in Breslow and Day 1987, vol. II). E = 10.
    result = expected_observed([0.1] * 100, [1] * 8 + [0] * 92)
    assert result.expected == pytest.approx(10.0)
    assert result.observed == 8
    assert result.ratio == pytest.approx(1.25)
    assert (result.lower, result.upper) == pytest.approx((10 / 15.7632, 10 / 3.4538), rel=2e-5)


def test_expected_observed_log_normal_by_hand():
    result = expected_observed([0.2] * 50, [1] * 12 + [0] * 38, method="log-normal")
    spread = math.exp(1.959963984540054 / math.sqrt(12))
    assert (result.lower, result.upper) == pytest.approx((10 / 12 / spread, 10 / 12 * spread))


def test_expected_observed_without_events_has_open_upper_bound():
    result = expected_observed([0.01] * 10, [0] * 10)
    assert math.isinf(result.ratio)
    assert math.isinf(result.upper)
    assert result.lower == pytest.approx(0.1 / (-math.log(0.025)), rel=1e-9)  # O_high = -ln(a/2)


def _brute_auc(risks, events):
    cases, controls = risks[events == 1], risks[events == 0]
    diff = cases[:, None] - controls[None, :]
    kernel = (diff > 0) + 0.5 * (diff == 0)  # (n_cases, n_controls)
    auc = kernel.mean()
    v10, v01 = kernel.mean(axis=1), kernel.mean(axis=0)
    se = math.sqrt(v10.var(ddof=1) / cases.size + v01.var(ddof=1) / controls.size)
    return auc, se


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_c_statistic_matches_pairwise_oracle_and_mann_whitney(seed):
    rng = np.random.default_rng(seed)
    risks = np.round(rng.beta(2, 20, 400), 3)  # rounding creates ties
    events = (rng.random(400) < risks * 3).astype(int)
    result = c_statistic(risks, events)
    auc, se = _brute_auc(risks, events)
    assert result.estimate == pytest.approx(auc, abs=1e-12)
    assert result.std_error == pytest.approx(se, rel=1e-10)  # DeLong 1988
    u = mannwhitneyu(risks[events == 1], risks[events == 0]).statistic
    assert result.estimate == pytest.approx(u / (result.n_events * result.n_non_events))
    assert result.lower < result.estimate < result.upper


def test_c_statistic_hand_example():
    # Cases 0.2, 0.4; controls 0.1, 0.3: pairs won 1 + 2 of 4 -> 0.75.
    assert c_statistic([0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1]).estimate == pytest.approx(0.75)


def _hl_oracle(risks, events, groups):
    order = sorted(range(len(risks)), key=lambda i: (risks[i], i))
    n = len(risks)
    statistic = 0.0
    for g in range(groups):
        members = [order[j] for j in range(n) if j * groups // n == g]
        e = sum(risks[i] for i in members)
        o = sum(events[i] for i in members)
        statistic += (o - e) ** 2 / (e * (1 - e / len(members)))
    return statistic


def test_hosmer_lemeshow_matches_loop_oracle():
    rng = np.random.default_rng(11)
    risks = rng.uniform(0.01, 0.4, 523)
    events = (rng.random(523) < risks).astype(int)
    result = hosmer_lemeshow(risks, events)
    assert result.statistic == pytest.approx(_hl_oracle(risks.tolist(), events.tolist(), 10))
    assert result.df == 8
    assert result.n_women.sum() == 523
    assert result.n_women.max() - result.n_women.min() <= 1
    assert result.observed.sum() == events.sum()
    assert hosmer_lemeshow(risks, events, external=True).df == 10


def test_hosmer_lemeshow_type_one_error_when_calibrated():
    """Well-calibrated risks: H rejects at 5 % in about 5 % of 400 samples (binomial tolerance)."""
    rng = np.random.default_rng(12)
    rejections = 0
    for _ in range(400):
        risks = rng.uniform(0.05, 0.5, 500)
        events = (rng.random(500) < risks).astype(int)
        rejections += hosmer_lemeshow(risks, events, external=True).p_value < 0.05
    assert 0.02 < rejections / 400 < 0.085


def test_bad_arguments():
    with pytest.raises(StatsInputError, match="risks"):
        expected_observed([5.0, 10.0], [0, 1])  # percent instead of proportion
    with pytest.raises(StatsInputError, match="events"):
        c_statistic([0.1, 0.2], [0, 0])
    with pytest.raises(StatsInputError, match="events"):
        expected_observed([0.1, 0.2], [0, 2])
    with pytest.raises(StatsInputError, match="groups"):
        hosmer_lemeshow([0.1, 0.2], [0, 1], groups=10)
