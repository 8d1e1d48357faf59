"""Hand-worked plans for every shipped policy, one table per policy.

Every expected date below was worked out by hand from the guideline text quoted in the policy's
``source`` (ages, interval, modalities) and the planning rules of ``docs/policies.md``, never from
the planner's output. The comment on each row is the derivation. Conventions used throughout:

- "50 to 74" means from the 50th birthday up to, not including, the 75th birthday;
- adding months keeps the day of the month, or takes the month's last day (31 Jan + 1 month =
  28 Feb), so a woman born on 29 February has her birthdays on 28 February in common years;
- no last screen: first exam at the plan start (or at the birthday that opens the band);
  last screen: first exam at last screen + interval, at the start if that is already past
  ("overdue"); moving to the next band of a schedule: last exam + the new band's interval;
- the plan covers [start, end): an exam due on the end date is not in the plan (except a study's
  end-of-study exam, which is due on the end date).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from pebs.screening import PlanError, Woman, load_policy, plan, shipped_policies

START = date(2026, 1, 15)
"""The usual plan start; four years later is 2030-01-15."""


def d(text: str) -> date:
    return date.fromisoformat(text)


@dataclass(frozen=True)
class Case:
    birth: str
    expected: list[tuple[str, str, str]]
    """(due, modality, rule id) in plan order (due date, then modality)."""
    start: date = START
    years: float | None = 4
    until: str | None = None
    arm: str = "standard"
    level: str | None = None
    risk_5y: float | None = None
    density: str | None = None
    last: str | None = None
    notes: tuple[str, ...] = ()
    """Fragments that must appear in the plan's notes (none if empty and no exam: see below)."""
    first_reason: tuple[str, ...] = ()
    """Fragments that must appear in the first exam's reason."""
    end: str | None = None


def run(policy_name: str, case: Case):
    woman = Woman(
        birth_date=d(case.birth),
        arm=case.arm,
        level=case.level,
        risk_5y=case.risk_5y,
        density=case.density,
        last_screen=d(case.last) if case.last else None,
    )
    if case.until is not None:
        return plan(load_policy(policy_name), woman, case.start, until=d(case.until))
    return plan(load_policy(policy_name), woman, case.start, years=case.years)


def check(policy_name: str, case: Case) -> None:
    result = run(policy_name, case)
    got = [(e.due.isoformat(), e.modality, e.rule) for e in result.exams]
    assert got == case.expected
    for exam in result.exams:
        assert exam.policy == policy_name
        assert exam.window_start == exam.due
        assert exam.window_end > exam.due
    notes = " | ".join(result.notes)
    for fragment in case.notes:
        assert fragment in notes
    if not case.expected:
        assert result.notes, "a plan without exams must say why"
    if case.first_reason:
        for fragment in case.first_reason:
            assert fragment in result.exams[0].reason
    if case.end is not None:
        assert result.end == d(case.end)


def cases(table: dict[str, Case]):
    return [pytest.param(case, id=name) for name, case in table.items()]


M, C, U, R = "mammography", "clinical_examination", "ultrasound", "mri"

# --- fr: 50 to 74, every 2 years, mammography + clinical breast examination (INCa) -------------

