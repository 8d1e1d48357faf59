"""Tumour size, size-dependent lethality, non-progressive dwell, screening before entry, and the
compact screening loop against its general path."""

import numpy as np
import pytest

import pebs.sim.screening_loop as screening_loop
from pebs.sim import chunk_records, parse_scenario, run, simulate_chunk
from pebs.sim.cohort import clinical_diameter
from pebs.sim.outcomes import diameter_at, size_factor, stage_at
from pebs.sim.parameters import ParameterError, default_parameters, parse_parameters

HISTORY = """
name = "history"
[population]
countries = { FR = 1.0, UK = 1.0 }
entry_age = [52, 68]
follow_up_years = 6
screening_history = "national"
[[strategy]]
name = "national"
policy = { FR = "fr", UK = "uk-england" }
[[strategy]]
name = "risk-based"
policy = "mypebs-risk-based"
risk_assessment = "entry"
study_years = 4
"""


def test_diameter_grows_from_the_threshold_to_the_clinical_size():
    params = default_parameters()
    clinical = np.array([10.0, 20.0, 40.0])
    np.testing.assert_allclose(diameter_at(params, clinical, np.zeros(3)), params.threshold_mm)
    np.testing.assert_allclose(diameter_at(params, clinical, np.ones(3)), clinical)
    # exponential growth: log-diameter is linear in the sojourn fraction (hand computation)
    half = diameter_at(params, np.array([40.0]), np.array([0.5]))
    np.testing.assert_allclose(half, np.sqrt(params.threshold_mm * 40.0))


def test_size_lethality_parameters_reproduce_the_published_death_rates():
    """Verschraegen et al. 2005 (abstract): crude death rates 10% -> 25% (N0) and 20% -> 40%
    (N+) between 3 and 50 mm, with the Gompertzian size term exp(-exp(-(d - 15) / 10))."""
    params = default_parameters()
    g = np.exp(-np.exp(-(np.array([3.0, 50.0]) - 15.0) / 10.0))
    for s, (low, high) in enumerate(((0.10, 0.25), (0.20, 0.40))):
        rates = params.size_a[s] + params.size_b[s] * g
        np.testing.assert_allclose(rates, [low, high], atol=0.002)


def test_size_factor_averages_one_over_clinical_tumours_of_each_stage():
    """Independent Monte Carlo check of the deterministic normalisation: over clinically
    detected tumours of a stage, the mean size factor is 1 (SE of a mean of 400,000 factors
    with SD < 0.35 is < 6e-4; tolerance 4 SE)."""
    params = default_parameters()
    rng = np.random.default_rng(3)
    u_stage, u_size = rng.random(400_000), rng.random(400_000)
    stage = stage_at(params, np.ones(u_stage.size), u_stage)
    size = clinical_diameter(params, u_stage, u_size)
    factor = size_factor(params, stage, size)
    for s in range(3):
        assert abs(factor[stage == s].mean() - 1.0) < 4 * 6e-4 / np.sqrt(np.mean(stage == s))
    # smaller tumours are less lethal within a stage; distant: no size effect
    small = size_factor(params, np.array([0, 1, 2]), np.full(3, 8.0))
    large = size_factor(params, np.array([0, 1, 2]), np.full(3, 40.0))
    assert (small[:2] < 1).all()
    assert (large[:2] > small[:2]).all()
    assert small[2] == large[2] == 1


def test_clinical_size_is_larger_for_advanced_stage():
    params = default_parameters()
    u = (np.arange(20_000) + 0.5) / 20_000
    stage = stage_at(params, np.ones(u.size), u)
    size = clinical_diameter(params, u, np.full(u.size, 0.5))
    assert size[stage >= 1].mean() > size[stage == 0].mean()
    assert size.min() >= params.threshold_mm


def test_screen_detected_cancers_are_smaller_and_size_stage_records_are_consistent(us_scenario):
    r = chunk_records(us_scenario, 12, 0, 20_000)
    for strategy in ("no-screening", "biennial-50-74"):
        mode, size = r[f"{strategy}.mode"], r[f"{strategy}.size_mm"]
        progressive = np.isfinite(size)
        clinical = progressive & (mode == 2)
        # a clinical diagnosis is at the clinical diameter
        np.testing.assert_allclose(size[clinical], r["clinical_size"][clinical])
    size = r["biennial-50-74.size_mm"]
    screen = np.isfinite(size) & (r["biennial-50-74.mode"] == 0)
    assert np.all(size[screen] <= r["clinical_size"][screen] + 1e-9)
    assert size[screen].mean() < r["clinical_size"][np.isfinite(r["clinical_size"])].mean()


