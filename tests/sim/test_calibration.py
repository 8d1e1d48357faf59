"""Statistical checks with fixed seeds: incidence and mortality reproduce the country tables,
exam sensitivity, recall and attendance reproduce their parameters.

Tolerances are derived from the sampling SD of the simulated quantity (Poisson for counts of
events over person-years, binomial for proportions) and stated per assertion; each check allows
4 SD, so a correct model fails a given check with probability about 6e-5.
"""

from importlib.resources import files

import numpy as np
import pytest

from pebs.risk.country import country_tables
from pebs.sim import chunk_records, parse_scenario, simulate_chunk
from pebs.sim.parameters import default_parameters, parse_parameters

N_INCIDENCE = 300_000
GROUPS = [(40, 50), (50, 60), (60, 70), (70, 80), (80, 90)]


def _expected_events(table, start, end, lo, hi):
    """Sum over single ages of person-years at risk x the table's rate at that age."""
    return sum(
        np.clip(np.minimum(end, a + 1) - np.maximum(start, a), 0, None).sum() * table[a - 20]
        for a in range(lo, hi)
    )


@pytest.fixture(scope="module")
def unscreened():
    scenario = parse_scenario(
        '[population]\ncountries = { FR = 1.0 }\nentry_age = [40, 40]\nfollow_up_years = "lifetime"'
    )
    return chunk_records(scenario, 2024, 0, N_INCIDENCE)


def _table_rate(table_rates, lo, hi):
    return float(np.mean(table_rates[(np.arange(20, 101) >= lo) & (np.arange(20, 101) < hi)]))


def test_incidence_without_screening_reproduces_the_country_table(unscreened):
    """Clinical diagnoses per woman-year at risk (alive, no breast cancer yet) by 10-year group,
    against the mean of the table's single-year rates; with individual relative risks (density,
    PRS, Gail factors) and the frailty-corrected onset hazard."""
    r = unscreened
    diagnosis = r["no-screening.diagnosis_age"]
    end = np.fmin(np.fmin(diagnosis, r["death_other"]), r["exit"])
    table = country_tables("FR").incidence
    for lo, hi in GROUPS:
        events = np.count_nonzero((diagnosis >= lo) & (diagnosis < hi))
        expected = _expected_events(table, r["entry"], end, lo, hi)
        sd = np.sqrt(expected)  # Poisson
        assert abs(events - expected) < 4 * sd, (lo, hi, events, expected, sd)


def test_other_cause_mortality_reproduces_the_all_cause_table(unscreened):
    r = unscreened
    end = np.fmin(r["death_other"], r["exit"])
    table = country_tables("FR").competing_mortality
    for lo, hi in GROUPS:
        deaths = np.count_nonzero((r["death_other"] >= lo) & (r["death_other"] < hi))
        expected = _expected_events(table, r["entry"], end, lo, hi)
        assert abs(deaths - expected) < 4 * np.sqrt(expected), (lo, hi, deaths, expected)


def test_mean_relative_risk_is_one_at_entry(unscreened):
    # SD of the mean of n RRs: sd(RR) / sqrt(n); sd(RR) estimated from the sample
    rr = unscreened["rr"]
    assert abs(rr.mean() - 1) < 4 * rr.std() / np.sqrt(rr.size)


def _flat_parameters(
    sensitivity: float, fp_first: float, fp_subsequent: float, short_multiplier: float = 1.0
):
    text = files("pebs.sim").joinpath("parameters.toml").read_text(encoding="utf-8")
    row = f"[{sensitivity}, {sensitivity}, {sensitivity}, {sensitivity}]"
    for values in ("[0.870, 0.820, 0.720, 0.630]",):
        text = text.replace(values, row)
    text = text.replace(
        "mammography_first = { us = 0.163, europe = 0.049 }",
        f"mammography_first = {{ us = {fp_first}, europe = 0.049 }}",
    )
    text = text.replace(
        "mammography_subsequent = { us = 0.074, europe = 0.032 }",
        f"mammography_subsequent = {{ us = {fp_subsequent}, europe = 0.032 }}",
    )
    text = text.replace("density_multiplier = [0.459, 0.918, 1.176, 0.926]",
                        "density_multiplier = [1.0, 1.0, 1.0, 1.0]")  # fmt: skip
    text = text.replace(
        "short_interval_multiplier = { us = 1.0, europe = 1.0 }",
        f"short_interval_multiplier = {{ us = {short_multiplier}, europe = 1.0 }}",
    )
    params = parse_parameters(text)
    assert params.fp_subsequent["us"] == fp_subsequent  # the replacements took effect
    return params


def test_sensitivity_recall_and_attendance_reproduce_their_parameters():
    params = _flat_parameters(0.8, 0.15, 0.08, short_multiplier=0.5)
    scenario = parse_scenario(
        "[population]\ncountries = { US = 1.0 }\nentry_age = [50, 70]\nfollow_up_years = 10\n"
        '[[strategy]]\nname = "annual"\npolicy = "us-annual-40-74"\nattendance = 0.6\n'
    )
    t = simulate_chunk(scenario, 77, 0, 40_000, parameters=params)
    get = lambda name: t.get("annual", name)  # noqa: E731
    # sensitivity: detected / visits with a lesion, binomial SD sqrt(p q / n)
    n, k = get("lesion_visits"), get("lesion_detected")
    assert n > 1000
    assert abs(k / n - 0.8) < 4 * np.sqrt(0.8 * 0.2 / n)
    # attendance: visits / invitations
    n, k = get("invitations"), get("visits")
    assert abs(k / n - 0.6) < 4 * np.sqrt(0.6 * 0.4 / n)
    # false positives at first screens: only women without a detected cancer can be false
    # positive; at most lesion_detected visits are excluded, a bias below 0.15 * k / n
    n, k = get("first_visits"), get("false_positives_first")
    bias = 0.15 * get("lesion_detected") / get("visits")
    assert abs(k / n - 0.15) < 4 * np.sqrt(0.15 * 0.85 / n) + bias
    # subsequent annual screens are within short_interval_years (1.5) of the previous attended
    # one unless she missed invitations: short ones have 0.08 * 0.5, the others 0.08
    n, k = get("visits_short"), get("false_positives_short")
    assert n > 1000
    assert abs(k / n - 0.04) < 4 * np.sqrt(0.04 * 0.96 / n) + bias
    n = get("visits") - get("first_visits") - get("visits_short")
    k = get("false_positives") - get("false_positives_first") - get("false_positives_short")
    assert abs(k / n - 0.08) < 4 * np.sqrt(0.08 * 0.92 / n) + bias
    # benign biopsies: the US subsequent share 0.104 of false positives (first 0.153)
    assert 0.104 * 0.9 < get("benign_biopsies") / get("false_positives") < 0.153 * 1.1
    assert default_parameters().label == f"pebs-sim {default_parameters().version}"