FR = {
    # Born 1977-06-10: 48 at the start, 50th birthday 2027-06-10 opens the band; +24 months
    # 2029-06-10; +24 = 2031-06-10 is after the plan end 2030-01-15.
    "ages-in-at-50": Case(
        "1977-06-10",
        [
            ("2027-06-10", M, "biennial-50-74"),
            ("2027-06-10", C, "biennial-50-74"),
            ("2029-06-10", M, "biennial-50-74"),
            ("2029-06-10", C, "biennial-50-74"),
        ],
        first_reason=("50th birthday",),
    ),
    # Aged 60, last screen 2025-05-20 (recent): next 2027-05-20, then 2029-05-20.
    "recent-last-screen": Case(
        "1965-04-01",
        [
            ("2027-05-20", M, "biennial-50-74"),
            ("2027-05-20", C, "biennial-50-74"),
            ("2029-05-20", M, "biennial-50-74"),
            ("2029-05-20", C, "biennial-50-74"),
        ],
        last="2025-05-20",
    ),
    # Last screen 2022-03-01: next was due 2024-03-01, already past -> overdue, due at the start
    # 2026-01-15; then 2028-01-15; 2030-01-15 is the plan end (excluded).
    "overdue": Case(
        "1965-04-01",
        [
            ("2026-01-15", M, "biennial-50-74"),
            ("2026-01-15", C, "biennial-50-74"),
            ("2028-01-15", M, "biennial-50-74"),
            ("2028-01-15", C, "biennial-50-74"),
        ],
        last="2022-03-01",
        first_reason=("overdue", "2022-03-01"),
    ),
    # Aged 73, last screen 2025-02-01: next 2027-02-01, before her 75th birthday 2027-09-30;
    # the next one (2029-02-01) would be after it: the programme ends at 75.
    "ages-out-at-75": Case(
        "1952-09-30",
        [("2027-02-01", M, "biennial-50-74"), ("2027-02-01", C, "biennial-50-74")],
        last="2025-02-01",
        notes=("ends at her 75th birthday (2027-09-30)",),
    ),
    # Aged 36 at the start, 40 at the end: outside 50-74 for the whole plan, no exam.
    "too-young": Case("1990-01-01", [], notes=("covers ages 50 to 74",)),
    # Born 29 Feb 1976: 50th birthday on 28 Feb 2026 (common year) opens the band; +24 months
    # = 2028-02-28 (the interval is counted from the last exam); 2030-02-28 is after the end.
    "leap-day-birthday": Case(
        "1976-02-29",
        [
            ("2026-02-28", M, "biennial-50-74"),
            ("2026-02-28", C, "biennial-50-74"),
            ("2028-02-28", M, "biennial-50-74"),
            ("2028-02-28", C, "biennial-50-74"),
        ],
    ),
}


@pytest.mark.parametrize("case", cases(FR))
def test_fr(case):
    check("fr", case)


def test_fr_start_before_the_last_screen_is_an_error():
    # The issue: a start date before the last screen is an error.
    with pytest.raises(PlanError, match="before the last screen"):
        run("fr", Case("1965-04-01", [], last="2026-03-01"))


# --- it: 50 to 69, every 2 years (Ministero della Salute, LEA) ---------------------------------

IT = {
    # Born 1976-07-01: 50th birthday 2026-07-01, then 2028-07-01; 2030-07-01 after the end.
    "ages-in-at-50": Case(
        "1976-07-01", [("2026-07-01", M, "biennial-50-69"), ("2028-07-01", M, "biennial-50-69")]
    ),
    # Aged 68, last screen 2024-11-02: next 2026-11-02, before the 70th birthday 2027-03-15;
    # then 2028-11-02 is after it: no more exams.
    "ages-out-at-70": Case(
        "1957-03-15",
        [("2026-11-02", M, "biennial-50-69")],
        last="2024-11-02",
        notes=("ends at her 70th birthday (2027-03-15)",),
    ),
    # Aged 72 for a 2-year plan: above 69, no exam.
    "too-old": Case("1954-01-01", [], years=2, notes=("covers ages 50 to 69",)),
    # Born 29 Feb 1976, last (opportunistic) screen at 49 on 2025-12-01: next 2027-12-01 (after
    # the 50th birthday 2026-02-28), then 2029-12-01, before the end 2030-01-15.
    "leap-day-last-screen-before-50": Case(
        "1976-02-29",
        [("2027-12-01", M, "biennial-50-69"), ("2029-12-01", M, "biennial-50-69")],
        last="2025-12-01",
    ),
}


@pytest.mark.parametrize("case", cases(IT))
def test_it(case):
    check("it", case)


# --- it-regional: 45-49 every year, 50-69 and 70-74 every 2 years (Emilia-Romagna) -------------

