"""Plain scalar, per-woman BCRAT (Gail model): the peer of the vectorised ``pebs.risk.gail``.

Written straight from the BCRAT specification (the NCI BCRAT algorithm of R's BCRA
2.1.2), independently of ``src/``: one woman at a time, Python floats and :mod:`math`, and the
year-by-year sum of the specification::

    AbsRisk = sum_j h1_j/(h1_j+h2_j) * exp(-sum_{k<j}(h1_k+h2_k) L_k) * (1 - exp(-(h1_j+h2_j) L_j))

It serves two purposes in ``python -m benchmarks``: the "plain scalar per-woman implementation"
whose speed the vectorised code is compared with, and an independent numerical cross-check.

Like R (and unlike ``pebs.risk.gail``) it is lenient on ``N_Biop``: -1, 1.5 or 98 count as "2 or
more biopsies", and ``N_Rels`` of 2.5 counts as "2 or more". ``Age1st`` codes between 98 and 99 or
above 99 are rejected (the specification does not define them). Results are **proportions**
(0..1); ``None`` fields mean the row was rejected (``error`` is then True).

Only the parameter files are shared with the package: the same CSV tables, read here with
:mod:`csv`.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "src" / "pebs" / "risk" / "gail" / "data"

FIRST_AGE = 20
LIFETIME_AGE = 90
UNKNOWN = 99
NULLIPAROUS = 98

# Column of the rate tables for race codes 1..11, and for the "average woman" of each race.
RATE_COLUMN = {
    1: "Wh.1983_87", 2: "AA.1994_98", 3: "HU.1995_04", 4: "NA.1983_87", 5: "HF.1995_04",
    6: "Ch.1998_02", 7: "Ja.1998_02", 8: "Fi.1998_02", 9: "Hw.1998_02", 10: "oP.1998_02",
    11: "oA.1998_02",
}  # fmt: skip
AVERAGE_RATE_COLUMN = {**RATE_COLUMN, 1: "Wh_Avg.1992_96", 4: "Wh_Avg.1992_96"}
# Column of the log-RR and attributable-risk tables (the relative-risk model) per race code.
MODEL_COLUMN = {
    1: "Wh.Gail", 2: "AA.CARE", 3: "HU.Gail", 4: "NA.Gail", 5: "HF.Gail",
    **{race: "Asian.AABCS" for race in range(6, 12)},
}  # fmt: skip
BETA_TERMS = ("N_Biop", "AgeMen", "Age1st", "N_Rels", "Age50xN_Biop", "Age1stxN_Rels")


def _read(name: str) -> dict[str, dict[str, float]]:
    """Read a parameter table as {row key: {column: value}}."""
    with open(DATA_DIR / name, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return {row[0]: dict(zip(header[1:], map(float, row[1:]), strict=True)) for row in reader}


def _by_single_year(table: dict[str, dict[str, float]], column: str) -> list[float]:
    """Rates for ages 20..89, one per single year (each five-year group repeated 5 times)."""
    years: list[float] = []
    for lo in range(FIRST_AGE, LIFETIME_AGE, 5):
        years += [table[f"{lo}-{lo + 4}"][column]] * 5
    return years


def _load_parameters():
    lambda1 = _read("lambda1_incidence.csv")
    lambda2 = _read("lambda2_competing_mortality.csv")
    beta = _read("beta_log_rr.csv")
    one_minus_ar = _read("one_minus_attributable_risk.csv")
    races = range(1, 12)
    rates = {
        r: (_by_single_year(lambda1, c), _by_single_year(lambda2, c))
        for r, c in RATE_COLUMN.items()
    }
    average = {
        r: (_by_single_year(lambda1, c), _by_single_year(lambda2, c))
        for r, c in AVERAGE_RATE_COLUMN.items()
    }
    betas = {r: tuple(beta[t][MODEL_COLUMN[r]] for t in BETA_TERMS) for r in races}
    ar = {
        r: (one_minus_ar["age_lt_50"][MODEL_COLUMN[r]], one_minus_ar["age_ge_50"][MODEL_COLUMN[r]])
        for r in races
    }
    return rates, average, betas, ar


RATES, AVERAGE_RATES, BETAS, ONE_MINUS_AR = _load_parameters()


@dataclass(frozen=True)
class ScalarResult:
    """One woman's BCRAT result; risks are proportions (0..1), None when rejected."""

    error: bool
    absolute_risk: float | None = None
    average_risk: float | None = None
    rr_under_50: float | None = None
    rr_from_50: float | None = None


REJECTED = ScalarResult(error=True)


