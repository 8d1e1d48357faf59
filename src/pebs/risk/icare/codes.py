"""Per-row error flags of :mod:`pebs.risk.icare` and their reasons."""

from __future__ import annotations

import enum

import numpy as np

from pebs.risk._flags import describe_flags, describe_flags_all


class IcareError(enum.IntFlag):
    """Why a woman's row was rejected. Several flags can be set on one row; 0 means valid."""

    AGE_START_INVALID = 1
    INTERVAL_INVALID = 2
    WINDOW_PAST_TABLE = 4
    COVARIATE_NOT_FINITE = 8
    LP_OUT_OF_RANGE = 16


ERROR_REASONS: dict[IcareError, str] = {
    IcareError.AGE_START_INVALID: (
        "age_start must be a whole number of years inside the rate table "
        "(first_age <= age_start <= last_age)"
    ),
    IcareError.INTERVAL_INVALID: "interval must be a whole number of years >= 1",
    IcareError.WINDOW_PAST_TABLE: (
        "the window [age_start, age_start + interval) runs past the rate table: "
        "age_start + interval - 1 must be <= last_age"
    ),
    IcareError.COVARIATE_NOT_FINITE: "covariates must be finite numbers or NaN (missing)",
    IcareError.LP_OUT_OF_RANGE: "the linear predictor must be finite with |lp| <= 700",
}
"""One human-readable sentence per flag, naming the argument and its allowed values."""


def describe(error: int) -> str:
    """Return the reasons for one row's error flags, joined by ``"; "`` ("" when valid).

    >>> describe(IcareError.INTERVAL_INVALID)
    'interval must be a whole number of years >= 1'
    """
    return describe_flags(error, ERROR_REASONS)


def describe_all(errors: np.ndarray) -> np.ndarray:
    """Vectorised :func:`describe`: an object array of reason strings, one per row."""
    return describe_flags_all(errors, ERROR_REASONS)