IT_REGIONAL = {
    # Aged 47, no last screen, 5-year plan to 2031-01-15: annual 2026-01-15, 2027-01-15,
    # 2028-01-15; 2029-01-15 is after the 50th birthday 2028-05-20, so the 50-69 band takes over:
    # last exam 2028-01-15 + 24 months = 2030-01-15; then 2032-01-15 is after the end.
    "annual-then-biennial": Case(
        "1978-05-20",
        [
            ("2026-01-15", M, "annual-45-49"),
            ("2027-01-15", M, "annual-45-49"),
            ("2028-01-15", M, "annual-45-49"),
            ("2030-01-15", M, "biennial-50-69"),
        ],
        years=5,
    ),
    # Aged 69, last screen 2025-09-10, 6-year plan to 2032-01-15: next 2027-09-10 is after her
    # 70th birthday 2026-08-01, so it belongs to the 70-74 band (still every 2 years); then
    # 2029-09-10; 2031-09-10 is after the 75th birthday 2031-08-01.
    "into-70-74": Case(
        "1956-08-01",
        [("2027-09-10", M, "biennial-70-74"), ("2029-09-10", M, "biennial-70-74")],
        last="2025-09-10",
        years=6,
        notes=("ends at her 75th birthday (2031-08-01)",),
    ),
    # Aged 39; her 45th birthday (2031-03-03) is after the plan end: no exam.
    "too-young": Case("1986-03-03", [], notes=("covers ages 45 to 74",)),
    # Born 29 Feb 1976, aged 49: annual from the start, 2026-01-15; 2027-01-15 is after the 50th
    # birthday 2026-02-28, so biennial: 2026-01-15 + 24 = 2028-01-15; end excluded.
    "leap-day-birthday": Case(
        "1976-02-29",
        [("2026-01-15", M, "annual-45-49"), ("2028-01-15", M, "biennial-50-69")],
    ),
}


@pytest.mark.parametrize("case", cases(IT_REGIONAL))
def test_it_regional(case):
    check("it-regional", case)


# --- be: 50 to 69, every 2 years (Flemish, Brussels and Walloon programmes) --------------------

BE = {
    # Aged 65, last screen 2023-06-01: next was due 2025-06-01 -> overdue, at the start; then
    # 2028-01-15; 2030-01-15 is the plan end.
    "overdue": Case(
        "1960-10-10",
        [("2026-01-15", M, "biennial-50-69"), ("2028-01-15", M, "biennial-50-69")],
        last="2023-06-01",
        first_reason=("overdue: last screen on 2023-06-01",),
    ),
    # Aged 55, last screen 2025-03-01: 2027-03-01 and 2029-03-01.
    "recent-last-screen": Case(
        "1970-08-08",
        [("2027-03-01", M, "biennial-50-69"), ("2029-03-01", M, "biennial-50-69")],
        last="2025-03-01",
    ),
    # Aged 67, last screen 2025-12-01: next 2027-12-01, then 2029-12-01 is after her 70th
    # birthday 2028-07-07: one exam.
    "ages-out-at-70": Case(
        "1958-07-07",
        [("2027-12-01", M, "biennial-50-69")],
        last="2025-12-01",
        notes=("ends at her 70th birthday (2028-07-07)",),
    ),
    # Born 29 Feb 1980, plan 2029-01-10 to 2033-01-10: 50th birthday 2030-02-28 (common year),
    # then 2032-02-28 (the day stays the 28th); 2034 is after the end.
    "leap-day-birthday": Case(
        "1980-02-29",
        [("2030-02-28", M, "biennial-50-69"), ("2032-02-28", M, "biennial-50-69")],
        start=d("2029-01-10"),
    ),
    # Aged 45: no exam before the 50th birthday (2031), after the plan.
    "too-young": Case("1981-01-01", [], notes=("covers ages 50 to 69",)),
}


@pytest.mark.parametrize("case", cases(BE))
def test_be(case):
    check("be", case)


# --- il: 50 to 74 every 2 years; every year from 40 at increased risk (Ministry of Health) -----

