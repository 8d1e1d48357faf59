"""The bundled synthetic example cohort, scored and summarised by age band."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import as_file, files

import numpy as np

from pebs.io.csv_table import read_csv_chunks
from pebs.risk import gail
from pebs.services.gail_scoring import INPUT_COLUMNS, ScoringSummary

HIGH_RISK_PCT = 1.67
"""Five-year BCRAT risk (percent) that the NCI tool flags as increased risk."""

AGE_BANDS = ((35, 40), (40, 50), (50, 60), (60, 70), (70, 90))


@dataclass(frozen=True)
class BandSummary:
    """Risk summary of the accepted women of one age band (risks in percent)."""

    label: str
    n_women: int
    mean_5y_pct: float
    median_5y_pct: float
    mean_average_5y_pct: float
    share_high_pct: float
    """Percent of the band's women with five-year risk >= :data:`HIGH_RISK_PCT`."""
    mean_lifetime_pct: float


@dataclass(frozen=True)
class CohortSummary:
    bands: list[BandSummary]
    scoring: ScoringSummary


def _band(label: str, five_year: np.ndarray, average: np.ndarray, lifetime: np.ndarray):
    if five_year.size == 0:
        return BandSummary(label, 0, *([float("nan")] * 5))
    return BandSummary(
        label=label,
        n_women=int(five_year.size),
        mean_5y_pct=float(five_year.mean()),
        median_5y_pct=float(np.median(five_year)),
        mean_average_5y_pct=float(average.mean()),
        share_high_pct=float(100.0 * np.mean(five_year >= HIGH_RISK_PCT)),
        mean_lifetime_pct=float(lifetime.mean()),
    )


def summarise_example_cohort() -> CohortSummary:
    """Score the bundled cohort (five-year window from the file, and lifetime to age 90)."""
    with as_file(files("pebs.examples").joinpath("gail_cohort.csv")) as path:
        (chunk,) = read_csv_chunks(path, INPUT_COLUMNS, chunk_rows=1_000_000)
    numbers = chunk.numbers
    five_year = gail.risk_bcra(**numbers)
    lifetime = gail.risk_bcra(**{**numbers, "T2": np.full_like(numbers["T2"], gail.LIFETIME_AGE)})
    scoring = ScoringSummary()
    scoring.add(five_year.error)
    ok = five_year.is_valid
    age = numbers["T1"]
    bands = [
        _band(
            f"{lo}-{hi - 1}" if hi < 90 else f"{lo}+",
            five_year.absolute_risk_pct[ok & (age >= lo) & (age < hi)],
            five_year.average_risk_pct[ok & (age >= lo) & (age < hi)],
            lifetime.absolute_risk_pct[ok & (age >= lo) & (age < hi)],
        )
        for lo, hi in AGE_BANDS
    ]
    bands.append(
        _band(
            "all",
            five_year.absolute_risk_pct[ok],
            five_year.average_risk_pct[ok],
            lifetime.absolute_risk_pct[ok],
        )
    )
    return CohortSummary(bands=bands, scoring=scoring)
