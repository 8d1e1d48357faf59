"""Synthetic BCRA-coded cohorts for the benchmarks (fixed seed, ``numpy.random.Generator``).

The mix is meant to look like a screening population, not to be epidemiologically exact: all 11
BCRA race codes, current ages uniform on [20, 85) (fractional), every factor with its "unknown"
code (99) and nulliparous women (Age1st 98). A small share of rows (``invalid_share``, default
0.1 %) carries the commonest data-entry error, hyperplasia recorded without a biopsy, so that the
benchmark also exercises the rejected-row path as a real batch would.
"""

from __future__ import annotations

import numpy as np

COLUMNS = ("T1", "T2", "N_Biop", "HypPlas", "AgeMen", "Age1st", "N_Rels", "Race")
"""BCRA input columns, in ``risk_bcra`` argument order."""

RACE_SHARES = {
    1: 0.45, 2: 0.12, 3: 0.06, 4: 0.03, 5: 0.06, 6: 0.05, 7: 0.04, 8: 0.05, 9: 0.03, 10: 0.03,
    11: 0.08,
}  # fmt: skip
N_BIOP_SHARES = {0: 0.70, 1: 0.14, 2: 0.05, 3: 0.02, 99: 0.09}
HYPPLAS_SHARES = {0: 0.60, 1: 0.08, 99: 0.32}  # among women with at least one biopsy
N_RELS_SHARES = {0: 0.80, 1: 0.12, 2: 0.03, 3: 0.01, 99: 0.04}
AGE_MEN_UNKNOWN = 0.10
AGE_1ST_NULLIPAROUS = 0.15
AGE_1ST_UNKNOWN = 0.08
DEFAULT_SEED = 20240611


def _choice(rng: np.random.Generator, shares: dict[int, float], n: int) -> np.ndarray:
    codes = np.fromiter(shares, dtype=np.float64)
    p = np.fromiter(shares.values(), dtype=np.float64)
    return rng.choice(codes, size=n, p=p / p.sum())


def generate(
    n: int,
    rng: np.random.Generator,
    *,
    invalid_share: float = 0.001,
) -> dict[str, np.ndarray]:
    """Draw ``n`` women as float64 arrays keyed by :data:`COLUMNS`, with 5-year windows."""
    t1 = rng.uniform(20.0, 85.0, n)
    t2 = horizon_end(t1, "5y")
    race = _choice(rng, RACE_SHARES, n)
    n_biop = _choice(rng, N_BIOP_SHARES, n)
    no_biopsy = (n_biop == 0) | (n_biop == 99)
    hyp_plas = np.where(no_biopsy, 99.0, _choice(rng, HYPPLAS_SHARES, n))
    is_invalid = rng.random(n) < invalid_share
    hyp_plas = np.where(is_invalid & no_biopsy, 1.0, hyp_plas)
    age_men = np.clip(np.round(rng.normal(12.8, 1.4, n)), 8, 17)
    age_men = np.where(rng.random(n) < AGE_MEN_UNKNOWN, 99.0, age_men)
    earliest_birth = np.where(age_men == 99, 15.0, np.maximum(age_men, 15.0))
    age_1st = np.clip(np.round(rng.normal(26.0, 5.0, n)), earliest_birth, np.floor(t1))
    status = rng.random(n)
    age_1st = np.where(status < AGE_1ST_NULLIPAROUS, 98.0, age_1st)
    age_1st = np.where(
        (status >= AGE_1ST_NULLIPAROUS) & (status < AGE_1ST_NULLIPAROUS + AGE_1ST_UNKNOWN),
        99.0,
        age_1st,
    )
    n_rels = _choice(rng, N_RELS_SHARES, n)
    return dict(
        zip(COLUMNS, (t1, t2, n_biop, hyp_plas, age_men, age_1st, n_rels, race), strict=True)
    )


def horizon_end(t1: np.ndarray, horizon: str) -> np.ndarray:
    """T2 for ``"5y"`` (min(T1 + 5, 90)) or ``"lifetime"`` (90) risk."""
    if horizon == "5y":
        return np.minimum(t1 + 5.0, 90.0)
    if horizon == "lifetime":
        return np.full(t1.shape, 90.0)
    raise ValueError(f"horizon: expected '5y' or 'lifetime', got {horizon!r}")


def with_horizon(cohort: dict[str, np.ndarray], horizon: str) -> dict[str, np.ndarray]:
    """The same women with T2 set for ``horizon`` (a new dict; arrays are shared)."""
    return {**cohort, "T2": horizon_end(cohort["T1"], horizon)}
