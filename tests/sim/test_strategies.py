"""Sanity of strategies: more screening finds more, recalls more; every shipped scenario runs."""

import numpy as np
import pytest

from pebs.sim import (
    ScenarioError,
    chunk_records,
    list_scenarios,
    load_scenario,
    parse_scenario,
    run,
    simulate_chunk,
    trial_summary,
)
from pebs.sim.outcomes import OUTCOMES, lethal_probability, stage_at
from pebs.sim.parameters import default_parameters


def test_more_screening_finds_more_and_recalls_more(us_scenario):
    t = simulate_chunk(us_scenario, 21, 0, 20_000)
    order = ("no-screening", "biennial-50-74", "biennial-40-74", "annual-40-74")
    for outcome in ("screen_detected", "false_positives", "visits", "benign_biopsies"):
        values = [t.get(s, outcome) for s in order]
        assert values == sorted(values), (outcome, values)
        assert values[-1] > values[1], (outcome, values)
    deaths = [t.get(s, "bc_deaths") for s in order]
    assert deaths[0] > deaths[1] >= deaths[3]
    advanced = [t.get(s, "advanced_cancers") for s in order]
    assert advanced[0] > advanced[1] > advanced[3]


def test_no_screening_has_no_exams(us_scenario):
    t = simulate_chunk(us_scenario, 1, 0, 2000)
    for outcome in ("visits", "false_positives", "screen_detected", "overdiagnosed"):
        assert t.get("no-screening", outcome) == 0


def test_stage_is_monotone_in_the_sojourn_fraction_and_clinical_mix_is_the_parameter():
    params = default_parameters()
    u = np.random.default_rng(0).random(200_000)
    fractions = np.linspace(0, 1, 11)
    mean_stage = [stage_at(params, np.full(u.size, f), u).mean() for f in fractions]
    assert np.all(np.diff(mean_stage) >= 0)
    assert mean_stage[0] == 0
    clinical = np.bincount(stage_at(params, np.ones(u.size), u), minlength=3) / u.size
    # binomial SD of a share of 200,000: at most 0.0012
    np.testing.assert_allclose(clinical, params.stage_clinical, atol=4 * 0.0012)


def test_lethality_falls_with_age_as_parameterised():
    params = default_parameters()
    stages = np.array([0, 2, 0, 2])
    q = lethal_probability(params, stages, np.array([45.0, 45.0, 75.0, 60.0]))
    expected = [
        params.lethal_probability[0],
        params.lethal_probability[2],
        params.lethal_probability[0] * (1 - params.lethal_reduction_at_70[0]),
        params.lethal_probability[2] * (1 - params.lethal_reduction_at_70[2] / 2),
    ]
    np.testing.assert_allclose(q, expected)  # fmt: skip


@pytest.mark.parametrize("name", list_scenarios())
def test_every_shipped_scenario_runs(name):
    scenario = load_scenario(name)
    result = run(scenario, n_women=600, seed=2, replicates=2, chunk_size=250)
    assert result.values.shape == (2, len(scenario.strategies), result.values.shape[2])
    rows = result.rows()
    assert {r["strategy"] for r in rows} == set(scenario.strategy_names)
    assert all(np.isfinite(r["per_1000_mean"]) for r in rows)
    if scenario.trial is not None:
        summary = trial_summary(result, scenario)
        # women with a cancer found before entry are excluded and counted
        excluded = sum(result.replicate_totals(arm, "excluded_history") for arm in summary.arms)
        assert (summary.n_women.sum(axis=1) + excluded).tolist() == [600, 600]
        assert 0.0 <= summary.power <= 1.0


def test_trial_arms_split_the_women_and_the_test_matches_pebs_stats():
    from pebs.stats import noninferiority_ratio

    scenario = load_scenario("mypebs-trial")
    result = run(scenario, n_women=3000, seed=5, replicates=2, chunk_size=3000)
    summary = trial_summary(result, scenario)
    for r in range(2):
        excluded = sum(result.values[r, result.strategies.index(arm), OUTCOMES.index(
            "excluded_history")] for arm in summary.arms)  # fmt: skip
        assert summary.n_women[r].sum() + excluded == 3000
        assert 0 < excluded < 0.02 * 3000
        test = noninferiority_ratio(
            summary.events[r, 1],
            summary.n_women[r, 1],
            summary.events[r, 0],
            summary.n_women[r, 0],
            margin=1.25,
        )
        assert summary.noninferior[r] == test.noninferior  # fmt: skip
        for arm, events in zip(summary.arms, summary.events[r], strict=True):
            s = result.strategies.index(arm)
            assert events == result.values[r, s, OUTCOMES.index("stage2plus")]
            # AJCC II+ (T > 20 mm or N+/M1) includes every SEER regional/distant cancer
            assert events >= result.values[r, s, OUTCOMES.index("advanced_cancers")]
        np.testing.assert_allclose(summary.per_100k[r],
                                   summary.events[r] * 1e5 / summary.n_women[r])  # fmt: skip