IL = {
    # Increased risk, aged 41, 3-year plan to 2029-01-15: yearly from the start.
    "increased-annual": Case(
        "1984-01-20",
        [
            ("2026-01-15", M, "annual-40-74-increased-risk"),
            ("2027-01-15", M, "annual-40-74-increased-risk"),
            ("2028-01-15", M, "annual-40-74-increased-risk"),
        ],
        years=3,
        level="increased",
    ),
    # Increased risk, aged 55, last screen 2025-06-30: 2026-06-30, 2027, 2028, 2029.
    "increased-recent-last-screen": Case(
        "1970-06-30",
        [
            ("2026-06-30", M, "annual-40-74-increased-risk"),
            ("2027-06-30", M, "annual-40-74-increased-risk"),
            ("2028-06-30", M, "annual-40-74-increased-risk"),
            ("2029-06-30", M, "annual-40-74-increased-risk"),
        ],
        level="increased",
        last="2025-06-30",
    ),
    # Average risk, aged 48: 50th birthday 2027-09-05, then 2029-09-05.
    "average-ages-in-at-50": Case(
        "1977-09-05",
        [("2027-09-05", M, "biennial-50-74"), ("2029-09-05", M, "biennial-50-74")],
        level="average",
    ),
    # Average risk, aged 45: the general programme starts at 50 (2031), after the plan.
    "average-too-young": Case("1981-01-01", [], level="average", notes=("covers ages 50 to 74",)),
    # Born 29 Feb 1976, average: 50th birthday 2026-02-28, then 2028-02-28.
    "leap-day-birthday": Case(
        "1976-02-29",
        [("2026-02-28", M, "biennial-50-74"), ("2028-02-28", M, "biennial-50-74")],
        level="average",
    ),
    # No level given: the policy's default_level "average" (the general programme). Born
    # 1970-01-01 (56 at the start): due at the start 2026-01-15, then 2028-01-15.
    "no-level": Case(
        "1970-01-01",
        [("2026-01-15", M, "biennial-50-74"), ("2028-01-15", M, "biennial-50-74")],
    ),
}


@pytest.mark.parametrize("case", cases(IL))
def test_il(case):
    check("il", case)


# --- uk-england: 50 up to the 71st birthday, every 3 years (NHS Breast Screening Programme) ----

UK_ENGLAND = {
    # Born 1975-03-02 (aged 50), no last screen: at the start 2026-01-15, then + 36 months
    # 2029-01-15, before the end 2030-01-15.
    "first-screen-at-start": Case(
        "1975-03-02",
        [("2026-01-15", M, "triennial-50-70"), ("2029-01-15", M, "triennial-50-70")],
    ),
    # Aged 69, last screen 2024-04-01: next 2027-04-01, before the 71st birthday 2027-05-05.
    "last-screen-before-71": Case(
        "1956-05-05",
        [("2027-04-01", M, "triennial-50-70")],
        last="2024-04-01",
        notes=("birthday (2027-05-05)",),  # the planner says "71th": reported
    ),
    # Aged 70, last screen 2024-09-01: next would be 2027-09-01, after the 71st birthday
    # 2026-11-11: no invitation any more.
    "no-more-invitation-after-71": Case(
        "1955-11-11", [], last="2024-09-01", notes=("covers ages 50 to 70",)
    ),
    # Born 29 Feb 1976, plan 2024-01-10 to 2028-01-10: 50th birthday 2026-02-28; next + 36 months
    # 2029-02-28 is after the end.
    "leap-day-birthday": Case(
        "1976-02-29", [("2026-02-28", M, "triennial-50-70")], start=d("2024-01-10")
    ),
}


@pytest.mark.parametrize("case", cases(UK_ENGLAND))
def test_uk_england(case):
    check("uk-england", case)


# --- es: 50 to 69, every 2 years (Ministerio de Sanidad) ---------------------------------------

ES = {
    # Aged 50, no last screen: 2026-01-15, 2028-01-15; 2030-01-15 is the end.
    "first-screen-at-start": Case(
        "1975-03-02",
        [("2026-01-15", M, "biennial-50-69"), ("2028-01-15", M, "biennial-50-69")],
    ),
    # Aged 69, last screen 2024-12-31: next 2026-12-31 is her 70th birthday, which is no longer
    # "50 to 69" (the band stops before the 70th birthday): no exam.
    "due-on-the-70th-birthday": Case(
        "1956-12-31", [], last="2024-12-31", notes=("covers ages 50 to 69",)
    ),
    # Aged 52, last screen 2023-01-01: overdue since 2025-01-01 -> at the start, then 2028-01-15.
    "overdue": Case(
        "1973-05-05",
        [("2026-01-15", M, "biennial-50-69"), ("2028-01-15", M, "biennial-50-69")],
        last="2023-01-01",
        first_reason=("overdue",),
    ),
    # Born 29 Feb 1976, plan to 2026-12-31: 50th birthday 2026-02-28.
    "leap-day-birthday": Case(
        "1976-02-29", [("2026-02-28", M, "biennial-50-69")], until="2026-12-31"
    ),
}


