"""Checks of the personalised model that users can rerun: calibration and level shares.

``python -m pebs.risk.personalised.validation`` prints the tables quoted in
``docs/models/personalised.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pebs.risk import icare
from pebs.risk.personalised.levels import LEVELS
from pebs.risk.personalised.model import HORIZON_YEARS, CountryModel, assess_population
from pebs.risk.reference_population import reference_population

SHARES_SEED = 70
"""Seed of the synthetic populations for the level shares (not the calibration seed)."""


@dataclass(frozen=True)
class CalibrationCheck:
    """Five-year risk from age ``age``: model vs the country's tables (proportions)."""

    age: int
    marginal: float
    """``Σ_t λm(t) exp(-Σ_{u<t} (λm(u) + μ(u)))`` over the window, from the country's tables."""
    survivors_mean: float
    """Mean model risk of the reference women still cancer-free at ``age`` (weights
    ``w_i S_i(age)``, ``S_i = exp(-RR_i Λ0)`` from the calibration's first age)."""
    unweighted_mean: float
    """Mean model risk of the reference population as drawn (no depletion)."""


def marginal_risk(calibration: icare.Calibration, age: int, years: int = HORIZON_YEARS) -> float:
    """Cumulative incidence over [age, age + years) implied by the marginal rates alone."""
    k = age - calibration.first_age
    lam = calibration.incidence[k : k + years]
    mu = calibration.competing_mortality[k : k + years]
    before = np.concatenate([[0.0], np.cumsum(lam + mu)[:-1]])  # hazard up to each year
    return float(np.sum(lam * np.exp(-before)))


def calibration_check(model: CountryModel, age: int) -> CalibrationCheck:
    """Compare the model's mean five-year risk with the country's incidence at ``age``."""
    cal = model.calibration
    risks = icare.reference_risks(cal, age, HORIZON_YEARS)  # (n_reference,)
    cumulative_baseline = float(np.sum(cal.baseline_hazard[: age - cal.first_age]))
    survival = np.exp(-np.exp(cal.reference_lp) * cumulative_baseline)
    weights = cal.reference_weights * survival
    return CalibrationCheck(
        age=age,
        marginal=marginal_risk(cal, age),
        survivors_mean=float(np.sum(weights * risks) / np.sum(weights)),
        unweighted_mean=float(np.sum(cal.reference_weights * risks)),
    )


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

    print("| country | age | tables 5-yr risk | model, survivors | rel. diff | model, as drawn |")
    print("|---|---:|---:|---:|---:|---:|")
    for code in available_countries():
        model = country_model(code)
        for age in (40, 50, 60, 70):
            c = calibration_check(model, age)
            print(
                f"| {code} | {age} | {c.marginal:.6f} | {c.survivors_mean:.6f} | "
                f"{c.survivors_mean / c.marginal - 1:+.1e} | {c.unweighted_mean:.6f} |"
            )
    print()
    print("| country | " + " | ".join(LEVELS) + " |")
    print("|---|" + "---:|" * len(LEVELS))
    for code in available_countries():
        shares = level_shares(country_model(code))
        print(f"| {code} | " + " | ".join(f"{100 * shares[n]:.1f}%" for n in LEVELS) + " |")


if __name__ == "__main__":  # pragma: no cover
    main()
