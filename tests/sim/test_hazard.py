"""Piecewise-constant hazard tables against closed forms."""

import numpy as np

from pebs.sim._hazard import FIRST_AGE, LAST_AGE, N_YEARS, HazardTables


def test_constant_hazard_inverts_to_the_exponential_quantile():
    tables = HazardTables.from_rates(np.full((2, N_YEARS), [[0.01], [0.05]]))
    table = np.array([0, 1, 0, 1])
    start = np.array([40.0, 40.0, 55.5, 20.0])
    targets = tables.at(table, start) + np.array([0.2, 0.2, 0.05, 1.0])
    expected = start + np.array([0.2 / 0.01, 0.2 / 0.05, 0.05 / 0.01, 1.0 / 0.05])
    np.testing.assert_allclose(tables.invert(table, targets), expected, rtol=1e-12)


def test_piecewise_lookup_and_beyond_the_table():
    rates = np.zeros(N_YEARS)
    rates[30:] = 0.1  # from age 50
    tables = HazardTables.from_rates(rates[None, :])
    zero = np.zeros(3, dtype=np.intp)
    np.testing.assert_allclose(tables.at(zero, np.array([20.0, 50.0, 52.5])), [0, 0, 0.25])
    ages = tables.invert(zero, np.array([0.25, 1e6, np.inf]))
    np.testing.assert_allclose(ages[0], 52.5)
    assert np.isinf(ages[1:]).all()
    assert (FIRST_AGE, LAST_AGE) == (20, 130)
