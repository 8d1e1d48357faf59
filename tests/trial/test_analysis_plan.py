"""The ``[analysis]`` table of a study file: values, defaults, and messages naming the key."""

import pytest

from pebs.trial import load_study
from pebs.trial.analysis_plan import (
    ENDPOINTS,
    AnalysisPlanError,
    is_endpoint,
    parse_analysis_plan,
)

ARMS = ("standard", "risk-based")


def test_demo_study_carries_the_public_mypebs_design():
    # NCT03672331: stage II+ at 4 years, margin +120 per 100,000 = ratio 1.25, alpha 0.025.
    plan = load_study("mypebs-demo").analysis
    assert plan is not None
    assert (plan.endpoint, plan.horizon_years, plan.reference_arm, plan.comparison_arm) == (
        "stage_2_plus", 4.0, "standard", "risk-based")  # fmt: skip
    assert (plan.margin_ratio, plan.margin_difference, plan.alpha) == (1.25, 0.0012, 0.025)


def test_round_trip_through_the_stored_json():
    plan = parse_analysis_plan({"reference_arm": "risk-based", "margin_ratio": 1.5}, arms=ARMS)
    assert plan.comparison_arm == "standard"
    assert parse_analysis_plan(plan.as_json(), arms=ARMS) == plan


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"reference_arm": "mri"}, "analysis.reference_arm: 'mri' is not an arm"),
        ({"endpoint": "stage_3"}, "analysis.endpoint: 'stage_3' is unknown; allowed: stage_2"),
        ({"margin_ratio": 0.8}, "analysis.margin_ratio: 0.8 is not allowed; allowed: above 1"),
        ({"margin_difference": 12}, "analysis.margin_difference: 12.0 is not allowed"),
        ({"horizon_years": "4"}, "analysis.horizon_years: '4' is not a number"),
        (
            {"per_protocol_excludes": ["crossed_over"]},
            "analysis.per_protocol_excludes: "
            "'crossed_over' is unknown; allowed: withdrew_before_first_screen",
        ),
        ({"horizon": 4}, "analysis.horizon: is not a key; allowed: alpha"),
    ],
)
def test_bad_values_name_the_key_and_the_allowed_values(table, message):
    with pytest.raises(AnalysisPlanError, match="^" + message.replace("(", r"\(")):
        parse_analysis_plan(table, arms=ARMS)


@pytest.mark.parametrize(
    ("behaviour", "stage", "expected"),
    [
        # AJCC 8th anatomic groups: IIA and above count for stage II+; IB does not.
        ("invasive", "IB", (False, False, True, True)),
        ("invasive", "IIA", (True, True, True, True)),
        ("invasive", "IV", (True, True, True, True)),
        ("invasive", None, (False, True, True, True)),
        ("dcis", "0", (False, False, False, True)),
    ],
)
def test_endpoint_definitions(behaviour, stage, expected):
    assert tuple(is_endpoint(e, behaviour, stage) for e in ENDPOINTS) == expected
