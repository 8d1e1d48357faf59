"""Non-inferiority of a new arm for a harmful binary endpoint (e.g. stage II+ cancer at 4 years).

Group "new" is the experimental arm (MyPeBS: risk-based screening), group "ref" the reference
arm (standard screening); events are harmful, so larger is worse. With proportions ``p_new`` and
``p_ref``:

- ratio scale, relative margin ``M > 1``: H0: ``p_new / p_ref >= M`` vs H1: ``p_new / p_ref < M``;
- difference scale, absolute margin ``m > 0``: H0: ``p_new - p_ref >= m`` vs H1: ``< m``.

Each is a one-sided level-``alpha`` test; equivalently, non-inferiority is shown when the upper
bound of the two-sided ``1 - 2*alpha`` confidence interval lies below the margin (and the same
interval shows superiority when its upper bound lies below 1, or 0). Methods:

- ``"wald"``: ratio on the log scale with the Katz standard error
  ``sqrt(1/x_new - 1/n_new + 1/x_ref - 1/n_ref)`` (0.5 added to every cell of a table with a
  zero event count); difference with the unpooled standard error;
- ``"score"``: Farrington-Manning (1990) score test, variance at the maximum likelihood
  estimates constrained to the null; the interval inverts the same test;
- ``"miettinen-nurminen"``: the score test with the variance multiplied by N / (N - 1)
  (Miettinen and Nurminen 1985).

The p-value is one-sided (``Phi(z)`` at the margin), so ``p_value < alpha`` exactly when the
interval's upper bound is below the margin. All functions accept scalars or equal-shape arrays
(e.g. one entry per simulated trial replicate) and return scalars or arrays accordingly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from pebs.stats import _score
from pebs.stats._checks import (
    StatsInputError,
    as_counts,
    check_alpha,
    check_choice,
    check_events,
    unwrap,
)

METHODS = ("score", "miettinen-nurminen", "wald")


@dataclass(frozen=True)
class NonInferiorityResult:
    """Outcome of a non-inferiority test (scalars, or arrays of one shape).

    Attributes
    ----------
    scale : {"ratio", "difference"}
    method : {"score", "miettinen-nurminen", "wald"}
    estimate : float or ndarray
        ``p_new / p_ref`` (ratio) or ``p_new - p_ref`` (difference, proportion).
    lower, upper : float or ndarray
        Two-sided ``1 - 2*alpha`` confidence interval (ratio may have 0 or inf bounds).
    statistic : float or ndarray
        z statistic at the margin (negative favours non-inferiority).
    p_value : float or ndarray
        One-sided p-value of H0 (inferiority by at least the margin).
    margin : float
        Relative margin (ratio) or absolute margin (difference, proportion).
    alpha : float
        One-sided significance level.
    noninferior : bool or ndarray
        ``upper < margin`` (equivalently ``p_value < alpha``).
    superior : bool or ndarray
        ``upper < 1`` (ratio) or ``upper < 0`` (difference).
    proportion_new, proportion_ref : float or ndarray
        Observed proportions.
    """

    scale: str
    method: str
    estimate: float | np.ndarray
    lower: float | np.ndarray
    upper: float | np.ndarray
    statistic: float | np.ndarray
    p_value: float | np.ndarray
    margin: float
    alpha: float
    noninferior: bool | np.ndarray
    superior: bool | np.ndarray
    proportion_new: float | np.ndarray
    proportion_ref: float | np.ndarray

    @property
    def confidence(self) -> float:
        """Two-sided confidence level of ``lower``/``upper`` (``1 - 2*alpha``)."""
        return 1.0 - 2.0 * self.alpha

    @property
    def conclusion(self) -> str | np.ndarray:
        """``"superior"``, ``"non-inferior"`` or ``"not shown"`` (per replicate for arrays)."""
        labels = np.where(
            self.superior, "superior", np.where(self.noninferior, "non-inferior", "not shown")
        )
        return unwrap(labels)


def noninferiority_ratio(
    events_new,
    n_new,
    events_ref,
    n_ref,
    *,
    margin: float,
    alpha: float = 0.025,
    method: str = "score",
) -> NonInferiorityResult:
    """Test H0: ``p_new / p_ref >= margin`` against H1: ``p_new / p_ref < margin``.

    Parameters
    ----------
    events_new, n_new, events_ref, n_ref : int or array of int
        Events and women per arm (broadcast together).
    margin : float
        Relative margin ``M > 1`` (MyPeBS: 1.25, i.e. at most 25 % more stage II+ cancers).
    alpha : float
        One-sided level (default 0.025, i.e. a two-sided 95 % interval).
    method : {"score", "miettinen-nurminen", "wald"}

    Examples
    --------
    >>> result = noninferiority_ratio(190, 42_500, 204, 42_500, margin=1.25)
    >>> round(result.estimate, 4), result.conclusion
    (0.9314, 'non-inferior')
    """
    counts = _counts(events_new, n_new, events_ref, n_ref)
    margin = float(margin)
    if not (margin > 1.0 and np.isfinite(margin)):
        raise StatsInputError(f"margin: a relative margin must be a number > 1, got {margin!r}")
    alpha = check_alpha(alpha)
    check_choice(method, "method", METHODS)
    x1, n1, x0, n0 = (counts[k].astype(np.float64) for k in ("x1", "n1", "x0", "n0"))
    z_crit = ndtri(1.0 - alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = (x1 / n1) / (x0 / n0)
    if method == "wald":
        zero = (x1 == 0) | (x0 == 0)
        a, b = x1 + 0.5 * zero, x0 + 0.5 * zero
        m1, m0 = n1 + 1.0 * zero, n0 + 1.0 * zero
        log_rr = np.log(a / m1) - np.log(b / m0)
        se = np.sqrt(1 / a - 1 / m1 + 1 / b - 1 / m0)
        lower, upper = np.exp(log_rr - z_crit * se), np.exp(log_rr + z_crit * se)
        statistic = (log_rr - np.log(margin)) / se
    else:
        correction = method == "miettinen-nurminen"

        def z_at_log(log_ratio):
            return _score.score_z_ratio(x1, n1, x0, n0, np.exp(log_ratio), correction=correction)

        span = (np.full_like(x1, np.log(1e-12)), np.full_like(x1, np.log(1e12)))
        lower = np.exp(_score.decreasing_root(z_at_log, np.full_like(x1, z_crit), *span))
        upper = np.exp(_score.decreasing_root(z_at_log, np.full_like(x1, -z_crit), *span))
        lower = np.where(x1 == 0, 0.0, lower)
        upper = np.where(x0 == 0, np.inf, upper)
        statistic = _score.score_z_ratio(x1, n1, x0, n0, margin, correction=correction)
    return _result("ratio", method, estimate, lower, upper, statistic, margin, alpha, 1.0, counts)


def noninferiority_difference(
    events_new,
    n_new,
    events_ref,
    n_ref,
    *,
    margin: float,
    alpha: float = 0.025,
    method: str = "score",
) -> NonInferiorityResult:
    """Test H0: ``p_new - p_ref >= margin`` against H1: ``p_new - p_ref < margin``.

    Parameters
    ----------
    events_new, n_new, events_ref, n_ref : int or array of int
        Events and women per arm (broadcast together).
    margin : float
        Absolute margin in (0, 1) as a proportion (MyPeBS: 120 per 100,000 = 0.0012).
    alpha : float
        One-sided level (default 0.025).
    method : {"score", "miettinen-nurminen", "wald"}

    Examples
    --------
    >>> result = noninferiority_difference(190, 42_500, 204, 42_500, margin=0.0012)
    >>> round(result.estimate * 100_000, 1), bool(result.noninferior)
    (-32.9, True)
    """
    counts = _counts(events_new, n_new, events_ref, n_ref)
    margin = float(margin)
    if not 0.0 < margin < 1.0:
        raise StatsInputError(f"margin: an absolute margin must be in (0, 1), got {margin!r}")
    alpha = check_alpha(alpha)
    check_choice(method, "method", METHODS)
    x1, n1, x0, n0 = (counts[k].astype(np.float64) for k in ("x1", "n1", "x0", "n0"))
    z_crit = ndtri(1.0 - alpha)
    p1, p0 = x1 / n1, x0 / n0
    estimate = p1 - p0
    if method == "wald":
        se = np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
        lower, upper = estimate - z_crit * se, estimate + z_crit * se
        with np.errstate(divide="ignore", invalid="ignore"):
            statistic = _score._safe_ratio(estimate - margin, se**2)
    else:
        correction = method == "miettinen-nurminen"

        def z_at(difference):
            return _score.score_z_difference(x1, n1, x0, n0, difference, correction=correction)

        edge = 1.0 - 1e-12
        span = (np.full_like(x1, -edge), np.full_like(x1, edge))
        lower = _score.decreasing_root(z_at, np.full_like(x1, z_crit), *span)
        upper = _score.decreasing_root(z_at, np.full_like(x1, -z_crit), *span)
        statistic = _score.score_z_difference(x1, n1, x0, n0, margin, correction=correction)
    return _result(
        "difference", method, estimate, lower, upper, statistic, margin, alpha, 0.0, counts
    )


def _counts(events_new, n_new, events_ref, n_ref) -> dict[str, np.ndarray]:
    counts = as_counts(events_new=events_new, n_new=n_new, events_ref=events_ref, n_ref=n_ref)
    check_events(counts["events_new"], counts["n_new"], "events_new", "n_new")
    check_events(counts["events_ref"], counts["n_ref"], "events_ref", "n_ref")
    return {
        "x1": counts["events_new"],
        "n1": counts["n_new"],
        "x0": counts["events_ref"],
        "n0": counts["n_ref"],
    }


def _result(scale, method, estimate, lower, upper, statistic, margin, alpha, null, counts):
    p_value = ndtr(statistic)
    return NonInferiorityResult(
        scale=scale,
        method=method,
        estimate=unwrap(np.asarray(estimate, dtype=np.float64)),
        lower=unwrap(np.asarray(lower, dtype=np.float64)),
        upper=unwrap(np.asarray(upper, dtype=np.float64)),
        statistic=unwrap(np.asarray(statistic, dtype=np.float64)),
        p_value=unwrap(np.asarray(p_value, dtype=np.float64)),
        margin=margin,
        alpha=alpha,
        noninferior=unwrap(np.asarray(p_value < alpha)),
        superior=unwrap(np.asarray(np.asarray(upper) < null)),
        proportion_new=unwrap(counts["x1"] / counts["n1"]),
        proportion_ref=unwrap(counts["x0"] / counts["n0"]),
    )
