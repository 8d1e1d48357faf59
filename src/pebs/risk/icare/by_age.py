"""Calibration conditional on the age at assessment: one iCARE calibration per start age.

:func:`~pebs.risk.icare.calibrate` treats its reference population as one cohort of women of the
table's first age, followed as they grow older. When the covariates themselves depend on age
(breast density falls with age; BCRAT's predictor changes at 50) and a woman's covariates are
taken at her age and held over a short window, that is not the population whose incidence the
model must reproduce. This module calibrates once per whole start age ``a``, over the window
``[a, a + h)`` only, with a reference population of women *of age a* (cancer-free at ``a``)::

    λm(t) = λ0_a(t) · E_a(t),   E_a(t) = Σ_i w_i S_i(t) r_i / Σ_i w_i S_i(t),   a <= t < a + h,
    S_i(t) = exp(-r_i · Σ_{u=a}^{t-1} λ0_a(u))

so that among women of age ``a`` the mean risk over the window equals the cumulative incidence of
the rate tables over ``[a, a + h)`` (measured figures in ``docs/models/personalised.md``).

iCARE's absolute risk is a sum over whole years, ``Σ_t λ(t) exp(-Σ_{u<t} [λ(u) + μ(u)])``, which
treats each year's hazard as the probability of a cancer in that year; at 70 it overstates the
cumulative incidence of constant-within-year hazards by about 1 %. :func:`yearly_terms` turns the
tables' hazards into the terms that make the sum exact for the population: the probability of a
breast cancer within the year for a woman alive and cancer-free at its start,
``λ* = λ (1 - exp(-(λ + μ))) / (λ + μ)``, and ``μ* = λ + μ - λ*`` (so that survival over the
year, ``exp(-(λ* + μ*))``, is unchanged).

Each start age has its own baseline hazard ``λ0_a`` and its own reference rows, which iCARE's
missing-covariate rule then uses for women of that age.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pebs.risk._arrays import ModelInputError, as_float_vectors
from pebs.risk.icare.absolute_risk import fixed_window_risks
from pebs.risk.icare.calibration import Calibration, _check_rates, calibrate
from pebs.risk.icare.codes import IcareError
from pebs.risk.icare.linear_predictor import MAX_ABS_LP, as_design, partial_predictor
from pebs.risk.icare.missing import missing_covariate_risks

BY_AGE_TOLERANCE = 1e-10
"""Stopping rule of each start age's iteration (``Σ_t |E_new(t) - E_old(t)|``): with ``h`` years
the iteration is cheap, so it runs to rounding level rather than iCARE's 0.001."""


def yearly_terms(incidence, competing_mortality) -> tuple[np.ndarray, np.ndarray]:
    """``(λ*, μ*)`` from hazards per woman-year, for iCARE's sum over whole years.

    >>> lam, mu = yearly_terms([0.003], [0.02])
    >>> round(float(lam[0]), 9), round(float(lam[0] + mu[0]), 12)
    (0.002965763, 0.023)
    """
    lam, mu = _check_rates(incidence, competing_mortality)
    total = lam + mu
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, -np.expm1(-total) / total, 1.0)
    lam_year = lam * share
    return lam_year, total - lam_year


@dataclass(frozen=True)
class AgeCalibration:
    """One :class:`~pebs.risk.icare.Calibration` per whole start age, each over ``horizon`` years.

    ``baseline_hazard[k, j]`` and ``competing_mortality[k, j]`` are the rates of year ``j`` of the
    window that starts at ``start_ages[k]``, per woman-year.
    """

    start_ages: np.ndarray
    """Consecutive whole start ages, int64 (n_starts,)."""
    horizon: int
    """Window length in years."""
    by_start: tuple[Calibration, ...]
    """The calibration of each start age (its reference rows are women of that age)."""
    baseline_hazard: np.ndarray
    """``λ0_a(a + j)``, (n_starts, horizon), read-only."""
    competing_mortality: np.ndarray
    """``μ(a + j)``, (n_starts, horizon), read-only."""

    @property
    def first_start(self) -> int:
        return int(self.start_ages[0])

    @property
    def last_start(self) -> int:
        return int(self.start_ages[-1])

    @property
    def log_rr(self) -> np.ndarray:
        return self.by_start[0].log_rr

    def at(self, age: int) -> Calibration:
        """The calibration of start age ``age`` (whole years)."""
        k = int(age) - self.first_start
        if not 0 <= k < len(self.by_start):
            raise ModelInputError(
                f"age: {age!r} is outside the calibrated start ages "
                f"{self.first_start}..{self.last_start}"
            )
        return self.by_start[k]


