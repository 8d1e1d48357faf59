"""The ``[analysis.interim]`` table of a study file: the DSMB's group-sequential monitoring plan."""

import pytest

from pebs.trial import load_study
from pebs.trial.analysis_plan import AnalysisPlanError, parse_analysis_plan
from pebs.trial.interim_plan import parse_interim_plan

ARMS = ("standard", "risk-based")
GOOD = {"information_rates": [0.5, 0.75, 1.0], "max_women": 85_000}


def test_demo_study_has_two_interim_looks_of_the_ratio_test():
    interim = load_study("mypebs-demo").analysis.interim
    assert interim is not None
    assert (interim.design, interim.information_rates, interim.scale) == (
        "asOF", (0.5, 0.75, 1.0), "ratio")  # fmt: skip
    assert (interim.max_women, interim.proportion_ref_h1) == (85_000, 0.0048)


def test_stored_json_round_trips_and_a_plan_without_it_stores_none():
    plan = parse_analysis_plan({"interim": {**GOOD, "design": "asP"}}, arms=ARMS)
    assert plan.interim.design == "asP"
    assert parse_analysis_plan(plan.as_json(), arms=ARMS) == plan
    assert "interim" not in parse_analysis_plan({}, arms=ARMS).as_json()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"design": "haybittle"}, "analysis.interim.design: 'haybittle' is unknown; allowed: asOF"),
        ({"information_rates": [0.5, 0.9]}, "analysis.interim.information_rates: [0.5, 0.9]"),
        ({"information_rates": [0.0, 1.0]}, "analysis.interim.information_rates: [0.0, 1.0]"),
        ({"max_women": 1.5}, "analysis.interim.max_women: 1.5 is not allowed"),
        ({"scale": "odds"}, "analysis.interim.scale: 'odds' is unknown; allowed: ratio"),
        ({"proportion_ref_h1": 480}, "analysis.interim.proportion_ref_h1: 480 is not allowed"),
        ({"looks": 3}, "analysis.interim.looks: is not a key; allowed: design"),
    ],
)
def test_bad_values_name_the_key(change, message):
    with pytest.raises(AnalysisPlanError, match="^" + message.replace("[", r"\[")):
        parse_interim_plan({**GOOD, **change})
