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

State. The loop keeps the still-screened women's state in compact arrays (one entry per active
woman, compressed when women leave) and writes a woman's per-woman results back when she
leaves (compression is lazy: once 15 % of the rows have left). The exam itself (attendance,
detection, recall) is :func:`pebs.sim.exam.examine`. When every active woman has the same
schedule state (a cohort entering at one age), the planner is called once for all of them.

Screening before entry (:func:`screen_history`): the same loop over the ages from
``[history] start_age`` to entry (exams strictly before entry), with the programme's attendance
and its own random streams; after entry the schedule continues from her last invitation, and
her last attended screen decides first vs subsequent recall rates.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace

import numpy as np

from pebs.screening import compile_policy, next_exam
from pebs.screening.policy import MODALITIES, Policy
from pebs.screening.vectorised import CompiledPolicy
from pebs.sim._random import stream_key
from pebs.sim.cohort import Cohort, density_code
from pebs.sim.exam import examine, recall_thresholds
from pebs.sim.levels import level_codes
from pebs.sim.parameters import SETTINGS, Parameters
from pebs.sim.performance import sensitivity_table
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
    screen_dcis: np.ndarray  # bool: the in-situ phase before her cancer was screen-detected
    last_screen: np.ndarray  # age at the last attended screen before leaving, nan if none
    next_due: np.ndarray  # next scheduled exam when she left the loop, nan if none
    last_gap: np.ndarray  # years between her last two invitations (nan if fewer than two)
    n_screens: np.ndarray  # int16 attended visits
    n_false_positives: np.ndarray  # int16
    n_biopsies: np.ndarray  # int16 benign biopsies
    totals: dict[str, int] = field(default_factory=dict)
    last_invite: np.ndarray | None = None  # age at her last invitation (attended or not), nan


@dataclass(frozen=True)
class PriorScreening:
    """Screening before entry: per woman (shape (n,)), from :func:`screen_history`."""

    found: np.ndarray  # bool: a cancer, a lesion or a DCIS was screen-detected before entry
    last_screen: np.ndarray  # age at the last attended screen before entry (nan: none)
    last_invite: np.ndarray  # age at the last invitation before entry (nan: none)


def _empty(n: int) -> ScreenResult:
    return ScreenResult(
        screen_age=np.full(n, np.inf), screen_progressive=np.zeros(n, bool),
        screen_non_progressive=np.zeros(n, bool), screen_dcis=np.zeros(n, bool),
        last_screen=np.full(n, np.nan),
        next_due=np.full(n, np.nan), last_gap=np.full(n, np.nan),
        n_screens=np.zeros(n, np.int16), n_false_positives=np.zeros(n, np.int16),
        n_biopsies=np.zeros(n, np.int16), last_invite=np.full(n, np.nan),
        totals={f"screens_{m}": 0 for m in MODALITIES} | {
            "visits": 0, "invitations": 0, "first_visits": 0, "false_positives_first": 0,
            "false_positives_short": 0, "visits_short": 0, "lesion_visits": 0,
            "lesion_detected": 0,
        },
    )  # fmt: skip


class _State:
    """Compact arrays of the still-screened women (one entry per active woman)."""

    NAMES = ("pos", "ids", "cursor", "limit", "onset", "np_onset", "np_end", "dcis_onset",
             "quantile", "country", "attendance", "prev", "n_scr", "last_gap", "live")  # fmt: skip

    def __init__(self, **arrays):
        self.__dict__.update(arrays)

    def keep(self, mask: np.ndarray) -> None:
        for name in self.NAMES:
            value = getattr(self, name)
            if isinstance(value, np.ndarray):
                setattr(self, name, value[mask])
        self.last = self.last[:, mask]

    @property
    def last_invite(self) -> np.ndarray:
        """Age at the latest exam of any stream (her last invitation), nan if none."""
        return self.last[0] if self.last.shape[0] == 1 else np.fmax.reduce(self.last, axis=0)


def _next_exams(plan, cohort, model, state, sel, strategy, entry_level):
    """Next exam age, modalities and per-stream 'due' flags of the active women ``sel``."""
    pos = state.pos[sel]
    ages = state.cursor[sel]
    risk = levels = density = None
    if plan.uses_risk:
        table = cohort.table[pos]
        risk_age = ages if strategy.risk_assessment == "each_exam" else cohort.entry[pos]
        risk = five_year_risk(model, table, cohort.rr[pos], risk_age)
        levels = entry_level[pos] if entry_level is not None else level_codes(
            plan.levels, plan.default_level, risk_5y=risk, rr=cohort.rr[pos],
            rr_q975=model.rr_q975.ravel()[table], ages=risk_age, relatives=cohort.relatives[pos],
        )  # fmt: skip
    if plan.uses_density:
        country = None if state.country is None else state.country[sel]
        density = density_code(model.countries, country, state.quantile[sel], ages)
    last = state.last[:, sel]
    m = ages.size
    if not (risk is not None or density is not None or strategy.study_years is not None
            or any(s.offset for s in plan.streams)) and m > 1:  # fmt: skip
        common = _common_state(ages, last, None if state.all_live else state.live[sel])
        if common is not None:  # every live woman has the same state: one planner call
            best, mods, is_due = _next_exams_of(plan, strategy, *common)
            return np.full(m, best[0]), np.full(m, mods[0]), np.repeat(is_due, m, axis=1)
    return _next_exams_of(plan, strategy, ages, last, risk, levels, density, cohort, pos)


