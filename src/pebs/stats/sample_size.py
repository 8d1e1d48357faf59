"""Sample size and power of the two-arm non-inferiority tests in :mod:`pebs.stats.noninferiority`.

Notation: ``p_ref`` is the event proportion in the reference arm, ``p_new`` the true proportion in
the new arm (``ratio * p_ref`` or ``p_ref + difference``), ``r = n_new / n_ref`` the allocation
ratio, ``z_a = Phi^-1(1 - alpha)`` and ``z_b = Phi^-1(power)``. With ``n = n_ref``:

- ratio, ``"wald"`` (log relative risk, Katz variance):
  ``n = (z_a + z_b)^2 * [(1 - p_new)/(r p_new) + (1 - p_ref)/p_ref] / (log M - log ratio)^2``;
- ratio, ``"score"`` (Farrington and Manning 1990, eq. 8 generalised to ``r``):
  ``n = (z_a sqrt(v0) + z_b sqrt(v1))^2 / (p_new - M p_ref)^2`` with
  ``v1 = p_new(1 - p_new)/r + M^2 p_ref(1 - p_ref)`` and ``v0`` the same at the limits of the
  estimates constrained to ``p_new = M p_ref``;
- difference, ``"wald"`` (Blackwelder 1982):
  ``n = (z_a + z_b)^2 * [p_new(1 - p_new)/r + p_ref(1 - p_ref)] / (m - difference)^2``;
- difference, ``"score"``: as for the ratio with numerator ``p_new - p_ref - m`` and
  ``v = p_new(1 - p_new)/r + p_ref(1 - p_ref)``.

Power is the same normal approximation solved for the probability. Arm sizes are rounded up
(``n_ref = ceil(n)``, ``n_new = ceil(r n)``), the achieved power is recomputed at those sizes, and
enrolment is inflated for drop-out: ``ceil(n / (1 - dropout))`` per arm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from pebs.stats import _score
from pebs.stats._checks import StatsInputError, check_alpha, check_choice, check_proportion

METHODS = ("score", "wald")


@dataclass(frozen=True)
class NonInferiorityDesign:
    """Sample size of a two-arm non-inferiority trial with a binary endpoint.

    Attributes
    ----------
    scale : {"ratio", "difference"}
    method : {"score", "wald"}
    n_new, n_ref, n_total : int
        Evaluable women needed per arm and in total.
    n_new_enrolled, n_ref_enrolled, n_total_enrolled : int
        Women to enrol per arm and in total, after inflating for drop-out.
    power : float
        Power achieved by the rounded evaluable sizes (proportion).
    target_power, alpha, margin, proportion_ref, proportion_new, allocation, dropout : float
        The design inputs (proportions, except ``allocation`` = n_new / n_ref).
    """

    scale: str
    method: str
    n_new: int
    n_ref: int
    n_total: int
    n_new_enrolled: int
    n_ref_enrolled: int
    n_total_enrolled: int
    power: float
    target_power: float
    alpha: float
    margin: float
    proportion_ref: float
    proportion_new: float
    allocation: float
    dropout: float


def power_ratio(
    proportion_ref: float,
    n_new: float,
    n_ref: float,
    *,
    margin: float,
    ratio: float = 1.0,
    alpha: float = 0.025,
    method: str = "score",
) -> float:
    """Power of the ratio-scale non-inferiority test (normal approximation).

    Parameters
    ----------
    proportion_ref : float
        Event proportion in the reference arm (proportion, not percent).
    n_new, n_ref : float
        Evaluable women per arm.
    margin : float
        Relative margin ``M > 1``.
    ratio : float
        True ``p_new / p_ref`` (default 1: the arms are equally good).
    alpha : float
        One-sided level.
    method : {"score", "wald"}

    Examples
    --------
    >>> round(power_ratio(0.0048, 42_500, 42_500, margin=1.25), 3)
    0.618
    """
    p0, p1, _, alpha = _ratio_inputs(proportion_ref, ratio, margin, alpha, method)
    _check_sizes(n_new, n_ref)
    return float(_power_ratio(p0, p1, n_new / n_ref, n_ref, margin, alpha, method))


def sample_size_ratio(
    proportion_ref: float,
    *,
    margin: float,
    ratio: float = 1.0,
    alpha: float = 0.025,
    power: float = 0.8,
    allocation: float = 1.0,
    dropout: float = 0.0,
    method: str = "score",
) -> NonInferiorityDesign:
    """Women needed to show ``p_new / p_ref < margin`` with the requested power.

    ``allocation`` is ``n_new / n_ref`` (1 = 1:1); ``dropout`` the proportion of enrolled women
    without an evaluable endpoint. Other parameters as in :func:`power_ratio`.

    Examples
    --------
    >>> design = sample_size_ratio(0.0048, margin=1.25, power=0.8, method="wald")
    >>> design.n_ref, design.n_total
    (65364, 130728)
    """
    p0, p1, _, alpha = _ratio_inputs(proportion_ref, ratio, margin, alpha, method)
    allocation, power, dropout = _design_inputs(allocation, power, dropout)
    z_a, z_b = ndtri(1.0 - alpha), ndtri(power)
    if method == "wald":
        v = (1 - p1) / (allocation * p1) + (1 - p0) / p0
        n = (z_a + z_b) ** 2 * v / (math.log(margin) - math.log(ratio)) ** 2
    else:
        v0, v1 = _score_variances_ratio(p0, p1, allocation, margin)
        n = (z_a * math.sqrt(v0) + z_b * math.sqrt(v1)) ** 2 / (p1 - margin * p0) ** 2
    return _design(
        "ratio", method, n, allocation, dropout, power, alpha, margin, p0, p1,
        lambda n_new, n_ref: _power_ratio(p0, p1, n_new / n_ref, n_ref, margin, alpha, method),
    )  # fmt: skip


def power_difference(
    proportion_ref: float,
    n_new: float,
    n_ref: float,
    *,
    margin: float,
    difference: float = 0.0,
    alpha: float = 0.025,
    method: str = "score",
) -> float:
    """Power of the difference-scale non-inferiority test (normal approximation).

    ``margin`` and ``difference`` (the true ``p_new - p_ref``) are proportions; other parameters
    as in :func:`power_ratio`.

    Examples
    --------
    >>> round(power_difference(0.0048, 42_500, 42_500, margin=0.0012), 3)
    0.711
    """
    p0, p1, alpha = _difference_inputs(proportion_ref, difference, margin, alpha, method)
    _check_sizes(n_new, n_ref)
    return float(_power_difference(p0, p1, n_new / n_ref, n_ref, margin, alpha, method))


def sample_size_difference(
    proportion_ref: float,
    *,
    margin: float,
    difference: float = 0.0,
    alpha: float = 0.025,
    power: float = 0.8,
    allocation: float = 1.0,
    dropout: float = 0.0,
    method: str = "score",
) -> NonInferiorityDesign:
    """Women needed to show ``p_new - p_ref < margin`` with the requested power.

    Examples
    --------
    >>> sample_size_difference(0.8, margin=0.1, power=0.9, method="wald").n_ref
    337
    """
    p0, p1, alpha = _difference_inputs(proportion_ref, difference, margin, alpha, method)
    allocation, power, dropout = _design_inputs(allocation, power, dropout)
    z_a, z_b = ndtri(1.0 - alpha), ndtri(power)
    v1 = p1 * (1 - p1) / allocation + p0 * (1 - p0)
    if method == "wald":
        n = (z_a + z_b) ** 2 * v1 / (margin - difference) ** 2
    else:
        v0 = _score_variance_difference(p0, p1, allocation, margin)
        n = (z_a * math.sqrt(v0) + z_b * math.sqrt(v1)) ** 2 / (margin - difference) ** 2
    return _design(
        "difference", method, n, allocation, dropout, power, alpha, margin, p0, p1,
        lambda n_new, n_ref: _power_difference(p0, p1, n_new / n_ref, n_ref, margin, alpha, method),
    )  # fmt: skip


def _power_ratio(p0, p1, r, n, margin, alpha, method):
    z_a = ndtri(1.0 - alpha)
    if method == "wald":
        v = (1 - p1) / (r * p1) + (1 - p0) / p0
        return ndtr((math.log(margin) - math.log(p1 / p0)) / math.sqrt(v / n) - z_a)
    v0, v1 = _score_variances_ratio(p0, p1, r, margin)
    return ndtr((abs(p1 - margin * p0) * math.sqrt(n) - z_a * math.sqrt(v0)) / math.sqrt(v1))


def _power_difference(p0, p1, r, n, margin, alpha, method):
    z_a = ndtri(1.0 - alpha)
    v1 = p1 * (1 - p1) / r + p0 * (1 - p0)
    v0 = v1 if method == "wald" else _score_variance_difference(p0, p1, r, margin)
    gap = margin - (p1 - p0)
    return ndtr((gap * math.sqrt(n) - z_a * math.sqrt(v0)) / math.sqrt(v1))


def _score_variances_ratio(p0, p1, r, margin):
    """Per-``n_ref`` variances of ``p1_hat - M p0_hat`` at the null limits and at the truth."""
    q1, q0 = (float(v) for v in _score.constrained_ratio(r * p1, r, p0, 1.0, margin))
    v0 = q1 * (1 - q1) / r + margin**2 * q0 * (1 - q0)
    v1 = p1 * (1 - p1) / r + margin**2 * p0 * (1 - p0)
    return v0, v1


def _score_variance_difference(p0, p1, r, margin):
    q1, q0 = (float(v) for v in _score.constrained_difference(r * p1, r, p0, 1.0, margin))
    return q1 * (1 - q1) / r + q0 * (1 - q0)


def _design(scale, method, n, allocation, dropout, power, alpha, margin, p0, p1, power_at):
    n_ref = math.ceil(n - 1e-9)
    n_new = math.ceil(allocation * n - 1e-9)
    achieved = float(power_at(n_new, n_ref))
    enrolled_new = math.ceil(n_new / (1.0 - dropout) - 1e-9)
    enrolled_ref = math.ceil(n_ref / (1.0 - dropout) - 1e-9)
    return NonInferiorityDesign(
        scale=scale,
        method=method,
        n_new=n_new,
        n_ref=n_ref,
        n_total=n_new + n_ref,
        n_new_enrolled=enrolled_new,
        n_ref_enrolled=enrolled_ref,
        n_total_enrolled=enrolled_new + enrolled_ref,
        power=achieved,
        target_power=power,
        alpha=alpha,
        margin=margin,
        proportion_ref=p0,
        proportion_new=p1,
        allocation=allocation,
        dropout=dropout,
    )


def _ratio_inputs(proportion_ref, ratio, margin, alpha, method):
    p0 = check_proportion(proportion_ref, "proportion_ref")
    check_choice(method, "method", METHODS)
    alpha = check_alpha(alpha)
    margin, ratio = float(margin), float(ratio)
    if not margin > 1.0:
        raise StatsInputError(f"margin: a relative margin must be > 1, got {margin!r}")
    if not 0.0 < ratio < margin:
        raise StatsInputError(
            f"ratio: the true ratio must be in (0, margin={margin}), got {ratio!r}"
        )
    p1 = check_proportion(ratio * p0, "ratio * proportion_ref")
    return p0, p1, ratio, alpha


def _difference_inputs(proportion_ref, difference, margin, alpha, method):
    p0 = check_proportion(proportion_ref, "proportion_ref")
    check_choice(method, "method", METHODS)
    alpha = check_alpha(alpha)
    margin, difference = float(margin), float(difference)
    if not 0.0 < margin < 1.0:
        raise StatsInputError(f"margin: an absolute margin must be in (0, 1), got {margin!r}")
    if not difference < margin:
        raise StatsInputError(
            f"difference: the true difference must be below margin={margin}, got {difference!r}"
        )
    p1 = check_proportion(p0 + difference, "proportion_ref + difference")
    if p0 + margin >= 1.0:
        raise StatsInputError(f"margin: proportion_ref + margin must be below 1, got {p0 + margin}")
    return p0, p1, alpha


def _design_inputs(allocation, power, dropout):
    allocation = float(allocation)
    if not (allocation > 0 and np.isfinite(allocation)):
        raise StatsInputError(f"allocation: n_new / n_ref must be > 0, got {allocation!r}")
    power = check_proportion(power, "power")
    if power <= 0.5:
        raise StatsInputError(f"power: expected a proportion in (0.5, 1), got {power!r}")
    dropout = check_proportion(dropout, "dropout", open_interval=False)
    return allocation, power, dropout


def _check_sizes(n_new, n_ref):
    if not (float(n_new) >= 1 and float(n_ref) >= 1):
        raise StatsInputError(f"n_new, n_ref: need at least 1 woman per arm, got {n_new}, {n_ref}")
