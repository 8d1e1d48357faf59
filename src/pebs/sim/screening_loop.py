"""Screening of a cohort under one strategy: a loop over screening rounds, vectorised over women.

Each round asks :func:`pebs.screening.next_exam` (the planner's vectorised form, one call per
country and stream of rules) for every still-screened woman's next exam, then draws attendance,
detection and false-positive recall for the women examined. A woman leaves the loop at her last
exam, at a screen-detected cancer, at the clinical diagnosis of her progressive cancer, at
other-cause death or at the end of follow-up.

Streams. :func:`~pebs.screening.next_exam` knows one last screen; a policy with several streams
of rules (MyPeBS's ultrasound stream, WISDOM's MRI stream alternating with mammography) is split
into one compiled policy per stream, each with its own last exam, as its docstring asks. For an
alternating stream (``offset_months``), the due date is the other streams' last exam + the offset
when that exam is the more recent, otherwise its own last exam + its interval.

Common random numbers. Attendance, detection and recall uniforms are keyed by (woman, month of
age at the exam), so two strategies that examine a woman at the same age draw the same outcome.
A missed invitation is consumed: the next one follows the usual interval.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace

import numpy as np

from pebs.screening import compile_policy, next_exam
from pebs.screening.policy import MODALITIES, Policy
from pebs.screening.vectorised import CompiledPolicy
from pebs.sim._random import stream_key, uniform, uniform_pair
from pebs.sim.cohort import Cohort, density_code
from pebs.sim.levels import level_codes
from pebs.sim.parameters import SETTINGS, Parameters
from pebs.sim.performance import (
    age_group,
    biopsy_table,
    false_positive_table,
    sensitivity_table,
)
from pebs.sim.risk_model import OnsetModel, five_year_risk
from pebs.sim.scenario import Scenario, Strategy

_EPS = 1e-9
_MAX_ROUNDS = 5_000


@dataclass(frozen=True)
class _Stream:
    compiled: CompiledPolicy
    offset: float  # years; 0 for an ordinary stream
    interval: float  # years, of the offset rule


@dataclass(frozen=True)
class _CountryPlan:
    streams: tuple[_Stream, ...]
    levels: tuple[str, ...]
    default_level: str

    @property
    def uses_risk(self) -> bool:
        """Whether levels or risk thresholds need the woman's five-year risk."""
        return bool(self.levels) or any(len(s.compiled._thresholds) for s in self.streams)

    @property
    def uses_density(self) -> bool:
        """Whether some rule has a density condition."""
        masks = [s.compiled.condition_masks for s in self.streams]
        return any(bool((m != m[:, :, :1]).any()) for m in masks)


def _split_streams(policy: Policy) -> tuple[_Stream, ...]:
    names = tuple(dict.fromkeys(r.stream for r in policy.rules))
    streams = []
    for i, name in enumerate(names):
        rules = tuple(r for r in policy.rules if r.stream == name)
        part = replace(policy, rules=rules, study=policy.study if i == 0 else None)
        offset_rule = next((r for r in rules if r.offset_months), None)
        streams.append(
            _Stream(
                compile_policy(part),
                0.0 if offset_rule is None else offset_rule.offset_months / 12,
                0.0 if offset_rule is None else offset_rule.every_months / 12,
            )
        )
    return tuple(streams)


@functools.lru_cache(maxsize=64)
def _plans(strategy: Strategy, countries: tuple[str, ...]) -> tuple[_CountryPlan | None, ...]:
    plans = []
    for code in countries:
        policy = strategy.policy_of(code)
        plans.append(
            None
            if policy is None
            else _CountryPlan(_split_streams(policy), policy.levels, policy.default_level)
        )
    return tuple(plans)


@dataclass
class ScreenResult:
    """Per-woman results of one strategy (arrays of shape (n,)) and exam totals."""

    screen_age: np.ndarray  # age at screen detection, inf if none
    screen_progressive: np.ndarray  # bool: the progressive cancer was screen-detected
    screen_non_progressive: np.ndarray  # bool: a non-progressive lesion was screen-detected
    last_screen: np.ndarray  # age at the last attended screen before leaving, nan if none
    next_due: np.ndarray  # next scheduled exam when she left the loop, nan if none
    last_gap: np.ndarray  # years between her last two invitations (nan if fewer than two)
    n_screens: np.ndarray  # int16 attended visits
    n_false_positives: np.ndarray  # int16
    n_biopsies: np.ndarray  # int16 benign biopsies
    totals: dict[str, int] = field(default_factory=dict)


