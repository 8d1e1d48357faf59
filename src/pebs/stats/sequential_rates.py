"""Group-sequential non-inferiority of a harmful binary endpoint: sample size, power and the
interim analysis of two proportions.

Notation as in :mod:`pebs.stats.sample_size`: ``p_new`` and ``p_ref`` are the event proportions,
``r = n_new / n_ref`` the allocation ratio, the margin is ``M`` (ratio scale, H0
``p_new / p_ref >= M``) or ``m`` (difference scale, H0 ``p_new - p_ref >= m``). With
``delta = p_new - M p_ref`` (or ``p_new - p_ref - m``, negative under the alternative),
``sigma1^2 = p_new(1 - p_new) + r M^2 p_ref(1 - p_ref)`` (``M = 1`` on the difference scale) and
``sigma0^2`` the same at the Farrington-Manning restricted estimates (:mod:`pebs.stats._score`):

- single-look total sample size (rpact's ``nFixed``):
  ``n_fixed = (1 + 1/r) (z_alpha sigma0 + z_beta sigma1)^2 / delta^2``;
- group-sequential maximum: ``n_max = n_fixed * inflation_factor``, looks at ``n_max * t_k``
  (continuous numbers, as rpact reports them: round each arm up to enrol whole women), expected
  sizes ``n_fixed`` times the design's ``expected_h0``, ``expected_h01``, ``expected_h1``;
- power at ``n_max`` (rpact's ``getPowerRates``): the design's rejection probabilities at the drift
  ``theta = -delta sqrt(r n_max / (1 + r)) / sigma1 + z_alpha (1 - sigma0 / sigma1)``; the second
  term carries the difference between the variances under H0 and H1 (exact for one look);
- interim analysis: the score statistics of :mod:`pebs.stats.noninferiority` on the cumulative
  counts (sign reversed, so large values favour non-inferiority) against the boundaries
  recomputed at the observed fractions ``t_j = N_j / n_max`` (1 at the final look), and the
  conditional power as rpact's ``getConditionalPower`` defines it for group-sequential designs
  (Wassmer and Brannath 2016): the stage-wise score statistics ``z_i`` (each look's new
  women only) combined as ``z* = sum w_i z_i / sqrt(t_k)`` with ``w_i = sqrt(t_i - t_{i-1})``,
  the later looks' ``n_j`` women adding ``N(theta1 sqrt(n_j r) / (1 + r) w_j, w_j^2)`` with
  ``theta1 = -delta sqrt(1 + r) / sigma1 + z_(1-CRP) (1 - sigma0 / sigma1) (1 + r) /
  sqrt(r sum n_j)`` (the correction is left out when the conditional rejection probability
  CRP is below 1e-12).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from pebs.stats import _score
from pebs.stats._checks import (
    StatsInputError,
    as_counts,
    check_choice,
    check_events,
    check_proportion,
)
from pebs.stats.group_sequential import (
    GroupSequentialDesign,
    InterimAnalysis,
    conditional_rejections,
    design_at_fractions,
    expected_fraction,
    rejection_probabilities,
)

SCALES = ("ratio", "difference")


@dataclass(frozen=True)
class SequentialSampleSize:
    """Sample size of a group-sequential non-inferiority trial with a binary endpoint.

    Sizes are numbers of women (continuous, not rounded); arrays have one entry per look.

    Attributes
    ----------
    n_fixed : float
        Total size of the single-look design with the same alpha and power.
    n_max : float
        Maximum total size, ``n_fixed * inflation_factor``.
    n_cumulative, n_new_cumulative, n_ref_cumulative : ndarray
        Total and per-arm size at each look.
    expected_h0, expected_h01, expected_h1 : float
        Expected total size under H0, halfway and under H1 (the design's drift).
    inflation_factor : float
    rejection_probabilities, cumulative_power : ndarray
        Probability of stopping with rejection at each look, and by each look, under H1.
    """

    scale: str
    margin: float
    proportion_new: float
    proportion_ref: float
    allocation: float
    n_fixed: float
    n_max: float
    n_cumulative: np.ndarray
    n_new_cumulative: np.ndarray
    n_ref_cumulative: np.ndarray
    expected_h0: float
    expected_h01: float
    expected_h1: float
    inflation_factor: float
    rejection_probabilities: np.ndarray
    cumulative_power: np.ndarray


@dataclass(frozen=True)
class SequentialPower:
    """Power of a group-sequential design with ``n_max`` women in total.

    Attributes
    ----------
    drift : float
        Expected z statistic at full information (see the module docstring).
    rejection_probabilities, cumulative_power : ndarray
        Probability of rejecting at each look, and by each look.
    power : float
        Overall probability of rejecting H0.
    expected_n : float
        Expected total number of women.
    """

    n_max: float
    drift: float
    rejection_probabilities: np.ndarray
    cumulative_power: np.ndarray
    power: float
    expected_n: float


@dataclass(frozen=True)
class RatesInterimAnalysis(InterimAnalysis):
    """:class:`~pebs.stats.group_sequential.InterimAnalysis` of two proportions.

    Adds the cumulative observed proportions at the look, the score statistics of each look's
    new women alone (sign reversed like ``z_statistics``), their combination ``z*`` used by the
    conditional power, and the women planned for each later look.
    """

    proportion_new: float
    proportion_ref: float
    stage_z_statistics: np.ndarray
    combined_z: float
    n_planned: np.ndarray


def sequential_sample_size(
    design: GroupSequentialDesign,
    proportion_new: float,
    proportion_ref: float,
    *,
    scale: str,
    margin: float,
    allocation: float = 1.0,
) -> SequentialSampleSize:
    """Women needed by a group-sequential non-inferiority design (rpact ``getSampleSizeRates``).

    Parameters
    ----------
    design : GroupSequentialDesign
        Boundaries, alpha and target power.
    proportion_new, proportion_ref : float
        Event proportions assumed under H1 (proportions, not percent).
    scale : {"ratio", "difference"}
    margin : float
        Relative margin ``M > 1`` or absolute margin ``0 < m < 1``.
    allocation : float
        ``n_new / n_ref``.

    Examples
    --------
    >>> from pebs.stats.group_sequential import group_sequential_design
    >>> design = group_sequential_design("asOF", looks=3, power=0.8)
    >>> plan = sequential_sample_size(design, 0.0048, 0.0048, scale="ratio", margin=1.25)
    >>> round(plan.n_fixed), round(plan.n_max), round(plan.expected_h1)
    (131160, 132838, 113528)
    """
    p_new, p_ref, margin, allocation = _rate_inputs(
        proportion_new, proportion_ref, scale, margin, allocation
    )
    delta, sigma0, sigma1 = _effect(scale, p_new, p_ref, margin, allocation)
    z_alpha, z_beta = -ndtri(design.alpha), ndtri(design.power)
    n_fixed = float((1 + 1 / allocation) * (z_alpha * sigma0 + z_beta * sigma1) ** 2 / delta**2)
    n_max = n_fixed * design.inflation_factor
    n_cumulative = n_max * design.information_rates
    return SequentialSampleSize(
        scale=scale,
        margin=margin,
        proportion_new=p_new,
        proportion_ref=p_ref,
        allocation=allocation,
        n_fixed=n_fixed,
        n_max=n_max,
        n_cumulative=n_cumulative,
        n_new_cumulative=n_cumulative * allocation / (1 + allocation),
        n_ref_cumulative=n_cumulative / (1 + allocation),
        expected_h0=n_fixed * design.expected_h0,
        expected_h01=n_fixed * design.expected_h01,
        expected_h1=n_fixed * design.expected_h1,
        inflation_factor=design.inflation_factor,
        rejection_probabilities=design.rejection_probabilities,
        cumulative_power=design.cumulative_power,
    )


def sequential_power(
    design: GroupSequentialDesign,
    proportion_new: float,
    proportion_ref: float,
    n_max: float,
    *,
    scale: str,
    margin: float,
    allocation: float = 1.0,
) -> SequentialPower:
    """Power and expected size with ``n_max`` women in total (rpact ``getPowerRates``).

    Examples
    --------
    >>> from pebs.stats.group_sequential import group_sequential_design
    >>> design = group_sequential_design("asOF", looks=3)
    >>> result = sequential_power(design, 0.0048, 0.0048, 85_000, scale="ratio", margin=1.25)
    >>> round(result.power, 4), round(result.expected_n)
    (0.6119, 77603)
    """
    p_new, p_ref, margin, allocation = _rate_inputs(
        proportion_new, proportion_ref, scale, margin, allocation
    )
    n_max = float(n_max)
    if not (math.isfinite(n_max) and n_max >= 2):
        raise StatsInputError(f"n_max: expected at least 2 women in total, got {n_max!r}")
    delta, sigma0, sigma1 = _effect(scale, p_new, p_ref, margin, allocation)
    drift = -delta * math.sqrt(allocation * n_max / (1 + allocation)) / sigma1
    drift += -ndtri(design.alpha) * (1 - sigma0 / sigma1)
    rejections = rejection_probabilities(design, drift)
    return SequentialPower(
        n_max=n_max,
        drift=drift,
        rejection_probabilities=rejections,
        cumulative_power=np.cumsum(rejections),
        power=float(rejections.sum()),
        expected_n=n_max * expected_fraction(design, drift),
    )


def interim_analysis_rates(
    design: GroupSequentialDesign,
    events_new,
    n_new,
    events_ref,
    n_ref,
    *,
    scale: str,
    margin: float,
    n_max: float,
    proportion_new_h1: float,
    proportion_ref_h1: float,
    allocation: float = 1.0,
    n_planned=None,
) -> RatesInterimAnalysis:
    """Test decision and conditional power after the looks so far (rpact ``getAnalysisResults``).

    Parameters
    ----------
    design : GroupSequentialDesign
        The planned design.
    events_new, n_new, events_ref, n_ref : sequence of int
        Events and evaluable women of each look, counting only the women added since the
        previous look (one entry per look so far).
    scale, margin : as in :func:`sequential_sample_size`.
    n_max : float
        Planned maximum total number of women; look ``j`` is at fraction
        ``(n_new + n_ref up to j) / n_max`` (1 at the final look).
    proportion_new_h1, proportion_ref_h1 : float
        Proportions of the planned alternative, for the conditional power under H1.
    allocation : float
        Planned ``n_new / n_ref`` for the remaining women.
    n_planned : sequence of float, optional
        Women (both arms) to add at each later look; default ``n_max`` times the planned
        increments of the information fraction.

    Examples
    --------
    >>> from pebs.stats.group_sequential import group_sequential_design
    >>> design = group_sequential_design("asOF", looks=3)
    >>> result = interim_analysis_rates(design, [150], [30_000], [140], [30_000],
    ...     scale="difference", margin=0.0012, n_max=130_000,
    ...     proportion_new_h1=0.0048, proportion_ref_h1=0.0048)
    >>> result.rejected, round(float(result.conditional_power_trend[-1]), 4)
    (False, 0.6368)
    """
    p_new_h1, p_ref_h1, margin, allocation = _rate_inputs(
        proportion_new_h1, proportion_ref_h1, scale, margin, allocation, suffix="_h1"
    )
    counts = _stage_counts(events_new, n_new, events_ref, n_ref, design.k_max)
    look = counts["n_new"].size
    cumulative = {name: np.cumsum(values) for name, values in counts.items()}
    z_overall = -_score_z(scale, cumulative, margin)
    z_stage = -_score_z(scale, counts, margin)
    current = design_at_fractions(design, _observed_fractions(cumulative, n_max, design.k_max))
    p_new = float(cumulative["events_new"][-1] / cumulative["n_new"][-1])
    p_ref = float(cumulative["events_ref"][-1] / cumulative["n_ref"][-1])
    rates = current.information_rates
    weights = np.sqrt(np.diff(np.concatenate(([0.0], rates))))
    combined = float(weights[:look] @ z_stage / math.sqrt(rates[look - 1]))
    if look == design.k_max:
        crp, trend, h1, planned = math.nan, np.empty(0), np.empty(0), np.empty(0)
    else:
        planned = _n_planned(n_planned, n_max, rates, look)
        at_null = np.zeros(rates.size - look)
        crp = float(conditional_rejections(current, look, z_overall[-1], at_null).sum())
        trend, h1 = (
            _conditional_power(current, look, combined, crp, planned, weights[look:],
                               _effect(scale, p1, p0, margin, allocation), allocation)
            for p1, p0 in ((p_new, p_ref), (p_new_h1, p_ref_h1))
        )  # fmt: skip
    return RatesInterimAnalysis(
        look=look,
        design=current,
        z_statistics=z_overall,
        crossed=z_overall > current.critical_values[:look],
        conditional_rejection_probability=crp,
        conditional_power_trend=trend,
        conditional_power_h1=h1,
        proportion_new=p_new,
        proportion_ref=p_ref,
        stage_z_statistics=z_stage,
        combined_z=combined,
        n_planned=planned,
    )


def _conditional_power(design, look, combined, crp, planned, weights, effect, allocation):
    delta, sigma0, sigma1 = effect
    if sigma1 == 0.0:  # no events (or only events) so far: the trend has no variance
        return np.full(weights.size, math.nan)
    theta = -delta * math.sqrt(1 + allocation) / sigma1
    if crp >= 1e-12:
        theta += (
            -ndtri(crp)
            * (1 - sigma0 / sigma1)
            * (1 + allocation)
            / math.sqrt(allocation * planned.sum())
        )
    means = theta * np.sqrt(allocation * planned) / (1 + allocation) * weights
    return np.cumsum(conditional_rejections(design, look, combined, means))


def _effect(scale, p_new, p_ref, margin, allocation):
    """``delta``, ``sigma0``, ``sigma1`` of the module docstring."""
    if scale == "ratio":
        q_new, q_ref = _score.constrained_ratio(allocation * p_new, allocation, p_ref, 1.0, margin)
        factor, delta = margin**2, p_new - margin * p_ref
    else:
        q_new, q_ref = _score.constrained_difference(
            allocation * p_new, allocation, p_ref, 1.0, margin
        )
        factor, delta = 1.0, p_new - p_ref - margin
    q_new, q_ref = float(q_new), float(q_ref)
    sigma0 = math.sqrt(q_new * (1 - q_new) + allocation * factor * q_ref * (1 - q_ref))
    sigma1 = math.sqrt(p_new * (1 - p_new) + allocation * factor * p_ref * (1 - p_ref))
    return delta, sigma0, sigma1


def _score_z(scale, counts, margin) -> np.ndarray:
    arguments = (counts["events_new"], counts["n_new"], counts["events_ref"], counts["n_ref"])
    if scale == "ratio":
        z = _score.score_z_ratio(*arguments, margin)
    else:
        z = _score.score_z_difference(*arguments, margin)
    return np.asarray(z, dtype=np.float64)


def _stage_counts(events_new, n_new, events_ref, n_ref, k_max):
    counts = as_counts(events_new=events_new, n_new=n_new, events_ref=events_ref, n_ref=n_ref)
    shape = counts["n_new"].shape
    if len(shape) != 1 or not 1 <= shape[0] <= k_max:
        raise StatsInputError(
            f"events_new, n_new, events_ref, n_ref: expected one count per look, 1 to {k_max} "
            f"looks, got shape {shape}"
        )
    check_events(counts["events_new"], counts["n_new"], "events_new", "n_new")
    check_events(counts["events_ref"], counts["n_ref"], "events_ref", "n_ref")
    return counts


def _observed_fractions(cumulative, n_max, k_max) -> np.ndarray:
    n_max = float(n_max)
    if not (math.isfinite(n_max) and n_max > 0):
        raise StatsInputError(f"n_max: expected a positive number of women, got {n_max!r}")
    fractions = (cumulative["n_new"] + cumulative["n_ref"]) / n_max
    if fractions.size == k_max:
        fractions[-1] = 1.0  # the final analysis spends whatever alpha is left
    return fractions


def _n_planned(n_planned, n_max, rates, look) -> np.ndarray:
    if n_planned is None:
        return float(n_max) * np.diff(rates[look - 1 :])
    planned = np.atleast_1d(np.asarray(n_planned, dtype=np.float64))
    if planned.shape != (rates.size - look,) or not np.all(planned > 0):
        raise StatsInputError(
            f"n_planned: expected {rates.size - look} positive sizes, one per later look, "
            f"got {n_planned!r:.80}"
        )
    return planned


def _rate_inputs(proportion_new, proportion_ref, scale, margin, allocation, suffix=""):
    check_choice(scale, "scale", SCALES)
    p_new = check_proportion(proportion_new, "proportion_new" + suffix)
    p_ref = check_proportion(proportion_ref, "proportion_ref" + suffix)
    margin, allocation = float(margin), float(allocation)
    if not (allocation > 0 and math.isfinite(allocation)):
        raise StatsInputError(f"allocation: n_new / n_ref must be > 0, got {allocation!r}")
    if scale == "ratio":
        if not margin > 1.0:
            raise StatsInputError(f"margin: a relative margin must be > 1, got {margin!r}")
        if not p_new < margin * p_ref:
            raise StatsInputError(
                f"proportion_new{suffix}: must be below margin * proportion_ref{suffix} = "
                f"{margin * p_ref!r} (the alternative), got {p_new!r}"
            )
        return p_new, p_ref, margin, allocation
    if not 0.0 < margin < 1.0 or p_ref + margin >= 1.0:
        raise StatsInputError(
            f"margin: an absolute margin must be in (0, 1 - proportion_ref{suffix}), got {margin!r}"
        )
    if not p_new - p_ref < margin:
        raise StatsInputError(
            f"proportion_new{suffix}: must be below proportion_ref{suffix} + margin = "
            f"{p_ref + margin!r} (the alternative), got {p_new!r}"
        )
    return p_new, p_ref, margin, allocation
