"""The packaged BCRAT parameter tables (provenance: ``data/PROVENANCE.md``).

Tables are read once, through :mod:`importlib.resources`, on first use.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib.resources import files

import numpy as np

from pebs.risk.gail.codes import FIRST_AGE, LIFETIME_AGE

N_YEARS = LIFETIME_AGE - FIRST_AGE
"""Single years of age covered by the tables: 20, 21, ..., 89."""

RATE_COLUMNS = (
    "Wh.1983_87", "AA.1994_98", "HU.1995_04", "NA.1983_87", "HF.1995_04", "Ch.1998_02",
    "Ja.1998_02", "Fi.1998_02", "Hw.1998_02", "oP.1998_02", "oA.1998_02", "Wh_Avg.1992_96",
)  # fmt: skip
"""Rate sets: one per race code 1..11 (in order), then the average White woman's."""

MODEL_COLUMNS = ("Wh.Gail", "AA.CARE", "HU.Gail", "NA.Gail", "HF.Gail", "Asian.AABCS")
"""Relative-risk models (log RR and attributable risk)."""

TERMS = ("N_Biop", "AgeMen", "Age1st", "N_Rels", "Age50xN_Biop", "Age1stxN_Rels")

AGE_GROUPS = tuple(f"{lo}-{lo + 4}" for lo in range(FIRST_AGE, LIFETIME_AGE, 5))

# Indexed by race code (0 is not a race and maps to nothing valid).
RATE_SET_OF_RACE = np.array([-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
AVERAGE_RATE_SET_OF_RACE = np.array([-1, 11, 1, 2, 11, 4, 5, 6, 7, 8, 9, 10])
"""Average-woman rates: races 1 and 4 use ``Wh_Avg.1992_96``, every other race its own."""
MODEL_OF_RACE = np.array([-1, 0, 1, 2, 3, 4, 5, 5, 5, 5, 5, 5])


@dataclass(frozen=True)
class GailParameters:
    """BCRAT parameters, expanded from five-year groups to single years of age 20..89."""

    incidence: np.ndarray
    """Composite invasive incidence per woman-year, shape (n_rate_sets, 70)."""
    competing_mortality: np.ndarray
    """Non-breast-cancer mortality per woman-year, shape (n_rate_sets, 70)."""
    log_rr: np.ndarray
    """Log relative risks, shape (n_models, 6), columns in :data:`TERMS` order."""
    one_minus_ar: np.ndarray
    """1 - attributable risk, shape (n_models, 2): ages < 50, ages >= 50."""


def _read_table(name: str, key: str, keys: tuple[str, ...], columns: tuple[str, ...]) -> np.ndarray:
    """Read ``data/<name>``; rows must be exactly ``keys`` and columns include ``columns``."""
    text = files("pebs.risk.gail").joinpath("data", name).read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    found = tuple(row[key] for row in rows)
    if found != keys:
        raise RuntimeError(f"packaged table {name}: expected rows {keys}, found {found}")
    return np.array([[float(row[c]) for c in columns] for row in rows])  # (n_rows, n_columns)


@functools.cache
def load() -> GailParameters:
    """Return the packaged parameters (read once, then cached)."""
    per_group = {
        name: _read_table(name, "age_group", AGE_GROUPS, RATE_COLUMNS).T  # (n_sets, 14)
        for name in ("lambda1_incidence.csv", "lambda2_competing_mortality.csv")
    }
    years = np.repeat(np.arange(len(AGE_GROUPS)), 5)  # (70,) group index of each single year
    return GailParameters(
        incidence=per_group["lambda1_incidence.csv"][:, years],
        competing_mortality=per_group["lambda2_competing_mortality.csv"][:, years],
        log_rr=_read_table("beta_log_rr.csv", "term", TERMS, MODEL_COLUMNS).T,
        one_minus_ar=_read_table(
            "one_minus_attributable_risk.csv", "age_band", ("age_lt_50", "age_ge_50"), MODEL_COLUMNS
        ).T,
    )
