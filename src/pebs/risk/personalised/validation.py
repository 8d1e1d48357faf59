"""Checks of the personalised model that users can rerun: calibration by age and level shares.

``python -m pebs.risk.personalised.validation`` prints the tables quoted in
``docs/models/personalised.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pebs.risk import icare
from pebs.risk.country import CountryTables
from pebs.risk.levels import LEVELS
from pebs.risk.personalised.model import (
    HORIZON_YEARS,
    CountryModel,
    assess_population,
)
from pebs.risk.reference_population import reference_population

SHARES_SEED = 70
"""Seed of the synthetic populations for the level shares."""
CHECK_SEED = 1_000
"""Seed of the women drawn for :func:`calibration_by_age` (the age is added to it)."""
BANDS = tuple((lo, lo + 4) for lo in range(40, 75, 5))
"""Five-year age bands 40-44 ... 70-74 (whole years at assessment)."""


@dataclass(frozen=True)
class CalibrationCheck:
    """Five-year risk from age ``age``: model vs the country's tables (proportions)."""

    age: int
    marginal: float
    """Cumulative incidence over the window from the tables (:func:`cumulative_incidence`)."""
    reference_mean: float
    """Weighted mean model risk of the calibration's reference women of that age."""


@dataclass(frozen=True)
class BandCalibration:
    """Expected over observed five-year cases in one age band (proportions summed over ages)."""

    band: str
    """"40-44", ... (whole years at assessment)."""
    expected: float
    """Sum over the band's single ages of the mean model risk of women drawn at that age."""
    observed: float
    """Sum over the same ages of the tables' five-year cumulative incidence."""
    n_women: int

    @property
    def ratio(self) -> float:
        return self.expected / self.observed


def cumulative_incidence(tables: CountryTables, age: int, years: int = HORIZON_YEARS) -> float:
    """Probability of breast cancer over [age, age + years) for a woman alive and cancer-free at
    ``age``, from the tables' hazards (constant within each year), death as a competing risk::

        Σ_t λ(t) / (λ(t) + μ(t)) · (1 - exp(-(λ(t) + μ(t)))) · exp(-Σ_{u<t} (λ(u) + μ(u)))
    """
    k = int(np.flatnonzero(tables.ages == age)[0])
    lam = tables.incidence[k : k + years]
    total = lam + tables.competing_mortality[k : k + years]
    before = np.concatenate([[0.0], np.cumsum(total)[:-1]])
    return float(np.sum(lam / total * -np.expm1(-total) * np.exp(-before)))


def marginal_risk(calibration: icare.Calibration, age: int, years: int = HORIZON_YEARS) -> float:
    """iCARE's whole-year sum over [age, age + years) applied to a calibration's marginal rates."""
    k = age - calibration.first_age
    lam = calibration.incidence[k : k + years]
    mu = calibration.competing_mortality[k : k + years]
    before = np.concatenate([[0.0], np.cumsum(lam + mu)[:-1]])  # hazard up to each year
    return float(np.sum(lam * np.exp(-before)))


def calibration_check(model: CountryModel, age: int) -> CalibrationCheck:
    """Compare the mean model risk of the reference women of ``age`` with the tables."""
    cal = model.calibration.at(age)
    risks = icare.reference_risks(cal, age, HORIZON_YEARS)  # (n_reference,)
    return CalibrationCheck(
        age=age,
        marginal=cumulative_incidence(model.tables, age),
        reference_mean=float(np.sum(cal.reference_weights * risks)),
    )


def calibration_by_age(
    model: CountryModel, *, n_per_age: int = 10_000, seed: int = CHECK_SEED, bands=BANDS
) -> list[BandCalibration]:
    """E/O per five-year age band for women drawn by the country's reference generator.

    At each single age, ``n_per_age`` women are drawn with
    :func:`~pebs.risk.reference_population.reference_population` (seed ``seed + age``, not the
    calibration's grid) and assessed; E sums their mean risks over the band's ages and O the
    tables' cumulative incidences (:func:`cumulative_incidence`).
    """
    rows = []
    for lo, hi in bands:
        expected = observed = 0.0
        for age in range(lo, hi + 1):
            women = reference_population(
                model.country, n_per_age, rng=np.random.default_rng(seed + age), ages=[age]
            )
            expected += float(np.mean(assess_population(model, women).risk_5y))
            observed += cumulative_incidence(model.tables, age)
        rows.append(BandCalibration(f"{lo}-{hi}", expected, observed, n_per_age * (hi - lo + 1)))
    return rows


def level_shares(model: CountryModel, n: int = 100_000, ages=range(40, 71)) -> dict[str, float]:
    """Share (proportion) of each MyPeBS level among ``n`` synthetic women of the country,
    spread evenly over ``ages``, with complete PRS and density."""
    women = reference_population(
        model.country, n, rng=np.random.default_rng(SHARES_SEED), ages=list(ages)
    )
    levels = assess_population(model, women).level
    return {name: float(np.mean(levels == name)) for name in LEVELS}


def main() -> None:  # pragma: no cover - a report for the docs
    from pebs.risk.country import available_countries
    from pebs.risk.personalised.model import country_model

    print("E/O of the five-year risk by age band (10,000 women drawn per single age)")
    print()
    print("| country | " + " | ".join(f"{lo}-{hi}" for lo, hi in BANDS) + " | min | max |")
    print("|---|" + "---:|" * (len(BANDS) + 2))
    for code in available_countries():
        ratios = [row.ratio for row in calibration_by_age(country_model(code))]
        cells = " | ".join(f"{r:.3f}" for r in ratios)
        print(f"| {code} | {cells} | {min(ratios):.3f} | {max(ratios):.3f} |")
    print()
    print("| country | " + " | ".join(LEVELS) + " |")
    print("|---|" + "---:|" * len(LEVELS))
    for code in available_countries():
        shares = level_shares(country_model(code))
        print(f"| {code} | " + " | ".join(f"{100 * shares[n]:.1f}%" for n in LEVELS) + " |")


if __name__ == "__main__":  # pragma: no cover
    main()
