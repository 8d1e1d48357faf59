"""The tables of the DSMB reports, from the women's records: one builder for both reports.

Each table is ``{"columns": [...], "rows": [[...], ...]}`` with a ``group`` column: ``all`` in
the open report (pooled over arms, nothing by arm), each arm then ``all`` in the closed report.
Percents are **percent** of the women of the group; rates are per 1,000 woman-years;
proportions per 100,000 women. Follow-up runs from randomisation to the end of follow-up
(:mod:`pebs.services.analysis._women`: death, withdrawal from data collection, or the data cut).

- ``baseline``: women per country, age band, risk level (women assessed; the risk assessment
  belongs to one arm's pathway, so the open report shows it pooled) and breast density;
- ``age``: age at entry (years): women with an age, mean, standard deviation (n - 1), median,
  quartiles (linear interpolation between order statistics, numpy's default), minimum, maximum;
- ``follow_up``: women, woman-years, median follow-up (years), women followed to the horizon,
  and how follow-up ended (data cut, death, withdrawal);
- ``withdrawals``: women who withdrew by the data cut, per level (including those who withdrew
  the use of their data, counted here only);
- ``events``: per endpoint (the plan's primary endpoint, any cancer, interval cancers, deaths):
  women with at least one within follow-up, woman-years to the first one (or the end of
  follow-up), the rate per 1,000 woman-years and the proportion per 100,000 women;
- ``deviations``: the per-protocol exclusions of the plan (pebs records no protocol deviation
  as such; these are the deviations it can see).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from pebs.services.analysis._dsmb_data import DsmbData, DsmbWoman
from pebs.services.analysis._results import number, per_protocol
from pebs.trial.analysis_plan import AnalysisPlan, is_endpoint
from pebs.trial.vocabularies import RISK_LEVELS, WITHDRAWAL_LEVELS

__all__ = ["ALL", "EVENT_KINDS", "table", "women_tables"]

ALL = "all"
EVENT_KINDS = ("primary_endpoint", "any_cancer", "interval_cancer", "death")
DENSITIES = ("a", "b", "c", "d")


def table(columns: Sequence[str], rows: list[list[Any]]) -> dict[str, Any]:
    return {"columns": list(columns), "rows": rows}


def _groups(data: DsmbData, arms: Sequence[str] | None) -> list[tuple[str, list[DsmbWoman]]]:
    women = list(data.women)
    if arms is None:
        return [(ALL, women)]
    return [(arm, [w for w in women if w.record.arm == arm]) for arm in arms] + [(ALL, women)]


def _percent(n: int, total: int) -> float | None:
    return number(100.0 * n / total) if total else None


def _categorical(groups, name: str, of: Callable[[DsmbWoman], str], order: Sequence[str]):
    seen = {of(w) for _, members in groups for w in members}
    categories = [c for c in order if c in seen] + sorted(seen - set(order))
    rows = []
    for category in categories:
        for group, members in groups:
            n = sum(1 for w in members if of(w) == category)
            rows.append([name, category, group, n, _percent(n, len(members))])
    return rows


def _baseline(groups) -> dict[str, Any]:
    countries = sorted({w.record.country for _, m in groups for w in m})
    rows = [["women", "all", group, len(m), _percent(len(m), len(m))] for group, m in groups]
    rows += _categorical(groups, "country", lambda w: w.record.country, countries)
    rows += _categorical(groups, "age_band", lambda w: w.age_band or "not recorded", ())
    rows += _categorical(groups, "risk_level", lambda w: w.record.risk_level or "not assessed",
                         (*RISK_LEVELS, "not assessed"))  # fmt: skip
    rows += _categorical(groups, "density", lambda w: w.density or "not read",
                         (*DENSITIES, "not read"))  # fmt: skip
    return table(["characteristic", "category", "group", "women", "percent"], rows)


def _age(groups) -> dict[str, Any]:
    rows = []
    for group, members in groups:
        ages = np.array([w.age for w in members if w.age is not None], dtype=np.float64)
        if ages.size == 0:
            rows.append([group, 0, None, None, None, None, None, None, None])
            continue
        q1, median, q3 = np.percentile(ages, [25, 50, 75])
        sd = float(ages.std(ddof=1)) if ages.size > 1 else None
        rows.append([group, int(ages.size), number(ages.mean()),
                     None if sd is None else number(sd), number(median), number(q1), number(q3),
                     int(ages.min()), int(ages.max())])  # fmt: skip
    return table(["group", "women", "mean", "sd", "median", "q1", "q3", "min", "max"], rows)


def _follow_up(groups, horizon: float) -> dict[str, Any]:
    rows = []
    for group, members in groups:
        years = np.array([w.record.follow_up_years for w in members], dtype=np.float64)
        ends = Counter(w.record.end_reason for w in members)
        rows.append([
            group, len(members), number(years.sum()) if years.size else 0.0,
            number(np.median(years)) if years.size else None,
            int((years >= horizon).sum()), ends["data_cut"], ends["death"], ends["withdrawal"],
        ])  # fmt: skip
    return table(["group", "women", "woman_years", "median_years", "followed_to_horizon",
                  "ended_data_cut", "ended_death", "ended_withdrawal"], rows)  # fmt: skip


def _withdrawals(data: DsmbData, arms: Sequence[str] | None) -> dict[str, Any]:
    rows = []
    for level in WITHDRAWAL_LEVELS:
        per_arm = {arm: n for (arm, lvl), n in data.withdrawals.items() if lvl == level}
        for group in [*(arms or ()), ALL]:
            n = sum(per_arm.values()) if group == ALL else per_arm.get(group, 0)
            rows.append([level, group, n])
    return table(["level", "group", "women"], rows)


def _first_event(woman: DsmbWoman, kind: str, endpoint: str):
    record = woman.record
    if kind == "death":
        return record.died if record.end_reason == "death" else None
    for d in record.diagnoses:
        if (
            kind == "any_cancer"
            or (kind == "interval_cancer" and d.detection_mode == "interval")
            or (kind == "primary_endpoint" and is_endpoint(endpoint, d.behaviour, d.stage_group))
        ):
            return d.day
    return None


def _events(groups, endpoint: str) -> dict[str, Any]:
    rows = []
    for kind in EVENT_KINDS:
        for group, members in groups:
            firsts = [_first_event(w, kind, endpoint) for w in members]
            n = sum(day is not None for day in firsts)
            years = sum(
                w.record.years(day if day is not None else w.record.end)
                for w, day in zip(members, firsts, strict=True)
            )
            rows.append([
                kind, endpoint if kind == "primary_endpoint" else kind, group, n, len(members),
                number(years), number(1000.0 * n / years) if years > 0 else None,
                number(100_000.0 * n / len(members)) if members else None,
            ])  # fmt: skip
    return table(["event", "definition", "group", "women_with", "women", "woman_years",
                  "per_1000_woman_years", "per_100000_women"], rows)  # fmt: skip


def _deviations(groups, plan: AnalysisPlan) -> dict[str, Any]:
    rows = []
    for group, members in groups:
        kept, excluded = per_protocol([w.record for w in members], plan)
        for rule in plan.per_protocol_excludes:
            rows.append([rule, group, excluded[rule], _percent(excluded[rule], len(members))])
        rows.append(["per_protocol_set", group, len(kept), _percent(len(kept), len(members))])
    return table(["rule", "group", "women", "percent"], rows)


def women_tables(
    data: DsmbData, plan: AnalysisPlan, arms: Sequence[str] | None
) -> dict[str, dict[str, Any]]:
    """The tables of the module docstring; ``arms`` ``None`` for the open report (pooled)."""
    groups = _groups(data, arms)
    return {
        "baseline": _baseline(groups),
        "age": _age(groups),
        "follow_up": _follow_up(groups, plan.horizon_years),
        "withdrawals": _withdrawals(data, arms),
        "events": _events(groups, plan.endpoint),
        "deviations": _deviations(groups, plan),
    }
