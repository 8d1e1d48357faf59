"""The compiled policy (``pebs.screening.vectorised``) against the per-woman planner.

The planner (:func:`pebs.screening.plan`) is the reference: for random women under every shipped
policy (and a synthetic policy using every kind of condition), the first exam of her plan, as an
age, must match :func:`next_exam` within ``TOLERANCE_DAYS`` with the same modalities.

Dates become ages month-exactly (:func:`age_in_years`): whole months since birth plus the elapsed
fraction of the current birth-month, over 12. Birthdays are then exact integers, and the only
difference left is the calendar one documented in the module: adding whole months to a date keeps
its calendar day while month lengths vary from 28 to 31 days, which moves its position inside the
birth-month by at most 3/28 of a month, i.e. 3.2 days (3.1 measured). Hence 4 days. An exam that
falls within those days of a band's last birthday may be counted in one band by one form and in
the next by the other; such a woman is accepted only if the planner, asked again with her last
screen or plan start moved by at most 4 days, gives the vectorised answer.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import numpy as np
import pytest

from pebs.screening import (
    MODALITIES,
    Woman,
    add_months,
    birthday,
    load_policy,
    parse_policy,
    plan,
    shipped_policies,
)
from pebs.screening.vectorised import (
    END_OF_STUDY,
    NO_RULE,
    compile_policy,
    density_codes,
    level_codes,
    modality_mask,
    modality_names,
    next_exam,
)

TOLERANCE_DAYS = 4
DAYS_PER_YEAR = 365.2425
N_WOMEN = 400
SHIFTS = range(-TOLERANCE_DAYS, TOLERANCE_DAYS + 1)

HEADER = """
name = "synthetic"
title = "Test policy"
kind = "guideline"
arm = "any"
levels = ["low", "high"]
source = "Hand-written for tests"
"""


def rule_text(rule_id, ages, every, modalities=("mammography",), **extra) -> str:
    lines = [
        "[[rule]]", f'id = "{rule_id}"', f"ages = [{ages[0]}, {ages[1]}]",
        f"every_months = {every}", f"modalities = {list(modalities)!r}".replace("'", '"'),
        f'reason = "{rule_id}"',
    ]  # fmt: skip
    lines += [f"{k} = {v!r}".replace("'", '"') for k, v in extra.items()]
    return "\n".join(lines) + "\n"


SYNTHETIC = parse_policy(  # every condition, band change, stream and offset at once
    HEADER
    + """
[[rule]]
id = "low-young"
ages = [40, 50]
every_months = 36
modalities = ["mammography"]
levels = ["low"]
risk_5y_at_least = 0.013
reason = "r"

[[rule]]
id = "low-old"
ages = [50, 70]
every_months = 24
modalities = ["tomosynthesis"]
levels = ["low"]
risk_5y_at_least = 0.013
reason = "r"

[[rule]]
id = "very-low"
ages = [45, 75]
every_months = 48
modalities = ["mammography"]
levels = ["low"]
risk_5y_below = 0.013
reason = "r"

[[rule]]
id = "high-mammo"
ages = [35, 60]
every_months = 12
modalities = ["mammography"]
levels = ["high"]
reason = "r"

[[rule]]
id = "high-mammo-old"
ages = [60, 75]
every_months = 18
offset_months = 1
modalities = ["mammography"]
levels = ["high"]
reason = "r"

[[rule]]
id = "high-mri"
ages = [30, 65]
every_months = 12
offset_months = 6
modalities = ["mri"]
levels = ["high"]
stream = "mri"
reason = "r"

[[rule]]
id = "dense-ultrasound"
ages = [40, 75]
every_months = 24
offset_months = 2
modalities = ["ultrasound", "clinical_examination"]
density = ["c", "d"]
risk_5y_at_least = 0.005
stream = "dense"
reason = "r"