def test_non_progressive_lesions_are_found_only_while_detectable(us_scenario):
    r = chunk_records(us_scenario, 13, 0, 20_000)
    for strategy in ("biennial-50-74", "annual-40-74"):
        found = r[f"{strategy}.non_progressive_detected"] & ~np.isfinite(r["onset"])
        age = r[f"{strategy}.diagnosis_age"][found]
        assert found.sum() > 20
        assert np.all(age >= r["np_onset"][found])
        assert np.all(age < r["np_end"][found])


def test_history_excludes_women_found_before_entry_and_continues_their_schedule():
    scenario = parse_scenario(HISTORY)
    r = chunk_records(scenario, 21, 0, 6000)
    found = r["history.found"]
    assert 0 < found.sum() < 0.05 * found.size
    totals = simulate_chunk(scenario, 21, 0, 6000)
    for strategy in scenario.strategy_names:
        assert not r[f"{strategy}.eligible"][found].any()
        assert totals.get(strategy, "excluded_history") == int(found.sum())
        assert totals.get(strategy, "n_women") == found.size - int(found.sum())
    # a lesion found before entry was present (onset before her last screen before entry)
    prior = r["history.last_screen"]
    lesion = np.fmin(r["onset"], r["np_onset"])
    assert np.all(lesion[found] <= prior[found] + 1e-9)
    assert np.all(r["entry"][np.isfinite(prior)] > prior[np.isfinite(prior)])


def test_after_entry_the_schedule_continues_from_the_last_invitation():
    """France invites every 2 years from 50: followed 0.5 years from entry at 61-63, a woman has an
    exam in follow-up exactly when her last invitation before entry was >= 1.5 years ago
    (full attendance after entry; women leaving early by death or diagnosis excepted)."""
    scenario = parse_scenario(
        "[population]\ncountries = { FR = 1.0 }\nentry_age = [61, 63]\nfollow_up_years = 0.5\n"
        'screening_history = "national"\n[[strategy]]\nname = "national"\npolicy = "fr"\n'
    )
    r = chunk_records(scenario, 8, 0, 4000)
    invite = r["history.last_invite"]
    stays = (
        r["national.eligible"]
        & (r["death_other"] > r["entry"] + 0.5)
        & (r["clinical"] > r["entry"] + 0.5)
        & ~np.isfinite(r["national.diagnosis_age"])
    )
    assert np.isfinite(invite[stays]).all()  # invited from 50 on: every woman has a last invite
    due = invite + 2.0 <= r["entry"] + 0.5 + 1e-9
    examined = r["national.n_screens"] > 0
    np.testing.assert_array_equal(examined[stays], due[stays])
    assert 0.1 < due[stays].mean() < 0.4  # about a quarter of the 2-year cycle


def test_history_runs_are_chunk_invariant():
    scenario = parse_scenario(HISTORY)
    a = run(scenario, n_women=3000, seed=5, chunk_size=3000).values
    b = run(scenario, n_women=3000, seed=5, chunk_size=700).values
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("scenario_text", ["us", HISTORY])
def test_common_state_fast_path_equals_the_general_path(monkeypatch, us_scenario, scenario_text):
    """One planner call for women who share their state gives what one call per woman gives."""
    scenario = us_scenario if scenario_text == "us" else parse_scenario(scenario_text)
    fast = chunk_records(scenario, 31, 0, 3000)
    monkeypatch.setattr(screening_loop, "_common_state", lambda *args: None)
    general = chunk_records(scenario, 31, 0, 3000)
    assert fast.keys() == general.keys()
    for key in fast:
        np.testing.assert_array_equal(fast[key], general[key], err_msg=key)


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("stage_size_correlation = 0.35", "stage_size_correlation = 1.0", "stage_size_correlation"),
        ("mean_dwell_years = 0.6", "mean_dwell_years = 0", "mean_dwell_years"),
        ("FR = 0.50, IT", "FR = 1.5, IT", "history.attendance.FR"),
        ("threshold_mm = 6.5", "threshold_mm = 30.0", "threshold_mm"),
    ],
)
def test_bad_new_parameters_are_refused_naming_the_key(old, new, key):
    from importlib.resources import files

    text = files("pebs.sim").joinpath("parameters.toml").read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(ParameterError, match=key):
        parse_parameters(text.replace(old, new))