def _common_state(ages, last, live):
    """(ages[:1], last[:, :1]) when every live woman has these values, else None."""
    first = 0 if live is None else int(np.argmax(live))
    a0 = ages[first]
    if np.isnan(a0):
        return None
    same = ages == a0
    for row in last:
        v = row[first]
        same &= np.isnan(row) if np.isnan(v) else row == v
    if live is not None:
        same |= ~live
    if not same.all():
        return None
    return ages[first : first + 1], last[:, first : first + 1]


def _next_exams_of(plan, strategy, ages, last, risk=None, levels=None, density=None, cohort=None,
                   pos=None):  # fmt: skip
    m = ages.size
    dues = np.full((len(plan.streams), m), np.inf)
    masks = np.zeros((len(plan.streams), m), np.uint8)
    for s, stream in enumerate(plan.streams):
        own = last[s]
        now, gap = ages, ages - own
        if stream.offset:
            others = np.delete(last, s, axis=0)
            other = np.fmax.reduce(others, axis=0) if others.shape[0] else np.full(m, np.nan)
            own_latest = np.isfinite(own) & ~(other > own)
            now = np.where(own_latest, own + stream.interval - stream.offset,
                           np.where(np.isfinite(other), other, ages))  # fmt: skip
            gap = np.where(np.isfinite(own) | np.isfinite(other), 0.0, np.nan)
        study_end = None
        if s == 0 and strategy.study_years is not None and stream.compiled.has_study:
            study_end = cohort.entry[pos] + strategy.study_years
            study_end = np.where(ages >= study_end - 1e-6, np.nan, study_end)  # after its exam
        nxt = next_exam(stream.compiled, now, levels, density, risk, gap, study_end_age=study_end)
        due = np.where(np.isnan(nxt.age), np.inf, nxt.age)
        dues[s] = np.maximum(due, ages) if stream.offset else due
        masks[s] = nxt.modalities
    if len(plan.streams) == 1:
        return dues[0], masks[0], np.ones((1, m), bool)
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
    prior: PriorScreening | None = None,
) -> ScreenResult:  # fmt: skip
    """Screen the ``eligible`` women of ``cohort`` under ``strategy`` from entry.

    ``prior``: screening before entry; her last screen then continues the schedule and her
    first screen in the simulation counts as a subsequent one when she had one before.
    """
    if not strategy.is_screening:
        return _empty(len(cohort))
    pos = np.flatnonzero(eligible)
    start = cohort.entry[pos]
    stop = np.minimum(cohort.death_other, cohort.clinical)[pos]  # exams strictly before these
    prev = invite = np.full(pos.size, np.nan)
    if prior is not None:
        prev, invite = prior.last_screen[pos], prior.last_invite[pos]
    last = cohort.exit[pos]
    if strategy.screening_years is not None:  # no invitation after the screening period
        last = np.minimum(last, start + strategy.screening_years)
    return _loop(cohort, strategy, scenario, params, model, seed, replicate, pos, start, stop,
                 last, strategy.attendance, prev, "", invite)  # fmt: skip


def screen_history(
    cohort: Cohort, scenario: Scenario, params: Parameters, model: OnsetModel, seed: int,
    replicate: int,
) -> PriorScreening:  # fmt: skip
    """Screening before entry under the scenario's ``screening_history`` strategy.

    Every woman is invited from ``params.history_start_age`` with her country's programme
    attendance; exams are strictly before entry (she has no clinical cancer before entry by
    construction of the cohort). Own random streams (``history_*``).
    """
    strategy = replace(scenario.history_strategy, risk_assessment="each_exam", study_years=None)
    n = len(cohort)
    pos = np.arange(n)
    attendance = np.array([params.history_attendance_of(c) for c in scenario.countries])
    start = np.full(n, min(params.history_start_age, float(cohort.entry.min(initial=np.inf))))
    result = _loop(cohort, strategy, scenario, params, model, seed, replicate, pos, start,
                   cohort.entry, cohort.entry, attendance[cohort.country.astype(np.intp)],
                   np.full(n, np.nan), "history_", np.full(n, np.nan))  # fmt: skip
    found = result.screen_progressive | result.screen_non_progressive | result.screen_dcis
    return PriorScreening(found=found, last_screen=result.last_screen,
                          last_invite=result.last_invite)  # fmt: skip