[[rule]]
id = "dense-low-risk"
ages = [45, 75]
every_months = 36
modalities = ["ultrasound"]
density = ["c", "d"]
risk_5y_below = 0.005
stream = "dense"
reason = "r"

[[rule]]
id = "unknown-level"
ages = [50, 72]
every_months = 30
modalities = ["mammography"]
density = ["a", "b"]
stream = "other"
reason = "r"
"""
)


def age_in_years(birth: date, day: date) -> float:
    """Age on ``day`` in years, month-exact: completed months + fraction of the current one."""
    months = (day.year - birth.year) * 12 + day.month - birth.month
    if add_months(birth, months) > day:
        months -= 1
    began, ends = add_months(birth, months), add_months(birth, months + 1)
    return (months + (day - began).days / (ends - began).days) / 12


def test_age_in_years_is_exact_on_birthdays_and_month_steps():
    assert age_in_years(date(1976, 2, 29), date(2026, 2, 28)) == 50
    assert age_in_years(date(1970, 1, 31), date(2020, 2, 29)) == 50 + 1 / 12
    assert age_in_years(date(1970, 1, 1), date(2020, 1, 16)) == pytest.approx(50 + 15 / 31 / 12)


@dataclasses.dataclass(frozen=True)
class Case:
    woman: Woman
    start: date


def random_cases(policy, rng: np.random.Generator, n: int) -> list[Case]:
    """Women of all ages around the policy's bands, with plan starts on and near birthdays."""
    arm = "standard" if policy.arm == "any" else policy.arm
    lo, hi = policy.ages
    boundaries = sorted({a for r in policy.rules for a in (r.start_age, r.stop_age)})
    thresholds = sorted(
        {v for r in policy.rules for v in (r.conditions.risk_5y_below,
                                           r.conditions.risk_5y_at_least) if v is not None}
    )  # fmt: skip
    cases = []
    for _ in range(n):
        birth = date(1930, 1, 1) + timedelta(days=int(rng.integers(0, 70 * 365)))
        if rng.random() < 0.3:  # born at a month's end: clamped month arithmetic
            birth = add_months(date(birth.year, birth.month, 31 if birth.month == 1 else 1), 1)
            birth -= timedelta(days=int(rng.integers(1, 4)))
        if rng.random() < 0.15:  # plan starting on a birthday that opens or closes a band
            start = birthday(birth, int(rng.choice(boundaries)))
        else:
            start = birth + timedelta(days=int(rng.uniform(max(lo - 8, 0), hi + 3) * 365.25))
        last = None
        if rng.random() < 0.7:
            if rng.random() < 0.2:  # due exactly at (or around) the start
                months = max(r.every_months for r in policy.rules)
                last = add_months(start, -int(rng.integers(1, months + 1)))
            else:
                last = start - timedelta(days=int(rng.integers(0, 6 * 365)))
                if rng.random() < 0.3:  # screened at a month's end
                    last = date(last.year, last.month, 1) - timedelta(days=int(rng.integers(0, 3)))
            last = max(last, birth)
        risk = None
        if rng.random() < 0.8:
            risk = float(np.exp(rng.uniform(np.log(0.002), np.log(0.15))))
            if thresholds and rng.random() < 0.2:
                risk = float(rng.choice(thresholds))
        woman = Woman(
            birth_date=birth,
            arm=arm,
            level=rng.choice([*policy.levels, None]) if policy.levels else None,
            risk_5y=risk,
            density=rng.choice(["a", "b", "c", "d", None]),
            last_screen=last,
        )
        cases.append(Case(woman, start))
    return cases


