"""Fixtures for the Gail (BCRAT) tests: the R BCRA 2.1.2 reference sample and an independent oracle.

The reference file is parsed once per session with :mod:`csv` and :func:`float` (correctly rounded,
no rounding of the 17 significant digits). ``NA`` becomes NaN in numeric columns; the category
columns are kept as strings because they also hold BCRA's consistency codes ``A`` and ``B``.

The oracle (:class:`GailOracle`) is a deliberately plain, loop-per-year transcription of the
absolute-risk formula of BCRAT (Gail et al., JNCI 1989; R package BCRA 2.1.2), reading the parameter
CSVs shipped with the package with :mod:`csv` (inputs, not pebs output). Its race -> column mappings
come from the spec, not from pebs. ``test_gail_reference.py`` checks the oracle itself against R
before the property tests rely on it.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest

REFERENCE_CSV = Path(__file__).resolve().parents[1] / "data" / "bcra_reference_sample.csv"

INPUT_COLUMNS = ("T1", "T2", "N_Biop", "HypPlas", "AgeMen", "Age1st", "N_Rels", "Race")
NUMERIC_COLUMNS = (
    *INPUT_COLUMNS,
    "Error_Ind",
    "R_Hyp",
    "RR_Star1",
    "RR_Star2",
    "PatternNumber",
    "AbsRisk",
    "AbsRisk_Avg",
)
TEXT_COLUMNS = ("source", "CharRace", "NB_Cat", "AM_Cat", "AF_Cat", "NR_Cat")


@dataclass(frozen=True)
class BcraReference:
    """The R BCRA 2.1.2 reference sample, one numpy array per column."""

    case_id: np.ndarray  # int64
    numeric: dict[str, np.ndarray]  # float64, NaN where R wrote NA
    text: dict[str, np.ndarray]  # str, "NA" kept as the string "NA"

    def __len__(self) -> int:
        return self.case_id.size

    @property
    def inputs(self) -> dict[str, np.ndarray]:
        """The eight BCRA input columns, ready for ``risk_bcra(**inputs)``."""
        return {name: self.numeric[name] for name in INPUT_COLUMNS}

    @property
    def rejected(self) -> np.ndarray:
        """R's decision: True where ``Error_Ind == 1``."""
        return self.numeric["Error_Ind"] == 1

    def ids(self, mask: np.ndarray) -> list[int]:
        """Case ids of the rows selected by a boolean mask (for failure messages)."""
        return [int(i) for i in self.case_id[mask]]


def _parse(value: str) -> float:
    return math.nan if value == "NA" else float(value)


@pytest.fixture(scope="session")
def bcra_reference() -> BcraReference:
    with REFERENCE_CSV.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return BcraReference(
        case_id=np.array([int(row["case_id"]) for row in rows], dtype=np.int64),
        numeric={c: np.array([_parse(row[c]) for row in rows]) for c in NUMERIC_COLUMNS},
        text={c: np.array([row[c] for row in rows]) for c in TEXT_COLUMNS},
    )


# --- Independent oracle -------------------------------------------------------------------------

# Race code -> parameter columns, from BCRA 2.1.2's documentation (not from pebs).
RATE_COLUMN = {
    1: "Wh.1983_87",
    2: "AA.1994_98",
    3: "HU.1995_04",
    4: "NA.1983_87",
    5: "HF.1995_04",
    6: "Ch.1998_02",
    7: "Ja.1998_02",
    8: "Fi.1998_02",
    9: "Hw.1998_02",
    10: "oP.1998_02",
    11: "oA.1998_02",
}
AVERAGE_RATE_COLUMN = {**RATE_COLUMN, 1: "Wh_Avg.1992_96", 4: "Wh_Avg.1992_96"}
MODEL_COLUMN = {
    1: "Wh.Gail",
    2: "AA.CARE",
    3: "HU.Gail",
    4: "NA.Gail",
    5: "HF.Gail",
    **{race: "Asian.AABCS" for race in range(6, 12)},
}


def _read_columns(name: str) -> dict[str, list[float]]:
    text = files("pebs.risk.gail").joinpath("data", name).read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    key = next(iter(rows[0]))  # first column: age_group / term / age_band
    return {col: [float(row[col]) for row in rows] for col in rows[0] if col != key}


@dataclass(frozen=True)
class GailOracle:
    """Plain per-year evaluation of the BCRAT formulas (proportions, not percent)."""

    incidence: dict[str, list[float]]  # 14 five-year groups 20-24 .. 85-89
    mortality: dict[str, list[float]]
    log_rr: dict[str, list[float]]  # beta1..beta6
    one_minus_ar: dict[str, list[float]]  # [< 50, >= 50]

    def one_minus_attributable_risk(self, race: int) -> tuple[float, float]:
        """(1 - AR) for ages < 50 and >= 50 of the race's model."""
        below, above = self.one_minus_ar[MODEL_COLUMN[race]]
        return below, above

    def hazards(self, age: int, race: int, rr1: float, rr2: float, average: bool = False):
        """(h1, h2) for the single year of age ``age`` (20..89)."""
        group = (age - 20) // 5
        if average:
            column = AVERAGE_RATE_COLUMN[race]
            return self.incidence[column][group], self.mortality[column][group]
        column = RATE_COLUMN[race]
        ar = self.one_minus_ar[MODEL_COLUMN[race]][0 if age < 50 else 1]
        rr = rr1 if age < 50 else rr2
        return self.incidence[column][group] * ar * rr, self.mortality[column][group]

    def _pieces(self, t1: float, t2: float):
        """(year, length inside [t1, t2)) for every single year overlapping the window."""
        year = math.floor(t1)
        while year < t2:
            length = min(year + 1.0, t2) - max(float(year), t1)
            if length > 0:
                yield year, length
            year += 1

    def absolute_risk(
        self, t1: float, t2: float, race: int, rr1: float, rr2: float, average: bool = False
    ) -> float:
        """Sum_j h1/(h1+h2) * exp(-sum_{k<j}(h1+h2)L_k) * (1 - exp(-(h1+h2)L_j))."""
        risk = 0.0
        cumulative = 0.0
        for year, length in self._pieces(t1, t2):
            h1, h2 = self.hazards(year, race, rr1, rr2, average)
            total = h1 + h2
            risk += h1 / total * math.exp(-cumulative) * -math.expm1(-total * length)
            cumulative += total * length
        return risk

    def survival(self, t1: float, t2: float, race: int, rr1: float, rr2: float) -> float:
        """P(alive and free of breast cancer at t2 | alive and free at t1)."""
        cumulative = 0.0
        for year, length in self._pieces(t1, t2):
            h1, h2 = self.hazards(year, race, rr1, rr2)
            cumulative += (h1 + h2) * length
        return math.exp(-cumulative)


@pytest.fixture(scope="session")
def gail_oracle() -> GailOracle:
    return GailOracle(
        incidence=_read_columns("lambda1_incidence.csv"),
        mortality=_read_columns("lambda2_competing_mortality.csv"),
        log_rr=_read_columns("beta_log_rr.csv"),
        one_minus_ar=_read_columns("one_minus_attributable_risk.csv"),
    )
