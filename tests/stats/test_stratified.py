"""Mantel-Haenszel risk and odds ratios against hand computations from the published formulas.

Two strata, new arm / reference arm: stratum 1 2/10 vs 1/10, stratum 2 6/20 vs 4/20.
By hand (Mantel and Haenszel 1959; Greenland and Robins 1985):

- RR_MH = (2·10/20 + 6·20/40) / (1·10/20 + 4·20/40) = 4 / 2.5 = 1.6;
- OR_MH = (2·9/20 + 6·16/40) / (8·1/20 + 14·4/40) = 3.3 / 1.8 = 1.8333...;
- Var log RR_MH = [(10·10·3 - 2·1·20)/20² + (20·20·10 - 6·4·40)/40²] / (4 · 2.5)
  = (0.65 + 1.9) / 10 = 0.255; 95 % interval 1.6·exp(±1.959964·sqrt(0.255)) = (0.59468, 4.30483);
- CMH chi-square: Σa - ΣE(a) = 8 - (1.5 + 5) = 1.5; Σ Var(a) = 10·10·3·17/(20²·19) +
  20·20·10·30/(40²·39) = 0.6710526 + 1.9230769; chi² = 2.25 / 2.5941296 = 0.867343.
"""

import math

import pytest

from pebs.stats import StatsInputError
from pebs.stats.stratified import mantel_haenszel


def test_two_strata_by_hand():
    r = mantel_haenszel([2, 6], [10, 20], [1, 4], [10, 20], margin=1.25)
    assert r.risk_ratio == pytest.approx(1.6, rel=1e-12)
    assert r.odds_ratio == pytest.approx(3.3 / 1.8, rel=1e-12)
    half = 1.959963984540054 * math.sqrt(0.255)
    assert (r.lower, r.upper) == pytest.approx((1.6 * math.exp(-half), 1.6 * math.exp(half)))
    assert r.cmh_statistic == pytest.approx(2.25 / (5100 / 7600 + 120000 / 62400), rel=1e-9)
    assert r.cmh_p_value == pytest.approx(math.erfc(math.sqrt(r.cmh_statistic / 2)), rel=1e-9)
    assert not r.noninferior
    assert r.n_strata_used == 2


def test_one_stratum_is_the_katz_interval():
    # Greenland-Robins reduces to Katz's 1/a - 1/n1 + 1/c - 1/n0 with one stratum.
    r = mantel_haenszel([20], [1000], [25], [1000], margin=1.25, alpha=0.025)
    se = math.sqrt(1 / 20 - 1 / 1000 + 1 / 25 - 1 / 1000)
    assert (r.lower, r.upper) == pytest.approx(
        (0.8 * math.exp(-1.959963984540054 * se), 0.8 * math.exp(1.959963984540054 * se))
    )
    assert math.isnan(r.homogeneity_p_value)


def test_uninformative_strata_are_dropped_and_counted():
    with_empty = mantel_haenszel([2, 6, 0, 0], [10, 20, 15, 0], [1, 4, 0, 2], [10, 20, 15, 9],
                                 margin=1.25)  # fmt: skip
    assert with_empty.n_strata_dropped == 2
    assert with_empty.risk_ratio == pytest.approx(1.6)


def test_noninferior_when_the_upper_bound_is_below_the_margin():
    assert mantel_haenszel([190, 200], [21_000, 21_500], [204, 210], [21_000, 21_500],
                           margin=1.25).noninferior  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([1], [10], [1], [10, 10]), "equal lengths"),
        (([11], [10], [1], [10]), "more events than women"),
        (([-1], [10], [1], [10]), "events_new: must be a non-empty list of counts"),
        (([0], [10], [0], [10]), "no stratum has women in both arms"),
    ],
)
def test_bad_input_is_named(args, message):
    with pytest.raises(StatsInputError, match=message):
        mantel_haenszel(*args, margin=1.25)


def test_penicillin_and_rabbits_as_published():
    """Mantel (1963), penicillin and rabbits, the worked example of R's ``mantelhaen.test``
    documentation (also in Agresti, Categorical Data Analysis): cure with immediate vs 1.5 h
    delayed injection in five penicillin levels. Published: common odds ratio 7, 95 % interval
    1.026713 to 47.725133; continuity-corrected CMH chi-square 3.9286 (p = 0.04747)."""
    cured_now, n_now = [0, 3, 6, 5, 2], [6, 6, 6, 6, 2]
    cured_late, n_late = [0, 0, 2, 6, 5], [5, 6, 6, 6, 5]
    r = mantel_haenszel(cured_now, n_now, cured_late, n_late, margin=1.25, alpha=0.025)
    assert r.odds_ratio == pytest.approx(7.0, rel=1e-12)
    assert (r.odds_ratio_lower, r.odds_ratio_upper) == pytest.approx((1.026713, 47.725133),
                                                                     abs=5e-7)  # fmt: skip
    # By hand: sum a - sum E(a) = 16 - (1.5 + 4 + 5.5 + 2) = 3; V = (972 + 1152 + 396) / 1584
    # (the last level adds 0). Ours has no continuity correction: 3^2 / V; R's: (3 - 0.5)^2 / V.
    variance = (972 + 1152 + 396) / 1584
    assert r.cmh_statistic == pytest.approx(9 / variance, rel=1e-12)
    assert (3 - 0.5) ** 2 / variance == pytest.approx(3.9286, abs=5e-5)
    assert r.n_strata_dropped == 1  # level 1/8: no rabbit cured
