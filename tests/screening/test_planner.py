"""The planner on small inline policies: hand-worked dates, errors, and properties."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pebs.screening import PlanError, Woman, add_months, birthday, parse_policy, plan

HEADER = """name = "demo"
title = "Demo"
kind = "guideline"
arm = "any"
levels = ["low", "high"]
source = "Hand-written for tests"
"""


def rule(rule_id, ages, every, modalities=("mammography",), **extra):
    lines = [
        "[[rule]]", f'id = "{rule_id}"', f"ages = [{ages[0]}, {ages[1]}]",
        f"every_months = {every}", f"modalities = {list(modalities)!r}".replace("'", '"'),
        f'reason = "{rule_id}"',
    ]  # fmt: skip
    lines += [f"{k} = {v!r}".replace("'", '"') for k, v in extra.items()]
    return "\n".join(lines) + "\n"


BIENNIAL = parse_policy(HEADER + rule("biennial", (50, 75), 24))


def dues(p):
    return [(e.due.isoformat(), e.modality) for e in p.exams]


def test_no_last_screen_first_exam_at_the_start():
    p = plan(BIENNIAL, Woman(date(1970, 6, 10)), date(2026, 1, 15), years=4)
    # 55 at the start: due now, then every 24 months while the plan lasts (ends 2030-01-15).
    assert dues(p) == [("2026-01-15", "mammography"), ("2028-01-15", "mammography")]
    assert p.end == date(2030, 1, 15)


def test_last_screen_sets_the_next_due_date():
    woman = Woman(date(1970, 6, 10), last_screen=date(2025, 3, 1))
    p = plan(BIENNIAL, woman, date(2026, 1, 15), years=4)
    assert dues(p) == [("2027-03-01", "mammography"), ("2029-03-01", "mammography")]


def test_overdue_exam_is_due_at_the_start_and_says_so():
    woman = Woman(date(1970, 6, 10), last_screen=date(2022, 1, 1))
    p = plan(BIENNIAL, woman, date(2026, 1, 15), years=3)
    assert dues(p)[0] == ("2026-01-15", "mammography")
    assert "overdue: last screen on 2022-01-01" in p.exams[0].reason


def test_ageing_into_the_programme():
    p = plan(BIENNIAL, Woman(date(1977, 9, 30)), date(2026, 1, 15), years=4)
    # She turns 50 on 2027-09-30: first exam that day, next 2029-09-30 (plan ends 2030-01-15).
    assert dues(p) == [("2027-09-30", "mammography"), ("2029-09-30", "mammography")]
    assert "from her 50th birthday" in p.exams[0].reason


def test_ageing_out_of_the_programme():
    p = plan(BIENNIAL, Woman(date(1952, 5, 20)), date(2026, 1, 15), years=4)
    # 73 at the start: exam now; the next (2028-01-15) is after her 75th birthday (2027-05-20).
    assert dues(p) == [("2026-01-15", "mammography")]
    assert any("ends at her 75th birthday (2027-05-20)" in note for note in p.notes)


def test_outside_the_ages_no_exam_and_a_reason():
    p = plan(BIENNIAL, Woman(date(1990, 1, 1)), date(2026, 1, 15), years=4)
    assert p.exams == ()
    assert "covers ages 50 to 74" in p.notes[0]
    assert "she is 36 at the start" in p.notes[0]


def test_leap_day_birthday():
    p = plan(BIENNIAL, Woman(date(1976, 2, 29)), date(2025, 6, 1), years=4)
    # Her 50th birthday in a common year falls on 28 February (month arithmetic clamps).
    assert dues(p) == [("2026-02-28", "mammography"), ("2028-02-28", "mammography")]
    assert birthday(date(1976, 2, 29), 52) == date(2028, 2, 29)


def test_band_change_uses_the_new_interval():
    policy = parse_policy(HEADER + rule("annual", (45, 50), 12) + rule("biennial", (50, 70), 24))
    p = plan(policy, Woman(date(1977, 7, 1)), date(2026, 1, 15), years=6)
    # 48 at the start: annual 2026-01-15, 2027-01-15 (49); 2028-01-15 is 50 -> biennial band:
    # last (2027-01-15) + 24 months = 2029-01-15, then 2031-01-15 (after the end 2032-01-15? no).
    assert dues(p) == [
        ("2026-01-15", "mammography"), ("2027-01-15", "mammography"),
        ("2029-01-15", "mammography"), ("2031-01-15", "mammography"),
    ]  # fmt: skip


def test_conditions_select_rules_and_streams_alternate():
    policy = parse_policy(
        HEADER
        + rule("biennial", (40, 75), 24, levels=["low"])
        + rule("mammo", (40, 75), 12, levels=["high"], stream="mammography")
        + rule("mri", (40, 75), 12, ("mri",), levels=["high"], stream="mri", offset_months=6)
    )
    high = plan(policy, Woman(date(1980, 1, 1), level="high"), date(2026, 1, 15), years=2)
    assert dues(high) == [
        ("2026-01-15", "mammography"), ("2026-07-15", "mri"),
        ("2027-01-15", "mammography"), ("2027-07-15", "mri"),
    ]  # fmt: skip
    low = plan(policy, Woman(date(1980, 1, 1), level="low"), date(2026, 1, 15), years=2)
    assert dues(low) == [("2026-01-15", "mammography")]
    nothing = plan(policy, Woman(date(1980, 1, 1)), date(2026, 1, 15), years=2)
    assert nothing.exams == ()
    assert "No rule of policy 'demo' applies" in nothing.notes[0]


def test_density_adds_a_modality():
    policy = parse_policy(
        HEADER
        + rule("dense", (40, 75), 12, ("mammography", "ultrasound"), density=["c", "d"])
        + rule("not-dense", (40, 75), 12, density=["a", "b"])
    )
    p = plan(policy, Woman(date(1980, 1, 1), density="d"), date(2026, 1, 15), years=1)
    assert dues(p) == [("2026-01-15", "mammography"), ("2026-01-15", "ultrasound")]


STUDY = parse_policy(
    HEADER.replace('arm = "any"', 'arm = "risk-based"')
    + rule("every-4", (40, 80), 48, levels=["low"])
    + rule("annual", (40, 80), 12, levels=["high"])
    + """
