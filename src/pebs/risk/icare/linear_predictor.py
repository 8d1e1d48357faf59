"""Design matrices, log relative risks and the linear predictor ``x·β``.

The predictor is summed column by column, left to right, from 0.0 (as iCARE's C code does), so a
predictor built from a subset of columns is bit-for-bit the same number for a woman and for a
reference row with the same values; the missing-covariate rule compares exactly such numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pebs.risk._arrays import ModelInputError

MAX_ABS_LP = 700.0
"""Largest accepted ``|x·β|``: ``exp(700)`` is about 1e304, close to the float64 limit."""


def as_design(name: str, value: object, n_columns: int | None = None, *, allow_nan: bool):
    """Return ``value`` as a float64 array of shape (n_rows, n_columns).

    Raises :class:`ModelInputError` naming ``name`` if it is not numeric, not 2-D, has no
    columns, has the wrong number of columns, or holds NaN where ``allow_nan`` is false.
    Infinite values are left for the caller (a bad row, not a bad argument).
    """
    try:
        design = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelInputError(f"{name}: expected numbers, got {value!r:.80}") from exc
    if design.ndim != 2 or design.shape[1] == 0:
        raise ModelInputError(
            f"{name}: expected a 2-D array of shape (n_rows, n_covariates), got shape "
            f"{design.shape} (for one covariate use values.reshape(-1, 1))"
        )
    if n_columns is not None and design.shape[1] != n_columns:
        raise ModelInputError(
            f"{name}: has {design.shape[1]} columns but log_rr has {n_columns} coefficients"
        )
    if not allow_nan and np.isnan(design).any():
        row = int(np.flatnonzero(np.isnan(design).any(axis=1))[0])
        raise ModelInputError(f"{name}: NaN in row {row}; the reference population has no gaps")
    return design


def as_log_rr(value: object) -> np.ndarray:
    """Return the log relative risks as a finite 1-D float64 array (ModelInputError if not)."""
    try:
        log_rr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelInputError(f"log_rr: expected numbers, got {value!r:.80}") from exc
    if log_rr.ndim != 1 or log_rr.size == 0:
        raise ModelInputError(f"log_rr: expected a non-empty 1-D array, got shape {log_rr.shape}")
    if not np.isfinite(log_rr).all():
        raise ModelInputError(f"log_rr: expected finite numbers, got {log_rr.tolist()}")
    return log_rr


def partial_predictor(design: np.ndarray, log_rr: np.ndarray, columns: Sequence[int]):
    """``Σ_{k in columns} x_k β_k`` for every row, summed left to right from 0.0.

    Parameters
    ----------
    design : numpy.ndarray, shape (n, p)
    log_rr : numpy.ndarray, shape (p,)
    columns : sequence of int
        Column indices, in increasing order.

    Returns
    -------
    numpy.ndarray, shape (n,)
    """
    total = np.zeros(design.shape[0])
    for k in columns:
        total += design[:, k] * log_rr[k]
    return total


def linear_predictor(design, log_rr) -> np.ndarray:
    """The log relative risk ``x·β`` of every row (NaN where a covariate is NaN).

    Parameters
    ----------
    design : array_like, shape (n, p)
        Covariates, one row per woman, in the columns' units of ``log_rr``.
    log_rr : array_like, shape (p,)
        Log relative risk per unit of each covariate.

    Returns
    -------
    numpy.ndarray, shape (n,)
        ``Σ_k x_k β_k`` (natural log of the relative risk; the RR is ``exp`` of it).

    Examples
    --------
    >>> import math
    >>> lp = linear_predictor([[1.0, 0.5], [0.0, float("nan")]], [math.log(1.8), math.log(1.61)])
    >>> lp.round(6).tolist()
    [0.825904, nan]
    """
    beta = as_log_rr(log_rr)
    x = as_design("design", design, beta.size, allow_nan=True)
    return partial_predictor(x, beta, range(beta.size))
