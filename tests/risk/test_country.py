"""Country tables against the shared CSVs (copied to tests/data/epi/), and the expansion rules.

The expected values are computed here from the CSV copies with a plain loop (the group whose
``age_lo <= age <= age_hi`` contains each single age), independently of ``pebs.risk.country``.
"""

from __future__ import annotations

import csv
import hashlib
import math
import re
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest

from pebs.risk._arrays import ModelInputError
from pebs.risk.country import (
    COUNTRIES,
    available_countries,
    country_tables,
    expand_to_single_ages,
)

EPI = Path(__file__).resolve().parents[1] / "data" / "epi"
CODES = ("BE", "ES", "FR", "IL", "IT", "UK", "UK_ENG", "US")
PERIOD_SUFFIX = {"2020-2024": "", "2015-2019": "_2015_2019"}


def read_groups(name: str) -> list[tuple[float, float, float, str]]:
    with (EPI / name).open(newline="", encoding="utf-8") as handle:
        return [
            (float(r["age_lo"]), float(r["age_hi"]), float(r["rate_per_100k"]), r["source_id"])
            for r in csv.DictReader(handle)
        ]


def expected_by_age(name: str, ages) -> tuple[list[float], set[str]]:
    """Rate per woman-year of each age's group, and the source ids of the groups used."""
    groups = read_groups(name)
    rates, sources = [], set()
    for age in ages:
        (rate, source) = next((r, s) for lo, hi, r, s in groups if lo <= age <= hi)
        rates.append(rate / 100_000)
        sources.add(source)
    return rates, sources


def test_available_countries_are_the_seven_countries_and_england():
    assert available_countries() == CODES
    assert set(COUNTRIES) == set(CODES)


@pytest.mark.parametrize("period", list(PERIOD_SUFFIX))
@pytest.mark.parametrize("code", CODES)
def test_tables_match_the_shared_csvs_at_every_age(code, period):
    tables = country_tables(code, mortality_period=period)
    ages = list(range(20, 101))
    assert tables.ages.tolist() == ages
    assert tables.ages.dtype == np.int64

    incidence, incidence_sources = expected_by_age(f"incidence_{code}.csv", ages)
    mortality_code = "UK" if code == "UK_ENG" else code
    mortality, mortality_sources = expected_by_age(
        f"mortality_allcause_{mortality_code}{PERIOD_SUFFIX[period]}.csv", ages
    )
    np.testing.assert_allclose(tables.incidence, incidence, rtol=1e-15, atol=0)
    np.testing.assert_allclose(tables.competing_mortality, mortality, rtol=1e-15, atol=0)
    assert set(tables.incidence_sources) == incidence_sources
    assert set(tables.mortality_sources) == mortality_sources
    assert tables.mortality_period == period
    assert tables.code == code
    assert tables.name == COUNTRIES[code]


def test_rates_are_per_woman_year_not_per_100k():
    fr = country_tables("FR")
    # incidence_FR.csv 50-54: 280.09 per 100,000 -> 0.0028009 per woman-year
    assert fr.incidence[fr.ages == 52][0] == pytest.approx(280.09e-5, rel=1e-15)
    # mortality_allcause_FR.csv 100+: 45744.72 per 100,000
    assert fr.competing_mortality[-1] == pytest.approx(0.4574472, rel=1e-15)


def test_open_top_groups_extend_to_the_end_of_the_grid():
    tables = country_tables("BE")
    top_incidence = read_groups("incidence_BE.csv")[-1]
    assert math.isinf(top_incidence[1])
    assert np.all(tables.incidence[tables.ages >= 85] == top_incidence[2] / 100_000)
    assert tables.incidence[tables.ages == 84][0] != top_incidence[2] / 100_000
    mortality = read_groups("mortality_allcause_BE.csv")
    assert tables.competing_mortality[tables.ages == 100][0] == mortality[-1][2] / 100_000
    assert tables.competing_mortality[tables.ages == 99][0] == mortality[-2][2] / 100_000