def _empty(n: int) -> ScreenResult:
    return ScreenResult(
        screen_age=np.full(n, np.inf), screen_progressive=np.zeros(n, bool),
        screen_non_progressive=np.zeros(n, bool), last_screen=np.full(n, np.nan),
        next_due=np.full(n, np.nan), last_gap=np.full(n, np.nan),
        n_screens=np.zeros(n, np.int16), n_false_positives=np.zeros(n, np.int16),
        n_biopsies=np.zeros(n, np.int16),
        totals={f"screens_{m}": 0 for m in MODALITIES} | {
            "visits": 0, "invitations": 0, "first_visits": 0, "false_positives_first": 0,
            "lesion_visits": 0, "lesion_detected": 0,
        },
    )  # fmt: skip


def _next_exams(plan, cohort, model, idx, cursor, last, strategy, entry_level):
    """Next exam age, modalities and per-stream 'due' flags of the women ``idx`` of one plan."""
    ages = cursor[idx]
    risk = levels = density = None
    if plan.uses_risk:
        table = cohort.table[idx]
        risk_age = ages if strategy.risk_assessment == "each_exam" else cohort.entry[idx]
        risk = five_year_risk(model, table, cohort.rr[idx], risk_age)
        levels = entry_level[idx] if entry_level is not None else level_codes(
            plan.levels, plan.default_level, risk_5y=risk, rr=cohort.rr[idx],
            rr_q975=model.rr_q975.ravel()[table], ages=risk_age, relatives=cohort.relatives[idx],
        )  # fmt: skip
    if plan.uses_density:
        density = density_code(
            model.countries, cohort.country[idx], cohort.density_quantile[idx], ages
        )
    dues = np.full((len(plan.streams), idx.size), np.inf)
    masks = np.zeros((len(plan.streams), idx.size), np.uint8)
    for s, stream in enumerate(plan.streams):
        own = last[s, idx]
        now, gap = ages, ages - own
        if stream.offset:
            others = np.delete(last[:, idx], s, axis=0)
            other = np.fmax.reduce(others, axis=0) if others.shape[0] else np.full(idx.size, np.nan)
            own_latest = np.isfinite(own) & ~(other > own)
            now = np.where(own_latest, own + stream.interval - stream.offset,
                           np.where(np.isfinite(other), other, ages))  # fmt: skip
            gap = np.where(np.isfinite(own) | np.isfinite(other), 0.0, np.nan)
        study_end = None
        if s == 0 and strategy.study_years is not None and stream.compiled.has_study:
            study_end = cohort.entry[idx] + strategy.study_years
            study_end = np.where(ages >= study_end - 1e-6, np.nan, study_end)  # after its exam
        nxt = next_exam(stream.compiled, now, levels, density, risk, gap, study_end_age=study_end)
        due = np.where(np.isnan(nxt.age), np.inf, nxt.age)
        dues[s] = np.maximum(due, ages) if stream.offset else due
        masks[s] = nxt.modalities
    best = dues.min(axis=0)
    is_due = dues <= best + _EPS  # (n_streams, m)
    mods = np.bitwise_or.reduce(np.where(is_due, masks, 0), axis=0).astype(np.uint8)
    return best, mods, is_due


def _entry_levels(plans, cohort, model, strategy):
    """Level codes at entry when the strategy assesses risk once (else None)."""
    if strategy.risk_assessment != "entry":
        return None
    codes = np.full(len(cohort), -1, dtype=np.int8)
    risk = five_year_risk(model, cohort.table, cohort.rr, cohort.entry)
    for c, plan in enumerate(plans):
        is_c = cohort.country == c
        if plan is None or not is_c.any():
            continue
        codes[is_c] = level_codes(
            plan.levels, plan.default_level, risk_5y=risk[is_c], rr=cohort.rr[is_c],
            rr_q975=model.rr_q975.ravel()[cohort.table[is_c]], ages=cohort.entry[is_c],
            relatives=cohort.relatives[is_c],
        )  # fmt: skip
    return codes