def recode(T1, T2, N_Biop, HypPlas, AgeMen, Age1st, N_Rels, Race):
    """Return (NB, AM, AF, NR, R_Hyp) after race-specific regrouping, or None if invalid."""
    if not (FIRST_AGE <= T1 < LIFETIME_AGE and T2 <= LIFETIME_AGE and T1 < T2):
        return None
    if Race not in RATES:
        return None
    # Biopsies and hyperplasia.
    if N_Biop in (0, UNKNOWN):
        if HypPlas != UNKNOWN:
            return None
        nb, r_hyp = 0, 1.0
    else:
        if HypPlas not in (0, 1, UNKNOWN):
            return None
        nb = 1 if N_Biop == 1 else 2
        r_hyp = {0: 0.93, 1: 1.82, UNKNOWN: 1.0}[HypPlas]
    # Menarche.
    if AgeMen == UNKNOWN or 14 <= AgeMen <= T1:
        am = 0
    elif 12 <= AgeMen < 14:
        am = 1
    elif 0 < AgeMen < 12:
        am = 2
    else:
        return None
    # First live birth (African-American women: forced to 0 before the check).
    if Race == 2:
        af = 0
    else:
        if Age1st < NULLIPAROUS and ((AgeMen != UNKNOWN and Age1st < AgeMen) or Age1st > T1):
            return None
        if Age1st < 20 or Age1st == UNKNOWN:
            af = 0
        elif Age1st < 25:
            af = 1
        elif Age1st < 30 or Age1st == NULLIPAROUS:
            af = 2
        elif Age1st < NULLIPAROUS:
            af = 3
        else:
            return None
    # Relatives.
    if N_Rels in (0, UNKNOWN):
        nr = 0
    elif N_Rels == 1:
        nr = 1
    elif 2 <= N_Rels <= 98:
        nr = 2
    else:
        return None
    # Race-specific regrouping.
    if Race == 2 and am == 2:
        am = 1
    if Race in (3, 5):
        if nb == 2:
            nb = 1
        if Race == 3:
            am = 0
        if af == 2 and Age1st != NULLIPAROUS:
            af = 1
        if af == 3:
            af = 2
        if nr == 2:
            nr = 1
    if Race >= 6 and nr == 2:
        nr = 1
    return nb, am, af, nr, r_hyp


def relative_risks(nb, am, af, nr, r_hyp, Race):
    """(RR_Star1, RR_Star2): relative risks for ages < 50 and >= 50."""
    b1, b2, b3, b4, b5, b6 = BETAS[Race]
    lp1 = nb * b1 + am * b2 + af * b3 + nr * b4 + af * nr * b6 + math.log(r_hyp)
    lp2 = lp1 + nb * b5
    return math.exp(lp1), math.exp(lp2)


def window_risk(T1, T2, lambda1, lambda2, multiplier_under_50, multiplier_from_50):
    """The specification's year-by-year sum over [T1, T2), as a proportion.

    ``lambda1``/``lambda2`` are per single year 20..89; ``h1 = lambda1 * multiplier`` with the
    multiplier of the year's age band ((1 - AR) * RR for a woman, 1 for the average woman).
    """
    risk = 0.0
    cumulative = 0.0  # sum_{k<j} (h1_k + h2_k) * L_k
    for year in range(math.floor(T1), math.ceil(T2)):
        length = min(T2, year + 1) - max(T1, year)  # L_j: part of year j inside the window
        index = year - FIRST_AGE
        multiplier = multiplier_under_50 if year < 50 else multiplier_from_50
        h1 = lambda1[index] * multiplier
        total = h1 + lambda2[index]
        # 1 - exp(-x) evaluated as -expm1(-x): the same quantity without cancellation.
        risk += h1 / total * math.exp(-cumulative) * -math.expm1(-total * length)
        cumulative += total * length
    return risk


def risk_bcra(T1, T2, N_Biop, HypPlas, AgeMen, Age1st, N_Rels, Race) -> ScalarResult:
    """BCRAT for one woman, BCRA codes in; absolute and average-woman risk as proportions."""
    categories = recode(T1, T2, N_Biop, HypPlas, AgeMen, Age1st, N_Rels, Race)
    if categories is None:
        return REJECTED
    nb, am, af, nr, r_hyp = categories
    rr1, rr2 = relative_risks(nb, am, af, nr, r_hyp, Race)
    ar1, ar2 = ONE_MINUS_AR[Race]
    lambda1, lambda2 = RATES[Race]
    absolute = window_risk(T1, T2, lambda1, lambda2, ar1 * rr1, ar2 * rr2)
    avg_lambda1, avg_lambda2 = AVERAGE_RATES[Race]
    average = window_risk(T1, T2, avg_lambda1, avg_lambda2, 1.0, 1.0)
    return ScalarResult(
        error=False, absolute_risk=absolute, average_risk=average, rr_under_50=rr1, rr_from_50=rr2
    )


def risk_many(rows) -> list[ScalarResult]:
    """Score an iterable of (T1, T2, N_Biop, HypPlas, AgeMen, Age1st, N_Rels, Race) tuples."""
    return [risk_bcra(*row) for row in rows]
