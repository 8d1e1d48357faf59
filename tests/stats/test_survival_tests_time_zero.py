"""Two-sample tests with an event at time 0 (a cancer found on the day of randomisation)."""

from __future__ import annotations

import pytest

from pebs.stats import survival_difference

# Group 1: an event at 0 and at 2; group 2: an event at 1, censored at 3. By hand from the
# formula of pebs.stats.survival_tests (pooled risk sets 4, 3, 2):
# log-rank: U = (1 - 2/4) + (0 - 1/3) + (1 - 1/2) = 2/3, V = 1/4 + 2/9 + 1/4 = 13/18,
#   U^2 / V = 8/13;
# G(0, 1): weights 1 - S(t-) = 0, 1/4, 1/2: U = -1/12 + 1/4 = 1/6, V = 1/72 + 1/16 = 11/144,
#   U^2 / V = 4/11.
TIMES_1, EVENTS_1 = [0.0, 2.0], [1, 1]
TIMES_2, EVENTS_2 = [1.0, 3.0], [1, 0]


def test_log_rank_with_an_event_at_time_zero() -> None:
    r = survival_difference(TIMES_1, EVENTS_1, TIMES_2, EVENTS_2)
    assert r.statistic == pytest.approx(8 / 13, rel=1e-12)


def test_harrington_fleming_with_an_event_at_time_zero() -> None:
    r = survival_difference(TIMES_1, EVENTS_1, TIMES_2, EVENTS_2, gamma=1.0)
    assert r.statistic == pytest.approx(4 / 11, rel=1e-12)
