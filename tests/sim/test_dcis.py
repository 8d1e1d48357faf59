"""Ductal carcinoma in situ as its own state: hand-checkable properties on small seeded runs."""

import dataclasses

import numpy as np
import pytest

from pebs.sim import chunk_records, default_parameters, parse_scenario, run, simulate_chunk
from pebs.sim.parameters import ParameterError, parse_parameters
from pebs.sim.parameters import _shipped_text as shipped_text

SCENARIO = parse_scenario("""
name = "dcis-test"
[population]
countries = { FR = 1.0 }
entry_age = [45, 45]
follow_up_years = 40
[[strategy]]
name = "biennial"
policy = "fr"
""")
N = 6000


def _params(**changes):
    base = dict(dcis_precursor_share=1.0, dcis_precursor_dwell=1.0, non_progressive_in_situ=True,
                non_progressive_symptomatic=0.1)  # fmt: skip
    return dataclasses.replace(default_parameters(), **(base | changes))


@pytest.fixture(scope="module")
def records():
    return chunk_records(SCENARIO, 3, 0, N, parameters=_params())


def test_without_screening_dcis_is_only_the_rare_symptomatic_lesion(records):
    r = records
    none = "no-screening"
    assert not r[f"{none}.dcis_detected"].any()
    in_situ = r[f"{none}.in_situ"]
    # by hand from the cohort: a non-progressive lesion drawn symptomatic that ends in follow-up,
    # in a woman without an invasive diagnosis (her record shows the invasive cancer first)
    symptomatic = chunk_records(
        SCENARIO, 3, 0, N, parameters=_params(non_progressive_symptomatic=1)
    )
    ends = np.isfinite(r["np_end"]) & (r["np_end"] < r["death_other"]) & (r["np_end"] <= r["exit"])
    invasive_first = (
        np.isfinite(r["clinical"])
        & (r["clinical"] < r["death_other"])
        & (r["clinical"] <= r["exit"])
    )
    np.testing.assert_array_equal(in_situ, r["np_symptomatic"] & ends & ~invasive_first)
    np.testing.assert_array_equal(r[f"{none}.diagnosis_age"][in_situ], r["np_end"][in_situ])
    assert 0 < in_situ.sum() < 0.2 * symptomatic[f"{none}.in_situ"].sum()
    invasive = np.isfinite(r[f"{none}.diagnosis_age"]) & ~in_situ
    assert in_situ.sum() < 0.05 * (invasive.sum() + in_situ.sum())
    # with no symptomatic share, never
    silent = chunk_records(SCENARIO, 3, 0, N, parameters=_params(non_progressive_symptomatic=0))
    assert not silent[f"{none}.in_situ"].any()


def test_a_detected_dcis_removes_its_invasive_successor(records):
    r = records
    found = r["biennial.dcis_precursor_detected"]
    assert found.sum() > 20
    age = r["biennial.diagnosis_age"][found]
    # found during the in-situ phase, before the invasive onset
    assert np.all((r["dcis_onset"][found] <= age) & (age < r["onset"][found]))
    assert r["biennial.in_situ"][found].all()
    assert np.isnan(r["biennial.size_mm"][found]).all()
    assert not r["biennial.bc_death"][found].any()
    # without screening the same women have their invasive cancer (when it surfaces in time)
    surfaces = (r["clinical"] < r["death_other"]) & (r["clinical"] <= r["exit"])
    unscreened = r["no-screening.diagnosis_age"][found]
    np.testing.assert_array_equal(np.isfinite(unscreened), surfaces[found])
    assert not r["no-screening.in_situ"][found & surfaces].any()
    # a precursor found in a woman whose cancer would not have surfaced is overdiagnosed
    np.testing.assert_array_equal(r["biennial.overdiagnosed"][found], ~surfaces[found])


def test_in_situ_share_responds_to_the_precursor_dwell():
    shares = []
    for dwell in (0.2, 1.0, 3.0):
        totals = simulate_chunk(SCENARIO, 5, 0, N, parameters=_params(dcis_precursor_dwell=dwell))
        shares.append(totals.get("biennial", "dcis_detected")
                      / totals.get("biennial", "screen_detected"))  # fmt: skip
    assert shares[0] < shares[1] < shares[2]
    off = simulate_chunk(SCENARIO, 5, 0, N, parameters=_params(dcis_precursor_share=0.0))
    assert off.get("biennial", "dcis_precursor_detected") == 0
    assert off.get("biennial", "dcis_detected") == off.get("biennial", "non_progressive_detected")


def test_counts_add_up_and_overdiagnosis_includes_dcis():
    totals = simulate_chunk(SCENARIO, 7, 0, N, parameters=_params())
    s = "biennial"
    assert totals.get(s, "cancers") - totals.get("no-screening", "cancers") == totals.get(
        s, "overdiagnosed"
    )
    parts = sum(totals.get(s, k) for k in ("screen_detected", "interval_cancers",
                                           "clinical_cancers"))  # fmt: skip
    assert parts == totals.get(s, "cancers")
    assert 0 < totals.get(s, "overdiagnosed_dcis") <= totals.get(s, "overdiagnosed")
    assert totals.get(s, "dcis_detected") == totals.get(s, "dcis_precursor_detected") + totals.get(
        s, "non_progressive_detected"
    )


def test_dcis_runs_do_not_depend_on_chunking_and_share_the_women():
    params = _params()
    results = [run(SCENARIO, n_women=3000, seed=9, chunk_size=size, parameters=params).values
               for size in (3000, 1000, 777)]  # fmt: skip
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])
    # the women (and their natural history) are those of the run without DCIS
    with_dcis = chunk_records(SCENARIO, 9, 0, 2000, parameters=params)
    without = chunk_records(SCENARIO, 9, 0, 2000)
    for key in ("clinical", "onset", "np_onset", "np_end", "death_other",
                "no-screening.death_age"):  # fmt: skip
        np.testing.assert_array_equal(with_dcis[key], without[key], err_msg=key)


def test_the_default_set_has_no_dcis_and_bad_values_are_refused():
    params = default_parameters()
    assert params.dcis_precursor_share == 0
    assert not params.non_progressive_in_situ
    text = shipped_text("default")
    for old, new, key in (
        ("precursor_share = 0.0", "precursor_share = 1.5", "precursor_share"),
        ("precursor_mean_dwell_years = 1.0", "precursor_mean_dwell_years = 0",
         "precursor_mean_dwell_years"),
        ("in_situ = false", 'in_situ = "yes"', "in_situ"),
        ("symptomatic_share = 0.0", "symptomatic_share = -0.1", "symptomatic_share"),
    ):  # fmt: skip
        assert old in text
        with pytest.raises(ParameterError, match=key):
            parse_parameters(text.replace(old, new))
