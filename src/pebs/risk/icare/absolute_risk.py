"""Absolute risk over the age window ``[a, a + τ)`` from a calibrated baseline hazard.

For a woman with relative risk ``r = exp(x·β)``, whole years ``a`` (start age) and ``τ``
(interval), iCARE's discrete formula is::

    risk = Σ_{t=a}^{a+τ-1} λ0(t) r · exp(-Σ_{u=a}^{t-1} [λ0(u) r + μ(u)])

A sum over single years of age, with no integration within a year (unlike BCRAT). It is the
probability of breast cancer in the window for a woman alive and free of breast cancer at ``a``,
as a **proportion** (0..1), to first order in the yearly hazards; it never exceeds
``Σ_t λ0(t) r`` and so is a proportion whenever that cumulative hazard is at most 1.

Implementation: the women are ordered by decreasing ``τ`` and the sum runs over the year offset
``j = 0, 1, ...``; step ``j`` updates, in place, only the women whose window is longer than
``j``. Each woman costs ``O(τ)`` and there is no Python loop over women. The running exponent
adds ``λ0(u) r + μ(u)`` year by year, in iCARE's order.
"""

from __future__ import annotations

import numpy as np

from pebs.risk._arrays import ModelInputError, as_float_vectors
from pebs.risk.icare.calibration import Calibration
from pebs.risk.icare.codes import IcareError, describe
from pebs.risk.icare.linear_predictor import MAX_ABS_LP


def window_vectors(calibration: Calibration, n: int | None, age_start, interval):
    """Check windows row by row.

    Parameters
    ----------
    calibration : Calibration
        Supplies the rate table's first and last age.
    n : int or None
        Number of women; scalars are broadcast to it. ``None``: the length of the arguments.
    age_start, interval : array_like
        Whole years; see :func:`absolute_risk`.

    Returns
    -------
    start : numpy.ndarray of intp, shape (n,)
        ``age_start - first_age`` (the table position of the first year); 0 on rejected rows.
    length : numpy.ndarray of intp, shape (n,)
        ``interval``; 1 on rejected rows.
    error : numpy.ndarray of int32, shape (n,)
        :class:`~pebs.risk.icare.codes.IcareError` flags.
    """
    x = as_float_vectors(age_start=age_start, interval=interval)
    a, tau = x["age_start"], x["interval"]
    if n is not None and a.size != n:
        if a.size != 1:
            raise ModelInputError(
                f"age_start, interval: have {a.size} values but there are {n} women; pass one "
                "value per woman or a scalar"
            )
        a, tau = np.broadcast_to(a, (n,)), np.broadcast_to(tau, (n,))
    first, last = calibration.first_age, calibration.last_age
    with np.errstate(invalid="ignore"):
        good_a = np.isfinite(a) & (np.floor(a) == a) & (a >= first) & (a <= last)
        good_tau = np.isfinite(tau) & (np.floor(tau) == tau) & (tau >= 1)
        past = good_a & good_tau & (a + tau - 1 > last)
    error = np.where(good_a, 0, IcareError.AGE_START_INVALID).astype(np.int32)
    error |= np.where(good_tau, 0, IcareError.INTERVAL_INVALID).astype(np.int32)
    error |= np.where(past, IcareError.WINDOW_PAST_TABLE, 0).astype(np.int32)
    valid = error == 0
    start = np.where(valid, a - first, 0).astype(np.intp)
    length = np.where(valid, tau, 1).astype(np.intp)
    return start, length, error