def planner_first(policy, woman: Woman, start: date, study: bool = False):
    """(age of the first exam, modality names due that day, rule ids), or None without exams."""
    if study:
        exams = plan(policy, woman, start).exams
    else:  # routine schedule to the end of every band
        routine = dataclasses.replace(policy, study=None)
        exams = plan(routine, woman, start, until=birthday(woman.birth_date, 121)).exams
    if not exams:
        return None
    due = exams[0].due
    first = [e for e in exams if e.due == due]
    near = [e for e in exams if (e.due - due).days <= TOLERANCE_DAYS]
    return (
        age_in_years(woman.birth_date, due),
        {e.modality for e in first},
        {e.modality for e in near},
        {e.rule for e in near},
    )


def vectorised(compiled, cases: list[Case], study: bool = False):
    ages = np.array([age_in_years(c.woman.birth_date, c.start) for c in cases])
    lasts = np.array(
        [np.nan if c.woman.last_screen is None
         else age_in_years(c.woman.birth_date, c.woman.last_screen) for c in cases]
    )  # fmt: skip
    study_ends = None
    if study:
        years = int(compiled.study_years)
        study_ends = np.array(
            [age_in_years(c.woman.birth_date, add_months(c.start, 12 * years)) for c in cases]
        )
    return next_exam(
        compiled,
        ages,
        level_codes(compiled, [c.woman.level for c in cases]),
        density_codes([c.woman.density for c in cases]),
        np.array([np.nan if c.woman.risk_5y is None else c.woman.risk_5y for c in cases]),
        ages - lasts,
        study_end_age=study_ends,
    )


def rule_name(compiled, code: int) -> str:
    return "end-of-study" if code == END_OF_STUDY else compiled.rule_ids[code]


def agrees(expected, age: float, mask: int, rule: str, slack_days: float = 0) -> bool:
    if expected is None:
        return bool(np.isnan(age))
    if np.isnan(age):
        return False
    exact_age, first, near, rules = expected
    names = set(modality_names(mask))
    return (
        abs(age - exact_age) * DAYS_PER_YEAR <= TOLERANCE_DAYS + slack_days
        and first <= names <= near  # what is due that day, plus what the planner has days later
        and rule in rules
    )


def explained_by_a_shift(policy, case: Case, age, mask, rule, study) -> bool:
    """Whether the planner gives the vectorised answer for her dates moved by a few days."""
    woman, start = case.woman, case.start
    for shift in SHIFTS:
        moved = timedelta(days=shift)
        if woman.last_screen is not None and woman.birth_date <= woman.last_screen + moved <= start:
            other = dataclasses.replace(woman, last_screen=woman.last_screen + moved)
            if agrees(planner_first(policy, other, start, study), age, mask, rule):
                return True
        if start + moved >= (woman.last_screen or woman.birth_date):
            expected = planner_first(policy, woman, start + moved, study)
            if agrees(expected, age, mask, rule, slack_days=abs(shift)):
                return True
    return False


def compare(policy, seed: int, study: bool = False) -> dict[str, float]:
    compiled = compile_policy(policy)
    cases = random_cases(policy, np.random.default_rng(seed), N_WOMEN)
    result = vectorised(compiled, cases, study)
    worst, n_shifted, n_none, failures = 0.0, 0, 0, []
    for i, case in enumerate(cases):
        expected = planner_first(policy, case.woman, case.start, study)
        age, mask = float(result.age[i]), int(result.modalities[i])
        rule = rule_name(compiled, int(result.rule[i])) if result.rule[i] != NO_RULE else ""
        if agrees(expected, age, mask, rule):
            if expected is None:
                n_none += 1
            else:
                worst = max(worst, abs(age - expected[0]) * DAYS_PER_YEAR)
        elif explained_by_a_shift(policy, case, age, mask, rule, study):
            n_shifted += 1
        else:
            failures.append(f"woman {i} {case}: planner {expected}, vectorised {age} "
                            f"{modality_names(mask)} {rule!r}")  # fmt: skip
    assert not failures, "\n".join(failures[:10])
    return {"worst_days": worst, "n_shifted": n_shifted, "n_none": n_none, "n": len(cases)}