@pytest.mark.parametrize("case", cases(ES))
def test_es(case):
    check("es", case)


# --- wisdom: four risk groups, ages 40 to 74 (Esserman et al.) ---------------------------------

RB = "risk-based"
WISDOM = {
    # Highest risk, aged 45, no last screen, 2-year plan to 2028-01-15: mammography at the start
    # and every 12 months (2026-01-15, 2027-01-15); MRI 6 months after each (2026-07-15,
    # 2027-07-15): an exam every 6 months, alternating.
    "highest-alternates": Case(
        "1980-04-10",
        [
            ("2026-01-15", M, "highest-mammography"),
            ("2026-07-15", R, "highest-mri"),
            ("2027-01-15", M, "highest-mammography"),
            ("2027-07-15", R, "highest-mri"),
        ],
        years=2,
        arm=RB,
        level="highest",
    ),
    # Elevated, aged 60, last screen 2024-06-01: overdue since 2025-06-01 -> at the start, then
    # every year: 2027-01-15, 2028-01-15, 2029-01-15.
    "elevated-overdue": Case(
        "1966-01-01",
        [
            ("2026-01-15", M, "elevated-annual"),
            ("2027-01-15", M, "elevated-annual"),
            ("2028-01-15", M, "elevated-annual"),
            ("2029-01-15", M, "elevated-annual"),
        ],
        arm=RB,
        level="elevated",
        last="2024-06-01",
        first_reason=("overdue",),
    ),
    # Average, aged 40: every 2 years from the start.
    "average-biennial-at-40": Case(
        "1985-03-20",
        [("2026-01-15", M, "average-biennial"), ("2028-01-15", M, "average-biennial")],
        arm=RB,
        level="average",
    ),
    # Low, aged 43, 5-year risk 0.9% < 1.3%: no screening until 50 (her 50th birthday,
    # 2032-02-01, is after the plan): no exam, and the WISDOM reason.
    "low-no-screening": Case(
        "1982-02-01",
        [],
        arm=RB,
        level="low",
        risk_5y=0.009,
        notes=("no screening until 50, or until the 5-year risk reaches 1.3%",),
    ),
    # Low, aged 48, risk 1.1%: nothing before the 50th birthday 2027-08-15, then every 2 years:
    # 2027-08-15, 2029-08-15; the no-screening reason is given for the years before 50.
    "low-ages-into-50": Case(
        "1977-08-15",
        [("2027-08-15", M, "low-from-50"), ("2029-08-15", M, "low-from-50")],
        arm=RB,
        level="low",
        risk_5y=0.011,
        notes=("WISDOM low-risk group",),
    ),
    # Born 29 Feb 1976, average, last screen 2024-02-29: + 24 months = 2026-02-28 (2026 has no
    # 29 February), then 2028-02-28; 2030-02-28 is after the end.
    "leap-day-birthday": Case(
        "1976-02-29",
        [("2026-02-28", M, "average-biennial"), ("2028-02-28", M, "average-biennial")],
        arm=RB,
        level="average",
        last="2024-02-29",
    ),
}


@pytest.mark.parametrize("case", cases(WISDOM))
def test_wisdom(case):
    check("wisdom", case)


def test_wisdom_alternation_after_a_recent_mammogram():
    # Highest risk, last screen (a mammogram) on 2025-10-01, plan 2026-01-15 to 2028-01-15.
    # "MRI and mammography alternating every 6 months": MRI 2026-04-01, mammography 2026-10-01,
    # MRI 2027-04-01, mammography 2027-10-01.
    check(
        "wisdom",
        Case(
            "1980-04-10",
            [
                ("2026-04-01", R, "highest-mri"),
                ("2026-10-01", M, "highest-mammography"),
                ("2027-04-01", R, "highest-mri"),
                ("2027-10-01", M, "highest-mammography"),
            ],
            years=2,
            arm=RB,
            level="highest",
            last="2025-10-01",
        ),
    )