def screen(
    cohort: Cohort, strategy: Strategy, scenario: Scenario, params: Parameters,
    model: OnsetModel, seed: int, replicate: int, eligible: np.ndarray,
) -> ScreenResult:  # fmt: skip
    """Screen the ``eligible`` women of ``cohort`` under ``strategy``."""
    n = len(cohort)
    result = _empty(n)
    if not strategy.is_screening:
        return result
    plans = _plans(strategy, scenario.countries)
    n_streams = max(len(p.streams) for p in plans if p is not None)
    keys = {name: stream_key(seed, replicate, name) for name in ("attend", "detect", "recall")}
    settings = np.array([SETTINGS.index(params.setting_of(c)) for c in scenario.countries])
    sens, fps, bxs = sensitivity_table(params), false_positive_table(params), biopsy_table(params)
    entry_level = _entry_levels(plans, cohort, model, strategy)
    cursor = cohort.entry.copy()
    last = np.full((n_streams, n), np.nan)
    last_invite = np.full(n, np.nan)
    end_exams = np.minimum(cohort.death_other, cohort.clinical)  # exams strictly before these
    active = np.flatnonzero(eligible)
    totals = result.totals
    for _ in range(_MAX_ROUNDS):
        if active.size == 0:
            break
        exam = np.full(active.size, np.inf)
        mods = np.zeros(active.size, np.uint8)
        due = np.zeros((n_streams, active.size), bool)
        for c, plan in enumerate(plans):
            if len(plans) == 1:
                sel = slice(None)
            else:
                sel = np.flatnonzero(cohort.country[active] == c)
                if sel.size == 0:
                    continue
            best, m, is_due = _next_exams(
                plan, cohort, model, active[sel], cursor, last, strategy, entry_level
            )
            exam[sel], mods[sel] = best, m
            due[: is_due.shape[0], sel] = is_due
        valid = (exam < end_exams[active]) & (exam <= cohort.exit[active] + _EPS)
        leaving = active[~valid]
        result.next_due[leaving] = np.where(np.isfinite(exam[~valid]), exam[~valid], np.nan)
        women, exam, mods, due = active[valid], exam[valid], mods[valid], due[:, valid]
        if women.size == 0:
            break
        detected = _examine(result, cohort, params, keys, women, exam, mods, strategy,
                            settings, sens, fps, bxs, scenario.countries)  # fmt: skip
        totals["invitations"] += int(women.size)
        result.last_gap[women] = exam - last_invite[women]
        last_invite[women] = exam
        for s in range(n_streams):
            last[s, women[due[s]]] = exam[due[s]]
        cursor[women] = exam
        active = women[~detected]
    else:  # pragma: no cover - a policy whose exams do not advance
        raise RuntimeError(f"strategy {strategy.name!r}: screening did not end")
    return result


def _examine(
    result, cohort, params, keys, women, exam, mods, strategy, settings, sens, fps, bxs, countries
):
    """Attendance, detection and recall at one exam of each of ``women``; returns 'detected'."""
    month = np.rint(exam * 12.0).astype(np.int64)
    ids = cohort.women[women]
    if strategy.attendance < 1.0:
        attends = uniform(keys["attend"], ids, month) < strategy.attendance
    else:
        attends = np.ones(women.size, bool)
    detected = np.zeros(women.size, bool)
    at = np.flatnonzero(attends)
    if at.size == 0:
        return detected
    w, e, m = women[at], exam[at], mods[at]
    totals = result.totals
    for i, name in enumerate(MODALITIES):
        totals[f"screens_{name}"] += int(np.count_nonzero(m & (1 << i)))
    group = age_group(params, e)
    density = density_code(countries, cohort.country[w], cohort.density_quantile[w], e)
    first = result.n_screens[w] == 0
    u_prog, u_np = uniform_pair(keys["detect"], ids[at], month[at])
    cell = (group * 4 + density).astype(np.intp)  # (n,) age group x density
    n_cells = sens.shape[1] * 4
    p_detect = sens.reshape(-1).take(m.astype(np.intp) * n_cells + cell)
    has_prog = cohort.onset[w] <= e  # e < clinical is guaranteed by the caller
    has_np = cohort.np_onset[w] <= e
    found_prog = has_prog & (u_prog < p_detect)
    found_np = has_np & ~found_prog & (u_np < p_detect)
    found = found_prog | found_np
    u_fp, u_bx = uniform_pair(keys["recall"], ids[at], month[at])
    later = (~first).astype(np.intp)
    if settings.size == 1 or (settings == settings[0]).all():
        setting = int(settings[0])
        fp_cell = (later * fps.shape[2] + m) * n_cells + cell
        p_fp = fps[setting].reshape(-1).take(fp_cell)
        p_bx = bxs[setting].take(later)
    else:
        setting = settings[cohort.country[w].astype(np.intp)]
        p_fp = fps[setting, later, m, group, density]
        p_bx = bxs[setting, later]
    is_fp = ~found & (u_fp < p_fp)
    is_bx = is_fp & (u_bx < p_bx)
    result.n_screens[w] += 1
    result.n_false_positives[w] += is_fp
    result.n_biopsies[w] += is_bx
    result.last_screen[w] = e
    result.screen_age[w[found]] = e[found]
    result.screen_progressive[w[found_prog]] = True
    result.screen_non_progressive[w[found_np]] = True
    totals["visits"] += int(at.size)
    totals["first_visits"] += int(first.sum())
    totals["false_positives_first"] += int((is_fp & first).sum())
    totals["lesion_visits"] += int((has_prog | has_np).sum())
    totals["lesion_detected"] += int(found.sum())
    detected[at] = found
    return detected
