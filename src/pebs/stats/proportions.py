"""Confidence intervals for one binomial proportion: Wilson score and Clopper-Pearson exact.

- Wilson (1927): the interval inverting the score test,
  ``(p + z^2/(2n) +- z sqrt(p(1-p)/n + z^2/(4n^2))) / (1 + z^2/n)``;
- Clopper and Pearson (1934): ``[B(a/2; x, n-x+1), B(1-a/2; x+1, n-x)]`` with ``B`` the beta
  quantile (lower bound 0 when ``x = 0``, upper 1 when ``x = n``); coverage at least nominal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri
from scipy.stats import beta

from pebs.stats._checks import StatsInputError, as_counts, check_choice, check_events, unwrap

METHODS = ("wilson", "clopper-pearson")


@dataclass(frozen=True)
class ProportionInterval:
    """A proportion with its two-sided confidence interval (proportions, not percent)."""

    estimate: float | np.ndarray
    lower: float | np.ndarray
    upper: float | np.ndarray
    confidence: float
    method: str


def proportion_interval(
    events, n, *, confidence: float = 0.95, method: str = "wilson"
) -> ProportionInterval:
    """Two-sided confidence interval for ``events / n`` (scalars or arrays).

    Examples
    --------
    >>> ci = proportion_interval(204, 42_500)
    >>> round(ci.estimate * 100_000), round(ci.lower * 100_000), round(ci.upper * 100_000)
    (480, 419, 550)
    """
    counts = as_counts(events=events, n=n)
    x, total = counts["events"], counts["n"]
    check_events(x, total, "events", "n")
    check_choice(method, "method", METHODS)
    if not 0.0 < confidence < 1.0:
        raise StatsInputError(f"confidence: expected a proportion in (0, 1), got {confidence!r}")
    tail = (1.0 - confidence) / 2.0
    p = x / total
    if method == "wilson":
        z = ndtri(1.0 - tail)
        centre = (p + z**2 / (2 * total)) / (1 + z**2 / total)
        half = z * np.sqrt(p * (1 - p) / total + z**2 / (4 * total**2)) / (1 + z**2 / total)
        # Exactly 0 (1) at x = 0 (x = n), where the formula only rounds to it.
        lower = np.where(x == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
        upper = np.where(x == total, 1.0, np.clip(centre + half, 0.0, 1.0))
    else:
        lower = np.where(x == 0, 0.0, beta.ppf(tail, np.maximum(x, 1), total - x + 1))
        upper = np.where(x == total, 1.0, beta.ppf(1 - tail, x + 1, np.maximum(total - x, 1)))
    return ProportionInterval(
        estimate=unwrap(np.asarray(p, dtype=np.float64)),
        lower=unwrap(np.asarray(lower, dtype=np.float64)),
        upper=unwrap(np.asarray(upper, dtype=np.float64)),
        confidence=float(confidence),
        method=method,
    )
