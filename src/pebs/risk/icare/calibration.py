"""Calibration: the baseline hazard that makes a relative-risk model reproduce the incidence.

With marginal incidence ``λm(t)`` per single year of age ``t`` (ages ``t0, t0 + 1, ...``), a
reference population of rows ``x_i`` with weights ``w_i`` and log relative risks ``β``
(``r_i = exp(x_i·β)``), iCARE (Pal Choudhury et al., PLoS One 2020) looks for ``λ0(t)`` with::

    λm(t) = λ0(t) · E(t),   E(t) = Σ_i w_i S_i(t) r_i / Σ_i w_i S_i(t),
    S_i(t) = exp(-r_i · Σ_{u=t0}^{t-1} λ0(u))

``E(t)`` is the mean relative risk among women still free of breast cancer at age ``t``
(competing mortality does not depend on ``x`` and cancels). Iteration (R iCARE's
``precise_lambda0``): start from the constant ``E = Σ w_i r_i / Σ w_i``; repeat
``λ0 = λm / E``, recompute ``E`` from the formula; stop as soon as ``Σ_t |E_new - E_old| <=
tolerance``; return ``λ0 = λm / E_new``.
"""

from __future__ import annotations

import functools
import math
import operator
from dataclasses import dataclass

import numpy as np

from pebs.risk._arrays import ModelInputError
from pebs.risk.icare.linear_predictor import MAX_ABS_LP, as_design, as_log_rr, linear_predictor

DEFAULT_TOLERANCE = 0.001
"""iCARE's stopping rule: ``Σ_t |E_new(t) - E_old(t)| <= 0.001`` (sum over the table's ages)."""

DEFAULT_MAX_ITERATIONS = 100
"""The iteration usually stops after 3 steps at 0.001 and reaches rounding level in about 10."""

_CHUNK_ELEMENTS = 1 << 20  # reference rows x ages evaluated at once (8 MiB of float64)


@dataclass(frozen=True)
class Calibration:
    """A relative-risk model calibrated to incidence; input to the absolute-risk functions.

    Rates are per woman-year (a proportion per year, not per 100,000) for the single year of age
    ``[ages[k], ages[k] + 1)``. All arrays are read-only.
    """

    ages: np.ndarray
    """Single years of age of the rate table, ``first_age, first_age + 1, ...``, int64 (n_ages,)."""
    incidence: np.ndarray
    """Marginal incidence ``λm(t)`` per woman-year, (n_ages,)."""
    competing_mortality: np.ndarray
    """Competing (other-cause) mortality ``μ(t)`` per woman-year, (n_ages,)."""
    baseline_hazard: np.ndarray
    """``λ0(t) = λm(t) / E(t)``: incidence of a woman with ``x·β = 0``, per woman-year."""
    expected_rr: np.ndarray
    """``E(t)``: mean relative risk of cancer-free women at age ``t`` (last iterate), (n_ages,)."""
    log_rr: np.ndarray
    """``β``, log relative risk per unit of each covariate, (p,)."""
    reference_design: np.ndarray
    """Reference population covariates ``x_i``, (n_reference, p)."""
    reference_weights: np.ndarray
    """Reference weights normalised to sum to 1, (n_reference,)."""
    reference_lp: np.ndarray
    """``x_i·β`` of the reference rows, (n_reference,)."""
    n_iterations: int
    """Updates of ``E`` made (iCARE: 3 for its example population at tolerance 0.001)."""
    last_change: float
    """``Σ_t |E_new(t) - E_old(t)|`` at the last update (<= ``tolerance``)."""
    tolerance: float
    """The stopping tolerance used."""

    @property
    def first_age(self) -> int:
        """First age of the rate table (years)."""
        return int(self.ages[0])

    @property
    def last_age(self) -> int:
        """Last age of the rate table (years); a window may use years up to this one."""
        return int(self.ages[-1])


def _read_only(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=array.dtype, copy=True)
    array.setflags(write=False)
    return array


def _check_rates(incidence: object, competing_mortality: object) -> tuple[np.ndarray, np.ndarray]:
    rates = {}
    for name, value in (("incidence", incidence), ("competing_mortality", competing_mortality)):
        try:
            rate = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ModelInputError(f"{name}: expected numbers, got {value!r:.80}") from exc
        if rate.ndim != 1 or rate.size == 0:
            raise ModelInputError(
                f"{name}: expected a 1-D array, one rate per single year of age, got shape "
                f"{rate.shape}"
            )
        bad = ~((rate >= 0.0) & (rate <= 1.0))
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ModelInputError(
                f"{name}: rates must be per woman-year (a proportion per year, 0..1; not per "
                f"100,000), got {rate[k]!r} at position {k}"
            )
        rates[name] = rate
    if rates["incidence"].size != rates["competing_mortality"].size:
        raise ModelInputError(
            f"competing_mortality: has {rates['competing_mortality'].size} ages but incidence "
            f"has {rates['incidence'].size}; both must cover the same single years of age"
        )
    return rates["incidence"], rates["competing_mortality"]


