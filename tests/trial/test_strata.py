"""Strata labels: site x age band by default, configurable, with precise errors."""

from __future__ import annotations

import pytest

from pebs.trial import (
    AgeBand,
    StrataDefinition,
    StratumError,
    age_band,
    all_strata,
    stratum_label,
    stratum_values,
)


@pytest.mark.parametrize(
    ("age", "band"),
    [(40, "40-49"), (49, "40-49"), (50, "50-59"), (59, "50-59"), (60, "60-70"), (70, "60-70")],
)
def test_default_bands_are_inclusive_at_both_ends(age, band):
    assert age_band(age).label == band
    assert stratum_label(site="FR-PA", age=age) == f"FR-PA:{band}"


@pytest.mark.parametrize("age", [39, 71, 0, 120])
def test_ages_outside_the_bands_are_errors(age):
    with pytest.raises(StratumError) as info:
        stratum_label(site="FR-PA", age=age)
    message = str(info.value)
    assert f"age {age} is outside the strata age bands 40-49, 50-59, 60-70" in message


@pytest.mark.parametrize("age", [49.5, "50", True, None])
def test_age_must_be_whole_years(age):
    with pytest.raises(StratumError, match=r"age must be a whole number|strata values missing"):
        age_band(age) if age is not None else stratum_label(site="FR-PA", age=age)


def test_missing_values_are_listed_together():
    definition = StrataDefinition(factors=("country", "site", "age_band"))
    with pytest.raises(StratumError) as info:
        stratum_label(definition, site="FR-PA")
    assert "strata values missing: country, age" in str(info.value)


def test_configurable_factors_and_bands():
    definition = StrataDefinition(
        factors=("country", "age_band"), age_bands=(AgeBand(40, 54), AgeBand(55, 70))
    )
    assert stratum_label(definition, country="IT", site="ignored", age=54) == "IT:40-54"
    assert stratum_label(definition, country="IT", age=55) == "IT:55-70"
    assert stratum_values("IT:55-70", definition) == {"country": "IT", "age_band": "55-70"}
    assert all_strata(definition, countries=["IT", "ES"]) == (
        "IT:40-54", "IT:55-70", "ES:40-54", "ES:55-70",
    )  # fmt: skip


def test_site_only_strata():
    definition = StrataDefinition(factors=("site",))
    assert stratum_label(definition, site="UK-LO") == "UK-LO"
    assert stratum_label(definition, site="UK-LO", age=99) == "UK-LO"  # age not used


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"factors": ("site", "postcode")}, "unknown strata factor 'postcode'; allowed: country"),
        ({"factors": ("site", "site")}, "more than once"),
        ({"factors": ()}, "non-empty tuple"),
        ({"age_bands": (AgeBand(40, 49), AgeBand(51, 70))}, "51-70 must start at 50"),
        ({"age_bands": (AgeBand(50, 59), AgeBand(40, 49))}, "40-49 must start at 60"),
        ({"age_bands": ()}, "non-empty tuple of AgeBand"),
    ],
)
def test_definition_errors(kwargs, fragment):
    with pytest.raises(StratumError) as info:
        StrataDefinition(**kwargs)
    assert fragment in str(info.value)


def test_band_errors():
    with pytest.raises(StratumError, match="low must not exceed high"):
        AgeBand(50, 40)
    with pytest.raises(StratumError, match=r"high must be a whole number of years in 0\.\.120"):
        AgeBand(40, 200)


@pytest.mark.parametrize("site", ["FR PA", "FR:PA", "", "-FR", 12])
def test_malformed_site_codes_are_rejected(site):
    with pytest.raises(StratumError, match=r"strata value site="):
        stratum_label(site=site, age=50)


def test_label_of_the_wrong_shape():
    with pytest.raises(StratumError, match="does not have one value per factor"):
        stratum_values("FR-PA")


def test_all_strata_needs_the_values():
    with pytest.raises(StratumError, match="needs the study's site values"):
        all_strata()
