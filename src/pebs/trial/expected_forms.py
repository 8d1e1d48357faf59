"""Which of a participant's forms are expected by a day and missing (the missing-forms report).

The rules, each at a *time point* of her pathway:

=================  ===============  ==========================================================
form               time point       missing when
=================  ===============  ==========================================================
``eligibility``    ``entry``        she has a consent but no eligibility assessment
``consent``        ``entry``        she is randomised but has no consent
``risk_factors``   ``randomisation``  she is in the risk-based arm with neither a risk
                                    questionnaire nor a risk assessment
``visit``          ``year-N``       an expected visit not performed whose window has closed
                                    (the visit worklist's *overdue*); N counts the years from
                                    her randomisation to the due date (year 1: the first 12
                                    months)
``questionnaire``  ``month-T``      for T in 0, 3, 12, 48: randomisation day + T calendar months
                                    is past and an instrument of the study has no response at T
=================  ===============  ==========================================================

Nothing is expected from a woman who withdrew the use of her data; after a withdrawal (any
level) or her death nothing due later is expected (``ended_on``), and a form due on or after
that day is not missing. A form's *due* day is the day it was expected: the consent's day for
an eligibility assessment, the randomisation day for a consent and the risk factors, the visit's
due date, the questionnaire's time point.

>>> from datetime import date
>>> her = HerForms("FR-PA-000012", "FR-PA", "risk-based", date(2024, 1, 31), True,
...                date(2024, 1, 30), False, (), frozenset({("EQ-5D-5L", 0)}), None, False)
>>> [(m.form, m.time_point, m.due) for m in missing_forms(her, ("EQ-5D-5L",), date(2024, 6, 1))]
[('risk_factors', 'randomisation', datetime.date(2024, 1, 31)), ('questionnaire', 'month-3', \
datetime.date(2024, 4, 30))]
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from pebs.trial.vocabularies import QUESTIONNAIRE_TIMEPOINTS

__all__ = [
    "RISK_BASED_ARM",
    "ExpectedVisit",
    "HerForms",
    "MissingForm",
    "add_months",
    "missing_forms",
    "time_point_order",
]

RISK_BASED_ARM = "risk-based"


@dataclass(frozen=True)
class ExpectedVisit:
    """An expected visit of her plan, not performed yet."""

    visit_id: int
    due_date: date
    window_end: date
    """The window is [start, end): overdue once ``window_end`` has come."""


@dataclass(frozen=True)
class HerForms:
    """What her records hold, as far as the rules need it."""

    study_id: str
    site: str
    arm: str | None
    """``None``: not randomised."""
    randomised_on: date | None
    has_eligibility: bool
    consented_on: date | None
    """The day of her first consent (``None``: none)."""
    has_risk_factors: bool
    expected_visits: tuple[ExpectedVisit, ...]
    questionnaires: frozenset[tuple[str, int]]
    """(instrument, time point in months) she has a response for."""
    ended_on: date | None
    """The day of her withdrawal or death (``None``: neither)."""
    data_use_withdrawn: bool


@dataclass(frozen=True)
class MissingForm:
    """One expected form that is missing."""

    study_id: str
    site: str
    form: str
    time_point: str
    due: date
    key: int | None = None
    """The expected visit's row id; ``None`` for the other forms."""
    instrument: str | None = None
    """The questionnaire's instrument."""


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months (the last day of a shorter month).

    >>> add_months(date(2024, 1, 31), 1), add_months(date(2024, 11, 30), 3)
    (datetime.date(2024, 2, 29), datetime.date(2025, 2, 28))
    """
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _year_of(randomised_on: date | None, due: date) -> int:
    if randomised_on is None:
        return 1
    before_anniversary = (due.month, due.day) < (randomised_on.month, randomised_on.day)
    years = due.year - randomised_on.year - before_anniversary
    return max(years, 0) + 1


def missing_forms(her: HerForms, instruments: Sequence[str], on: date) -> tuple[MissingForm, ...]:
    """Her forms expected by ``on`` and missing, by the rules of the module docstring."""
    if her.data_use_withdrawn:
        return ()
    found: list[MissingForm] = []

    def expected(due: date | None) -> bool:
        return due is not None and (her.ended_on is None or due < her.ended_on)

    def missing(form: str, time_point: str, due: date, **extra: object) -> None:
        found.append(MissingForm(her.study_id, her.site, form, time_point, due, **extra))

    if her.consented_on is not None and not her.has_eligibility and expected(her.consented_on):
        missing("eligibility", "entry", her.consented_on)
    randomised = her.randomised_on
    if randomised is None or not expected(randomised):
        return tuple(found)
    if her.consented_on is None:
        missing("consent", "entry", randomised)
    if her.arm == RISK_BASED_ARM and not her.has_risk_factors:
        missing("risk_factors", "randomisation", randomised)
    for visit in sorted(her.expected_visits, key=lambda v: (v.due_date, v.visit_id)):
        if visit.window_end <= on and expected(visit.due_date):
            missing("visit", f"year-{_year_of(randomised, visit.due_date)}", visit.due_date,
                    key=visit.visit_id)  # fmt: skip
    for months in QUESTIONNAIRE_TIMEPOINTS:
        due = add_months(randomised, months)
        if due < on and expected(due):
            for instrument in instruments:
                if (instrument, months) not in her.questionnaires:
                    missing("questionnaire", f"month-{months}", due, instrument=instrument)
    return tuple(found)


def time_point_order(time_point: str) -> tuple[int, int]:
    """A sort key of time points: entry, randomisation, then months, then years.

    >>> sorted(["year-2", "month-12", "entry", "month-3", "randomisation"], key=time_point_order)
    ['entry', 'randomisation', 'month-3', 'month-12', 'year-2']
    """
    kind, _, number = time_point.partition("-")
    rank = {"entry": 0, "randomisation": 1, "month": 2, "year": 3}.get(kind, 4)
    return rank, int(number) if number.isdigit() else 0