def _loop(cohort, strategy, scenario, params, model, seed, replicate, pos, start, stop, exit_,
          attendance, prev, prefix, invite) -> ScreenResult:  # fmt: skip
    """The rounds of one strategy for the women ``pos`` (see the module docstring).

    ``prev``/``invite``: age at the last attended screen / last invitation before ``start``
    (nan: none); the schedule continues from the last invitation, the first-or-subsequent
    recall rate from the last attended screen.
    """
    n = len(cohort)
    result = _empty(n)
    plans = _plans(strategy, scenario.countries)
    n_streams = max(len(p.streams) for p in plans if p is not None)
    keys = {name: stream_key(seed, replicate, prefix + name)
            for name in ("attend", "detect", "recall")}  # fmt: skip
    settings = np.array([SETTINGS.index(params.setting_of(c)) for c in scenario.countries])
    tables = (sensitivity_table(params), *recall_thresholds(params))
    entry_level = _entry_levels(plans, cohort, model, strategy)
    last = np.full((n_streams, pos.size), np.nan)
    last[0] = invite  # the last invitation (before entry) continues the first stream's schedule
    # an exam is valid strictly before ``stop`` and up to ``exit`` (+ _EPS): one limit
    limit = np.minimum(stop, np.nextafter(exit_ + _EPS, np.inf))
    state = _State(
        pos=pos, ids=cohort.women[pos], cursor=start.copy(), limit=limit,
        onset=cohort.onset[pos], np_onset=cohort.np_onset[pos], np_end=cohort.np_end[pos],
        dcis_onset=cohort.dcis_onset[pos] if params.dcis_precursor_share > 0 else None,
        quantile=cohort.density_quantile[pos],
        country=cohort.country[pos] if len(scenario.countries) > 1 else None,
        attendance=attendance[pos] if isinstance(attendance, np.ndarray) else attendance,
        prev=prev.copy(), n_scr=np.zeros(pos.size, np.int16),
        last_gap=np.full(pos.size, np.nan), live=np.ones(pos.size, bool), last=last,
    )  # fmt: skip
    state.all_live = True
    totals = result.totals
    for _ in range(_MAX_ROUNDS):
        m = state.pos.size
        if m == 0:
            break
        if len(plans) == 1:
            exam, mods, due = _next_exams(plans[0], cohort, model, state, slice(None),
                                          strategy, entry_level)  # fmt: skip
        else:
            exam = np.full(m, np.inf)
            mods = np.zeros(m, np.uint8)
            due = np.zeros((n_streams, m), bool)
            for c, plan in enumerate(plans):
                sel = np.flatnonzero(state.country == c)
                if sel.size == 0:
                    continue
                best, mm, is_due = _next_exams(plan, cohort, model, state, sel, strategy,
                                               entry_level)  # fmt: skip
                exam[sel], mods[sel] = best, mm
                due[: is_due.shape[0], sel] = is_due
        valid = exam < state.limit
        if not state.all_live:
            valid &= state.live
        n_valid = int(np.count_nonzero(valid))
        if n_valid < m:
            # leaving now: no exam before her limit (the next scheduled one is recorded)
            leaving = ~valid if state.all_live else state.live & ~valid
            out = np.flatnonzero(leaving)
            result.next_due[state.pos[out]] = np.where(np.isfinite(exam[out]), exam[out], np.nan)
            _write_back(result, state, out)
            state.live = valid
            state.all_live = False
            if n_valid == 0:
                break
            if n_valid < 0.85 * m:  # compress when enough women have left
                state.keep(valid)
                exam, mods, due, valid = exam[valid], mods[valid], due[:, valid], None
                state.all_live = True
        if not state.all_live:
            exam = np.where(valid, exam, state.cursor)  # the women who left stay where they were
        gone = examine(result, state, params, keys, exam, mods, settings, tables,
                        scenario.countries, None if state.all_live else valid)  # fmt: skip
        totals["invitations"] += n_valid
        state.last_gap = exam - state.last_invite
        if due.shape[0] == 1:
            state.last[0] = exam
        else:
            state.last = np.where(due, exam, state.last)
        state.cursor = exam
        if gone is not None:  # screen-detected: leave the loop
            _write_back(result, state, gone)
            if state.all_live:
                state.live = np.ones(state.pos.size, bool)
            state.live[gone] = False
            state.all_live = False
    else:  # pragma: no cover - a policy whose exams do not advance
        raise RuntimeError(f"strategy {strategy.name!r}: screening did not end")
    if state.pos.size:  # women still in the loop (none normally): write back
        live = np.flatnonzero(state.live)
        _write_back(result, state, live)
    return result


def _write_back(result: ScreenResult, state: _State, out: np.ndarray) -> None:
    """Per-woman results of the women ``out`` (positions in the state) leaving the loop."""
    pos = state.pos[out]
    n_scr = state.n_scr[out]
    result.n_screens[pos] = n_scr
    result.last_screen[pos] = np.where(n_scr > 0, state.prev[out], np.nan)
    result.last_gap[pos] = state.last_gap[out]
    result.last_invite[pos] = state.last_invite[out]
