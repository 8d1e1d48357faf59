"""The group-sequential monitoring of the closed DSMB report: the observed information, the z
statistic against the boundary and the conditional power at this look.

A woman is evaluable from the day her follow-up would reach the horizon
(``ceil(horizon * 365.25)`` days after randomisation), if by then her endpoint status at the
horizon is known: the endpoint diagnosed within the horizon, follow-up that reached the horizon
without it, or death before it without it. The cohort of a look is therefore fixed by the
calendar (women randomised at least one horizon before the cut): a woman with an early
diagnosis does not enter sooner than one without, which would raise the observed proportions at
the early looks. Women whose follow-up ended otherwise before the horizon (withdrawal from data
collection) are never evaluable.

Look ``k`` is this report's data cut; the earlier looks are the data cuts of the closed reports
already produced (recorded in the data source's audit trail, earlier than this cut). The counts
of every look are recomputed from the data source at that look's cut (so a late-entered
diagnosis dated before an earlier cut counts there too), and their differences are the stage
counts of :func:`pebs.stats.interim_analysis_rates` (rpact's ``getAnalysisResults``): the
Farrington-Manning score statistic of the cumulative counts (sign reversed: large values favour
non-inferiority) against the boundaries recomputed at the observed fractions, the conditional
rejection probability and the conditional power under the observed trend and under the planned
alternative. The wording is neutral: the boundary was crossed or not; the committee recommends.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from pebs.services.analysis._results import number
from pebs.services.analysis._women import DAYS_PER_YEAR, WomanRecord
from pebs.stats import StatsInputError, group_sequential_design, interim_analysis_rates
from pebs.trial.analysis_plan import AnalysisPlan, is_endpoint

__all__ = ["evaluable", "look_counts", "monitoring"]


def evaluable(woman: WomanRecord, endpoint: str, horizon: float) -> tuple[date | None, bool]:
    """The day she becomes evaluable (``None``: never) and whether with the endpoint (module
    docstring)."""
    limit = horizon * DAYS_PER_YEAR
    day = woman.randomised + timedelta(days=math.ceil(limit))
    for diagnosis in woman.diagnoses:
        if is_endpoint(endpoint, diagnosis.behaviour, diagnosis.stage_group):
            if (diagnosis.day - woman.randomised).days <= limit:
                return day, True
            break
    if (woman.end - woman.randomised).days >= limit or woman.end_reason == "death":
        return day, False
    return None, False


def look_counts(
    women: Sequence[WomanRecord], plan: AnalysisPlan, cuts: Sequence[date]
) -> list[dict[str, int]]:
    """Cumulative evaluable women and endpoint events per arm at each cut."""
    status = [(w.arm, *evaluable(w, plan.endpoint, plan.horizon_years)) for w in women]
    rows = []
    for cut in cuts:
        row = {"n_ref": 0, "events_ref": 0, "n_new": 0, "events_new": 0}
        for arm, day, event in status:
            if day is None or day > cut:
                continue
            side = "ref" if arm == plan.reference_arm else "new"
            row[f"n_{side}"] += 1
            row[f"events_{side}"] += event
        rows.append(row)
    return rows


def monitoring(
    women: Sequence[WomanRecord], plan: AnalysisPlan, data_cut: date, earlier: Sequence[date]
) -> dict[str, Any]:
    """The monitoring section of the closed report (module docstring); ``earlier`` are the data
    cuts of the looks already reported, before ``data_cut``."""
    interim = plan.interim
    if interim is None:
        return {"not_computed": "the study file has no interim plan ([analysis.interim])"}
    cuts = [*sorted(set(earlier)), data_cut]
    margin = plan.margin_ratio if interim.scale == "ratio" else plan.margin_difference
    design = group_sequential_design(interim.design, information_rates=interim.information_rates,
                                     alpha=plan.alpha, power=interim.power)  # fmt: skip
    section: dict[str, Any] = {
        "plan": {**interim.as_json(), "alpha": plan.alpha, "margin": margin,
                 "endpoint": plan.endpoint, "horizon_years": plan.horizon_years},
        "look": len(cuts),
        "looks_planned": design.k_max,
        "planned_critical_values": [number(c) for c in design.critical_values],
    }  # fmt: skip
    if len(cuts) > design.k_max:
        section["not_computed"] = (f"every one of the {design.k_max} planned looks has been "
                                   "reported already")  # fmt: skip
        return section
    counts = look_counts(women, plan, cuts)
    for look, row in enumerate(counts, start=1):
        for side, arm in (("ref", plan.reference_arm), ("new", plan.comparison_arm)):
            if row[f"n_{side}"] == 0:
                section["not_computed"] = (
                    f"no woman of the {arm} arm is evaluable at look {look} (randomised at "
                    f"least {plan.horizon_years:g} years before its data cut, {cuts[look - 1]})"
                )
                section["looks"] = [_look(i, cut, counts[i], None) for i, cut in enumerate(cuts)]
                return section
    stages = [
        {k: row[k] - (counts[i - 1][k] if i else 0) for k in row} for i, row in enumerate(counts)
    ]
    try:
        result = interim_analysis_rates(
            design,
            [s["events_new"] for s in stages], [s["n_new"] for s in stages],
            [s["events_ref"] for s in stages], [s["n_ref"] for s in stages],
            scale=interim.scale, margin=margin, n_max=interim.max_women,
            proportion_new_h1=interim.proportion_new_h1,
            proportion_ref_h1=interim.proportion_ref_h1,
        )  # fmt: skip
    except StatsInputError as error:
        section["not_computed"] = str(error)
        section["looks"] = [_look(i, cut, counts[i], None) for i, cut in enumerate(cuts)]
        return section
    current = result.design
    section["looks"] = looks = [
        _look(i, cuts[i] if i < len(cuts) else None, counts[i] if i < len(cuts) else None,
              (result, current))
        for i in range(current.k_max)
    ]  # fmt: skip
    for row, planned in zip(looks, interim.information_rates, strict=True):
        row["information_planned"] = planned
    crossed_at = result.rejected_at
    section["boundary_crossed"] = bool(crossed_at)
    section["crossed_at_look"] = crossed_at or None
    section["statement"] = (
        f"The efficacy (non-inferiority) boundary was crossed at look {crossed_at}."
        if crossed_at
        else f"The efficacy (non-inferiority) boundary was not crossed at look {len(cuts)}."
    )
    section["conditional_power"] = {
        "conditional_rejection_probability": number(result.conditional_rejection_probability),
        "trend": number(result.conditional_power_trend[-1])
        if result.conditional_power_trend.size else None,
        "planned_alternative": number(result.conditional_power_h1[-1])
        if result.conditional_power_h1.size else None,
        "observed_proportion_ref": number(result.proportion_ref),
        "observed_proportion_new": number(result.proportion_new),
    }  # fmt: skip
    return section


def _look(i: int, cut: date | None, counts: dict[str, int] | None, done) -> dict[str, Any]:
    row: dict[str, Any] = {"look": i + 1, "data_cut": None if cut is None else cut.isoformat()}
    row.update(counts or {"n_ref": None, "events_ref": None, "n_new": None, "events_new": None})
    if done is None:
        return row
    result, design = done
    reported = i < result.z_statistics.size
    row.update(
        information_fraction=number(design.information_rates[i]),
        observed=reported,
        critical_value=number(design.critical_values[i]),
        nominal_level=number(design.stage_levels[i]),
        alpha_spent=number(design.alpha_spent[i]),
        z=number(result.z_statistics[i]) if reported else None,
        crossed=bool(result.crossed[i]) if reported else None,
    )
    return row
