"""The cohort keeps the four Gail categories it draws, and they are the ones its risks use."""

import numpy as np

from pebs.risk.density import density_relative_risks
from pebs.risk.gail import relative_risk
from pebs.risk.gail.recode import Categories
from pebs.sim import parse_scenario
from pebs.sim.cohort import draw_cohort, scenario_onset_model
from pebs.sim.parameters import default_parameters
from pebs.sim.risk_model import country_risk

TWO_COUNTRIES = """
[population]
countries = { FR = 1.0, US = 1.0 }
entry_age = [40, 71]
follow_up_years = 5
"""
ORDER = ("menarche", "first_birth", "biopsies", "relatives")  # rows of gail_categories


def _cohort():
    scenario = parse_scenario(TWO_COUNTRIES)
    params = default_parameters()
    return scenario, params, draw_cohort(scenario, params, 31, 0, 20_000)


def test_the_four_categories_are_kept_and_relatives_is_their_fourth_row():
    _, _, cohort = _cohort()
    categories = cohort.gail_categories
    assert categories.dtype == np.int8
    assert categories.shape == (4, len(cohort))
    np.testing.assert_array_equal(cohort.relatives, categories[3])
    maxima = [2, 3, 2, 2]  # AM 0-2, AF 0-3, NB 0-2, NR 0-2 (pebs.risk.gail codes)
    for row, top in zip(categories, maxima, strict=True):
        assert row.min() == 0
        assert row.max() == top


def test_each_woman_relative_risk_comes_from_her_kept_categories():
    """RR = Gail RR x OR^z x density RR / normaliser: recomputed from the kept categories with
    pebs.risk.gail, the ratio to the simulator's RR is the normaliser of her own table."""
    scenario, params, cohort = _cohort()
    n = len(cohort)
    named = dict(zip(ORDER, cohort.gail_categories, strict=True))
    gail = relative_risk(
        Categories(
            **named, hyperplasia_rr=np.ones(n), race=np.ones(n, dtype=np.int8),
            error=np.zeros(n, dtype=np.int32),
        )
    )  # fmt: skip
    gail_rr = np.where(cohort.entry >= 50, gail.from_50, gail.under_50)
    density_rr = np.asarray(density_relative_risks(params.density_rr_source).rr)
    unnormalised = gail_rr * params.prs_or_per_sd**cohort.prs_z * density_rr[cohort.density_entry]
    normaliser = scenario_onset_model(scenario, params).normaliser.ravel()[cohort.table]
    np.testing.assert_allclose(unnormalised / cohort.rr, normaliser, rtol=1e-12)


def test_category_shares_are_the_country_shares():
    scenario, _, cohort = _cohort()
    for c, code in enumerate(scenario.countries):
        mine = cohort.country == c
        for f, row in enumerate(cohort.gail_categories):
            shares = country_risk(code).shares[f]
            counts = np.bincount(row[mine], minlength=shares.size)
            sd = np.sqrt(mine.sum() * shares * (1 - shares))  # binomial
            assert np.all(np.abs(counts - mine.sum() * shares) < 4 * sd + 1), (code, ORDER[f])
