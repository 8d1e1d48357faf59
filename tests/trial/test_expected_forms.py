"""The missing-forms rules on hand-built women; every expected form worked out by hand from the
rules' table (``pebs.trial.expected_forms``) and the questionnaire time points 0, 3, 12, 48."""

from __future__ import annotations

from datetime import date

from pebs.trial.expected_forms import ExpectedVisit, HerForms, add_months, missing_forms

ON = date(2026, 4, 1)
INSTRUMENTS = ("EQ-5D-5L", "STAI-6")


def _her(**changes) -> HerForms:
    values = {"study_id": "IT-TO-000001", "site": "IT-TO", "arm": "standard",
              "randomised_on": date(2025, 3, 3), "has_eligibility": True,
              "consented_on": date(2025, 3, 1), "has_risk_factors": False,
              "expected_visits": (), "questionnaires": frozenset(), "ended_on": None,
              "data_use_withdrawn": False}  # fmt: skip
    return HerForms(**{**values, **changes})


def _found(her: HerForms, on: date = ON) -> list[tuple]:
    return [(m.form, m.time_point, m.due, m.key, m.instrument)
            for m in missing_forms(her, INSTRUMENTS, on)]  # fmt: skip


ALL_ANSWERED = frozenset((i, t) for i in INSTRUMENTS for t in (0, 3, 12, 48))


def test_a_complete_standard_arm_woman_misses_nothing() -> None:
    assert _found(_her(questionnaires=ALL_ANSWERED)) == []


def test_questionnaires_due_by_the_day_of_the_report() -> None:
    # randomised 2025-03-03: due 2025-03-03 (0), 2025-06-03 (3), 2026-03-03 (12); 48 not yet
    answered = frozenset({("EQ-5D-5L", 0), ("STAI-6", 0), ("EQ-5D-5L", 3)})
    assert _found(_her(questionnaires=answered)) == [
        ("questionnaire", "month-3", date(2025, 6, 3), None, "STAI-6"),
        ("questionnaire", "month-12", date(2026, 3, 3), None, "EQ-5D-5L"),
        ("questionnaire", "month-12", date(2026, 3, 3), None, "STAI-6"),
    ]
    # on the due day itself the form is not missing yet
    assert _found(_her(questionnaires=answered), on=date(2025, 6, 3)) == []


def test_entry_forms() -> None:
    no_eligibility = _her(has_eligibility=False, questionnaires=ALL_ANSWERED)
    assert _found(no_eligibility) == [("eligibility", "entry", date(2025, 3, 1), None, None)]
    no_consent = _her(consented_on=None, questionnaires=ALL_ANSWERED)
    assert _found(no_consent) == [("consent", "entry", date(2025, 3, 3), None, None)]
    consented_only = _her(has_eligibility=False, arm=None, randomised_on=None)
    assert _found(consented_only) == [("eligibility", "entry", date(2025, 3, 1), None, None)]


def test_risk_factors_of_the_risk_based_arm_only() -> None:
    risk_based = _her(arm="risk-based", questionnaires=ALL_ANSWERED)
    assert _found(risk_based) == [
        ("risk_factors", "randomisation", date(2025, 3, 3), None, None)]  # fmt: skip
    assert _found(_her(arm="risk-based", has_risk_factors=True, questionnaires=ALL_ANSWERED)) == []


def test_overdue_visits_by_year_of_follow_up() -> None:
    visits = (
        ExpectedVisit(11, date(2025, 9, 1), date(2025, 10, 1)),  # year 1, overdue
        ExpectedVisit(12, date(2026, 3, 3), date(2026, 4, 1)),  # year 2 (the anniversary)
        ExpectedVisit(13, date(2026, 3, 10), date(2026, 4, 2)),  # window still open on ON
    )
    assert _found(_her(expected_visits=visits, questionnaires=ALL_ANSWERED)) == [
        ("visit", "year-1", date(2025, 9, 1), 11, None),
        ("visit", "year-2", date(2026, 3, 3), 12, None),
    ]


def test_nothing_due_after_her_withdrawal_or_death_nor_after_data_use_withdrawn() -> None:
    visits = (ExpectedVisit(11, date(2025, 9, 1), date(2025, 10, 1)),)
    ended = _her(ended_on=date(2025, 6, 3), expected_visits=visits)
    assert _found(ended) == [
        ("questionnaire", "month-0", date(2025, 3, 3), None, "EQ-5D-5L"),
        ("questionnaire", "month-0", date(2025, 3, 3), None, "STAI-6"),
    ]
    assert _found(_her(data_use_withdrawn=True, has_eligibility=False)) == []


def test_calendar_months() -> None:
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)
    assert add_months(date(2024, 2, 29), 48) == date(2028, 2, 29)
    assert add_months(date(2025, 1, 31), 12) == date(2026, 1, 31)
