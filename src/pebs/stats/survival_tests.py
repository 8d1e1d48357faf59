"""Two-sample tests of time-to-event curves: log-rank and Harrington-Fleming.

At each distinct event time ``t_j`` (both groups together) with ``d_j`` events among ``n_j`` at
risk, ``n_1j`` of them in group 1 which has ``d_1j`` events, the weighted statistic is

``Z = Σ w_j (d_1j - d_j n_1j / n_j) / sqrt(Σ w_j² d_j (n_1j / n_j)(1 - n_1j / n_j)(n_j - d_j) /
(n_j - 1))``

and ``Z²`` is referred to a chi-square with 1 degree of freedom. The log-rank test (Mantel 1966;
Peto and Peto 1972) has ``w_j = 1``; the Harrington-Fleming G(rho, gamma) family (Harrington and
Fleming 1982; Fleming and Harrington 1991, section 7.3) has
``w_j = S(t_j-)^rho (1 - S(t_j-))^gamma`` with ``S`` the pooled Kaplan-Meier estimate: ``gamma > 0``
weights late differences (a screening effect on advanced cancers appears late), ``rho > 0``
early ones. The statistics are computed by lifelines
(:func:`lifelines.statistics.logrank_test`).

>>> r = survival_difference([1, 3], [1, 1], [2, 4], [1, 1])
>>> round(r.statistic, 6)  # 8/13, by hand in tests/stats/test_survival_tests.py
0.615385
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pebs.stats._checks import StatsInputError

__all__ = ["SurvivalDifference", "survival_difference"]


@dataclass(frozen=True)
class SurvivalDifference:
    """A two-sample test of survival curves (module docstring)."""

    test: str
    """``log-rank`` or ``harrington-fleming``."""
    rho: float
    gamma: float
    statistic: float
    """Chi-square, 1 degree of freedom."""
    p_value: float


def _sample(name: str, times, events) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(times, dtype=float)
    e = np.asarray(events)
    if t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise StatsInputError(f"{name}: times must be a non-empty list of numbers >= 0")
    if e.shape != t.shape or not np.isin(e, (0, 1)).all():
        raise StatsInputError(f"{name}: events must be 0 or 1, one per time")
    return t, e.astype(bool)


def _without_zero(t1: np.ndarray, t2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The times with 0 moved to half the smallest positive time (1 if there is none).

    lifelines 0.30 fails on an event at time 0 with Fleming-Harrington weights (its pooled
    Kaplan-Meier timeline then has one row fewer than its table of events); the statistics
    depend only on the order of the times and their ties, which the move keeps.
    """
    both = np.concatenate([t1, t2])
    positive = both[both > 0]
    stand_in = positive.min() / 2.0 if positive.size else 1.0
    return np.where(t1 == 0, stand_in, t1), np.where(t2 == 0, stand_in, t2)


def survival_difference(times_1, events_1, times_2, events_2, *, rho: float = 0.0,
                        gamma: float = 0.0) -> SurvivalDifference:  # fmt: skip
    """Log-rank (``rho = gamma = 0``) or Harrington-Fleming G(rho, gamma) test of two groups.

    Times in any unit; events 1 (the event) or 0 (censored at that time).
    """
    from lifelines.statistics import logrank_test

    t1, e1 = _sample("group 1", times_1, events_1)
    t2, e2 = _sample("group 2", times_2, events_2)
    if rho < 0 or gamma < 0:
        raise StatsInputError(f"rho {rho!r} and gamma {gamma!r} must be >= 0")
    if not (e1.any() or e2.any()):
        raise StatsInputError("no event in either group: nothing to test")
    weighted = rho > 0 or gamma > 0
    options = {"weightings": "fleming-harrington", "p": rho, "q": gamma} if weighted else {}
    t1, t2 = _without_zero(t1, t2)
    result = logrank_test(t1, t2, event_observed_A=e1, event_observed_B=e2, **options)
    return SurvivalDifference(
        test="harrington-fleming" if weighted else "log-rank",
        rho=float(rho),
        gamma=float(gamma),
        statistic=float(result.test_statistic),
        p_value=float(result.p_value),
    )