def _check_first_age(first_age: object) -> int:
    try:
        value = float(first_age)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ModelInputError(f"first_age: expected a whole number, got {first_age!r}") from exc
    if not (math.isfinite(value) and value == math.floor(value) and value >= 0):
        raise ModelInputError(
            f"first_age: expected a whole number of years >= 0, got {first_age!r}"
        )
    return int(value)


def _check_weights(weights: object, n_rows: int) -> np.ndarray:
    if weights is None:
        return np.full(n_rows, 1.0 / n_rows)
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelInputError(f"reference_weights: expected numbers, got {weights!r:.80}") from exc
    if w.shape != (n_rows,):
        raise ModelInputError(
            f"reference_weights: expected shape ({n_rows},), one per reference row, got {w.shape}"
        )
    if not (np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0):
        raise ModelInputError("reference_weights: expected finite weights >= 0 with a positive sum")
    return w / w.sum()


def _check_iteration(tolerance: object, max_iterations: object) -> tuple[float, int]:
    try:
        tol = float(tolerance)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ModelInputError(f"tolerance: expected a number >= 0, got {tolerance!r}") from exc
    if not (math.isfinite(tol) and tol >= 0):
        raise ModelInputError(f"tolerance: expected a finite number >= 0, got {tolerance!r}")
    try:
        n_max = operator.index(max_iterations)  # type: ignore[arg-type]
    except TypeError as exc:
        raise ModelInputError(
            f"max_iterations: expected an integer >= 1, got {max_iterations!r}"
        ) from exc
    if n_max < 1:
        raise ModelInputError(f"max_iterations: expected an integer >= 1, got {max_iterations!r}")
    return tol, n_max


def mean_rr_cancer_free(rr, weights, cumulative_baseline) -> np.ndarray:
    """``E(t) = Σ w_i S_i(t) r_i / Σ w_i S_i(t)`` with ``S_i(t) = exp(-r_i Λ0(t))``.

    Parameters
    ----------
    rr, weights : numpy.ndarray, shape (n,)
        Relative risks ``r_i`` and weights ``w_i`` (any positive scale).
    cumulative_baseline : numpy.ndarray, shape (n_ages,)
        ``Λ0(t) = Σ_{u<t} λ0(u)`` from the table's first age (0 at the first age).

    Returns
    -------
    numpy.ndarray, shape (n_ages,)
    """
    return _MeanRR(rr, weights, cumulative_baseline.size)(cumulative_baseline)


