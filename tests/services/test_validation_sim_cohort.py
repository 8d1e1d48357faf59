"""A validation cohort simulated by pebs.sim (no screening): the answers, the events, the true
risks, and ``pebs validate`` on it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pebs.risk import gail, personalised
from pebs.risk.reference_population import ReferencePopulation
from pebs.services.validation import validate_cohort
from pebs.services.validation_cohort import sim_validation_cohort, write_validation_cohort
from pebs.sim.parameters import default_parameters
from pebs.sim.risk_model import onset_model
from pebs.stats import poisson_interval

ORDER = ("menarche", "first_birth", "biopsies", "relatives")  # rows of Cohort.gail_categories
N_WOMEN = 40_000
SEED = 20261128


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    path = tmp_path_factory.mktemp("sim") / "sim-fr.csv"
    cohort = write_validation_cohort(path, "FR", N_WOMEN, seed=SEED, source="sim")
    return path, cohort


def test_answers_recode_to_the_simulator_categories(written):
    path, cohort = written
    women = cohort.women
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert len(table) == N_WOMEN
    nulliparous = table["age_first_birth"] == "nulliparous"
    first_birth = pd.to_numeric(table["age_first_birth"].where(~nulliparous, "98"))
    ages = table["age"].astype(float)
    assert table["atypical_hyperplasia"].eq("").all()
    categories = gail.recode(
        T1=ages, T2=ages + 5, N_Biop=table["n_biopsies"].astype(float), HypPlas=99,
        AgeMen=table["age_menarche"].astype(float), Age1st=first_birth.astype(float),
        N_Rels=table["n_first_degree_relatives"].astype(float), Race=1,
    )  # fmt: skip
    assert (categories.error == 0).all()
    for name, row in zip(ORDER, women.gail_categories, strict=True):
        np.testing.assert_array_equal(getattr(categories, name), row, err_msg=name)
    np.testing.assert_array_equal(ages, women.entry)
    np.testing.assert_array_equal(table["density"], np.array(list("abcd"))[women.density_entry])
    np.testing.assert_array_equal(table["prs_z"].astype(float), women.prs_z)
    # the same number of women (+-1) at each whole age 40..74
    counts = np.bincount(women.entry.astype(int) - 40, minlength=35)
    assert counts.size == 35
    assert counts.max() - counts.min() <= 1


def test_events_are_clinical_diagnoses_before_the_end_of_follow_up():
    cohort = sim_validation_cohort("FR", 20_000, seed=7)
    women, t = cohort.women, cohort.columns["follow_up_years"]
    event = cohort.columns["event"] == 1
    end = women.entry + t
    assert t.min() > 0
    assert t.max() <= 8
    assert np.all(women.clinical >= women.entry)
    # an event: the clinical diagnosis, before the other-cause death
    np.testing.assert_allclose(end[event], women.clinical[event], rtol=0, atol=1e-9)
    assert np.all(women.clinical[event] < women.death_other[event])
    # no event: follow-up ended (death or censoring) before any clinical diagnosis
    assert np.all(women.clinical[~event] >= end[~event] - 1e-9)
    assert np.all(women.death_other[~event] >= end[~event] - 1e-9)
    by_death = ~event & np.isclose(women.death_other, end, rtol=0, atol=1e-9)
    assert by_death.sum() > 100  # other-cause deaths end follow-ups
    lost = np.isfinite(women.clinical) & (women.clinical < women.entry + 5) & by_death
    assert lost.sum() > 0  # diagnoses after a death are not events
    assert np.count_nonzero(event & (t > 5)) > 0  # some events after the horizon
    assert 0.2 < np.mean(t < 5) < 0.35  # 25% censored early, plus deaths and events


def test_true_risk_is_the_simulator_five_year_risk_computed_by_hand():
    """1 - exp(-RR * sum of the yearly baseline rates over [a, a + 5)) for a woman entering at the
    whole age a; and the share of women diagnosed within five years matches the mean risk."""
    cohort = sim_validation_cohort("FR", 20_000, seed=11)
    women, params = cohort.women, default_parameters()
    expected = np.empty(len(cohort))
    for age in range(40, 75):
        mine = women.entry == age
        model = onset_model(("FR",), age, age, params.prs_or_per_sd, params.density_rr_source)
        rates = model.baseline.rates[0]  # yearly, ages 20, 21, ...
        cumulative = rates[age - 20 : age - 15].sum()
        expected[mine] = 1.0 - np.exp(-women.rr[mine] * cumulative)
    np.testing.assert_allclose(cohort.true_risk_5y, expected, rtol=1e-10)
    # the documented table: each woman's row of the onset model of entry ages 40-74
    all_ages = onset_model(("FR",), 40, 74, params.prs_or_per_sd, params.density_rr_source)
    starts = women.entry.astype(int) - 20
    sums = np.array([all_ages.baseline.rates[t, s : s + 5].sum()
                     for t, s in zip(women.table, starts, strict=True)])  # fmt: skip
    np.testing.assert_allclose(1.0 - np.exp(-women.rr * sums), expected, rtol=1e-10)
    np.testing.assert_array_equal(cohort.columns["true_risk_5y"], cohort.true_risk_5y)
    within = np.count_nonzero(women.clinical < women.entry + 5)  # mortality aside
    r = cohort.true_risk_5y
    assert abs(within - r.sum()) < 4 * np.sqrt(np.sum(r * (1 - r)))


def test_the_personalised_model_ranks_women_of_one_age_as_the_simulator_does(written):
    """Both multiply the same Gail RR, PRS OR per SD and density RR; within one entry age the
    risks of either are increasing in that product, so the orders agree (up to ties)."""
    _, cohort = written
    women = cohort.women
    rows = dict(zip(ORDER, women.gail_categories, strict=True))
    population = ReferencePopulation.from_arrays(
        women.entry, rows["biopsies"], rows["menarche"], rows["first_birth"], rows["relatives"],
        density=women.density_entry, prs_z=women.prs_z,
    )  # fmt: skip
    risk = personalised.assess_population(personalised.country_model("FR"), population).risk_5y
    for age in (40, 49, 50, 74):
        mine = np.flatnonzero(women.entry == age)
        order = np.argsort(cohort.true_risk_5y[mine], kind="stable")
        assert np.all(np.diff(risk[mine][order]) >= -1e-12 * risk[mine].max()), age


def test_pebs_validate_on_a_sim_cohort_gives_e_over_o_near_one(written):
    path, cohort = written
    report = validate_cohort(path, country="FR")
    (model,) = report.models
    assert (model.n_scored, model.n_rejected) == (N_WOMEN, 0)
    t = cohort.columns["follow_up_years"]
    counted = (cohort.columns["event"] == 1) & (t <= 5)
    observed = int(counted.sum())
    assert model.overall.observed == observed
    assert observed > 400  # ~550 expected: 40,000 women x 1.55% x ~0.9 of the window
    # E/O of the true risks by hand (the documented follow-up rule) and of the personalised
    # model: O must lie in the exact 99% Poisson interval of a count whose mean is E. With
    # ~550 events that interval is about +-11%; the known biases (the follow-up rule's
    # ~1%, the model's competing mortality ~1-3%) are well inside it, a miscalibration of the
    # size BCRAT shows by age (10-20%) is not.
    r = cohort.true_risk_5y
    true_expected = np.sum(1 - (1 - r) ** (np.minimum(t, 5) / 5))
    low, high = poisson_interval(observed, confidence=0.99)
    assert low <= true_expected <= high
    assert low <= model.overall.expected <= high
    assert model.overall.lower <= 1.0 <= model.overall.upper  # the reported 95% interval