def test_grid_starts_at_20_so_the_15_19_group_is_not_used():
    tables = country_tables("US")
    groups = read_groups("incidence_US.csv")
    assert groups[0][:2] == (15.0, 19.0)
    assert tables.incidence[0] == groups[1][2] / 100_000  # 20-24


def test_england_uses_england_incidence_and_uk_mortality():
    england, uk = country_tables("UK_ENG"), country_tables("UK")
    assert england.incidence_sources == ("ENG_CI5plus_2013_2017",)
    assert not np.array_equal(england.incidence, uk.incidence)
    np.testing.assert_array_equal(england.competing_mortality, uk.competing_mortality)


def test_israel_records_the_derived_75_plus_denominators():
    israel = country_tables("IL")
    assert israel.incidence_sources == (
        "IL_CI5plus_INCR_2013_2017",
        "IL_CI5plus_INCR_2013_2017_pysplitWPP2019",
    )
    assert israel.mortality_sources == ("WPP2024_mx5_2020_2025",)
    assert country_tables("IL", "2015-2019").mortality_sources == ("WPP2024_mx5_2015_2020",)
    assert israel.source_ids == israel.incidence_sources + israel.mortality_sources


def test_codes_are_case_insensitive_and_tables_read_only():
    tables = country_tables(" fr ")
    assert tables is country_tables("FR")
    for array in (tables.ages, tables.incidence, tables.competing_mortality):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0


@pytest.mark.parametrize("code", ["DE", "", "GB", None, 1])
def test_unknown_country_lists_the_available_codes(code):
    with pytest.raises(ModelInputError, match=r"country: unknown code") as error:
        country_tables(code)
    assert "BE, ES, FR, IL, IT, UK, UK_ENG, US" in str(error.value)


def test_unknown_mortality_period_lists_the_periods():
    with pytest.raises(ModelInputError, match=r"mortality_period: .*2020-2024, 2015-2019"):
        country_tables("FR", mortality_period="2020")


def test_expansion_is_a_step_function_with_an_open_top_group():
    lo, hi, rates = [0, 1, 5, 85], [0, 4, 84, math.inf], [10.0, 20.0, 30.0, 40.0]
    ages = [0, 1, 4, 5, 84, 85, 120]
    np.testing.assert_array_equal(
        expand_to_single_ages(lo, hi, rates, ages), [10, 20, 20, 30, 30, 40, 40]
    )


def test_expansion_with_a_closed_top_group_rejects_later_ages():
    with pytest.raises(ModelInputError, match="ages: whole years from 40 to 49"):
        expand_to_single_ages([40, 45], [44, 49], [1.0, 2.0], [49, 50])


@pytest.mark.parametrize("ages", [[19], [20.5], [float("nan")]])
def test_expansion_rejects_ages_outside_the_groups_or_fractional(ages):
    with pytest.raises(ModelInputError, match="ages:"):
        expand_to_single_ages([20, 25], [24, math.inf], [1.0, 2.0], ages)


@pytest.mark.parametrize(
    ("lo", "hi"),
    [([20, 26], [24, math.inf]), ([25, 20], [29, 24]), ([20, 25], [19, math.inf])],
)
def test_expansion_rejects_gaps_overlaps_and_reversed_groups(lo, hi):
    with pytest.raises(ModelInputError, match="contiguous"):
        expand_to_single_ages(lo, hi, [1.0, 2.0], [22])


def packaged(name: str) -> bytes:
    return files("pebs.risk").joinpath("data", "epi", name).read_bytes()


def test_packaged_files_equal_the_test_copies_and_their_recorded_sha256():
    provenance = packaged("PROVENANCE.md").decode("utf-8")
    recorded = dict(
        (name, digest)
        for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+\.csv)$", provenance, re.M)
    )
    test_copies = sorted(path.name for path in EPI.glob("*.csv"))
    assert sorted(recorded) == test_copies
    for name in test_copies:
        content = packaged(name)
        assert content == (EPI / name).read_bytes(), name
        assert hashlib.sha256(content).hexdigest() == recorded[name], name
