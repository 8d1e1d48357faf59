"""Calibration and discrimination of an absolute-risk model against observed binary outcomes.

Inputs are ``risks`` (predicted probability of the event over a horizon, as proportions) and
``events`` (1 if the woman had the event within that horizon, 0 if not), for women followed for
the whole horizon. (With censoring, compare against a Kaplan-Meier or Aalen-Johansen estimate
of the observed count instead; see :mod:`pebs.stats.survival`.)

- E/O ratio: ``E = sum(risks)``, ``O = sum(events)``; ``O`` is treated as Poisson, with the exact
  (Garwood 1936) interval ``[chi2(a/2; 2O)/2, chi2(1 - a/2; 2O + 2)/2]`` or the log-normal
  ``O exp(+-z / sqrt(O))``; the E/O interval is ``E`` divided by those bounds.
- Hosmer-Lemeshow: women split into ``groups`` of (nearly) equal size by rank of predicted risk;
  ``H = sum_g (O_g - E_g)^2 / (E_g (1 - E_g / n_g))``, chi-square with ``groups - 2`` degrees of
  freedom (``groups`` for a model validated on data it was not fitted to).
- C-statistic (area under the ROC curve): ``P(risk of a case > risk of a non-case)``, ties
  counting one half, with DeLong, DeLong and Clarke-Pearson (1988) standard error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri
from scipy.stats import chi2, rankdata

from pebs.stats._checks import StatsInputError, check_choice


@dataclass(frozen=True)
class ExpectedObserved:
    """Expected and observed event counts, their ratio E/O and its confidence interval."""

    expected: float
    observed: int
    ratio: float
    lower: float
    upper: float
    confidence: float
    method: str


@dataclass(frozen=True)
class HosmerLemeshow:
    """Hosmer-Lemeshow statistic with the per-group table (arrays of length ``groups``)."""

    statistic: float
    df: int
    p_value: float
    n_women: np.ndarray
    expected: np.ndarray
    observed: np.ndarray
    mean_risk: np.ndarray


@dataclass(frozen=True)
class CStatistic:
    """Area under the ROC curve with DeLong's standard error and a normal interval."""

    estimate: float
    std_error: float
    lower: float
    upper: float
    confidence: float
    n_events: int
    n_non_events: int


def expected_observed(
    risks, events, *, confidence: float = 0.95, method: str = "exact"
) -> ExpectedObserved:
    """E/O ratio of predicted to observed events, with a Poisson interval for ``O``.

    Examples
    --------
    >>> result = expected_observed([0.1] * 100, [1] * 8 + [0] * 92)
    >>> round(result.ratio, 3), round(result.lower, 3), round(result.upper, 3)
    (1.25, 0.634, 2.895)
    """
    p, y = _risks_and_events(risks, events)
    check_choice(method, "method", ("exact", "log-normal"))
    tail = (1.0 - _confidence(confidence)) / 2.0
    expected, observed = float(p.sum()), int(y.sum())
    if method == "exact":
        low = chi2.ppf(tail, 2 * observed) / 2.0 if observed > 0 else 0.0
        high = chi2.ppf(1.0 - tail, 2 * observed + 2) / 2.0
    else:
        if observed == 0:
            raise StatsInputError("events: the log-normal interval needs at least one event")
        spread = np.exp(ndtri(1.0 - tail) / np.sqrt(observed))
        low, high = observed / spread, observed * spread
    with np.errstate(divide="ignore"):
        ratio = expected / observed if observed else np.inf
        lower = expected / high
        upper = expected / low if low > 0 else np.inf
    return ExpectedObserved(
        expected, observed, float(ratio), float(lower), float(upper), confidence, method
    )


def hosmer_lemeshow(risks, events, *, groups: int = 10, external: bool = False) -> HosmerLemeshow:
    """Hosmer-Lemeshow goodness of fit by groups of predicted risk (deciles by default).

    Women are ordered by predicted risk (ties keep input order) and cut into ``groups`` groups
    whose sizes differ by at most one. ``external=True`` uses ``groups`` degrees of freedom.
    """
    p, y = _risks_and_events(risks, events)
    if not 3 <= groups <= p.size:
        raise StatsInputError(f"groups: expected 3 <= groups <= {p.size} women, got {groups!r}")
    order = np.argsort(p, kind="stable")
    labels = np.empty(p.size, dtype=np.int64)
    labels[order] = np.arange(p.size) * groups // p.size
    n_women = np.bincount(labels, minlength=groups)
    expected = np.bincount(labels, weights=p, minlength=groups)
    observed = np.bincount(labels, weights=y, minlength=groups)
    variance = expected * (1.0 - expected / n_women)
    if np.any(variance <= 0):
        raise StatsInputError("risks: a group has all predicted risks 0 or 1; use fewer groups")
    statistic = float(np.sum((observed - expected) ** 2 / variance))
    df = groups if external else groups - 2
    return HosmerLemeshow(
        statistic=statistic,
        df=df,
        p_value=float(chi2.sf(statistic, df)),
        n_women=n_women,
        expected=expected,
        observed=observed.astype(np.int64),
        mean_risk=expected / n_women,
    )


def c_statistic(risks, events, *, confidence: float = 0.95) -> CStatistic:
    """Area under the ROC curve (concordance of risks with events), DeLong standard error.

    Examples
    --------
    >>> round(c_statistic([0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1]).estimate, 3)
    0.75
    """
    p, y = _risks_and_events(risks, events, bounded=False)
    cases, controls = p[y == 1], p[y == 0]
    n1, n0 = cases.size, controls.size
    if n1 == 0 or n0 == 0:
        raise StatsInputError("events: the C-statistic needs at least one event and one non-event")
    ranks_all = rankdata(np.concatenate((cases, controls)))  # average ranks for ties
    ranks_cases, ranks_controls = rankdata(cases), rankdata(controls)
    # DeLong structural components: share of the other group each woman out-ranks.
    v10 = (ranks_all[:n1] - ranks_cases) / n0  # (n1,)
    v01 = 1.0 - (ranks_all[n1:] - ranks_controls) / n1  # (n0,)
    estimate = float(v10.mean())
    variance = (v10.var(ddof=1) if n1 > 1 else 0.0) / n1 + (v01.var(ddof=1) if n0 > 1 else 0.0) / n0
    std_error = float(np.sqrt(variance))
    z = ndtri(0.5 + _confidence(confidence) / 2.0)
    return CStatistic(
        estimate=estimate,
        std_error=std_error,
        lower=float(max(0.0, estimate - z * std_error)),
        upper=float(min(1.0, estimate + z * std_error)),
        confidence=confidence,
        n_events=n1,
        n_non_events=n0,
    )


def _risks_and_events(risks, events, *, bounded: bool = True) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(risks, dtype=np.float64)
    y = np.asarray(events)
    if p.ndim != 1 or p.size == 0:
        raise StatsInputError(f"risks: expected a non-empty 1-D array, got shape {p.shape}")
    if y.shape != p.shape:
        raise StatsInputError(f"events: expected shape {p.shape}, got {y.shape}")
    if not np.all(np.isfinite(p)) or (bounded and (np.any(p < 0) or np.any(p > 1))):
        raise StatsInputError("risks: expected finite proportions in [0, 1] (not percent)")
    y = y.astype(np.float64)
    if not np.all((y == 0) | (y == 1)):
        raise StatsInputError("events: expected 0 or 1 for every woman")
    return p, y.astype(np.int64)


def _confidence(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise StatsInputError(f"confidence: expected a proportion in (0, 1), got {confidence!r}")
    return float(confidence)