@pytest.mark.parametrize("name", shipped_policies())
def test_agrees_with_the_planner_on_random_women(name):
    policy = load_policy(name)
    stats = compare(policy, seed=sum(map(ord, name)))
    assert stats["worst_days"] <= TOLERANCE_DAYS
    # Band-edge disagreements are rare and exams exist for many women (the test is not vacuous).
    assert stats["n_shifted"] <= 0.03 * stats["n"]
    assert 0 < stats["n_none"] < 0.9 * stats["n"]


def test_agrees_with_the_planner_on_a_synthetic_policy():
    stats = compare(SYNTHETIC, seed=4)
    assert stats["worst_days"] <= TOLERANCE_DAYS
    assert stats["n_shifted"] <= 0.03 * stats["n"]


@pytest.mark.parametrize("name", [n for n in shipped_policies() if load_policy(n).study])
def test_study_end_agrees_with_the_planner(name):
    stats = compare(load_policy(name), seed=7, study=True)
    assert stats["worst_days"] <= TOLERANCE_DAYS
    assert stats["n_shifted"] <= 0.03 * stats["n"]


def test_a_band_edge_disagreement_is_a_few_days_of_input():
    """The documented case: month arithmetic puts the exam one day before her 60th birthday."""
    policy = parse_policy(
        HEADER + rule_text("six-monthly", (50, 60), 6) + rule_text("biennial", (60, 70), 24)
    )
    woman = Woman(date(1966, 3, 31), last_screen=date(2025, 9, 30))  # 59.5 exactly
    start = date(2025, 10, 1)
    # Planner: 30 September 2025 + 6 months = 30 March 2026, the day before her 60th birthday.
    assert planner_first(policy, woman, start)[0] == age_in_years(
        woman.birth_date, date(2026, 3, 30)
    )
    # Ages: 59.5 + 0.5 = 60, the band's end, so the next band's interval applies: 59.5 + 2.
    result = vectorised(compile_policy(policy), [Case(woman, start)])
    assert result.age.tolist() == [61.5]
    # ... which is the planner's answer for a last screen one day later.
    later = dataclasses.replace(woman, last_screen=date(2025, 10, 1))
    assert agrees(planner_first(policy, later, start), 61.5, 1, "biennial")
    assert explained_by_a_shift(policy, Case(woman, start), 61.5, 1, "biennial", study=False)


# Hand-worked examples: expected ages from the policy text (docs/policies.md), not from the code.


def one(compiled, age, level=None, density=None, risk=np.nan, since_last=np.nan, **kwargs):
    level_code = level_codes(compiled, [level])
    density_code = density_codes([density])
    result = next_exam(
        compiled, np.array([age]), level_code, density_code, np.array([risk]),
        np.array([since_last]), **kwargs,
    )  # fmt: skip
    code = int(result.rule[0])
    name = None if code == NO_RULE else rule_name(compiled, code)
    return float(result.age[0]), modality_names(result.modalities[0]), name


def test_hand_worked_wisdom_alternation():
    wisdom = compile_policy(load_policy("wisdom"))
    # Highest group, 45, no previous screen: mammography now; the MRI stream starts 6 months on.
    assert one(wisdom, 45.0, "highest") == (45.0, ("mammography",), "highest-mammography")
    # Last screen 3 months ago: the MRI 6 months after it comes before the yearly mammography.
    assert one(wisdom, 45.25, "highest", since_last=0.25) == (45.5, ("mri",), "highest-mri")
    # Low group at 45: nothing until 50, then mammography every 2 years.
    assert one(wisdom, 45.0, "low") == (50.0, ("mammography",), "low-from-50")
    # From the 75th birthday: none.
    age, modalities, name = one(wisdom, 75.0, "average")
    assert np.isnan(age)
    assert (modalities, name) == ((), None)