[study]
years = 4
end_of_study = ["mammography"]
end_of_study_reason = "End-of-study mammogram."
absorb_months = 6
"""
)


def test_study_end_and_absorbed_exam():
    woman = Woman(date(1970, 1, 1), arm="risk-based", level="low", last_screen=date(2025, 9, 1))
    p = plan(STUDY, woman, date(2026, 1, 15), years=10)
    # Routine exam would be 2029-09-01, less than 6 months before the end of study (2030-01-15):
    # replaced by the end-of-study mammogram.
    assert dues(p) == [("2030-01-15", "mammography")]
    assert p.exams[0].rule == "end-of-study"
    assert any("study protocol" in n for n in p.notes)
    assert any("replaced by the end-of-study exam" in n for n in p.notes)


def test_study_annual_then_end_of_study():
    woman = Woman(date(1970, 1, 1), arm="risk-based", level="high")
    p = plan(STUDY, woman, date(2026, 1, 15))
    assert [d for d, _ in dues(p)] == [
        "2026-01-15", "2027-01-15", "2028-01-15", "2029-01-15", "2030-01-15",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("woman", "start", "kwargs", "message"),
    [
        (Woman(date(1970, 1, 1), last_screen=date(2026, 2, 1)), date(2026, 1, 15), {"years": 4},
         "before the last screen"),
        (Woman(date(2027, 1, 1)), date(2026, 1, 15), {"years": 4}, "after the plan start"),
        (Woman(date(1970, 1, 1), level="medium"), date(2026, 1, 15), {"years": 4},
         "level 'medium' is unknown"),
        (Woman(date(1970, 1, 1), density="e"), date(2026, 1, 15), {"years": 4}, "density 'e'"),
        (Woman(date(1970, 1, 1), risk_5y=1.5), date(2026, 1, 15), {"years": 4}, "proportion"),
        (Woman(date(1970, 1, 1)), date(2026, 1, 15), {"years": 4, "until": date(2027, 1, 1)},
         "not both"),
        (Woman(date(1970, 1, 1)), date(2026, 1, 15), {"until": date(2025, 1, 1)},
         "after its start"),
        (Woman(date(1970, 1, 1), arm="control"), date(2026, 1, 15), {"years": 4}, "arm 'control'"),
    ],
)  # fmt: skip
def test_inconsistent_requests(woman, start, kwargs, message):
    with pytest.raises(PlanError, match=message):
        plan(BIENNIAL, woman, start, **kwargs)


def test_policy_for_another_arm():
    with pytest.raises(PlanError, match="is for the risk-based arm"):
        plan(STUDY, Woman(date(1970, 1, 1), level="low"), date(2026, 1, 15))


births = st.dates(date(1935, 1, 1), date(1995, 12, 31))
starts = st.dates(date(2020, 1, 1), date(2035, 12, 31))


@settings(max_examples=200, deadline=None)
@given(birth=births, start=starts, years=st.integers(1, 15), gap=st.none() | st.integers(0, 4000))
def test_plan_properties(birth, start, years, gap):
    policy = parse_policy(HEADER + rule("annual", (45, 50), 12) + rule("biennial", (50, 70), 24))
    last = (
        None if gap is None else date.fromordinal(max(start.toordinal() - gap, birth.toordinal()))
    )
    woman = Woman(birth, last_screen=last)
    p = plan(policy, woman, start, years=years)
    assert p == plan(policy, woman, start, years=years)  # deterministic
    for exam in p.exams:
        assert birthday(birth, 45) <= exam.due < birthday(birth, 70)  # inside the policy's ages
        assert start <= exam.due < p.end  # inside the plan
        assert exam.window_start == exam.due
        assert exam.window_end == add_months(exam.due, 3)
    for before, after in zip(p.exams, p.exams[1:], strict=False):
        assert add_months(before.due, 12) <= after.due  # intervals respected
    if last is not None and p.exams and add_months(last, 12) > start:
        assert p.exams[0].due >= add_months(
            last, 12
        )  # not before the interval from the last screen


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
       st.integers(-600, 600))  # fmt: skip
def test_add_months_keeps_the_day_or_takes_the_months_last(day: date, months: int) -> None:
    index = day.year * 12 + day.month - 1 + months
    year, month = index // 12, index % 12 + 1
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    last = (first_of_next - timedelta(days=1)).day  # the month's length, counted back
    assert add_months(day, months) == date(year, month, min(day.day, last))
