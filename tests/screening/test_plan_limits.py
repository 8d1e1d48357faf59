"""What the planner and the policy reader refuse, so that every entry point gets a one-line
error instead of a date overflow: the plan length, the dates, the whole-number keys of a policy.
"""

from __future__ import annotations

from datetime import date

import pytest

from pebs.screening import PlanError, PolicyError, Woman, default_arm, load_policy, plan
from pebs.screening.policy import parse_policy

POLICY = """name = "demo"
title = "Demo"
kind = "guideline"
arm = "any"
source = "none"

[[rule]]
id = "biennial"
ages = [50, 75]
every_months = 24
modalities = ["mammography"]
reason = "Mammography every 2 years from 50 to 74."
"""
WOMAN = Woman(birth_date=date(1970, 1, 1))
START = date(2026, 1, 15)


@pytest.mark.parametrize("years", [float("nan"), float("inf"), -float("inf"), 1e9, 121, 0, -1,
                                   0.04])  # fmt: skip
def test_a_plan_length_it_cannot_date_is_refused(years: float) -> None:
    with pytest.raises(PlanError, match="plan length in years must be a number from 1/12"):
        plan(parse_policy(POLICY), WOMAN, START, years=years)


def test_the_longest_and_shortest_plans_are_dated() -> None:
    policy = parse_policy(POLICY)
    assert plan(policy, WOMAN, START, years=120).end == date(2146, 1, 15)
    assert plan(policy, WOMAN, START, years=1 / 12).end == date(2026, 2, 15)


@pytest.mark.parametrize(
    ("woman", "start", "until", "what"),
    [
        (WOMAN, date(9999, 12, 31), None, "the plan start 9999-12-31"),
        (WOMAN, START, date(9999, 12, 31), "the plan end 9999-12-31"),
        (Woman(birth_date=date(1, 1, 1)), START, None, "birth date 0001-01-01"),
        (Woman(birth_date=date(9000, 1, 1)), date(9000, 6, 1), None, "birth date 9000-01-01"),
        (Woman(WOMAN.birth_date, last_screen=date(1899, 12, 31)), START, None,
         "last screen 1899-12-31"),
    ],
)  # fmt: skip
def test_dates_outside_the_planners_range_are_refused(woman, start, until, what) -> None:
    with pytest.raises(PlanError, match=f"{what} is outside the dates the planner accepts"):
        plan(parse_policy(POLICY), woman, start, until=until, years=None if until else 4)


@pytest.mark.parametrize(
    ("key", "line", "allowed"),
    [
        ("every_months", "every_months = 99999999999999999999", "from 1 to 120"),
        ("every_months", "every_months = 121", "from 1 to 120"),
        ("offset_months", "every_months = 24\noffset_months = 121", "from 0 to 120"),
    ],
)
def test_policy_intervals_the_planner_cannot_date_are_refused(key, line, allowed) -> None:
    text = POLICY.replace("every_months = 24", line)
    with pytest.raises(PolicyError, match=f"rule\\[1\\].{key}: must be a whole number {allowed}"):
        parse_policy(text, "demo.toml")


def test_study_and_window_limits() -> None:
    study = '[study]\nyears = 31\nend_of_study = ["mammography"]\nend_of_study_reason = "x"\n'
    with pytest.raises(PolicyError, match=r"study\.years: must be a whole number from 1 to 30"):
        parse_policy(POLICY + study, "demo.toml")
    with pytest.raises(PolicyError, match="window_months: must be a whole number from 1 to 24"):
        parse_policy(POLICY.replace('source = "none"', 'source = "none"\nwindow_months = 25'))


def test_the_largest_allowed_interval_still_plans() -> None:
    policy = parse_policy(POLICY.replace("every_months = 24", "every_months = 120"))
    exams = plan(policy, WOMAN, START, years=120).exams
    assert [e.due for e in exams] == [date(2026, 1, 15), date(2036, 1, 15)]  # 50-74: 2 exams


def test_a_woman_without_arm_gets_the_policys_own() -> None:
    assert default_arm(load_policy("wisdom")) == "risk-based"  # its file says arm = "risk-based"
    assert default_arm(load_policy("fr")) == "standard"
    assert default_arm(parse_policy(POLICY)) == "standard"  # arm = "any"