# --- uspstf-2024: 40 to 74, every 2 years (JAMA 2024) ------------------------------------------

USPSTF = {
    # Aged 38: 40th birthday 2027-05-05 opens the band, then 2029-05-05.
    "ages-in-at-40": Case(
        "1987-05-05",
        [("2027-05-05", M, "biennial-40-74"), ("2029-05-05", M, "biennial-40-74")],
    ),
    # Aged 55, last screen 2025-07-01: 2027-07-01, 2029-07-01.
    "recent-last-screen": Case(
        "1970-10-10",
        [("2027-07-01", M, "biennial-40-74"), ("2029-07-01", M, "biennial-40-74")],
        last="2025-07-01",
    ),
    # Aged 73, last screen 2025-01-10: 2027-01-10, before the 75th birthday 2027-03-01; then the
    # I statement from 75.
    "ages-out-at-75": Case(
        "1952-03-01",
        [("2027-01-10", M, "biennial-40-74")],
        last="2025-01-10",
        notes=("ends at her 75th birthday (2027-03-01)", "I statement"),
    ),
    # Aged 80: no routine exam, insufficient evidence (I statement).
    "aged-80": Case("1946-01-01", [], notes=("I statement",)),
    # Born 29 Feb 1976, last screen on 29 Feb 2024: + 24 months = 2026-02-28 (no 29 February in
    # 2026), then 2028-02-28 (counted from the last exam); 2030-02-28 is after the end.
    "leap-day-birthday": Case(
        "1976-02-29",
        [("2026-02-28", M, "biennial-40-74"), ("2028-02-28", M, "biennial-40-74")],
        last="2024-02-29",
    ),
}


@pytest.mark.parametrize("case", cases(USPSTF))
def test_uspstf_2024(case):
    check("uspstf-2024", case)


# --- ecibc: 45-49 every 2 years (chosen from "2 or 3"), 50-69 every 2, 70-74 every 3 ------------

ECIBC = {
    # Aged 46, no last screen, plan to 2031-01-15: 2026-01-15, 2028-01-15 (45-49); 2030-01-15
    # is after the 50th birthday 2029-06-01: 50-69 band, last + 24 months = 2030-01-15.
    "45-49-into-50-69": Case(
        "1979-06-01",
        [
            ("2026-01-15", M, "biennial-45-49"),
            ("2028-01-15", M, "biennial-45-49"),
            ("2030-01-15", M, "biennial-50-69"),
        ],
        until="2031-01-15",
    ),
    # Aged 68, last screen 2025-04-15, plan to 2032-01-15: 2027-04-15 would be after the 70th
    # birthday 2027-04-01, so the 70-74 band applies: last + 36 months = 2028-04-15, then
    # 2031-04-15 (before the 75th birthday 2032-04-01 and the end).
    "into-70-74-triennial": Case(
        "1957-04-01",
        [("2028-04-15", M, "triennial-70-74"), ("2031-04-15", M, "triennial-70-74")],
        last="2025-04-15",
        until="2032-01-15",
    ),
    # Aged 42, 2-year plan: 40-44, ECIBC suggests no screening; her 45th birthday (2029) is later.
    "40-44-no-screening": Case(
        "1984-01-01", [], years=2, notes=("suggest not screening women at average risk",)
    ),
    # Born 29 Feb 1980, plan 2024-06-01 to 2026-06-01: 45th birthday 2025-02-28; next 2027-02-28
    # is after the end.
    "leap-day-birthday": Case(
        "1980-02-29",
        [("2025-02-28", M, "biennial-45-49")],
        start=d("2024-06-01"),
        years=2,
    ),
}


@pytest.mark.parametrize("case", cases(ECIBC))
def test_ecibc(case):
    check("ecibc", case)


# --- nice-familial: moderate annual 40-49, high annual 40-59, then the NHS programme ------------