def calibrate_by_age(
    incidence,
    competing_mortality,
    *,
    first_age,
    start_ages: Sequence[int],
    horizon: int,
    reference_designs: Sequence[object],
    log_rr,
    reference_weights: Sequence[object] | None = None,
    tolerance: float = BY_AGE_TOLERANCE,
) -> AgeCalibration:
    """Calibrate a log-relative-risk model separately for each start age.

    Parameters
    ----------
    incidence, competing_mortality : array_like, shape (n_ages,)
        Marginal incidence and competing mortality per woman-year for the single years of age
        ``first_age, first_age + 1, ...`` (as for :func:`~pebs.risk.icare.calibrate`).
    first_age : int
        Age of the first entry of both tables.
    start_ages : sequence of int
        Consecutive whole start ages; every window ``[a, a + horizon)`` must lie in the tables.
    horizon : int
        Window length in years (>= 1).
    reference_designs : sequence of array_like, one (n_a, p) array per start age
        Covariates of women of that age, in the units of ``log_rr`` (no NaN).
    log_rr : array_like, shape (p,)
    reference_weights : sequence of array_like, optional
        Weights of each start age's rows (default equal).
    tolerance : float
        Stopping rule of each iteration (default :data:`BY_AGE_TOLERANCE`).

    Examples
    --------
    Two start ages, one reference row each: each start age's ``E`` is its own row's relative risk.

    >>> cal = calibrate_by_age([0.001, 0.002, 0.003], [0.01, 0.01, 0.02], first_age=50,
    ...                        start_ages=[50, 51], horizon=2, log_rr=[1.0],
    ...                        reference_designs=[[[0.0]], [[1.0]]])
    >>> (cal.baseline_hazard * [[1.0], [np.e]]).round(12).tolist()
    [[0.001, 0.002], [0.002, 0.003]]
    """
    lam_m, mu = _check_rates(incidence, competing_mortality)
    first = operator.index(first_age)
    starts = np.asarray(start_ages, dtype=np.int64)
    steps = operator.index(horizon)
    if starts.ndim != 1 or starts.size == 0 or np.any(np.diff(starts) != 1):
        raise ModelInputError("start_ages: expected consecutive whole years, at least one")
    if steps < 1:
        raise ModelInputError(f"horizon: expected a whole number of years >= 1, got {horizon!r}")
    if starts[0] < first or starts[-1] + steps > first + lam_m.size:
        raise ModelInputError(
            f"start_ages: windows [{starts[0]}, {starts[-1] + steps}) must lie within the rate "
            f"table's ages {first}..{first + lam_m.size - 1}"
        )
    if len(reference_designs) != starts.size:
        raise ModelInputError(
            f"reference_designs: expected one design per start age ({starts.size}), got "
            f"{len(reference_designs)}"
        )
    weights = [None] * starts.size if reference_weights is None else list(reference_weights)
    by_start = []
    for a, design, w in zip(starts.tolist(), reference_designs, weights, strict=True):
        k = a - first
        calibration = calibrate(
            lam_m[k : k + steps], mu[k : k + steps], first_age=a, reference_design=design,
            log_rr=log_rr, reference_weights=w, tolerance=tolerance,
        )  # fmt: skip
        by_start.append(calibration)
    baseline = np.stack([c.baseline_hazard for c in by_start])
    mortality = np.stack([c.competing_mortality for c in by_start])
    for array in (baseline, mortality):
        array.setflags(write=False)
    return AgeCalibration(starts, steps, tuple(by_start), baseline, mortality)


@dataclass(frozen=True)
class AgeRisk:
    """Risks over ``[age, age + horizon)``, one entry per woman (proportions, NaN if rejected)."""

    risk: np.ndarray
    used_missing_rule: np.ndarray
    """True where a covariate was missing and the risk comes from iCARE's rule."""
    n_matched: np.ndarray
    """Reference rows (of her start age) averaged by the rule; 0 where it was not used."""
    error: np.ndarray
    """:class:`~pebs.risk.icare.codes.IcareError` flags; 0 = valid."""


