"""The personalised model is calibrated at every age: among women of one age, the mean five-year
risk equals the cumulative incidence of the country's tables.

O is computed here from the country's incidence and all-cause mortality, with hazards constant
within each year of age and death as a competing risk (the cumulative incidence function, e.g.
Putter, Fiocco & Geskus, Stat Med 2007). E is the mean model risk of women drawn by the country's
reference generator at each single age (not the grid the calibration uses).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from pebs.risk import personalised
from pebs.risk.country import available_countries, country_tables
from pebs.risk.reference_population import reference_population

WOMEN_PER_AGE = 10_000
BANDS = [(lo, lo + 4) for lo in range(40, 75, 5)]


def five_year_incidence(code: str, age: int) -> float:
    """P(breast cancer in [age, age + 5) | alive and cancer-free at age), year by year."""
    tables = country_tables(code)
    position = {int(a): k for k, a in enumerate(tables.ages)}[age]
    probability, alive = 0.0, 1.0
    for k in range(position, position + 5):
        cancer = float(tables.incidence[k])
        death = float(tables.competing_mortality[k])
        leave = cancer + death
        probability += alive * cancer / leave * (1.0 - math.exp(-leave))
        alive *= math.exp(-leave)
    return probability


@pytest.fixture(scope="module", params=available_countries())
def expected_over_observed(request):
    code = request.param
    model = personalised.country_model(code)
    ratios = {}
    for lo, hi in BANDS:
        expected = observed = 0.0
        for age in range(lo, hi + 1):
            women = reference_population(
                code, WOMEN_PER_AGE, rng=np.random.default_rng([7, age]), ages=[age]
            )
            result = personalised.assess_population(model, women)
            assert result.is_valid.all()
            expected += float(np.mean(result.risk_5y))
            observed += five_year_incidence(code, age)
        ratios[f"{lo}-{hi}"] = expected / observed
    return code, ratios


def test_expected_over_observed_in_every_age_band(expected_over_observed):
    code, ratios = expected_over_observed
    outside = {band: round(r, 4) for band, r in ratios.items() if not 0.98 <= r <= 1.02}
    assert not outside, f"{code}: E/O outside 0.98-1.02 in {outside}"


def test_no_age_trend_left(expected_over_observed):
    """Before calibration by age, E/O fell from 1.19 at 40-44 to 0.93 at 70-74 in every country."""
    _, ratios = expected_over_observed
    assert abs(ratios["40-44"] - ratios["70-74"]) < 0.02


def test_the_incidence_formula_by_hand():
    # One year, hazards 0.002 and 0.01: P(cancer first) = 0.002/0.012 * (1 - e^-0.012).
    assert 0.002 / 0.012 * -math.expm1(-0.012) == pytest.approx(0.0019880, abs=1e-7)
    # Five years of FR at 50 lie between the first-order sum and the sum without deaths.
    tables = country_tables("FR")
    k = int(np.flatnonzero(tables.ages == 50)[0])
    upper = float(np.sum(tables.incidence[k : k + 5]))
    assert 0.9 * upper < five_year_incidence("FR", 50) < upper