NICE = {
    # Moderate, aged 43: every year 2026-01-15 ... 2029-01-15 (50th birthday in 2032).
    "moderate-annual": Case(
        "1982-03-10",
        [
            ("2026-01-15", M, "moderate-annual-40-49"),
            ("2027-01-15", M, "moderate-annual-40-49"),
            ("2028-01-15", M, "moderate-annual-40-49"),
            ("2029-01-15", M, "moderate-annual-40-49"),
        ],
        level="moderate",
    ),
    # Moderate, aged 49: 2026-01-15; 2027-01-15 is after the 50th birthday 2026-09-01, so the
    # population programme applies: 2026-01-15 + 36 months = 2029-01-15.
    "moderate-into-programme-at-50": Case(
        "1976-09-01",
        [("2026-01-15", M, "moderate-annual-40-49"), ("2029-01-15", M, "moderate-programme-50-70")],
        level="moderate",
    ),
    # High, aged 59, last screen 2025-07-01: 2026-07-01 (before the 60th birthday 2026-07-20);
    # then the programme: 2026-07-01 + 36 months = 2029-07-01.
    "high-into-programme-at-60": Case(
        "1966-07-20",
        [("2026-07-01", M, "high-annual-40-59"), ("2029-07-01", M, "high-programme-60-70")],
        level="high",
        last="2025-07-01",
    ),
    # Near population risk, aged 44: the programme starts at 50 (2031), after the plan.
    "near-population-too-young": Case(
        "1981-05-05", [], level="near_population", notes=("covers ages 50 to 70",)
    ),
    # Born 29 Feb 1976, moderate, plan 2025-02-28 to 2027-02-28: annual exam at the start; the
    # next, 2026-02-28, falls on her 50th birthday (28 Feb in a common year), so annual
    # surveillance has ended and the programme applies: 2025-02-28 + 36 months = 2028-02-28,
    # after the end. One exam.
    "leap-day-birthday": Case(
        "1976-02-29",
        [("2025-02-28", M, "moderate-annual-40-49")],
        level="moderate",
        start=d("2025-02-28"),
        years=2,
    ),
}


@pytest.mark.parametrize("case", cases(NICE))
def test_nice_familial(case):
    check("nice-familial", case)


# --- mypebs-risk-based: by level for 4 years, then the end-of-study mammogram -----------------