def test_hand_worked_mypebs_dense_high_risk_gets_ultrasound_at_the_same_visit():
    mypebs = compile_policy(load_policy("mypebs-risk-based"))
    assert one(mypebs, 52.0, "high", "d", since_last=0.5) == (
        52.5, ("mammography", "ultrasound"), "high-annual"
    )  # fmt: skip
    assert one(mypebs, 52.0, "high", "b", since_last=0.5) == (52.5, ("mammography",), "high-annual")
    assert one(mypebs, 52.0, "low", since_last=1.0) == (55.0, ("mammography",), "low-every-4-years")


def test_hand_worked_default_level():
    # Israel: a woman whose level is not known is screened as "average" (50-74, every 2 years).
    israel = compile_policy(load_policy("il"))
    assert one(israel, 48.0) == (50.0, ("mammography",), "biennial-50-74")
    assert one(israel, 48.0, "increased") == (48.0, ("mammography",), "annual-40-74-increased-risk")


def test_hand_worked_study_end():
    mypebs = compile_policy(load_policy("mypebs-risk-based"))
    # Low risk, last screen half a year ago, study ends in 4 years: the routine exam (3.5 years
    # on) is exactly 6 months before the end-of-study mammogram -> kept ("less than 6 months").
    assert one(mypebs, 50.0, "low", since_last=0.5, study_end_age=54.0) == (
        53.5, ("mammography",), "low-every-4-years"
    )  # fmt: skip
    # One month later it would be absorbed: the end-of-study mammogram is next.
    assert one(mypebs, 50.0, "low", since_last=5 / 12, study_end_age=54.0) == (
        54.0, ("mammography",), "end-of-study"
    )  # fmt: skip
    # After the end of the study: routine screening only.
    assert one(mypebs, 55.0, "low", since_last=1.0, study_end_age=54.0)[2] == "low-every-4-years"
    # Without study_end_age the study is ignored.
    assert one(mypebs, 50.0, "low", since_last=5 / 12)[2] == "low-every-4-years"


# Properties and the edge of the API.


def random_inputs(compiled, n: int, seed: int = 3):
    rng = np.random.default_rng(seed)
    ages = rng.uniform(30, 90, n)
    return {
        "age": ages,
        "level": rng.integers(-1, len(compiled.levels), n),
        "density": rng.integers(-1, 4, n),
        "risk_5y": np.where(rng.random(n) < 0.2, np.nan, rng.uniform(0, 0.2, n)),
        "years_since_last": np.where(rng.random(n) < 0.3, np.nan, rng.uniform(0, 5, n)),
    }


@pytest.mark.parametrize("name", ["wisdom", "mypebs-risk-based", "synthetic"])
def test_blocks_and_row_order_do_not_matter(name):
    compiled = compile_policy(SYNTHETIC if name == "synthetic" else load_policy(name))
    n = 3 * (1 << 15) + 17  # several internal blocks and a partial one
    inputs = random_inputs(compiled, n)
    whole = next_exam(compiled, **inputs)
    order = np.random.default_rng(0).permutation(n)
    permuted = next_exam(compiled, **{k: v[order] for k, v in inputs.items()})
    few = slice(1000, 1100)
    alone = next_exam(compiled, **{k: v[few] for k, v in inputs.items()})
    for field in ("age", "modalities", "rule"):
        np.testing.assert_array_equal(getattr(permuted, field), getattr(whole, field)[order])
        np.testing.assert_array_equal(getattr(alone, field), getattr(whole, field)[few])
    has_exam = ~np.isnan(whole.age)
    assert has_exam.any()
    assert np.all(whole.age[has_exam] >= inputs["age"][has_exam])  # never in the past
    assert np.all((whole.rule >= 0) == has_exam)
    assert np.all((whole.modalities > 0) == has_exam)


