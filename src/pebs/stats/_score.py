"""Score statistics for two binomial proportions under a non-unity ratio or non-zero difference.

Group 1 is the new (experimental) arm, group 0 the reference arm; ``x`` events out of ``n``.
Counts may be fractional (the sample-size formulas pass expected counts). All functions are
vectorised over equal-shape (broadcastable) arrays.

References: Farrington CP, Manning G. Stat Med 1990;9:1447-54 (constrained maximum likelihood
estimates and score statistics); Miettinen O, Nurminen M. Stat Med 1985;4:213-26 (the variance
factor N / (N - 1)).
"""

from __future__ import annotations

import numpy as np


def constrained_ratio(x1, n1, x0, n0, ratio):
    """Maximum likelihood ``(p1, p0)`` under ``p1 = ratio * p0``.

    Setting the derivative of the binomial log-likelihood in ``p0`` to zero gives
    ``N*ratio*p0**2 - (ratio*(n1 + x0) + x1 + n0)*p0 + (x1 + x0) = 0``; the smaller root is
    the estimate (Farrington and Manning 1990, section 2.2).
    """
    x1, n1, x0, n0, ratio = np.broadcast_arrays(*map(np.asarray, (x1, n1, x0, n0, ratio)))
    a = (n1 + n0) * ratio
    b = -(ratio * (n1 + x0) + x1 + n0)
    c = x1 + x0
    discriminant = np.maximum(b * b - 4.0 * a * c, 0.0)
    # (-b - sqrt(disc)) / (2a) written as 2c / (-b + sqrt(disc)) to avoid cancellation.
    p0 = np.divide(2.0 * c, -b + np.sqrt(discriminant))
    p0 = np.clip(p0, 0.0, 1.0)
    return ratio * p0, p0


def constrained_difference(x1, n1, x0, n0, difference):
    """Maximum likelihood ``(p1, p0)`` under ``p1 - p0 = difference`` (|difference| < 1).

    Closed-form root of the likelihood cubic (Farrington and Manning 1990, section 2.1;
    Miettinen and Nurminen 1985, appendix), with ``theta = n0 / n1``.
    """
    x1, n1, x0, n0, d = np.broadcast_arrays(*map(np.asarray, (x1, n1, x0, n0, difference)))
    p1_hat, p0_hat = x1 / n1, x0 / n0
    theta = n0 / n1
    a = 1.0 + theta
    b = -(1.0 + theta + p1_hat + theta * p0_hat + d * (theta + 2.0))
    c = d * d + d * (2.0 * p1_hat + theta + 1.0) + p1_hat + theta * p0_hat
    e = -p1_hat * d * (1.0 + d)
    v = b**3 / (3.0 * a) ** 3 - b * c / (6.0 * a * a) + e / (2.0 * a)
    u_squared = np.maximum(b * b / (3.0 * a) ** 2 - c / (3.0 * a), 0.0)
    u = np.where(v < 0, -1.0, 1.0) * np.sqrt(u_squared)
    with np.errstate(divide="ignore", invalid="ignore"):
        cosine = np.where(u == 0.0, 0.0, v / u**3)
    w = (np.pi + np.arccos(np.clip(cosine, -1.0, 1.0))) / 3.0
    p1 = 2.0 * u * np.cos(w) - b / (3.0 * a)
    low, high = np.maximum(d, 0.0), np.minimum(1.0 + d, 1.0)  # keep both proportions in [0, 1]
    p1 = np.clip(p1, low, high)
    return p1, p1 - d


def _variance_factor(n1, n0, correction: bool):
    total = np.asarray(n1 + n0, dtype=np.float64)
    return total / (total - 1.0) if correction else np.ones_like(total)


def score_z_ratio(x1, n1, x0, n0, ratio, *, correction: bool = False):
    """Score statistic ``(p1_hat - ratio*p0_hat) / sqrt(V)``, V at the constrained estimates.

    ``correction`` multiplies V by N / (N - 1) (Miettinen-Nurminen). Where the numerator and V
    are both zero (no events at all) the statistic is 0.
    """
    p1, p0 = constrained_ratio(x1, n1, x0, n0, ratio)
    variance = (p1 * (1 - p1) / n1 + ratio**2 * p0 * (1 - p0) / n0) * _variance_factor(
        n1, n0, correction
    )
    numerator = x1 / n1 - ratio * (x0 / n0)
    return _safe_ratio(numerator, variance)


def score_z_difference(x1, n1, x0, n0, difference, *, correction: bool = False):
    """Score statistic ``(p1_hat - p0_hat - difference) / sqrt(V)`` at the constrained estimates."""
    p1, p0 = constrained_difference(x1, n1, x0, n0, difference)
    variance = (p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0) * _variance_factor(n1, n0, correction)
    numerator = x1 / n1 - x0 / n0 - difference
    return _safe_ratio(numerator, variance)


def _safe_ratio(numerator, variance):
    numerator = np.asarray(numerator, dtype=np.float64)
    variance = np.asarray(variance, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = numerator / np.sqrt(variance)
        z = np.where(variance > 0, z, np.sign(numerator) * np.inf)
    return np.where((numerator == 0) & ~(variance > 0), 0.0, z)


def decreasing_root(function, target, low, high, *, iterations: int = 200):
    """Vectorised bisection: ``t`` in ``[low, high]`` with ``function(t) = target``.

    ``function`` must be non-increasing in ``t``. Where ``function(low) < target`` the result
    is ``low``; where ``function(high) > target`` it is ``high`` (no crossing inside).
    """
    target = np.asarray(target, dtype=np.float64)
    low = np.broadcast_to(np.asarray(low, dtype=np.float64), target.shape).copy()
    high = np.broadcast_to(np.asarray(high, dtype=np.float64), target.shape).copy()
    below_at_low = function(low) < target
    above_at_high = function(high) > target
    a, b = low.copy(), high.copy()
    for _ in range(iterations):
        middle = 0.5 * (a + b)
        above = function(middle) > target
        a = np.where(above, middle, a)
        b = np.where(above, b, middle)
        if np.all(b - a <= 1e-14 * np.maximum(1.0, np.abs(a))):
            break
    root = 0.5 * (a + b)
    root = np.where(below_at_low, low, root)
    return np.where(above_at_high, high, root)
