"""Reference populations: reproducibility, marginal shares, PRS, user cohorts, TOML provenance.

Expected shares are computed here from the TOML file with :mod:`tomllib` (summing the published
counts or shares by Gail category), not through ``pebs.risk._population_config``.

Sampling tolerance: a share p estimated from n independent draws has standard error
sqrt(p(1-p)/n); we allow 5 standard errors. For a correct sampler a new seed fails such a check with
probability below 6e-7; a wrong category mapping (e.g. nulliparous women put in AF 3, or two
categories swapped) moves a share by several percentage points, i.e. by far more than the
tolerance (at n = 200,000 it is at most 0.0056). The seed is fixed, so the test is deterministic.
"""

from __future__ import annotations

import csv
import math
import tomllib
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest

from pebs.risk._arrays import ModelInputError
from pebs.risk.country import COUNTRIES
from pebs.risk.gail import recode
from pebs.risk.reference_population import (
    ReferencePopulation,
    factor_distributions_of,
    reference_population,
)

EPI = Path(__file__).resolve().parents[1] / "data" / "epi"
N = 200_000
N_CATEGORIES = {"menarche": 3, "first_birth": 4, "biopsies": 3, "relatives": 3}
ARRAYS = (
    "ages", "biopsies", "menarche", "first_birth", "relatives", "hyperplasia_rr", "density",
    "prs_z", "weights",
)  # fmt: skip


@pytest.fixture(scope="module")
def config() -> dict:
    text = files("pebs.risk").joinpath("data", "reference_populations.toml").read_text("utf-8")
    return tomllib.loads(text)


def configured_shares(config: dict, country: str, factor: str) -> np.ndarray:
    entry = config["distributions"][config["countries"][country][factor]]
    values = entry.get("counts", entry.get("shares"))
    shares = np.zeros(N_CATEGORIES[factor])
    for category, value in zip(entry["gail_category"], values, strict=True):
        shares[category] += value
    return shares / shares.sum()


def within_sampling_error(observed: np.ndarray, expected: np.ndarray, n: int) -> None:
    tolerance = 5 * np.sqrt(expected * (1 - expected) / n)
    assert np.all(np.abs(observed - expected) <= tolerance), (observed, expected, tolerance)


@pytest.fixture(scope="module")
def populations() -> dict[str, ReferencePopulation]:
    return {
        code: reference_population(code, N, rng=np.random.default_rng(20240611))
        for code in ("FR", "UK", "US")
    }


# --- generator ----------------------------------------------------------------------------------


def test_same_seed_gives_the_same_population():
    first = reference_population("IT", 5_000, rng=np.random.default_rng(7))
    second = reference_population("IT", 5_000, rng=np.random.default_rng(7))
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name), err_msg=name)
    assert first.description == second.description


def test_another_seed_gives_another_population():
    first = reference_population("IT", 5_000, rng=np.random.default_rng(7))
    other = reference_population("IT", 5_000, rng=np.random.default_rng(8))
    assert not np.array_equal(first.prs_z, other.prs_z)
    assert not np.array_equal(first.first_birth, other.first_birth)


@pytest.mark.parametrize("country", ["FR", "UK", "US"])
@pytest.mark.parametrize("factor", list(N_CATEGORIES))
def test_marginal_shares_match_the_configured_distributions(populations, config, country, factor):
    values = getattr(populations[country], factor)
    observed = np.bincount(values, minlength=N_CATEGORIES[factor]) / N
    within_sampling_error(observed, configured_shares(config, country, factor), N)


def test_countries_differ_where_their_sources_differ(populations, config):
    # UK first-degree relatives come from the Generations Study (14.2% + 0.8%), FR from CGHFBC 2001
    uk = configured_shares(config, "UK", "relatives")
    fr = configured_shares(config, "FR", "relatives")
    assert uk[1:].sum() == pytest.approx((14_750 + 769) / 103_738)
    assert fr[1:].sum() == pytest.approx(7_438 / 101_986, abs=1e-6)
    assert (populations["UK"].relatives > 0).mean() > (populations["FR"].relatives > 0).mean()


