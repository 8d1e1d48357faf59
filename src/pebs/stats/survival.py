"""Kaplan-Meier survival with Greenwood intervals, and Aalen-Johansen cumulative incidence.

Kaplan-Meier: ``S(t) = prod_{t_j <= t} (1 - d_j / n_j)`` over distinct event times ``t_j`` with
``d_j`` events among ``n_j`` at risk (observed time >= ``t_j``). Greenwood's variance
``Var S(t) = S(t)^2 sum_{t_j <= t} d_j / (n_j (n_j - d_j))``; the interval is built on
``log(-log S)`` (Kalbfleisch and Prentice 2002, section 1.4), which stays inside [0, 1]:
``S^exp(+-z * sqrt(sum d/(n(n-d))) / log S)``.

Aalen-Johansen (competing risks): the cumulative incidence of cause ``k`` is
``F_k(t) = sum_{t_j <= t} S(t_j-) d_kj / n_j`` with ``S`` the Kaplan-Meier estimate for the
event "any cause" (Kalbfleisch and Prentice 2002, section 8.2). With one cause it is ``1 - S``.
A death from another cause is a competing event, not censoring: ``1 - S`` computed with other
deaths censored overestimates the incidence of breast cancer.

Times are in any unit (years since randomisation, say); ties between an event and a censoring
time count the censored woman as still at risk at that time (the usual convention).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from pebs.stats._checks import StatsInputError


@dataclass(frozen=True)
class SurvivalCurve:
    """Kaplan-Meier estimate at each distinct observed time (arrays of one length).

    ``survival``, ``lower`` and ``upper`` are proportions; ``std_error`` is Greenwood's.
    """

    times: np.ndarray
    n_at_risk: np.ndarray
    n_events: np.ndarray
    n_censored: np.ndarray
    survival: np.ndarray
    std_error: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    confidence: float

    def survival_at(self, times) -> np.ndarray:
        """Survival at arbitrary times (a right-continuous step function; 1 before the first)."""
        index = np.searchsorted(self.times, np.asarray(times, dtype=np.float64), side="right")
        return np.concatenate(([1.0], self.survival))[index]

    def cumulative_incidence_at(self, times) -> np.ndarray:
        """``1 - S(t)``: the cumulative incidence when there are no competing events."""
        return 1.0 - self.survival_at(times)


@dataclass(frozen=True)
class CumulativeIncidence:
    """Aalen-Johansen cumulative incidence of one cause at each distinct observed time."""

    times: np.ndarray
    n_at_risk: np.ndarray
    n_events: np.ndarray
    """Events of the cause of interest at each time."""
    n_other_events: np.ndarray
    cumulative_incidence: np.ndarray
    cause: int

    def at(self, times) -> np.ndarray:
        """Cumulative incidence at arbitrary times (step function; 0 before the first time)."""
        index = np.searchsorted(self.times, np.asarray(times, dtype=np.float64), side="right")
        return np.concatenate(([0.0], self.cumulative_incidence))[index]


def kaplan_meier(times, events, *, confidence: float = 0.95) -> SurvivalCurve:
    """Kaplan-Meier estimate with Greenwood standard errors and log(-log) intervals.

    Parameters
    ----------
    times : array of float, shape (n,)
        Follow-up time of each woman (non-negative).
    events : array of bool or {0, 1}, shape (n,)
        1 if the event was observed at ``times``, 0 if censored.
    confidence : float
        Two-sided confidence level of ``lower``/``upper``.

    Examples
    --------
    >>> curve = kaplan_meier([1, 2, 2, 3, 4], [1, 1, 0, 1, 0])
    >>> curve.survival.round(4).tolist()
    [0.8, 0.6, 0.3, 0.3]
    """
    t, causes = _prepare(times, events, "events")
    if np.any(causes > 1):
        raise StatsInputError("events: expected 0 (censored) or 1 (event)")
    unique, n_at_risk, counts = _risk_table(t, causes, 1)
    n_events, n_censored = counts[1], counts[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        factors = 1.0 - n_events / n_at_risk
        survival = np.cumprod(factors)
        terms = np.where(n_events > 0, n_events / (n_at_risk * (n_at_risk - n_events)), 0.0)
        greenwood = np.cumsum(terms)  # inf once S reaches 0
        std_error = survival * np.sqrt(greenwood)
        z = ndtri(0.5 + confidence / 2.0)
        spread = z * np.sqrt(greenwood) / np.log(survival)
        lower = survival ** np.exp(-spread)
        upper = survival ** np.exp(spread)
    has_variance = (survival > 0) & (survival < 1)
    lower = np.where(has_variance, lower, survival)
    upper = np.where(has_variance, upper, survival)
    std_error = np.where(survival > 0, std_error, 0.0)
    return SurvivalCurve(
        times=unique,
        n_at_risk=n_at_risk,
        n_events=n_events,
        n_censored=n_censored,
        survival=survival,
        std_error=std_error,
        lower=lower,
        upper=upper,
        confidence=float(confidence),
    )


def aalen_johansen(times, causes, *, cause: int = 1) -> CumulativeIncidence:
    """Cumulative incidence of ``cause`` with competing causes (Aalen-Johansen).

    Parameters
    ----------
    times : array of float, shape (n,)
        Follow-up time of each woman.
    causes : array of int, shape (n,)
        0 = censored, 1, 2, ... = the cause of the event that ended follow-up.
    cause : int
        The cause of interest (>= 1).

    Examples
    --------
    >>> cif = aalen_johansen([1, 2, 3, 4], [1, 2, 1, 0], cause=1)
    >>> cif.cumulative_incidence.tolist()
    [0.25, 0.25, 0.5, 0.5]
    """
    t, codes = _prepare(times, causes, "causes")
    if cause < 1:
        raise StatsInputError(f"cause: expected a cause code >= 1, got {cause!r}")
    unique, n_at_risk, counts = _risk_table(t, codes, int(codes.max(initial=0)))
    n_cause = counts[cause] if cause < len(counts) else np.zeros_like(n_at_risk)
    n_any = counts[1:].sum(axis=0)
    survival = np.cumprod(1.0 - n_any / n_at_risk)
    before = np.concatenate(([1.0], survival[:-1]))  # S(t_j-)
    incidence = np.cumsum(before * n_cause / n_at_risk)
    return CumulativeIncidence(
        times=unique,
        n_at_risk=n_at_risk,
        n_events=n_cause,
        n_other_events=n_any - n_cause,
        cumulative_incidence=incidence,
        cause=int(cause),
    )


def _prepare(times, codes, codes_name: str) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(times, dtype=np.float64)
    c = np.asarray(codes)
    if t.ndim != 1 or t.size == 0:
        raise StatsInputError(f"times: expected a non-empty 1-D array, got shape {t.shape}")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise StatsInputError("times: expected finite non-negative numbers")
    if c.shape != t.shape:
        raise StatsInputError(f"{codes_name}: expected shape {t.shape}, got {c.shape}")
    c = c.astype(np.float64)
    if np.any(c < 0) or np.any(c != np.round(c)):
        raise StatsInputError(f"{codes_name}: expected whole numbers >= 0 (0 = censored)")
    return t, c.astype(np.int64)


def _risk_table(t, codes, n_causes):
    """Distinct times, women at risk there, and counts per code: shape (n_causes + 1, n_times)."""
    unique, inverse = np.unique(t, return_inverse=True)
    counts = np.zeros((n_causes + 1, unique.size), dtype=np.int64)
    np.add.at(counts, (codes, inverse), 1)
    leaving = counts.sum(axis=0)
    n_at_risk = t.size - np.concatenate(([0], np.cumsum(leaving)[:-1]))
    return unique, n_at_risk, counts
