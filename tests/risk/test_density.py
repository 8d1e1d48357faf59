"""Breast density: parsing, relative risks and prevalence against the shared CSVs.

The CSVs are read from the copies in tests/data/epi/.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from pebs.risk._arrays import ModelInputError
from pebs.risk.density import (
    CATEGORIES,
    DEFAULT_RR_SOURCE,
    density_codes,
    density_prevalence,
    density_relative_risks,
    density_rr,
)

EPI = Path(__file__).resolve().parents[1] / "data" / "epi"


def read_rows(name: str) -> list[dict[str, str]]:
    with (EPI / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# --- parsing ------------------------------------------------------------------------------------


def test_letters_parse_case_insensitively_with_spaces():
    values = np.array(["a", "B", " c", "D ", "A", "d"], dtype=object)
    np.testing.assert_array_equal(density_codes(values), [0, 1, 2, 3, 0, 3])


def test_missing_values_become_minus_one():
    codes = density_codes(np.array(["", "  ", None, np.nan, float("nan"), "b"], dtype=object))
    np.testing.assert_array_equal(codes, [-1, -1, -1, -1, -1, 1])
    assert codes.dtype == np.int8


def test_numpy_string_arrays_lists_and_all_nan_columns_are_accepted():
    np.testing.assert_array_equal(density_codes(np.array(["c", "a"])), [2, 0])
    np.testing.assert_array_equal(density_codes(["d"]), [3])
    np.testing.assert_array_equal(density_codes("b"), [1])
    np.testing.assert_array_equal(density_codes(np.full(3, np.nan)), [-1, -1, -1])


@pytest.mark.parametrize("bad", [["e"], ["ab"], [1], ["1"], [0.0], ["a", "x", "b"]])
def test_anything_else_is_rejected_naming_the_allowed_letters(bad):
    with pytest.raises(ModelInputError, match=r"values: BI-RADS density must be one of a, b, c, d"):
        density_codes(bad)


def test_two_dimensional_input_is_rejected():
    with pytest.raises(ModelInputError, match="1-D"):
        density_codes([["a", "b"]])


# --- relative risks -----------------------------------------------------------------------------


def published_rr(source: str) -> dict[str, tuple[float, str]]:
    return {
        row["density"]: (float(row["rr"]), row["reference"])
        for row in read_rows("density_rr.csv")
        if row["source_id"] == source
    }


def test_default_rr_is_mccormack_2006_a_b_c_d_1_2_2_3_4():
    # Published values (McCormack & dos Santos Silva 2006 via Breast Cancer Res 2007 Table 1)
    np.testing.assert_array_equal(density_rr([0, 1, 2, 3]), [1.0, 2.2, 3.0, 4.0])
    expected = published_rr("McCormack2006_via_Vachon2007")
    assert DEFAULT_RR_SOURCE == "McCormack2006_via_Vachon2007"
    np.testing.assert_array_equal(
        density_relative_risks().rr, [expected[letter][0] for letter in CATEGORIES]
    )
    assert density_relative_risks().reference == "a"


@pytest.mark.parametrize("source", ["Cummings2009_Table2", "BCSC_Tice2013_Table4"])
def test_other_complete_sources_match_the_csv(source):
    expected = published_rr(source)
    rrs = density_relative_risks(source)
    np.testing.assert_array_equal(rrs.rr, [expected[letter][0] for letter in CATEGORIES])
    assert rrs.reference == expected["a"][1]
    np.testing.assert_array_equal(density_rr([3, 0], source=source), [rrs.rr[3], rrs.rr[0]])


def test_tice_rr_uses_b_as_reference_and_has_no_ci_for_it():
    rrs = density_relative_risks("BCSC_Tice2013_Table4")
    assert rrs.reference == "b"
    assert rrs.rr[1] == 1.0
    assert np.isnan(rrs.ci_low[1])
    assert rrs.ci_low[3] == pytest.approx(1.73)


def test_missing_density_gives_nan_rr():
    result = density_rr(np.array([-1, 2, -1]))
    assert np.isnan(result[[0, 2]]).all()
    assert result[1] == 3.0


@pytest.mark.parametrize("codes", [[4], [-2], [1.5], [np.nan]])
def test_invalid_codes_are_rejected(codes):
    with pytest.raises(
        ModelInputError, match=r"codes: density codes must be -1 \(missing\) or 0..3"
    ):
        density_rr(codes)


@pytest.mark.parametrize("source", ["Bodewes2022", "nope", None])
def test_incomplete_or_unknown_sources_list_the_usable_ones(source):
    with pytest.raises(ModelInputError, match="source: ") as error:
        density_relative_risks(source)
    assert (
        "available: BCSC_Tice2013_Table4, Cummings2009_Table2, McCormack2006_via_Vachon2007"
        in str(error.value)
    )


# --- prevalence ---------------------------------------------------------------------------------


def eu_row(age: float) -> list[float]:
    for row in read_rows("density_prevalence_EU_SiMRiSC.csv"):
        if float(row["age_lo"]) <= age < float(row["age_hi"]) + 1:
            return [float(row[f"p_{c}"]) for c in CATEGORIES]
    raise AssertionError(age)


def test_eu_prevalence_is_the_simrisc_row_of_each_age_group():
    ages = [0, 20, 39.99, 40, 45.5, 49.99, 50, 59, 60, 69.5, 70, 74, 100]
    expected = [eu_row(age) for age in ages]
    np.testing.assert_allclose(density_prevalence(ages), expected, rtol=1e-15)
    np.testing.assert_allclose(density_prevalence(ages).sum(axis=1), 1.0, rtol=1e-15)


def test_us_prevalence_keeps_the_published_dense_share_by_age():
    rows = read_rows("density_prevalence_US.csv")
    by_age = [r for r in rows if r["source_id"] == "BCSC_Sprague2014_via_ASCOPost"]
    assert len(by_age) == 10
    for row in by_age:
        age = float(row["age_lo"]) + 2
        shares = density_prevalence([age], "US_BCSC")[0]
        assert shares[2] + shares[3] == pytest.approx(float(row["p_cd"]), rel=1e-12), age
        assert shares.sum() == pytest.approx(1.0, rel=1e-12)


def test_us_prevalence_splits_dense_and_fatty_in_the_pooled_bcsc_proportions():
    # BCSC JAMA Intern Med 2019 Table 1, women 40-74: a 0.109, b 0.421, c 0.389, d 0.081
    shares = density_prevalence([42, 57, 90], "US_BCSC")
    np.testing.assert_allclose(shares[:, 2] / shares[:, 3], 0.389 / 0.081, rtol=1e-12)
    np.testing.assert_allclose(shares[:, 0] / shares[:, 1], 0.109 / 0.421, rtol=1e-12)


def test_us_prevalence_is_nan_below_40_and_for_nan_ages():
    shares = density_prevalence([39.9, np.nan, 40.0], "US_BCSC")
    assert np.isnan(shares[:2]).all()
    assert not np.isnan(shares[2]).any()


def test_prevalence_shape_and_unknown_table():
    assert density_prevalence(np.arange(40, 75)).shape == (35, 4)
    with pytest.raises(ModelInputError, match=r"table: unknown .*EU_SiMRiSC, US_BCSC"):
        density_prevalence([50], "NL")