class _MeanRR:
    """:func:`mean_rr_cancer_free` for fixed ``rr`` and ``weights`` (the rows of one iteration),
    any ``Λ0``: what every iteration shares is computed once (``-r_i``, ``w_i r_i``, the array
    that holds the survivals), then each call does the formula's operations on the same values,
    giving the same bits (``Λ (-r)`` is ``-(r Λ)`` exactly; the survivals are computed age by
    age, in long rows, then laid out row by row as the formula's sums use them)."""

    def __init__(self, rr: np.ndarray, weights: np.ndarray, n_ages: int) -> None:
        step = max(1, _CHUNK_ELEMENTS // n_ages)
        self._n_ages = n_ages
        self._parts = [
            (-rr[lo : lo + step], weights[lo : lo + step] * rr[lo : lo + step],
             weights[lo : lo + step])
            for lo in range(0, rr.size, step)
        ]  # fmt: skip
        self._survival = np.empty((min(step, rr.size), n_ages))  # (chunk, n_ages)

    def __call__(self, cumulative_baseline: np.ndarray) -> np.ndarray:
        numerator = np.zeros(self._n_ages)
        denominator = np.zeros(self._n_ages)
        with np.errstate(over="ignore", under="ignore"):  # huge r·Λ0: survival 0, not an error
            for negative_rr, weighted_rr, weights in self._parts:
                by_age = np.multiply.outer(cumulative_baseline, negative_rr)  # long rows: fast
                np.exp(by_age, out=by_age)
                survival = self._survival[: negative_rr.size]
                survival[...] = by_age.T  # (chunk, n_ages), the layout the sums are made on
                numerator += weighted_rr @ survival
                denominator += weights @ survival
        if not (denominator > 0).all():
            raise ModelInputError(
                "reference_design, log_rr: every reference row's cancer-free survival underflows "
                "to 0 at some age; the relative risks are implausibly large"
            )
        return numerator / denominator


@functools.lru_cache(maxsize=1)
def _distinct(lp: bytes) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(x·β, return_inverse=True)`` of a float64 predictor given as its bytes; the
    last one is kept: :func:`~pebs.risk.icare.by_age.calibrate_by_age` calibrates consecutive
    start ages whose reference rows often share the predictor (only their weights differ)."""
    values, inverse = np.unique(np.frombuffer(lp, dtype=np.float64), return_inverse=True)
    for array in (values, inverse):
        array.setflags(write=False)
    return values, inverse


def _iterate(incidence, lp, weights, tolerance, max_iterations):
    """Fixed-point iteration of iCARE; returns (E, n_iterations, last_change)."""
    # Rows with equal x·β are interchangeable: merge them (their weights add up).
    values, inverse = _distinct(np.ascontiguousarray(lp, dtype=np.float64).tobytes())
    merged = np.bincount(inverse.ravel(), weights=weights, minlength=values.size)
    keep = merged > 0
    rr, w = np.exp(values[keep]), merged[keep]
    mean_rr = _MeanRR(rr, w, incidence.size)
    expected = np.full(incidence.size, np.dot(w, rr) / w.sum())
    change = math.inf
    for iteration in range(1, max_iterations + 1):
        baseline = incidence / expected
        cumulative = np.zeros(incidence.size)
        np.cumsum(baseline[:-1], out=cumulative[1:])
        new = mean_rr(cumulative)
        change = float(np.abs(new - expected).sum())
        expected = new
        if change <= tolerance:
            return expected, iteration, change
    raise ModelInputError(
        f"tolerance: the calibration did not reach tolerance={tolerance!r} within "
        f"max_iterations={max_iterations} (last change {change:.3g}); raise either"
    )


def calibrate(
    incidence,
    competing_mortality,
    *,
    first_age,
    reference_design,
    log_rr,
    reference_weights=None,
    tolerance: float = DEFAULT_TOLERANCE,
    max_iterations: int = DEFAULT_MAX_ITERATIONS,
) -> Calibration:
    """Calibrate a log-relative-risk model to marginal incidence (iCARE).

    Parameters
    ----------
    incidence : array_like, shape (n_ages,)
        Marginal breast cancer incidence ``λm(t)`` per woman-year (proportion per year, 0..1),
        for the single years of age ``first_age, first_age + 1, ...``.
    competing_mortality : array_like, shape (n_ages,)
        Competing (other-cause) mortality ``μ(t)`` per woman-year, same ages. Not used by the
        calibration itself; kept for the absolute risks.
    first_age : int
        Age in years of the first entry of both tables. Cancer-free survival of the reference
        rows is counted from this age: the reference population describes women at this age.
    reference_design : array_like, shape (n_reference, p)
        Risk factors of a sample representing the target population (no NaN), in the units of
        ``log_rr``.
    log_rr : array_like, shape (p,)
        Log relative risks ``β``.
    reference_weights : array_like, shape (n_reference,), optional
        Sampling weights (>= 0); default equal. Applied to each row (a weight of 2 is the same as
        the row twice). Normalised to sum to 1.
    tolerance : float, default 0.001
        Stop when ``Σ_t |E_new(t) - E_old(t)| <= tolerance`` (iCARE's rule). Smaller values
        iterate closer to the fixed point (see ``docs/models/icare.md`` for the size of the effect).
    max_iterations : int, default 100
        Raise :class:`~pebs.risk._arrays.ModelInputError` if the tolerance is not met by then.

    Returns
    -------
    Calibration
        Baseline hazard, ``E(t)``, iteration count and the model itself (read-only arrays).

    Raises
    ------
    ModelInputError
        Naming the argument: wrong shapes, rates outside 0..1, NaN in the reference population,
        ``|x·β| > 700``, negative weights, or no convergence.

    References
    ----------
    Pal Choudhury P, et al. iCARE: an R package to build, validate and apply absolute risk models.
    PLoS One 2020;15(2):e0228198. Algorithm of R iCARE's ``precise_lambda0``, with weights
    applied per reference row.

    Examples
    --------
    With a single reference row, ``E(t)`` is that row's relative risk at every age:

    >>> cal = calibrate([0.001, 0.002, 0.003], [0.01, 0.01, 0.02], first_age=50,
    ...                 reference_design=[[1.0]], log_rr=[0.5])
    >>> cal.expected_rr.round(6).tolist(), cal.n_iterations
    ([1.648721, 1.648721, 1.648721], 1)
    """
    lam_m, mu = _check_rates(incidence, competing_mortality)
    start = _check_first_age(first_age)
    beta = as_log_rr(log_rr)
    design = as_design("reference_design", reference_design, beta.size, allow_nan=False)
    if design.shape[0] == 0:
        raise ModelInputError("reference_design: has no rows")
    if not np.isfinite(design).all():
        raise ModelInputError("reference_design: expected finite numbers")
    weights = _check_weights(reference_weights, design.shape[0])
    tol, n_max = _check_iteration(tolerance, max_iterations)
    lp = linear_predictor(design, beta)
    if not (np.abs(lp) <= MAX_ABS_LP).all():
        raise ModelInputError(
            f"reference_design, log_rr: |x·β| must be <= {MAX_ABS_LP:g} for every reference row, "
            f"got {float(np.max(np.abs(lp))):.4g}"
        )
    expected, n_iterations, change = _iterate(lam_m, lp, weights, tol, n_max)
    return Calibration(
        ages=_read_only(np.arange(start, start + lam_m.size, dtype=np.int64)),
        incidence=_read_only(lam_m),
        competing_mortality=_read_only(mu),
        baseline_hazard=_read_only(lam_m / expected),
        expected_rr=_read_only(expected),
        log_rr=_read_only(beta),
        reference_design=_read_only(design),
        reference_weights=_read_only(weights),
        reference_lp=_read_only(lp),
        n_iterations=n_iterations,
        last_change=change,
        tolerance=tol,
    )
