"""iCARE's rule for women with missing covariates: average over similar reference rows.

For a woman whose covariates in the set ``O`` are observed (the others NaN):

1. the *observed predictor* ``Σ_{k in O} x_k β_k`` is computed for her and for every reference
   row;
2. the reference rows are cut into (up to) 100 bins at quantiles of their observed predictor,
   :func:`cutpoints`;
3. she falls into the bin that contains her observed predictor, :func:`match`;
4. her risk (and linear predictor) is the weighted mean of the full-model risks (linear
   predictors) of the reference rows in that bin, for her own window.

The bins follow R iCARE 1.35's C code (``ref_risk1``/``ref_risk2``) exactly, so that the
reference numbers are reproduced to rounding: *unweighted* type-7 quantiles (each reference row
counts once, whatever its weight) at probabilities ``0, 0.01, ..., 1``; each cut point rounded
*down* to ``d`` decimals, where ``d`` is the number of ``k >= 1`` with
``1 / (0.001·sd) >= 10^k`` (``sd``: standard deviation of the observed predictor over the
reference rows, at least 1e-12); consecutive cut points closer than 1e-12 merged; ``+inf``
appended. A woman's bin is ``[c_m, c_{m+1})`` where ``m + 1`` is the number of leading cut points
``<= `` her predictor (kept within the first and the last bin). Within the bin, weights are
normalised to sum to 1 and the weighted values are added in reference-row order.

One deliberate difference: if her bin holds no reference row with positive weight, the bin is
widened one cut point on each side at a time until it does (the R code's ``get_newEndpoints``;
iCARE's C code widens once and then returns a risk of 0). If even all bins together are empty,
which only rounding can cause, all reference rows are used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pebs.risk.icare.absolute_risk import window_risks
from pebs.risk.icare.calibration import Calibration
from pebs.risk.icare.linear_predictor import partial_predictor

N_BINS = 100
"""Quantile bins of the observed predictor (iCARE's ``ncuts``)."""

_SAME_CUT = 1e-12  # iCARE: consecutive cut points closer than this are one
_SMALLEST_SD = 1e-12  # iCARE: floor of the standard deviation that sets the rounding


def cutpoints(values, n_bins: int = N_BINS) -> np.ndarray:
    """Bin boundaries of iCARE's missing-covariate rule.

    Parameters
    ----------
    values : numpy.ndarray, shape (n_reference,)
        Observed predictor of each reference row (finite).
    n_bins : int, default 100
        Number of quantile bins before merging.

    Returns
    -------
    numpy.ndarray, shape (n_cuts,)
        Cut points, the last one ``+inf``; bin ``m`` is ``[cuts[m], cuts[m + 1])``.

    Examples
    --------
    Quartiles (``n_bins=4``) of four values: 0.4375 is rounded down to 3 decimals.

    >>> cutpoints(np.array([0.0, 0.1, 0.25, 1.0]), n_bins=4).round(12).tolist()
    [0.0, 0.075, 0.175, 0.437, 1.0, inf]
    """
    x = np.sort(values)
    n = x.size
    probs = np.minimum(np.arange(n_bins + 1) * (1.0 / n_bins), 1.0)  # R: seq(0, 1, 1/n_bins)
    index = (n - 1.0) * probs
    lo = np.floor(index).astype(np.intp)
    hi = np.ceil(index).astype(np.intp)
    h = index - lo
    quantiles = np.where(index > lo, (1.0 - h) * x[lo] + h * x[hi], x[lo])  # type 7
    sd = float(np.std(values, ddof=1)) if n > 1 else 0.0
    precision = 1.0 / (0.001 * max(sd, _SMALLEST_SD))
    digits, power = 0, 10.0
    while precision >= power:
        digits += 1
        power *= 10.0
    scale = 10.0**digits
    rounded = (1.0 / scale) * np.floor(quantiles * scale)
    keep = np.ones(rounded.size, dtype=bool)
    keep[1:] = ~(np.abs(np.diff(rounded)) < _SAME_CUT)
    return np.append(rounded[keep], np.inf)


@dataclass(frozen=True)
class Matching:
    """Reference rows matched to the women of one missingness pattern.

    The matched rows of all groups are stored one after the other (``rows``, ``group_of_row``,
    ``share``), in increasing row order within a group.
    """

    rows: np.ndarray
    """Reference row indices, (m,)."""
    group_of_row: np.ndarray
    """Group of each entry of ``rows``, (m,)."""
    share: np.ndarray
    """Row weight divided by the total weight of its group, (m,)."""
    group_of_woman: np.ndarray
    """Group of each woman, (n_women,)."""
    group_size: np.ndarray
    """Reference rows in each group, (n_groups,)."""

    def means(self, values: np.ndarray) -> np.ndarray:
        """Weighted mean of ``values`` (one per reference row) in each group, (n_groups,)."""
        return np.bincount(
            self.group_of_row,
            weights=values[self.rows] * self.share,
            minlength=self.group_size.size,
        )


def _rows_between(order, sorted_values, lo: float, hi: float) -> np.ndarray:
    """Reference rows with ``lo <= value < hi``, in increasing row order."""
    first, stop = np.searchsorted(sorted_values, [lo, hi], side="left")
    return np.sort(order[first:stop])


def _bin_rows(order, sorted_values, weights, cuts, m: int) -> np.ndarray:
    rows = _rows_between(order, sorted_values, cuts[m], cuts[m + 1])
    left, right = m - 1, m + 2
    for _ in range(cuts.size):
        if weights[rows].sum() > 0:
            return rows
        left, right = max(left, 0), min(right, cuts.size - 1)
        rows = _rows_between(order, sorted_values, cuts[left], cuts[right])
        left, right = left - 1, right + 1
    return rows if weights[rows].sum() > 0 else np.arange(weights.size)


def match(reference_values, women_values, weights, n_bins: int = N_BINS) -> Matching:
    """Assign women to bins of reference rows by their observed predictor.

    Parameters
    ----------
    reference_values : numpy.ndarray, shape (n_reference,)
        Observed predictor of the reference rows.
    women_values : numpy.ndarray, shape (n_women,)
        Observed predictor of the women (same covariates, summed in the same order).
    weights : numpy.ndarray, shape (n_reference,)
        Reference weights (>= 0).
    n_bins : int, default 100

    Returns
    -------
    Matching
    """
    cuts = cutpoints(reference_values, n_bins)
    # Leading cut points <= her value, minus one, kept within [0, n_cuts - 2] (iCARE).
    position = np.searchsorted(np.maximum.accumulate(cuts), women_values, side="right") - 1
    position = np.clip(position, 0, cuts.size - 2)
    bins, group_of_woman = np.unique(position, return_inverse=True)
    order = np.argsort(reference_values, kind="stable")
    sorted_values = reference_values[order]
    members = [_bin_rows(order, sorted_values, weights, cuts, int(m)) for m in bins]
    sizes = np.array([rows.size for rows in members], dtype=np.intp)
    rows = np.concatenate(members)
    group_of_row = np.repeat(np.arange(bins.size), sizes)
    totals = np.bincount(group_of_row, weights=weights[rows], minlength=bins.size)
    return Matching(
        rows=rows,
        group_of_row=group_of_row,
        share=weights[rows] / totals[group_of_row],
        group_of_woman=group_of_woman.ravel(),
        group_size=sizes,
    )


def _distinct_rows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a small non-negative integer (or bool) matrix, and each row's index.

    Rows are packed into one int64 key when they fit (much faster than ``np.unique(axis=0)``).
    """
    values = values.astype(np.int64)
    widths = np.maximum(values.max(axis=0, initial=0), 1).astype(np.float64)
    bits = np.ceil(np.log2(widths + 1)).astype(np.int64)  # (p,) bits per column
    if bits.sum() > 62:
        distinct, inverse = np.unique(values, axis=0, return_inverse=True)
        return distinct, inverse.ravel()
    shifts = np.concatenate([[0], np.cumsum(bits)[:-1]])
    keys = (values << shifts).sum(axis=1)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return values[first], inverse.ravel()


@dataclass(frozen=True)
class MissingRuleResult:
    """Outputs of :func:`missing_covariate_risks` for the women passed to it."""

    risk: np.ndarray
    """Absolute risk, proportion, (n,)."""
    lp: np.ndarray
    """Weighted mean ``x·β`` of the matched reference rows, (n,)."""
    n_matched: np.ndarray
    """Reference rows averaged, (n,)."""
    pattern: np.ndarray
    """Row of ``patterns`` of each woman, (n,)."""
    patterns: np.ndarray
    """Distinct missingness patterns, True = missing, (n_patterns, p)."""


def missing_covariate_risks(
    calibration: Calibration, design, is_missing, start, length
) -> MissingRuleResult:
    """Risks of women with missing covariates by iCARE's rule (module docstring).

    Parameters
    ----------
    calibration : Calibration
    design : numpy.ndarray, shape (n, p)
        Covariates, NaN where missing; every row has at least one NaN.
    is_missing : numpy.ndarray of bool, shape (n, p)
    start, length : numpy.ndarray of intp, shape (n,)
        Valid windows (table position of the first year; number of years).

    Returns
    -------
    MissingRuleResult
    """
    n = design.shape[0]
    codes, pattern = _distinct_rows(is_missing)
    patterns = codes.astype(bool)
    beta, reference = calibration.log_rr, calibration.reference_design
    weights = calibration.reference_weights
    lp, n_matched = np.empty(n), np.empty(n, dtype=np.intp)
    group = np.empty(n, dtype=np.intp)
    matchings = []
    for k, missing in enumerate(patterns):
        women = np.flatnonzero(pattern == k)
        observed = np.flatnonzero(~missing)
        matching = match(
            partial_predictor(reference, beta, observed),
            partial_predictor(design[women], beta, observed),
            weights,
        )
        group[women] = matching.group_of_woman
        lp[women] = matching.means(calibration.reference_lp)[matching.group_of_woman]
        n_matched[women] = matching.group_size[matching.group_of_woman]
        matchings.append(matching)

    risk = np.empty(n)
    windows, window = _distinct_rows(np.stack([start, length], axis=1))
    key = window * patterns.shape[0] + pattern  # (n,) one value per (window, pattern)
    order = np.argsort(key, kind="stable")
    bounds = np.flatnonzero(np.diff(key[order])) + 1
    rr = np.exp(calibration.reference_lp)
    ones = np.ones(rr.size, dtype=np.intp)
    current, reference_risk = -1, rr
    for women in np.split(order, bounds):
        w_id, k = divmod(int(key[women[0]]), patterns.shape[0])
        if w_id != current:
            s, t = windows[w_id]
            reference_risk = window_risks(
                calibration.baseline_hazard, calibration.competing_mortality, rr, ones * s, ones * t
            )
            current = w_id
        risk[women] = matchings[k].means(reference_risk)[group[women]]
    return MissingRuleResult(
        risk=risk, lp=lp, n_matched=n_matched, pattern=pattern, patterns=patterns
    )
