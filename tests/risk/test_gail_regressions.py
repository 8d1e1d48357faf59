"""Regression tests for problems found in pebs.risk.gail and fixed: unknown parity, infinite
counts, and large relative risks at old ages (checked against the year-by-year oracle)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pebs.risk import gail

FRIENDLY = {
    "age": 40.0,
    "n_biopsies": 0,
    "atypical_hyperplasia": None,
    "age_at_menarche": 13,
    "age_at_first_birth": 22,
    "n_relatives": 0,
    "race": "white",
}


@pytest.mark.parametrize("unknown", [np.nan, None])
def test_unknown_nulliparous_does_not_override_age_at_first_birth(unknown):
    """docs: 'NaN/None = unknown'. An unknown parity flag must not turn a mother of a child born
    at 22 (AF 1) into a nulliparous woman (Age1st 98, AF 2)."""
    try:
        result = gail.risk(**FRIENDLY, nulliparous=unknown)
    except ValueError:
        return
    known = gail.risk(**FRIENDLY, nulliparous=False)
    assert result.categories.first_birth[0] == known.categories.first_birth[0] == 1


def test_infinite_number_of_biopsies_is_rejected():
    """docs: 'N_Biop must be a whole number >= 0, or 99'; _is_whole says 'False for NaN and
    +-inf'."""
    result = gail.risk_bcra(45, 50, np.inf, 0, 13, 22, 0, 1)
    assert result.error[0] == gail.GailError.N_BIOP_INVALID


@pytest.mark.parametrize(
    ("race", "rr", "t1", "t2"),
    [
        (2, 150.0, 88.0, 90.0),  # was 6e-9 relative error with cumulative tables alone
        (1, 300.0, 85.0, 90.0),  # was 6e-6
        (9, 300.0, 85.0, 90.0),  # was 0.9 %
        (1, 1000.0, 85.0, 90.0),  # was 8 % (0.8670 instead of 0.9426)
    ],
)
def test_absolute_risk_is_accurate_for_large_relative_risks(gail_oracle, race, rr, t1, t2):
    """docs/models/gail.md §8: absolute_risk 'accepts any relative risks'. BCRAT's own patterns
    stay below RR ~ 32 (exact there), so risk_bcra is unaffected."""
    expected = gail_oracle.absolute_risk(t1, t2, race, rr, rr)
    actual = gail.absolute_risk(t1, t2, race, rr, rr)[0]
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=0)


def test_absolute_risk_is_finite_for_huge_relative_risks(gail_oracle):
    actual = gail.absolute_risk(85.0, 90.0, 1, 1e4, 1e4)[0]  # was NaN + RuntimeWarning
    expected = gail_oracle.absolute_risk(85.0, 90.0, 1, 1e4, 1e4)
    assert math.isfinite(actual)
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=0)
