"""Eligibility: the MyPeBS criteria of the demo study, ages at the boundaries, missing answers."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from factories import ELIGIBLE
from pebs.trial import (
    AGE_CRITERION,
    CriteriaSet,
    Criterion,
    EligibilityError,
    assess,
    load_study,
)

CRITERIA = load_study("mypebs-demo").protocol_on(date(2019, 1, 1)).eligibility
ON = date(2026, 3, 15)
BORN_50 = date(1976, 1, 10)


def test_the_demo_protocol_has_the_mission_criteria():
    assert (CRITERIA.min_age, CRITERIA.max_age) == (40, 70)
    assert {c.id: c.expected for c in CRITERIA.criteria} == ELIGIBLE
    text = " ".join(c.question for c in CRITERIA.criteria)
    for word in ("DCIS", "BRCA1", "PALB2", "TP53", "BI-RADS 4 or 5", "consent", "language"):
        assert word in text


def test_a_woman_meeting_every_criterion_is_eligible():
    result = assess(CRITERIA, ELIGIBLE, BORN_50, ON)
    assert result.eligible
    assert result.status == "eligible"
    assert (result.age, result.failed, result.missing) == (50, (), ())
    assert result.protocol_version == "1.0"


@pytest.mark.parametrize("criterion", sorted(ELIGIBLE))
def test_each_criterion_alone_makes_a_screen_failure_with_its_reason(criterion):
    answers = dict(ELIGIBLE, **{criterion: not ELIGIBLE[criterion]})
    result = assess(CRITERIA, answers, BORN_50, ON)
    assert not result.eligible
    assert result.status == "screen_failure"
    expected_reason = next(c.failure_reason for c in CRITERIA.criteria if c.id == criterion)
    assert [(f.criterion, f.reason) for f in result.failed] == [(criterion, expected_reason)]


@pytest.mark.parametrize(
    ("birth_date", "age", "eligible"),
    [
        (date(1986, 3, 15), 40, True),  # 40th birthday on the assessment date
        (date(1986, 3, 16), 39, False),  # one day short of 40
        (date(1955, 3, 16), 70, True),  # the day before her 71st birthday
        (date(1955, 3, 15), 71, False),  # 71st birthday
    ],
)
def test_age_limits_are_inclusive_in_completed_years(birth_date, age, eligible):
    result = assess(CRITERIA, ELIGIBLE, birth_date, ON)
    assert (result.age, result.eligible) == (age, eligible)
    if not eligible:
        (failure,) = result.failed
        assert failure.criterion == AGE_CRITERION
        assert failure.reason == f"aged {age} on 2026-03-15; the protocol requires 40 to 70"


def test_born_on_29_february():
    # The 71st birthday falls in a common year: she reaches 71 on 28 February (pebs.screening
    # calendar convention), so she is eligible on the 27th and not on the 28th.
    born = date(1956, 2, 29)
    assert assess(CRITERIA, ELIGIBLE, born, date(2027, 2, 27)).eligible
    late = assess(CRITERIA, ELIGIBLE, born, date(2027, 2, 28))
    assert (late.age, late.eligible) == (71, False)


def test_missing_answers_make_an_incomplete_assessment():
    answers = dict(ELIGIBLE, able_to_consent=None)
    del answers["health_coverage"]
    result = assess(CRITERIA, answers, BORN_50, ON)
    assert not result.eligible
    assert result.status == "incomplete"
    assert result.missing == ("able_to_consent", "health_coverage")


def test_a_failure_wins_over_missing_answers():
    result = assess(CRITERIA, {"bilateral_mastectomy": True}, BORN_50, ON)
    assert result.status == "screen_failure"
    assert len(result.missing) == len(ELIGIBLE) - 1


@pytest.mark.parametrize(
    ("answers", "birth_date", "on_date", "fragment"),
    [
        ({"smoker": False}, BORN_50, ON, "answer for unknown criterion 'smoker'; protocol 1.0"),
        ({"able_to_consent": "yes"}, BORN_50, ON, "must be true, false or None"),
        ({"able_to_consent": 1}, BORN_50, ON, "got 1"),
        ({}, date(2027, 1, 1), ON, "birth_date 2027-01-01 is after the assessment date"),
        ({}, BORN_50, datetime(2026, 3, 15, 9, 0), "on_date must be a date (not a date-time)"),
        ({}, "1976-01-10", ON, "birth_date must be a date"),
        ([("able_to_consent", True)], BORN_50, ON, "answers must map criterion ids"),
    ],
)
def test_malformed_input_is_an_error_not_a_screen_failure(answers, birth_date, on_date, fragment):
    with pytest.raises(EligibilityError) as info:
        assess(CRITERIA, answers, birth_date, on_date)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        (lambda: Criterion("Bad Id", "q?", False, "r"), "criterion id 'Bad Id'"),
        (lambda: Criterion("age", "q?", False, "r"), "reserved 'age'"),
        (lambda: Criterion("x", "", False, "r"), "question must be a non-empty text"),
        (lambda: Criterion("x", "q?", "no", "r"), "expected must be true or false"),
        (lambda: CriteriaSet("1", 70, 40, ()), "min_age 70 must not exceed max_age 40"),
        (
            lambda: CriteriaSet("1", 40, 70, (Criterion("x", "q", True, "r"),) * 2),
            "criterion id 'x' is used more than once",
        ),
    ],
)
def test_criteria_are_validated(build, fragment):
    with pytest.raises(EligibilityError) as info:
        build()
    assert fragment in str(info.value)