def complete_risks(calibration: AgeCalibration, lp: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Risks (proportions) of women with every covariate known; no checks (callers pass valid
    rows): ``lp`` is ``x·β`` with ``|lp| <= 700`` and ``start`` the index of the start age in
    ``calibration.start_ages``, (n,) each. Each woman's risk is computed from her own values
    alone (:func:`~pebs.risk.icare.absolute_risk.fixed_window_risks`)."""
    return fixed_window_risks(*window_rates(calibration, start), np.exp(lp))


def window_rates(calibration: AgeCalibration, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(λ0, μ)`` of each year of each woman's window, (horizon, n) each; ``start`` (n,) the
    index of her start age in ``calibration.start_ages``."""
    index = start.astype(np.intp)
    return (
        np.take(calibration.baseline_hazard.T, index, axis=1),
        np.take(calibration.competing_mortality.T, index, axis=1),
    )


def risk_by_age(calibration: AgeCalibration, design, age_start) -> AgeRisk:
    """Absolute risk (proportion) over ``[age_start, age_start + horizon)`` for each woman.

    ``design`` is (n, p) with NaN for missing covariates (iCARE's rule, with the reference rows
    of her start age); ``age_start`` whole years within the calibrated start ages. Rows with a
    start age outside them, infinite covariates or ``|x·β| > 700`` are flagged, not raised.
    """
    x = as_design("design", design, calibration.log_rr.size, allow_nan=True)
    n = x.shape[0]
    a = as_float_vectors(age_start=age_start)["age_start"]
    if a.size == 1 and n != 1:
        a = np.broadcast_to(a, (n,))
    if a.size != n:
        raise ModelInputError(f"age_start: has {a.size} values but there are {n} women")
    return _risk_by_age(calibration, x, a)


def _risk_by_age(calibration: AgeCalibration, x: np.ndarray, a: np.ndarray) -> AgeRisk:
    """:func:`risk_by_age`'s kernel: ``x`` a checked (n, p) float64 design, ``a`` (n,) float64."""
    beta = calibration.log_rr
    n = x.shape[0]
    with np.errstate(invalid="ignore"):
        good_age = (np.floor(a) == a) & (a >= calibration.first_start)
        good_age &= a <= calibration.last_start
    error = np.where(good_age, 0, IcareError.AGE_START_INVALID).astype(np.int32)
    is_missing = np.isnan(x)
    has_missing = is_missing.any(axis=1)
    error |= np.where(np.isinf(x).any(axis=1), IcareError.COVARIATE_NOT_FINITE, 0).astype(np.int32)
    with np.errstate(invalid="ignore", over="ignore"):
        lp = partial_predictor(np.where(is_missing, 0.0, x), beta, range(beta.size))
        too_large = ~has_missing & (error == 0) & ~(np.abs(lp) <= MAX_ABS_LP)
    error |= np.where(too_large, IcareError.LP_OUT_OF_RANGE, 0).astype(np.int32)
    valid = error == 0
    start = np.where(valid, a - calibration.first_start, 0).astype(np.intp)

    risk = np.full(n, np.nan)
    complete = np.flatnonzero(valid & ~has_missing)
    h = calibration.horizon
    risk[complete] = complete_risks(calibration, lp[complete], start[complete])
    used = valid & has_missing
    n_matched = np.zeros(n, dtype=np.intp)
    rows = np.flatnonzero(used)
    if rows.size:
        order = rows[np.argsort(start[rows], kind="stable")]
        bounds = np.flatnonzero(np.diff(start[order])) + 1
        for women in np.split(order, bounds):
            rule = missing_covariate_risks(
                calibration.by_start[int(start[women[0]])], x[women], is_missing[women],
                np.zeros(women.size, dtype=np.intp), np.full(women.size, h, dtype=np.intp),
            )  # fmt: skip
            risk[women], n_matched[women] = rule.risk, rule.n_matched
    return AgeRisk(risk=risk, used_missing_rule=used, n_matched=n_matched, error=error)
