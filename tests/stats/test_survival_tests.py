"""Log-rank and Harrington-Fleming tests against a hand computation.

Group 1 has events at 1 and 3, group 2 at 2 and 4 (no censoring). At the event times
(n_1, n, d, expected d_1, hypergeometric variance):

- t=1: 2, 4, 1, 1/2, (1/2)(1/2)(3/3) = 1/4;
- t=2: 1, 3, 1, 1/3, (1/3)(2/3)(2/2) = 2/9;
- t=3: 1, 2, 1, 1/2, (1/2)(1/2)(1/1) = 1/4;
- t=4: 0, 1, 1, 0, 0.

Log-rank: O - E = 2 - 4/3 = 2/3, V = 13/18, chi² = (4/9)/(13/18) = 8/13.
Harrington-Fleming G(0, 1): weights 1 - S(t-) with the pooled Kaplan-Meier S(1-) = 1,
S(2-) = 3/4, S(3-) = 1/2: w = 0, 1/4, 1/2 (t=4 adds nothing);
Σ w(O - E) = (1/4)(-1/3) + (1/2)(1/2) = 1/6; Σ w²V = (1/16)(2/9) + (1/4)(1/4) = 11/144;
chi² = (1/36)/(11/144) = 4/11.
"""

import math

import numpy as np
import pytest

from pebs.stats import StatsInputError, aalen_johansen
from pebs.stats.survival_tests import survival_difference


def test_log_rank_by_hand():
    r = survival_difference([1, 3], [1, 1], [2, 4], [1, 1])
    assert r.test == "log-rank"
    assert r.statistic == pytest.approx(8 / 13, rel=1e-12)
    assert r.p_value == pytest.approx(math.erfc(math.sqrt(8 / 13 / 2)), rel=1e-9)


def test_harrington_fleming_late_weights_by_hand():
    r = survival_difference([1, 3], [1, 1], [2, 4], [1, 1], gamma=1.0)
    assert r.test == "harrington-fleming"
    assert r.statistic == pytest.approx(4 / 11, rel=1e-12)


def test_censoring_keeps_the_woman_at_risk_at_her_time():
    # Group 2's time 2 censored: t=1 as above (E 1/2, V 1/4); t=3: n_1 = 1, n = 2 (4 still at
    # risk), E 1/2, V 1/4. O - E = 1, V = 1/2, chi² = 2.
    r = survival_difference([1, 3], [1, 1], [2, 4], [0, 1])
    assert r.statistic == pytest.approx(2.0, rel=1e-12)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([1, 2], [1], [1], [1]), "group 1: events must be 0 or 1"),
        (([-1], [1], [1], [1]), "group 1: times must be"),
        (([1], [0], [2], [0]), "no event in either group"),
    ],
)
def test_bad_input_is_named(args, message):
    with pytest.raises(StatsInputError, match=message):
        survival_difference(*args)


def test_aalen_johansen_equals_hand_values_and_lifelines():
    """Eight women, cause 1 (the endpoint) at 1, 4, 6, 8, cause 2 (death) at 2, 5, censored at
    3, 7. By hand, F(t) = F(t-) + S(t-) d_1 / n: 1/8 = 0.125; + (6/8)(1/5) = 0.275;
    + (0.45)(1/3) = 0.425; + (0.3)(1/1) = 0.725 (S the all-cause Kaplan-Meier)."""
    from lifelines import AalenJohansenFitter

    times = np.array([1, 2, 3, 4, 5, 6, 7, 8.0])
    causes = np.array([1, 2, 0, 1, 2, 1, 0, 1])
    ours = aalen_johansen(times, causes, cause=1)
    hand = [0.125, 0.125, 0.125, 0.275, 0.275, 0.425, 0.425, 0.725]
    np.testing.assert_allclose(ours.cumulative_incidence, hand, rtol=1e-12)
    fitter = AalenJohansenFitter(calculate_variance=False).fit(times, causes, event_of_interest=1)
    theirs = fitter.cumulative_density_.to_numpy().ravel()[1:]  # their first row is t = 0
    np.testing.assert_allclose(ours.cumulative_incidence, theirs, rtol=1e-12)