EOS = "end-of-study"
MYPEBS = {
    # Average, aged 55, no last screen: 2026-01-15, 2028-01-15; 2030-01-15 is the end of the
    # 4-year study: the end-of-study mammogram (not a routine exam).
    "average": Case(
        "1971-01-01",
        [
            ("2026-01-15", M, "average-every-2-years"),
            ("2028-01-15", M, "average-every-2-years"),
            ("2030-01-15", M, EOS),
        ],
        arm=RB,
        level="average",
        end="2030-01-15",
    ),
    # Low: 2026-01-15, next + 48 months = 2030-01-15 is the end: only the end-of-study exam.
    "low": Case(
        "1971-01-01",
        [("2026-01-15", M, "low-every-4-years"), ("2030-01-15", M, EOS)],
        arm=RB,
        level="low",
    ),
    # High with density c: mammography and ultrasound at the same visits, every year
    # (2026-2029), then the end-of-study mammogram alone.
    "high-dense-ultrasound": Case(
        "1971-01-01",
        [
            ("2026-01-15", M, "high-annual"),
            ("2026-01-15", U, "high-dense-ultrasound"),
            ("2027-01-15", M, "high-annual"),
            ("2027-01-15", U, "high-dense-ultrasound"),
            ("2028-01-15", M, "high-annual"),
            ("2028-01-15", U, "high-dense-ultrasound"),
            ("2029-01-15", M, "high-annual"),
            ("2029-01-15", U, "high-dense-ultrasound"),
            ("2030-01-15", M, EOS),
        ],
        arm=RB,
        level="high",
        density="c",
    ),
    # High with density b: no ultrasound.
    "high-not-dense": Case(
        "1971-01-01",
        [
            ("2026-01-15", M, "high-annual"),
            ("2027-01-15", M, "high-annual"),
            ("2028-01-15", M, "high-annual"),
            ("2029-01-15", M, "high-annual"),
            ("2030-01-15", M, EOS),
        ],
        arm=RB,
        level="high",
        density="b",
    ),
    # Very high: mammography and MRI every year, end-of-study mammogram.
    "very-high": Case(
        "1971-01-01",
        [
            ("2026-01-15", M, "very-high-annual-mri"),
            ("2026-01-15", R, "very-high-annual-mri"),
            ("2027-01-15", M, "very-high-annual-mri"),
            ("2027-01-15", R, "very-high-annual-mri"),
            ("2028-01-15", M, "very-high-annual-mri"),
            ("2028-01-15", R, "very-high-annual-mri"),
            ("2029-01-15", M, "very-high-annual-mri"),
            ("2029-01-15", R, "very-high-annual-mri"),
            ("2030-01-15", M, EOS),
        ],
        arm=RB,
        level="very_high",
    ),
    # Average, last screen 2025-09-01: 2027-09-01; the next, 2029-09-01, is less than 6 months
    # before the end-of-study mammogram (2030-01-15): absorbed, not planned separately.
    "absorbed-by-end-of-study": Case(
        "1971-01-01",
        [("2027-09-01", M, "average-every-2-years"), ("2030-01-15", M, EOS)],
        arm=RB,
        level="average",
        last="2025-09-01",
        notes=("replaced by the end-of-study exam on 2030-01-15",),
    ),
    # Included at 70 (born 1955-06-01): the rules run to the 75th birthday (2030-06-01), so she
    # keeps her plan for the whole study: 2026-01-15, 2028-01-15, end of study at 74.
    "included-at-70": Case(
        "1955-06-01",
        [
            ("2026-01-15", M, "average-every-2-years"),
            ("2028-01-15", M, "average-every-2-years"),
            ("2030-01-15", M, EOS),
        ],
        arm=RB,
        level="average",
    ),
    # Born 29 Feb 1976, included on 29 Feb 2028: 2028-02-29, + 24 months = 2030-02-28 (common
    # year), end of study + 48 months = 2032-02-29 (leap year).
    "leap-day": Case(
        "1976-02-29",
        [
            ("2028-02-29", M, "average-every-2-years"),
            ("2030-02-28", M, "average-every-2-years"),
            ("2032-02-29", M, EOS),
        ],
        start=d("2028-02-29"),
        arm=RB,
        level="average",
    ),
    # Asking for 2 years does not shorten a study: the plan covers the 4-year period, with a note.
    "study-length-wins": Case(
        "1971-01-01",
        [
            ("2026-01-15", M, "average-every-2-years"),
            ("2028-01-15", M, "average-every-2-years"),
            ("2030-01-15", M, EOS),
        ],
        years=2,
        arm=RB,
        level="average",
        end="2030-01-15",
        notes=("study protocol",),
    ),
}


@pytest.mark.parametrize("case", cases(MYPEBS))
def test_mypebs_risk_based(case):
    check("mypebs-risk-based", case)


def test_mypebs_exam_exactly_six_months_before_the_end_is_kept():
    # Average, last screen 2025-07-15: 2027-07-15, 2029-07-15. 2029-07-15 is exactly 6 months
    # before the end-of-study mammogram (2030-01-15), not less: it is planned.
    check(
        "mypebs-risk-based",
        Case(
            "1971-01-01",
            [
                ("2027-07-15", M, "average-every-2-years"),
                ("2029-07-15", M, "average-every-2-years"),
                ("2030-01-15", M, EOS),
            ],
            arm=RB,
            level="average",
            last="2025-07-15",
        ),
    )


def test_mypebs_is_for_the_risk_based_arm():
    with pytest.raises(PlanError, match="risk-based arm"):
        run("mypebs-risk-based", Case("1971-01-01", [], level="average"))


TABLES = {
    "fr": FR,
    "it": IT,
    "it-regional": IT_REGIONAL,
    "be": BE,
    "il": IL,
    "uk-england": UK_ENGLAND,
    "es": ES,
    "wisdom": WISDOM,
    "uspstf-2024": USPSTF,
    "ecibc": ECIBC,
    "nice-familial": NICE,
    "mypebs-risk-based": MYPEBS,
}


def test_every_shipped_policy_has_a_table_with_a_leap_day_case():
    assert set(TABLES) == set(shipped_policies())
    for name, table in TABLES.items():
        assert any(case.birth.endswith("-02-29") for case in table.values()), name