def window_risks(baseline, mortality, rr, start, length) -> np.ndarray:
    """The discrete iCARE sum for every woman (no checks: callers pass valid windows).

    Parameters
    ----------
    baseline, mortality : numpy.ndarray, shape (n_ages,)
        ``λ0(t)`` and ``μ(t)`` per woman-year, indexed by table position.
    rr : numpy.ndarray, shape (n,)
        Relative risks ``exp(x·β)``.
    start, length : numpy.ndarray of intp, shape (n,)
        Table position of the first year, and number of years (>= 1, within the table).

    Returns
    -------
    numpy.ndarray, shape (n,)
        Absolute risk, proportion.
    """
    n = rr.size
    if n == 0:
        return np.zeros(0)
    longest = int(length.max())
    order = None
    if int(length.min()) != longest:
        order = np.argsort(-length, kind="stable")
        rr, start, length = rr[order], start[order], length[order]
    n_active = n - np.cumsum(np.bincount(length, minlength=longest + 1))[:longest]  # (longest,)
    risk = np.zeros(n)
    exponent = np.zeros(n)  # Σ_{u=a}^{t-1} [λ0(u) r + μ(u)]
    with np.errstate(over="ignore"):  # absurd r only; exp(-inf) = 0
        for j in range(longest):
            k = int(n_active[j])
            year = start[:k] + j
            hazard = baseline[year] * rr[:k]
            if j == 0:  # nothing accumulated yet: exp(-0) is 1, the same sums without it
                risk[:k] = hazard
                exponent[:k] = hazard + mortality[year]
                continue
            risk[:k] += hazard * np.exp(-exponent[:k])
            exponent[:k] += hazard + mortality[year]
    if order is None:
        return risk
    out = np.empty(n)
    out[order] = risk
    return out


def fixed_window_risks(baseline, mortality, rr) -> np.ndarray:
    """The discrete iCARE sum over windows of one length, woman by woman (no checks).

    Every element is computed from its own column alone, by the same operations in the same
    order as :func:`window_risks`: a woman's risk does not depend on the other women computed
    with her (their number, order or position).

    Parameters
    ----------
    baseline, mortality : numpy.ndarray, shape (h, n)
        ``λ0(t)`` and ``μ(t)`` of year ``j`` of each woman's window (row ``j``), per woman-year.
    rr : numpy.ndarray, shape (n,) or (c, n)
        Relative risks ``exp(x·β)``; with two axes, ``c`` values for each woman.

    Returns
    -------
    numpy.ndarray, shape of ``rr``
        Absolute risk, proportion.
    """
    risk = baseline[0] * rr  # exp(-0) is 1: the first year's term is its hazard
    exponent = risk + mortality[0]  # Σ_{u=a}^{t-1} [λ0(u) r + μ(u)]
    with np.errstate(over="ignore"):  # absurd r only; exp(-inf) = 0
        for j in range(1, baseline.shape[0]):
            hazard = baseline[j] * rr
            risk += hazard * np.exp(-exponent)
            if j + 1 < baseline.shape[0]:
                exponent += hazard + mortality[j]
    return risk