def test_results_and_compiled_arrays_are_read_only():
    compiled = compile_policy(load_policy("fr"))
    result = next_exam(compiled, np.array([55.0]))
    with pytest.raises(ValueError, match="read-only"):
        result.age[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        compiled.intervals[0] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        compiled.name = "x"


def test_nan_age_and_empty_input():
    compiled = compile_policy(load_policy("fr"))
    result = next_exam(compiled, np.array([np.nan, 60.0]))
    assert np.isnan(result.age[0])
    assert result.rule.tolist() == [NO_RULE, 0]
    assert next_exam(compiled, np.empty(0)).age.shape == (0,)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"age": np.zeros((2, 2))}, "age must be a 1-D array"),
        ({"age": np.array(["50", "60"])}, "age must be a 1-D array of ages in years, got <U2"),
        ({"age": np.array([50.0, -1.0])}, r"age: out of range at index 1 \(-1.0\)"),
        ({"level": np.array([0, 4])}, "level: .* allowed: -1 .* or 0..3"),
        ({"density": np.array([4, 0])}, "density: out of range at index 0"),
        ({"risk_5y": np.array([0.5, 1.5])}, r"risk_5y: .*proportions in \[0, 1\]"),
        ({"years_since_last": np.array([-0.1, 1.0])}, "years_since_last: .* at index 0"),
        ({"years_since_last": np.array([1.0, 70.0])}, "years_since_last: .* <= age"),
        ({"level": np.array([0, 1, 2])}, r"level must be a scalar or have shape \(2,\)"),
        ({"density": np.array(["a", "b"])}, "density must be integer codes"),
    ],
)
def test_structural_problems_raise(kwargs, message):
    compiled = compile_policy(load_policy("mypebs-risk-based"))
    arguments = {"age": np.array([50.0, 60.0]), **kwargs}
    with pytest.raises(ValueError, match=message):
        next_exam(compiled, **arguments)


def test_a_bad_value_is_reported_with_its_index_in_the_whole_array():
    compiled = compile_policy(load_policy("fr"))
    ages = np.full(100_000, 55.0)
    ages[70_001] = -3.0  # in a later internal block
    with pytest.raises(ValueError, match=r"age: out of range at index 70001 \(-3.0\)"):
        next_exam(compiled, ages)


def test_codes_and_masks():
    compiled = compile_policy(load_policy("mypebs-risk-based"))
    assert level_codes(compiled, ["low", None, "very_high"]).tolist() == [0, -1, 3]
    assert density_codes(["a", "d", None]).tolist() == [0, 3, -1]
    with pytest.raises(ValueError, match="level 'medium' is unknown"):
        level_codes(compiled, ["medium"])
    with pytest.raises(ValueError, match="density 'e' is unknown"):
        density_codes(["e"])
    # condition_masks[rule, level, density]; -1 is "unknown" on both axes.
    high_annual, high_dense = compiled.rule_ids.index("high-annual"), 3
    assert compiled.rule_ids[high_dense] == "high-dense-ultrasound"
    high, d = 2, 3
    assert compiled.condition_masks[high_annual, high, -1]
    assert not compiled.condition_masks[high_annual, -1, d]
    assert compiled.condition_masks[high_dense, high, d]
    assert not compiled.condition_masks[high_dense, high, -1]
    assert compiled.modalities.tolist() == [1, 1, 1, 8, 5]  # bits: mammography 1, mri 4, us 8
    every = modality_mask(MODALITIES)
    assert every == 31
    assert modality_names(every) == MODALITIES


def test_a_stream_with_overlapping_rules_for_some_women_is_refused():
    # Valid for the policy checker (different conditions), but a high-risk woman with density d
    # meets both rules at 50-59: the planner refuses her, so compiling must refuse the policy.
    policy = parse_policy(
        HEADER
        + rule_text("high", (40, 60), 12, levels=["high"])
        + rule_text("dense", (50, 70), 24, density=["d"])
    )
    with pytest.raises(ValueError, match="rules 'high' and 'dense' of stream 'main' both apply"):
        compile_policy(policy)