def eu_density_row(age: int) -> np.ndarray:
    with (EPI / "density_prevalence_EU_SiMRiSC.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if float(row["age_lo"]) <= age < float(row["age_hi"]) + 1:
                return np.array([float(row[f"p_{c}"]) for c in "abcd"])
    raise AssertionError(age)


@pytest.mark.parametrize(("lo", "hi"), [(40, 49), (50, 59), (60, 69), (70, 74)])
def test_density_by_age_band_follows_the_simrisc_table(populations, lo, hi):
    population = populations["FR"]
    band = (population.ages >= lo) & (population.ages <= hi)
    observed = np.bincount(population.density[band], minlength=4) / band.sum()
    within_sampling_error(observed, eu_density_row(lo), int(band.sum()))


def test_us_density_follows_bcsc_dense_share_at_40_44(populations):
    population = populations["US"]
    band = population.ages <= 44
    dense = (population.density[band] >= 2).mean()
    within_sampling_error(np.array([dense]), np.array([0.57]), int(band.sum()))  # Sprague 2014


def test_prs_is_standard_normal(populations):
    prs = populations["FR"].prs_z
    assert abs(prs.mean()) <= 5 / math.sqrt(N)
    assert abs(prs.std() - 1) <= 5 / math.sqrt(2 * N)  # SE of a sample sd is about sd/sqrt(2n)


def test_ages_are_spread_evenly_over_40_to_74_with_unit_weights(populations):
    population = populations["FR"]
    counts = np.bincount(population.ages.astype(int))[40:]
    assert population.ages.min() == 40
    assert population.ages.max() == 74
    assert counts.size == 35
    assert counts.max() - counts.min() <= 1
    assert np.all(population.weights == 1.0)
    assert np.all(population.hyperplasia_rr == 1.0)
    assert len(population) == N


def test_custom_ages_and_dtypes():
    population = reference_population("be", 10, rng=np.random.default_rng(0), ages=[50, 60])
    assert population.ages.tolist() == [50, 60] * 5
    for name in ("biopsies", "menarche", "first_birth", "relatives", "density"):
        assert getattr(population, name).dtype == np.int8


def test_every_country_has_a_configured_population():
    for code in COUNTRIES:
        spec = factor_distributions_of(code)
        assert spec.density_table == ("US_BCSC" if code == "US" else "EU_SiMRiSC")
        for factor in N_CATEGORIES:
            assert spec.shares(factor).sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"country": "DE"}, r"country: unknown code 'DE'; available: BE, ES, FR, IL, IT, UK"),
        ({"n": 0}, "n: expected a whole number"),
        ({"n": 2.5}, "n: expected a whole number"),
        ({"rng": np.random.RandomState(1)}, "rng: expected a numpy.random.Generator"),
        ({"rng": 1}, "rng: expected a numpy.random.Generator"),
        ({"country": "US", "ages": [35]}, "ages: density table US_BCSC does not cover"),
        ({"ages": []}, "ages: expected at least one finite age"),
    ],
)
def test_generator_rejects_bad_arguments(arguments, message):
    options = {"country": "FR", "n": 100, "rng": np.random.default_rng(0), **arguments}
    with pytest.raises(ModelInputError, match=message):
        reference_population(options.pop("country"), options.pop("n"), **options)


# --- user cohorts -------------------------------------------------------------------------------


def test_user_cohort_from_recoded_bcra_inputs():
    categories = recode(
        [45, 52, 61], [50, 57, 66], N_Biop=[0, 1, 2], HypPlas=[99, 1, 0], AgeMen=[11, 13, 15],
        Age1st=[98, 22, 31], N_Rels=[0, 1, 3], Race=1,
    )  # fmt: skip
    cohort = ReferencePopulation.from_categories(
        categories, [45, 52, 61], density=["a", "C", "d"], prs_z=[0.1, -1.0, 2.0], weights=[1, 2, 3]
    )
    assert cohort.biopsies.tolist() == [0, 1, 2]
    assert cohort.menarche.tolist() == [2, 1, 0]
    assert cohort.first_birth.tolist() == [2, 1, 3]
    assert cohort.relatives.tolist() == [0, 1, 2]
    assert cohort.hyperplasia_rr.tolist() == [1.0, 1.82, 0.93]
    assert cohort.density.tolist() == [0, 2, 3]
    assert cohort.weights.tolist() == [1.0, 2.0, 3.0]
    assert cohort.imputed == {}
    assert cohort.description == "user cohort"


def test_rows_rejected_by_recode_are_refused():
    categories = recode(45, 50, N_Biop=0, HypPlas=1, AgeMen=12, Age1st=25, N_Rels=0, Race=1)
    with pytest.raises(ModelInputError, match="categories: 1 rows were rejected"):
        ReferencePopulation.from_categories(categories, [45], density=[1], prs_z=[0.0])


