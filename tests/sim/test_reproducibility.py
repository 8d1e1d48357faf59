"""Same seed, same result; any chunking, same result; common random numbers across strategies."""

import numpy as np

from pebs.sim import chunk_records, parse_scenario, run, simulate_chunk
from pebs.sim.outcomes import OUTCOMES

MIXED = """
name = "mixed"
[population]
countries = { FR = 2.0, IT = 1.0, UK = 1.0, IL = 1.0 }
entry_age = [40, 71]
follow_up_years = 10
[[strategy]]
name = "national"
policy = { FR = "fr", IT = "it", UK = "uk-england", IL = "il" }
attendance = 0.7
[[strategy]]
name = "risk-based"
policy = "mypebs-risk-based"
"""


def test_same_seed_same_totals_other_seed_differs(us_scenario):
    a = simulate_chunk(us_scenario, 42, 0, 3000)
    b = simulate_chunk(us_scenario, 42, 0, 3000)
    c = simulate_chunk(us_scenario, 43, 0, 3000)
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.array_equal(a.values, c.values)


def test_chunk_size_does_not_change_any_total():
    scenario = parse_scenario(MIXED)
    results = [
        run(scenario, n_women=4000, seed=9, replicates=2, chunk_size=size).values
        for size in (4000, 1000, 777)
    ]
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])


def test_custom_map_in_any_order_gives_the_same_result(us_scenario):
    def reversed_map(function, tasks):
        return [function(task) for task in reversed(tasks)]

    serial = run(us_scenario, n_women=2000, seed=4, replicates=2, chunk_size=500)
    mapped = run(us_scenario, n_women=2000, seed=4, replicates=2, chunk_size=300,
                 map_chunks=reversed_map)  # fmt: skip
    np.testing.assert_array_equal(serial.values, mapped.values)


def test_a_strategy_change_leaves_no_screening_outcomes_unchanged(us_scenario):
    only_biennial = parse_scenario(
        "[population]\ncountries = { US = 1.0 }\nentry_age = [40, 40]\n"
        '[[strategy]]\nname = "biennial-50-74"\npolicy = "us-biennial-50-74"\n'
    )
    full = chunk_records(us_scenario, 5, 0, 3000)
    small = chunk_records(only_biennial, 5, 0, 3000)
    for key in (
        "no-screening.diagnosis_age",
        "no-screening.stage",
        "no-screening.death_age",
        "biennial-50-74.diagnosis_age",
        "biennial-50-74.n_screens",
        "clinical",
        "onset",
    ):
        np.testing.assert_array_equal(full[key], small[key], err_msg=key)


def test_screening_only_moves_diagnoses_earlier_for_the_same_women(us_scenario):
    records = chunk_records(us_scenario, 6, 0, 5000)
    none = records["no-screening.diagnosis_age"]
    for strategy in ("biennial-50-74", "annual-40-74"):
        screened = records[f"{strategy}.diagnosis_age"]
        both = np.isfinite(none) & np.isfinite(screened)
        assert np.all(screened[both] <= none[both])
        # cancers found only with screening are exactly the overdiagnosed ones
        extra = np.isfinite(screened) & ~np.isfinite(none)
        lesion_too = records[f"{strategy}.non_progressive_detected"] & np.isfinite(none)
        np.testing.assert_array_equal(extra, records[f"{strategy}.overdiagnosed"] & ~lesion_too)


def test_overdiagnosis_is_the_excess_of_cancers_over_no_screening(us_scenario):
    totals = simulate_chunk(us_scenario, 8, 0, 5000)
    none = totals.get("no-screening", "cancers")
    for strategy in us_scenario.strategy_names[1:]:
        assert totals.get(strategy, "cancers") - none == totals.get(strategy, "overdiagnosed")
        parts = sum(totals.get(strategy, k) for k in
                    ("screen_detected", "interval_cancers", "clinical_cancers"))  # fmt: skip
        assert parts == totals.get(strategy, "cancers")
    assert len(OUTCOMES) == totals.values.shape[1]
