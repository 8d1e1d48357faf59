"""Absolute risks for a batch of women, with iCARE's rule for missing covariates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pebs.risk.icare.absolute_risk import window_risks, window_vectors
from pebs.risk.icare.calibration import Calibration
from pebs.risk.icare.codes import IcareError, describe_all
from pebs.risk.icare.linear_predictor import MAX_ABS_LP, as_design, partial_predictor
from pebs.risk.icare.missing import missing_covariate_risks

METHOD_NAME = "iCARE coherent absolute risk"
METHOD_VERSION = (
    "Pal Choudhury et al. 2020; algorithm of R iCARE 1.35.0 with weights applied per "
    "reference row; pebs implementation 1"
)
"""Record both with every stored risk (a model built on this engine adds its own name)."""


@dataclass(frozen=True)
class IcareResult:
    """Results, one entry per woman. Risks are proportions (0..1); ``risk_pct`` is percent."""

    risk: np.ndarray
    """Absolute risk over the window, proportion; NaN if the row was rejected."""
    lp: np.ndarray
    """``x·β``; for women with missing covariates the weighted mean over the matched reference
    rows (as iCARE reports it). NaN if rejected."""
    used_missing_rule: np.ndarray
    """True where a covariate was missing and the risk comes from the missing-covariate rule."""
    n_matched: np.ndarray
    """Reference rows averaged by the rule (0 where it was not used)."""
    pattern: np.ndarray
    """Row of ``missing_patterns`` for women who used the rule, -1 otherwise."""
    missing_patterns: np.ndarray
    """Distinct missingness patterns among those women, True = missing, (n_patterns, p)."""
    error: np.ndarray
    """:class:`~pebs.risk.icare.codes.IcareError` flags per woman; 0 = valid."""

    @property
    def risk_pct(self) -> np.ndarray:
        """Absolute risk in percent (0..100)."""
        return self.risk * 100.0

    @property
    def is_valid(self) -> np.ndarray:
        """True where the row was accepted."""
        return self.error == 0

    @property
    def n_used_missing_rule(self) -> int:
        """Number of women whose risk comes from the missing-covariate rule."""
        return int(np.count_nonzero(self.used_missing_rule))

    @property
    def pattern_counts(self) -> np.ndarray:
        """Women per row of ``missing_patterns``, (n_patterns,)."""
        used = self.pattern[self.pattern >= 0]
        return np.bincount(used, minlength=self.missing_patterns.shape[0])

    def reasons(self) -> np.ndarray:
        """Why each row was rejected: an object array of strings, "" for accepted rows."""
        return describe_all(self.error)


def risk(calibration: Calibration, design, age_start, interval) -> IcareResult:
    """Absolute risk (proportion) over ``[age_start, age_start + interval)`` for each woman.

    Parameters
    ----------
    calibration : Calibration
        From :func:`~pebs.risk.icare.calibrate`; its ``log_rr`` gives the columns' meaning.
    design : array_like, shape (n, p)
        Each woman's covariates in the units of ``log_rr``; NaN = missing (the risk then comes
        from the missing-covariate rule: ``docs/models/icare.md`` §4). A woman with every
        covariate missing gets the population mean risk for her window.
    age_start : array_like, shape (n,) or scalar
        Age at the start of the window, whole years, ``first_age <= age_start <= last_age``.
    interval : array_like, shape (n,) or scalar
        Window length in whole years (>= 1), with ``age_start + interval - 1 <= last_age``: the
        table must hold every year used. (R iCARE also demands a rate for ``age_start +
        interval``, which the sum never uses.)

    Returns
    -------
    IcareResult
        ``risk`` (proportion), ``lp``, which women used the missing-covariate rule and how many
        reference rows they were matched with, and per-row error flags. Rejected rows (window
        outside the table, non-whole ages, infinite covariates, ``|x·β| > 700``) carry NaN.

    Raises
    ------
    ModelInputError
        If ``design`` is not a 2-D numeric array with one column per coefficient, or the window
        arguments have the wrong length.

    Examples
    --------
    Family history (RR 2) in a population where half the women have it; the third woman's
    family history is unknown, the fourth woman's window runs past the table (ages 50-52):

    >>> import math
    >>> from pebs.risk.icare import calibrate, population_mean_risk
    >>> cal = calibrate([0.001, 0.002, 0.003], [0.01, 0.01, 0.02], first_age=50,
    ...                 reference_design=[[0.0], [1.0]], log_rr=[math.log(2.0)])
    >>> nan = float("nan")
    >>> r = risk(cal, [[0.0], [1.0], [nan], [1.0]], age_start=50, interval=[3, 3, 3, 4])
    >>> r.risk_pct.round(4).tolist(), r.used_missing_rule.tolist()
    ([0.3943, 0.7877, 0.591, nan], [False, False, True, False])
    >>> bool(r.risk[2] == population_mean_risk(cal, 50, 3)[0])  # nothing known: population mean
    True
    >>> print(r.reasons()[3])
    the window [age_start, age_start + interval) runs past the rate table: age_start + interval - 1 must be <= last_age
    """  # noqa: E501
    beta = calibration.log_rr
    x = as_design("design", design, beta.size, allow_nan=True)
    n = x.shape[0]
    start, length, error = window_vectors(calibration, n, age_start, interval)
    is_missing = np.isnan(x)  # (n, p)
    has_missing = is_missing.any(axis=1)
    has_infinite = np.isinf(x).any(axis=1)
    error |= np.where(has_infinite, IcareError.COVARIATE_NOT_FINITE, 0).astype(np.int32)
    with np.errstate(invalid="ignore", over="ignore"):  # infinite covariates: flagged above
        lp_full = partial_predictor(np.where(is_missing, 0.0, x), beta, range(beta.size))
        out_of_range = ~has_missing & ~has_infinite & ~(np.abs(lp_full) <= MAX_ABS_LP)
    error |= np.where(out_of_range, IcareError.LP_OUT_OF_RANGE, 0).astype(np.int32)
    valid = error == 0

    risk_ = np.full(n, np.nan)
    lp = np.full(n, np.nan)
    complete = np.flatnonzero(valid & ~has_missing)
    lp[complete] = lp_full[complete]
    risk_[complete] = window_risks(
        calibration.baseline_hazard,
        calibration.competing_mortality,
        np.exp(lp_full[complete]),
        start[complete],
        length[complete],
    )
    used = valid & has_missing
    pattern = np.full(n, -1, dtype=np.intp)
    n_matched = np.zeros(n, dtype=np.intp)
    patterns = np.zeros((0, beta.size), dtype=bool)
    rows = np.flatnonzero(used)
    if rows.size:
        rule = missing_covariate_risks(
            calibration, x[rows], is_missing[rows], start[rows], length[rows]
        )
        risk_[rows], lp[rows], n_matched[rows] = rule.risk, rule.lp, rule.n_matched
        pattern[rows], patterns = rule.pattern, rule.patterns
    return IcareResult(
        risk=risk_,
        lp=lp,
        used_missing_rule=used,
        n_matched=n_matched,
        pattern=pattern,
        missing_patterns=patterns,
        error=error,
    )