def test_trial_endpoint_can_be_the_seer_advanced_stage():
    scenario = load_scenario("mypebs-trial")
    result = run(scenario, n_women=2000, seed=6, chunk_size=2000)
    summary = trial_summary(result, scenario, endpoint="advanced_cancers")
    s = result.strategies.index("standard")
    assert summary.events[0, 0] == result.values[0, s, OUTCOMES.index("advanced_cancers")]
    assert summary.endpoint == "advanced_cancers"
    with pytest.raises(ValueError, match="endpoint"):
        trial_summary(result, scenario, endpoint="stage_3")


def test_scenario_errors_name_the_key():
    with pytest.raises(ScenarioError, match=r"population\.countries"):
        parse_scenario("[population]\ncountries = { XX = 1 }")
    with pytest.raises(ScenarioError, match="risk_assessment"):
        parse_scenario('[population]\ncountries = { US = 1 }\n[[strategy]]\nname = "a"\n'
                       'policy = "uspstf-2024"\nrisk_assessment = "never"')  # fmt: skip
    with pytest.raises(ScenarioError, match="unknown scenario"):
        load_scenario("no-such-scenario")
    with pytest.raises(ScenarioError, match="screening_history"):
        parse_scenario('[population]\ncountries = { US = 1 }\nscreening_history = "nope"')
    with pytest.raises(ScenarioError, match="screening_years"):
        parse_scenario('[population]\ncountries = { US = 1 }\n[[strategy]]\nname = "a"\n'
                       'policy = "uspstf-2024"\nscreening_years = -1')  # fmt: skip


def test_screening_years_stop_the_invitations_only():
    text = ('[population]\ncountries = { US = 1 }\nentry_age = [50, 50]\nfollow_up_years = 20\n'
            '[[strategy]]\nname = "a"\npolicy = "us-biennial-50-74"\n')  # fmt: skip
    full = chunk_records(parse_scenario(text), 2, 0, 2000)
    short = chunk_records(parse_scenario(text + "screening_years = 5\n"), 2, 0, 2000)
    screened = short["a.n_screens"] > 0
    assert np.all(short["a.last_screen"][screened] <= 55 + 1e-9)
    assert short["a.n_screens"].max() == 3  # 50, 52, 54
    assert np.array_equal(short["exit"], full["exit"])  # follow-up unchanged
    early = full["a.diagnosis_age"] < 54  # diagnoses before the last common exam are the same
    np.testing.assert_array_equal(short["a.diagnosis_age"][early], full["a.diagnosis_age"][early])


def test_the_stage_exponent_before_50_applies_to_detections_before_50():
    import dataclasses

    params = dataclasses.replace(default_parameters(), stage_exponent=2.0,
                                 stage_exponent_under_50=0.5)  # fmt: skip
    u = (np.arange(20_000) + 0.5) / 20_000  # stage uniforms on a grid
    half = np.full(u.size, 0.5)
    advanced = 0.479 + 0.050  # clinical regional + distant share of the default set
    young = stage_at(params, half, u, np.full(u.size, 45.0))
    older = stage_at(params, half, u, np.full(u.size, 55.0))
    assert (young >= 1).mean() == pytest.approx(advanced * 0.5**0.5, abs=1e-3)
    assert (older >= 1).mean() == pytest.approx(advanced * 0.5**2.0, abs=1e-3)
    np.testing.assert_array_equal(stage_at(params, half, u), older)  # no ages: from 50
    # at clinical detection (fraction 1) the exponent does not matter
    whole = np.ones(u.size)
    np.testing.assert_array_equal(stage_at(params, whole, u, np.full(u.size, 45.0)),
                                  stage_at(params, whole, u))  # fmt: skip