def test_missing_density_and_prs_need_rng_and_are_then_drawn_and_counted():
    arguments = ([40, 50, 60, 70], [0, 1, 0, 2], [0, 1, 2, 0], [3, 2, 1, 0], [0, 1, 2, 0])
    with pytest.raises(ModelInputError, match="density: missing in 4 of 4 rows"):
        ReferencePopulation.from_arrays(*arguments)
    with pytest.raises(ModelInputError, match="prs_z: missing in 1 of 4 rows"):
        ReferencePopulation.from_arrays(*arguments, density=[0, 1, 2, 3], prs_z=[0, 1, np.nan, 2])
    cohort = ReferencePopulation.from_arrays(
        *arguments,
        density=[0, -1, np.nan, 3],
        prs_z=[0.5, np.nan, 1.0, 2.0],
        rng=np.random.default_rng(0),
    )
    assert cohort.imputed == {"density": 2, "prs_z": 1}
    assert cohort.density[[0, 3]].tolist() == [0, 3]
    assert set(cohort.density.tolist()) <= {0, 1, 2, 3}
    assert np.isfinite(cohort.prs_z).all()
    assert cohort.prs_z[[0, 2, 3]].tolist() == [0.5, 1.0, 2.0]


def test_drawn_density_follows_the_table_at_the_womans_age():
    n = 40_000
    cohort = ReferencePopulation.from_arrays(
        np.full(n, 45), 0, 0, 0, 0, prs_z=np.zeros(n), rng=np.random.default_rng(5)
    )
    observed = np.bincount(cohort.density, minlength=4) / n
    within_sampling_error(observed, eu_density_row(45), n)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"biopsies": [0, 3]}, r"biopsies: Gail categories must be 0..2; got \[3.0\] in 1 rows"),
        ({"first_birth": [4, 0]}, "first_birth: Gail categories must be 0..3"),
        ({"relatives": [-1, 0]}, "relatives: Gail categories must be 0..2"),
        ({"menarche": [0, np.nan]}, "menarche: Gail categories must be 0..2"),
        ({"weights": [1, 0]}, "weights: must be finite and > 0"),
        ({"hyperplasia_rr": [1, -1]}, "hyperplasia_rr: must be finite and > 0"),
        ({"ages": [40, np.inf]}, "ages: must be finite"),
        ({"relatives": [0, 0, 0]}, "relatives: has 3 values but ages has 2"),
        ({"density": ["a", "z"]}, "values: BI-RADS density must be one of a, b, c, d"),
        ({"density": [0, 5]}, "density: codes must be 0..3"),
        ({"density": ["a"]}, "density: has 1 values but ages has 2"),
        ({"prs_z": [0, np.inf]}, "prs_z: must be finite or NaN"),
    ],
)
def test_user_cohort_validation_names_the_argument(override, message):
    arguments = {
        "ages": [40, 50], "biopsies": [0, 1], "menarche": [0, 1], "first_birth": [0, 1],
        "relatives": [0, 1], "density": [0, 1], "prs_z": [0.0, 1.0], **override,
    }  # fmt: skip
    positional = [arguments.pop(k) for k in ("ages", "biopsies", "menarche", "first_birth")]
    with pytest.raises(ModelInputError, match=message):
        ReferencePopulation.from_arrays(*positional, arguments.pop("relatives"), **arguments)


def test_select_keeps_the_chosen_rows():
    population = reference_population("ES", 70, rng=np.random.default_rng(2))
    older = population.select(population.ages >= 70)
    assert len(older) == 10
    assert np.all(older.ages >= 70)
    np.testing.assert_array_equal(older.prs_z, population.prs_z[population.ages >= 70])
    with pytest.raises(ModelInputError, match="empty"):
        population.select(population.ages > 100)


# --- provenance of the TOML file ----------------------------------------------------------------


def test_every_distribution_cites_a_source_and_is_consistent(config):
    for name, entry in config["distributions"].items():
        source = config["sources"][entry["source"]]
        assert source["citation"], name
        assert source["url"].startswith("https://"), name
        values = entry.get("counts", entry.get("shares"))
        assert len(values) == len(entry["gail_category"]) == len(entry["published_categories"])
        if "shares" in entry:
            assert "derivation" in entry, name
            assert sum(values) == pytest.approx(1.0, abs=5e-6), name
    for code, entry in config["countries"].items():
        assert entry["note"], code
        for factor in N_CATEGORIES:
            assert config["distributions"][entry[factor]]["factor"] == factor, (code, factor)


@pytest.mark.parametrize(
    ("name", "any_relative"),
    [("relatives_CGHFBC2001", 7_438 / 101_986), ("relatives_WHI", 226 / 1_636)],
)
def test_derived_relative_shares_follow_their_stated_arithmetic(config, name, any_relative):
    two_or_more = any_relative * 769 / (14_750 + 769)  # Generations Study split (Brewer 2017)
    expected = [1 - any_relative, any_relative - two_or_more, two_or_more]
    np.testing.assert_allclose(config["distributions"][name]["shares"], expected, atol=5e-7)
