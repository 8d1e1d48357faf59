"""The screening planner: a policy and a woman -> a dated, explained list of exams.

Rules of planning (``docs/policies.md``):

- a woman gets the rules of the policy whose conditions she meets (risk level, density, 5-year
  risk); rules of one *stream* follow each other by age band and share the date of the last exam;
- the first exam of a stream is due at the plan start when there is no last screen, otherwise at
  the last screen + the interval; never before the plan start (then it is overdue and due at the
  start) and never before the band's first birthday (a woman ageing in gets it on that birthday);
  a rule with ``offset_months`` starts its stream that long after the last screen (or after the
  plan start without one), for alternating schedules;
- then every interval while she is inside the band and the plan lasts; moving to the next band
  of the stream, the next exam is the last exam + the new band's interval;
- a study policy ends after its ``years`` with an end-of-study exam; a routine exam due less than
  ``absorb_months`` before it is not planned separately;
- a woman without a level gets the policy's ``default_level`` when it has one;
- ages outside every rule give no exam and a note saying why.

Requests are checked before any date arithmetic: dates from :data:`EARLIEST_DATE` to
:data:`LATEST_DATE`, a plan length from one month to :data:`MAX_PLAN_YEARS` years (a finite
number); anything else is a :class:`PlanError` naming the value and the allowed range.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from datetime import date

from pebs.screening.calendar import add_months, age_on, birthday
from pebs.screening.policy import DENSITIES, MODALITIES, Policy, Rule, _shown

ARMS = ("standard", "risk-based")
DEFAULT_PLAN_YEARS = 4.0
"""Plan length in years when none is asked for (the MyPeBS follow-up of 4 years); a study policy
covers its own ``years`` instead. The API, the pages and ``pebs plan`` all use this value."""
MAX_PLAN_YEARS = 120
"""The longest plan, in years (policies' ages stop at 120 at the latest)."""
EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(2200, 12, 31)
"""The dates (birth, plan start and end, last screen) the planner accepts."""


class PlanError(ValueError):
    """The request cannot be planned (inconsistent dates, a level the policy does not know...)."""


@dataclass(frozen=True)
class Woman:
    """What the planner needs to know about a woman."""

    birth_date: date
    arm: str = "standard"
    level: str | None = None
    """Risk level, in the policy's own names (MyPeBS: low, average, high, very_high)."""
    risk_5y: float | None = None
    """Five-year absolute risk, proportion (0.012 = 1.2%)."""
    density: str | None = None
    """BI-RADS density a, b, c or d."""
    last_screen: date | None = None


@dataclass(frozen=True)
class Exam:
    due: date
    window_start: date
    window_end: date
    """The exam should happen in [window_start, window_end)."""
    modality: str
    reason: str
    policy: str
    rule: str

    def as_dict(self) -> dict[str, str]:
        return {
            "due": self.due.isoformat(),
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "modality": self.modality,
            "reason": self.reason,
            "policy": self.policy,
        }


@dataclass(frozen=True)
class Plan:
    policy: str
    start: date
    end: date
    """Exams are planned in [start, end) (a study's end-of-study exam falls on ``end``)."""
    exams: tuple[Exam, ...]
    notes: tuple[str, ...]
    """Why there are no (or no more) exams, and other things to tell the woman."""


def default_arm(policy: Policy) -> str:
    """The arm of a woman planned under ``policy`` when none is given: the policy's own
    (``standard`` for a policy of any arm).

    >>> from pebs.screening.policy import load_policy
    >>> default_arm(load_policy("wisdom")), default_arm(load_policy("fr"))
    ('risk-based', 'standard')
    """
    return policy.arm if policy.arm in ARMS else "standard"


def _check_date(day: object, what: str) -> None:
    if not isinstance(day, date) or not EARLIEST_DATE <= day <= LATEST_DATE:
        raise PlanError(
            f"{what} {str(day)[:40]} is outside the dates the planner accepts ({EARLIEST_DATE} "
            f"to {LATEST_DATE})"
        )


def _check_length(years: float | None, until: date | None) -> None:
    if until is not None:
        _check_date(until, "the plan end")
    if years is None:
        return
    if (
        isinstance(years, bool) or not isinstance(years, int | float) or not math.isfinite(years)
        or not 0 < years <= MAX_PLAN_YEARS or round(12 * years) < 1
    ):  # fmt: skip
        raise PlanError(
            f"the plan length in years must be a number from 1/12 (one month) to "
            f"{MAX_PLAN_YEARS}, got {str(years)[:40]}"
        )


def _check(policy: Policy, woman: Woman, start: date) -> None:
    _check_date(woman.birth_date, "birth date")
    _check_date(start, "the plan start")
    if woman.last_screen is not None:
        _check_date(woman.last_screen, "last screen")
    if woman.birth_date > start:
        raise PlanError(f"birth date {woman.birth_date} is after the plan start {start}")
    if woman.last_screen is not None:
        if woman.last_screen > start:
            raise PlanError(
                f"the plan start {start} is before the last screen {woman.last_screen}; "
                "start the plan on or after the last screen"
            )
        if woman.last_screen < woman.birth_date:
            raise PlanError(f"last screen {woman.last_screen} is before the birth date")
    if woman.arm not in ARMS:
        raise PlanError(f"arm {_shown(woman.arm)} is unknown; allowed: {', '.join(ARMS)}")
    if policy.arm != "any" and policy.arm != woman.arm:
        raise PlanError(f"policy {policy.name!r} is for the {policy.arm} arm, not {woman.arm}")
    if woman.level is not None and woman.level not in policy.levels:
        allowed = ", ".join(policy.levels) or "none (this policy does not use risk levels)"
        raise PlanError(
            f"level {_shown(woman.level)} is unknown to policy {policy.name!r}; {allowed}"
        )
    if woman.density is not None and woman.density not in DENSITIES:
        raise PlanError(f"density {_shown(woman.density)} is unknown; allowed: a, b, c, d")
    if woman.risk_5y is not None and not 0 <= woman.risk_5y <= 1:
        raise PlanError(f"5-year risk must be a proportion in [0, 1], got {woman.risk_5y!r}")


def _end(policy: Policy, start: date, years: float | None, until: date | None, notes: list[str]):
    if policy.study is not None:
        end = add_months(start, 12 * policy.study.years)
        if (years is not None and years != policy.study.years) or (
            until is not None and until != end
        ):
            notes.append(
                f"{policy.name} is a study protocol: the plan covers its {policy.study.years}-year "
                f"study period ({start} to {end})"
            )
        return end
    if until is not None and years is not None:
        raise PlanError("give the plan length as years or as an end date, not both")
    if until is not None:
        if until <= start:
            raise PlanError(f"the plan end {until} must be after its start {start}")
        return until
    if years is None:
        raise PlanError("give the plan length as years or as an end date")
    return add_months(start, round(12 * years))


def _stream_exams(
    rules: list[Rule], woman: Woman, start: date, end: date
) -> list[tuple[date, Rule, str]]:
    """(due, rule, context) of one stream's exams in [start, end)."""
    exams: list[tuple[date, Rule, str]] = []
    last = woman.last_screen
    for rule in sorted(rules, key=lambda r: r.start_age):
        band_start = birthday(woman.birth_date, rule.start_age)
        band_stop = birthday(woman.birth_date, rule.stop_age)
        if band_stop <= start or band_start >= end:
            continue
        context = ""
        if rule.offset_months and not exams:
            # Alternating stream: its first exam comes offset_months after the last screen when
            # that keeps the alternation going, otherwise offset_months after the first date
            # she can be screened (plan start or the band's first birthday).
            due = None if last is None else add_months(last, rule.offset_months)
            if due is None or due < max(start, band_start):
                due = add_months(max(start, band_start), rule.offset_months)
        else:
            due = start if last is None else add_months(last, rule.every_months)
            if last is not None and due < start:
                due, context = start, f"overdue: last screen on {last}"
            if due < band_start:
                due, context = band_start, f"from her {ordinal(rule.start_age)} birthday"
        while due < band_stop and due < end:
            exams.append((due, rule, context))
            last, context = due, ""
            due = add_months(due, rule.every_months)
    return exams


def plan(
    policy: Policy,
    woman: Woman,
    start: date,
    *,
    years: float | None = None,
    until: date | None = None,
) -> Plan:
    """Plan ``woman``'s exams under ``policy`` from ``start`` for ``years`` (or ``until`` a date).

    Raises :class:`PlanError` for inconsistent requests (start before the last screen or the
    birth, a level the policy does not know, an arm the policy does not serve...).

    Examples
    --------
    >>> from pebs.screening.policy import parse_policy
    >>> policy = parse_policy('''
    ... name = "demo"
    ... title = "Demo"
    ... kind = "guideline"
    ... arm = "any"
    ... source = "none"
    ... [[rule]]
    ... id = "biennial"
    ... ages = [50, 75]
    ... every_months = 24
    ... modalities = ["mammography"]
    ... reason = "Mammography every 2 years from 50 to 74."
    ... ''')
    >>> p = plan(policy, Woman(date(1976, 7, 1)), date(2025, 1, 1), years=4)
    >>> [(e.due.isoformat(), e.modality) for e in p.exams]
    [('2026-07-01', 'mammography'), ('2028-07-01', 'mammography')]
    """
    if woman.level is None and policy.default_level:
        woman = replace(woman, level=policy.default_level)
    _check(policy, woman, start)
    _check_length(years, until)
    notes: list[str] = []
    end = _end(policy, start, years, until, notes)
    applicable = [
        r for r in policy.rules if r.conditions.holds(woman.level, woman.density, woman.risk_5y)
    ]
    streams: dict[str, list[Rule]] = {}
    for rule in applicable:
        streams.setdefault(rule.stream, []).append(rule)
    _check_overlaps(policy, streams)

    scheduled = [
        item for rules in streams.values() for item in _stream_exams(rules, woman, start, end)
    ]
    study = policy.study
    if study is not None:
        cutoff = add_months(end, -study.absorb_months)
        absorbed = [item for item in scheduled if item[0] > cutoff]
        if absorbed:
            notes.append(
                f"{len(absorbed)} routine exam(s) due after {cutoff} are replaced by the "
                f"end-of-study exam on {end}"
            )
        scheduled = [item for item in scheduled if item[0] <= cutoff]
    exams = [
        Exam(
            due=due,
            window_start=due,
            window_end=add_months(due, policy.window_months),
            modality=modality,
            reason=_with_context(rule.reason, context),
            policy=policy.name,
            rule=rule.id,
        )
        for due, rule, context in scheduled
        for modality in rule.modalities
    ]
    if study is not None:
        exams += [
            Exam(
                end,
                end,
                add_months(end, policy.window_months),
                modality,
                study.end_of_study_reason,
                policy.name,
                "end-of-study",
            )
            for modality in study.end_of_study
        ]
    exams.sort(key=lambda e: (e.due, MODALITIES.index(e.modality)))
    notes += _notes(policy, woman, start, end, applicable, exams)
    return Plan(policy=policy.name, start=start, end=end, exams=tuple(exams), notes=tuple(notes))


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``11th``, ``71st``...

    >>> [ordinal(n) for n in (1, 2, 3, 11, 12, 13, 50, 71, 72, 103)]
    ['1st', '2nd', '3rd', '11th', '12th', '13th', '50th', '71st', '72nd', '103rd']
    """
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _with_context(reason: str, context: str) -> str:
    """The rule's reason with the planner's context inside its last sentence."""
    if not context:
        return reason
    body, stop = (reason[:-1], ".") if reason.endswith(".") else (reason, "")
    return f"{body} ({context}){stop}"


def _check_overlaps(policy: Policy, streams: dict[str, list[Rule]]) -> None:
    for rules in streams.values():
        ordered = sorted(rules, key=lambda r: r.start_age)
        for before, after in itertools.pairwise(ordered):
            if after.start_age < before.stop_age:
                raise PlanError(
                    f"policy {policy.name!r}: rules {before.id!r} and {after.id!r} both apply to "
                    f"this woman at ages {after.start_age}-{min(before.stop_age, after.stop_age)}"
                )


def _notes(policy, woman, start, end, applicable, exams) -> list[str]:
    notes = []
    age_start = age_on(woman.birth_date, start)
    for entry in policy.no_screening:
        if not entry.conditions.holds(woman.level, woman.density, woman.risk_5y):
            continue
        if birthday(woman.birth_date, entry.start_age) < end and start < birthday(
            woman.birth_date, entry.stop_age
        ):
            notes.append(entry.reason)
    if not applicable:
        notes.append(f"No rule of policy {policy.name!r} applies to this woman.")
        return notes
    lo = min(r.start_age for r in applicable)
    hi = max(r.stop_age for r in applicable)
    first, stop = birthday(woman.birth_date, lo), birthday(woman.birth_date, hi)
    ages = f"{policy.name} covers ages {lo} to {hi - 1} for her"
    if not exams and not notes:
        if end <= first:
            notes.append(
                f"No routine screening during the plan: {ages}; she is {age_start} at the start "
                f"({start}) and reaches {lo} on {first}, after the plan ends ({end})."
            )
        elif stop <= start:
            notes.append(
                f"No routine screening during the plan: {ages}; she is {age_start} at the start "
                f"({start}): routine screening ended at her {ordinal(hi)} birthday ({stop})."
            )
        else:
            notes.append(
                f"No exam falls due during the plan ({start} to {end}): {ages}; her next exam "
                f"would come after the plan ends or after routine screening ends at her "
                f"{ordinal(hi)} birthday ({stop})."
            )
    elif start < stop < end:
        notes.append(
            f"Routine screening under {policy.name} ends at her {ordinal(hi)} birthday ({stop})."
        )
    return notes
