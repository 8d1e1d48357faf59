"""The analyses of the plan, on the women's records, as one JSON-ready document.

- primary endpoint, intention to treat (every randomised woman whose data may be used) and per
  protocol (the plan's exclusions): women with an endpoint diagnosis within the horizon over
  women randomised, per arm, with Wilson intervals; non-inferiority on the ratio and the
  difference scales (Farrington-Manning score tests, :mod:`pebs.stats.noninferiority`);
  Mantel-Haenszel by country (:mod:`pebs.stats.stratified`); the same for each alternative
  endpoint definition;
- time to event (years from randomisation, up to the horizon): Aalen-Johansen cumulative
  incidence of the endpoint with death as a competing event and ``1 - KM`` with deaths censored
  (:mod:`pebs.stats.survival`); log-rank and Harrington-Fleming G(0, 1) tests of the
  cause-specific curves (:mod:`pebs.stats.survival_tests`);
- secondary endpoints (women with at least one recall, benign biopsy, MRI, interval cancer,
  any cancer), per arm, by country and by risk level, with Wilson intervals; screening
  examinations by modality; cancers by arm, behaviour, stage group, T group and mode of
  detection.

The estimates "at the horizon" are those of the last time observed when no woman of the arm was
followed that long (``horizon_reached`` false). Numbers that are not finite (a ratio with no
event in the reference arm) are ``null``.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from pebs.services.analysis._women import WomanRecord, WomenData
from pebs.stats import (
    StatsInputError,
    aalen_johansen,
    kaplan_meier,
    mantel_haenszel,
    noninferiority_difference,
    noninferiority_ratio,
    proportion_interval,
    survival_difference,
)
from pebs.trial.analysis_plan import AnalysisPlan, is_endpoint

__all__ = ["SECONDARY", "analyse_women", "endpoint_time", "number"]

EVENT, DEATH = 1, 2
SECONDARY: dict[str, Callable[[WomanRecord], bool]] = {
    "recall": lambda w: w.n_recalls > 0,
    "benign_biopsy": lambda w: w.n_benign_biopsies > 0,
    "mri": lambda w: w.n_mri > 0,
    "interval_cancer": lambda w: any(d.detection_mode == "interval" for d in w.diagnoses),
    "any_cancer": lambda w: bool(w.diagnoses),
}
"""Secondary endpoints: whether a woman had at least one (within her follow-up)."""


def number(value) -> float | None:
    """A float for JSON (``None`` when not finite)."""
    value = float(value)
    return value if math.isfinite(value) else None


def endpoint_time(woman: WomanRecord, endpoint: str, horizon: float) -> tuple[float, int]:
    """Years to her first endpoint diagnosis, death or end of follow-up, capped at ``horizon``,
    and the cause (1 endpoint, 2 death, 0 censored)."""
    for diagnosis in woman.diagnoses:
        if is_endpoint(endpoint, diagnosis.behaviour, diagnosis.stage_group):
            years = max(0.0, woman.years(diagnosis.day))
            return (years, EVENT) if years <= horizon else (horizon, 0)
    years = woman.follow_up_years
    if years > horizon:
        return horizon, 0
    return years, DEATH if woman.end_reason == "death" else 0


def _interval(events: int, n: int) -> dict[str, Any]:
    ci = proportion_interval(events, n) if n else None
    return {
        "events": events,
        "n": n,
        "proportion": None if ci is None else number(ci.estimate),
        "lower": None if ci is None else number(ci.lower),
        "upper": None if ci is None else number(ci.upper),
    }


def _test(result) -> dict[str, Any]:
    return {
        "estimate": number(result.estimate),
        "lower": number(result.lower),
        "upper": number(result.upper),
        "z": number(result.statistic),
        "p_value": number(result.p_value),
        "margin": result.margin,
        "conclusion": str(result.conclusion),
        "method": result.method,
    }


def _binary(women: list[WomanRecord], plan: AnalysisPlan, endpoint: str) -> dict[str, Any]:
    new, ref = plan.comparison_arm, plan.reference_arm
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for woman in women:
        cause = endpoint_time(woman, endpoint, plan.horizon_years)[1]
        counts[woman.arm, woman.country][0] += cause == EVENT
        counts[woman.arm, woman.country][1] += 1
    per_arm = {
        arm: [sum(v[i] for (a, _), v in counts.items() if a == arm) for i in (0, 1)]
        for arm in (ref, new)
    }
    result: dict[str, Any] = {
        "endpoint": endpoint,
        "arms": {arm: _interval(*per_arm[arm]) for arm in (ref, new)},
    }
    (x_new, n_new), (x_ref, n_ref) = per_arm[new], per_arm[ref]
    if n_new and n_ref:
        options = {"alpha": plan.alpha}
        result["ratio"] = _test(
            noninferiority_ratio(x_new, n_new, x_ref, n_ref, margin=plan.margin_ratio, **options)
        )
        result["difference"] = _test(
            noninferiority_difference(
                x_new, n_new, x_ref, n_ref, margin=plan.margin_difference, **options
            )
        )
    countries = sorted({c for _, c in counts})
    try:
        mh = mantel_haenszel(
            [counts[new, c][0] for c in countries],
            [counts[new, c][1] for c in countries],
            [counts[ref, c][0] for c in countries],
            [counts[ref, c][1] for c in countries],
            margin=plan.margin_ratio,
            alpha=plan.alpha,
        )
        result["mantel_haenszel"] = {
            k: number(v) if isinstance(v, float) else v for k, v in vars(mh).items()
        }
        result["mantel_haenszel"]["strata"] = "country"
    except StatsInputError as error:
        result["mantel_haenszel"] = {"not_computed": str(error)}
    return result


def per_protocol(women: Iterable[WomanRecord], plan: AnalysisPlan) -> tuple[list, Counter]:
    """The per-protocol set, and the women excluded by each rule (a woman counts for her first)."""
    kept, excluded = [], Counter()
    for woman in women:
        rule = next((r for r in plan.per_protocol_excludes if _breaks(woman, r, plan)), None)
        if rule is None:
            kept.append(woman)
        else:
            excluded[rule] += 1
    return kept, excluded


def _breaks(woman: WomanRecord, rule: str, plan: AnalysisPlan) -> bool:
    if rule == "withdrew_before_first_screen":
        return woman.withdrawn is not None and (
            woman.first_screen is None or woman.withdrawn < woman.first_screen
        )
    if rule == "no_screen":
        return woman.first_screen is None
    return woman.arm == plan.comparison_arm and woman.risk_level is None  # no_risk_assessment


def _time_to_event(women: list[WomanRecord], plan: AnalysisPlan) -> dict[str, Any]:
    arms = (plan.reference_arm, plan.comparison_arm)
    horizon = plan.horizon_years
    samples = {}
    curves: dict[str, Any] = {}
    for arm in arms:
        pairs = [endpoint_time(w, plan.endpoint, horizon) for w in women if w.arm == arm]
        if not pairs:
            continue
        times = np.array([t for t, _ in pairs])  # (n_women,) years
        causes = np.array([c for _, c in pairs])
        samples[arm] = (times, causes)
        aj = aalen_johansen(times, causes, cause=EVENT)
        km = kaplan_meier(times, (causes == EVENT).astype(int))
        curves[arm] = {
            "n": len(pairs),
            "events": int((causes == EVENT).sum()),
            "deaths": int((causes == DEATH).sum()),
            "max_follow_up_years": number(times.max()),
            "horizon_reached": bool(times.max() >= horizon),
            "aalen_johansen_at_horizon": number(aj.at(horizon)),
            "one_minus_km_at_horizon": number(km.cumulative_incidence_at(horizon)),
            "times": [number(t) for t in aj.times],
            "aalen_johansen": [number(v) for v in aj.cumulative_incidence],
            "one_minus_km": [number(v) for v in 1.0 - km.survival_at(aj.times)],
        }
    tests: dict[str, Any] = {}
    if len(samples) == 2:
        (t1, c1), (t2, c2) = samples[arms[1]], samples[arms[0]]
        for name, gamma in (("log_rank", 0.0), ("harrington_fleming_0_1", 1.0)):
            try:
                r = survival_difference(
                    t1, (c1 == EVENT).astype(int), t2, (c2 == EVENT).astype(int), gamma=gamma
                )
                tests[name] = {
                    "statistic": number(r.statistic),
                    "p_value": number(r.p_value),
                    "rho": r.rho,
                    "gamma": r.gamma,
                }
            except StatsInputError as error:
                tests[name] = {"not_computed": str(error)}
    return {"horizon_years": horizon, "arms": curves, "tests": tests}


def _secondary(women: list[WomanRecord], by: Callable[[WomanRecord], str | None]) -> list[dict]:
    groups: dict[tuple[str, str], list[WomanRecord]] = defaultdict(list)
    for woman in women:
        groups[woman.arm, by(woman) or "none"].append(woman)
    rows = []
    for (arm, group), members in sorted(groups.items()):
        for name, has in SECONDARY.items():
            row = {"arm": arm, "group": group, "endpoint": name}
            row.update(_interval(sum(has(w) for w in members), len(members)))
            rows.append(row)
    return rows


def _screens(women: list[WomanRecord]) -> list[dict[str, Any]]:
    totals: dict[tuple[str, str], int] = Counter()
    n_women = Counter(w.arm for w in women)
    for woman in women:
        for modality, n in woman.screens.items():
            totals[woman.arm, modality] += n
    return [
        {
            "arm": arm,
            "modality": modality,
            "examinations": n,
            "women": n_women[arm],
            "per_woman": number(n / n_women[arm]),
        }
        for (arm, modality), n in sorted(totals.items())
    ]


def _cancers(women: list[WomanRecord]) -> list[dict[str, Any]]:
    """Diagnoses within follow-up per arm, behaviour, AJCC stage group, T group (tumour size)
    and mode of detection."""
    counts: Counter[tuple[str, str, str, str, str]] = Counter(
        (w.arm, d.behaviour, d.stage_group or "unstaged", d.t_group or "unknown", d.detection_mode)
        for w in women
        for d in w.diagnoses
    )
    keys = ("arm", "behaviour", "stage_group", "t_group", "detection_mode")
    return [{**dict(zip(keys, key, strict=True)), "n": n} for key, n in sorted(counts.items())]


def analyse_women(data: WomenData, plan: AnalysisPlan) -> dict[str, Any]:
    """Every analysis of the plan (module docstring)."""
    women = list(data.women)
    pp_women, pp_excluded = per_protocol(women, plan)
    return {
        "plan": plan.as_json(),
        "data_cut": data.data_cut.isoformat(),
        "counts": {
            "randomised_analysed": len(women),
            "per_arm": dict(sorted(Counter(w.arm for w in women).items())),
            "excluded_data_use_withdrawn": data.n_data_use_withdrawn,
            "records_after_end_of_follow_up": data.n_records_after_end,
            "per_protocol": len(pp_women),
            "per_protocol_excluded": dict(sorted(pp_excluded.items())),
            "end_of_follow_up": dict(sorted(Counter(w.end_reason for w in women).items())),
        },
        "primary": {
            "intention_to_treat": _binary(women, plan, plan.endpoint),
            "per_protocol": _binary(pp_women, plan, plan.endpoint),
        },
        "alternative_endpoints": {e: _binary(women, plan, e) for e in plan.alternative_endpoints},
        "time_to_event": _time_to_event(women, plan),
        "secondary": {
            "by_arm": _secondary(women, lambda w: "all"),
            "by_country": _secondary(women, lambda w: w.country),
            "by_risk_level": _secondary(women, lambda w: w.risk_level),
        },
        "screens": _screens(women),
        "cancers": _cancers(women),
    }