def absolute_risk(calibration: Calibration, lp, age_start, interval) -> np.ndarray:
    """Absolute risk (proportion, 0..1) over ``[age_start, age_start + interval)``.

    Parameters
    ----------
    calibration : Calibration
        From :func:`~pebs.risk.icare.calibrate`.
    lp : array_like, shape (n,)
        Linear predictor ``x·β`` of each woman (all covariates known; see
        :func:`~pebs.risk.icare.risk` for missing ones).
    age_start : array_like, shape (n,) or scalar
        Age at the start of the window, whole years, ``first_age <= age_start <= last_age``.
    interval : array_like, shape (n,) or scalar
        Length of the window in whole years (>= 1). The window may use the table's years up to
        and including ``last_age``: ``age_start + interval - 1 <= last_age``.

    Returns
    -------
    numpy.ndarray, shape (n,)
        Risk as a proportion; NaN where the window or ``lp`` is invalid (reasons:
        :func:`~pebs.risk.icare.risk` reports them as error flags).

    Examples
    --------
    With a one-row reference population, that row's risk is the risk computed from the
    incidence itself, ``Σ_t λm(t) exp(-Σ_{u<t} [λm(u) + μ(u)])``:

    >>> import math
    >>> from pebs.risk.icare import calibrate
    >>> cal = calibrate([0.001, 0.002, 0.003], [0.01, 0.01, 0.02], first_age=50,
    ...                 reference_design=[[0.5]], log_rr=[1.0])
    >>> marginal = 0.001 + 0.002 * math.exp(-0.011) + 0.003 * math.exp(-0.011 - 0.012)
    >>> r = absolute_risk(cal, [0.5, 0.5, 0.5], age_start=[50, 50, 51], interval=[3, 1, 3])
    >>> bool(abs(r[0] - marginal) < 1e-15), bool(abs(r[1] - 0.001) < 1e-18), float(r[2])
    (True, True, nan)
    """
    lp = as_float_vectors(lp=lp)["lp"]
    start, length, error = window_vectors(calibration, lp.size, age_start, interval)
    valid = (error == 0) & (np.abs(lp) <= MAX_ABS_LP)
    risk = np.full(lp.size, np.nan)
    risk[valid] = window_risks(
        calibration.baseline_hazard,
        calibration.competing_mortality,
        np.exp(lp[valid]),
        start[valid],
        length[valid],
    )
    return risk


def reference_risks(calibration: Calibration, age_start: int, interval: int) -> np.ndarray:
    """Absolute risk (proportion) of every reference row over one window.

    Raises :class:`~pebs.risk._arrays.ModelInputError` naming ``age_start``/``interval`` if the
    window is invalid. Returns shape (n_reference,), in the reference population's row order.
    """
    start, length, error = window_vectors(calibration, 1, age_start, interval)
    if error[0]:
        raise ModelInputError(f"age_start, interval: {describe(int(error[0]))}")
    n_ref = calibration.reference_lp.size
    return window_risks(
        calibration.baseline_hazard,
        calibration.competing_mortality,
        np.exp(calibration.reference_lp),
        np.full(n_ref, start[0]),
        np.full(n_ref, length[0]),
    )


def population_mean_risk(calibration: Calibration, age_start, interval) -> np.ndarray:
    """Weighted mean absolute risk (proportion) of the reference population, per window.

    ``Σ_i w_i R_i(a, τ)`` with the normalised reference weights: the risk of a woman drawn
    from the reference population, *not* conditioned on being cancer-free at ``a`` (see
    ``docs/models/icare.md`` §3 for how it relates to the incidence). NaN for invalid windows.

    Examples
    --------
    >>> from pebs.risk.icare import calibrate
    >>> cal = calibrate([0.001, 0.002, 0.003], [0.01, 0.01, 0.02], first_age=50,
    ...                 reference_design=[[0.0], [1.0]], log_rr=[0.5],
    ...                 reference_weights=[3.0, 1.0])
    >>> means = population_mean_risk(cal, age_start=[50, 51, 53], interval=2)
    >>> rows = reference_risks(cal, age_start=50, interval=2)
    >>> bool(abs(means[0] - (0.75 * rows[0] + 0.25 * rows[1])) < 1e-18), float(means[2])
    (True, nan)
    """
    start, length, error = window_vectors(calibration, None, age_start, interval)
    mean = np.full(start.size, np.nan)
    valid = np.flatnonzero(error == 0)
    if valid.size == 0:
        return mean
    windows, inverse = np.unique(
        np.stack([start[valid], length[valid]], axis=1), axis=0, return_inverse=True
    )
    rr = np.exp(calibration.reference_lp)
    ones = np.ones(rr.size, dtype=np.intp)
    values = np.array(
        [
            np.dot(
                calibration.reference_weights,
                window_risks(
                    calibration.baseline_hazard, calibration.competing_mortality, rr,
                    ones * s, ones * t,
                ),
            )
            for s, t in windows
        ]
    )  # fmt: skip
    mean[valid] = values[inverse.ravel()]
    return mean
