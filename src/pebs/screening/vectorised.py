"""A policy compiled to arrays: the next exam of millions of women without a loop over women.

:func:`compile_policy` turns a :class:`~pebs.screening.policy.Policy` into per-rule numpy arrays;
:func:`next_exam` gives, for arrays of women, the age and the modalities of the next exam. It is
the simulator's form of the planner (:func:`pebs.screening.plan`) and follows the same rules: for
each stream, the first exam is due at the last screen + the band's interval, never before "now"
and never before the band's first birthday, delayed by the rule's ``offset_months``, and only if
it falls before the band's last birthday (otherwise the next band of the stream is tried with the
same last screen); the next exam is the earliest over the streams, with the union of the
modalities of every stream due at that same age.

Calendar approximation
----------------------
The planner works on dates with whole-month arithmetic (:func:`~pebs.screening.add_months`
keeps the day of the month, clamped to the month's end); this module works on ages in years,
with ``every_months / 12`` and ``offset_months / 12``. Map a date to an age month-exactly (whole
months since birth, plus the elapsed fraction of the current birth-month) and birthdays are exact
integers, so band limits agree exactly. Adding whole months to a date, though, keeps its calendar
day while the length of the month around it changes (28 to 31 days), so the date's position in
the birth-month changes by at most 3/28 of a month: a due date computed from a last screen or
from an offset can differ by **at most about 3.2 days** (3.1 measured) between the two forms. A
consequence: when an exam falls within those few days of the birthday that ends a band, the two
forms may disagree on whether it is the band's last exam; the vectorised answer is then the
planner's answer for the same woman with her last screen (or the plan start) moved by at most a
few days. ``tests/screening/test_vectorised.py`` checks both statements on every shipped policy.

Study policies (``[study]``) end with an end-of-study exam. The planner places it at the plan
start + the study's years; :func:`next_exam` places it at ``study_end_age`` when it is given (a
routine exam due less than ``absorb_months`` before it is replaced by it, as in the planner) and
ignores the study otherwise, giving the routine schedule only.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from pebs.screening.policy import DENSITIES, MODALITIES, Policy

NO_RULE = -1
"""``NextExam.rule`` when there is no next exam."""
END_OF_STUDY = -2
"""``NextExam.rule`` for a study's end-of-study exam."""
UNKNOWN = -1
"""Level or density code of a woman whose level or density is not known."""

_EPS = 1e-9
"""Ages closer than this (years, about 0.03 s) count as equal: float rounding, not calendar."""
_CHUNK = 1 << 15
"""Women per block: the per-rule temporaries of one block stay in the CPU cache."""


def modality_mask(modalities) -> int:
    """Bitmask of modality names: bit ``i`` is ``MODALITIES[i]``.

    >>> modality_mask(["mammography", "mri"]), modality_names(5)
    (5, ('mammography', 'mri'))
    """
    return sum(1 << MODALITIES.index(m) for m in set(modalities))


def modality_names(mask: int) -> tuple[str, ...]:
    """The modality names of a bitmask, in :data:`MODALITIES` order."""
    return tuple(m for i, m in enumerate(MODALITIES) if int(mask) >> i & 1)


def _frozen(values, dtype) -> np.ndarray:
    array = np.array(values, dtype=dtype)
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class CompiledPolicy:
    """A policy as per-rule arrays (``n_rules`` = ``len(policy.rules)``, in file order).

    Ages and intervals are in years (``every_months / 12``); masks of modalities are bitmasks
    (bit ``i`` = ``MODALITIES[i]``). ``condition_masks[r, level, density]`` says whether rule
    ``r`` applies to a woman of that level code (index in ``levels``) and density code (0..3 =
    a..d); the last slot of each axis is "unknown", so code -1 indexes it directly. Risk
    thresholds are proportions; ``risk_below[r]`` is +inf and ``risk_at_least[r]`` is -inf when
    the rule has no such condition (an unknown risk, NaN, meets no risk condition).
    """

    name: str
    levels: tuple[str, ...]
    rule_ids: tuple[str, ...]
    streams: tuple[str, ...]
    """Stream names, in order of first appearance in the policy."""
    stream_rules: tuple[tuple[int, ...], ...]
    """Rule indices of each stream, by start age (the order the planner walks them)."""
    start_ages: np.ndarray  # (n_rules,) float, years
    stop_ages: np.ndarray  # (n_rules,) float, years (exams strictly before this birthday)
    intervals: np.ndarray  # (n_rules,) float, years
    offsets: np.ndarray  # (n_rules,) float, years
    stream_index: np.ndarray  # (n_rules,) int
    modalities: np.ndarray  # (n_rules,) uint8 bitmask
    condition_masks: np.ndarray  # (n_rules, n_levels + 1, 5) bool
    risk_below: np.ndarray  # (n_rules,) float, +inf when none
    risk_at_least: np.ndarray  # (n_rules,) float, -inf when none
    end_of_study: int = 0
    """Bitmask of the end-of-study modalities (0 when the policy has no study)."""
    absorb_years: float = 0.0
    study_years: float = float("nan")
    _tables: np.ndarray = field(default=None, repr=False, compare=False)  # (n_rules, n_codes)

    @property
    def has_study(self) -> bool:
        return self.end_of_study != 0


def compile_policy(policy: Policy) -> CompiledPolicy:
    """The array form of ``policy`` for :func:`next_exam`.

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
    >>> compiled = compile_policy(policy)
    >>> compiled.rule_ids, compiled.intervals.tolist(), compiled.condition_masks.shape
    (('biennial',), [2.0], (1, 1, 5))
    """
    rules = policy.rules
    streams = tuple(dict.fromkeys(r.stream for r in rules))
    n_levels = len(policy.levels)
    masks = np.zeros((len(rules), n_levels + 1, len(DENSITIES) + 1), dtype=bool)
    for r, rule in enumerate(rules):
        wanted_levels, wanted_densities = rule.conditions.levels, rule.conditions.density
        # The last slot is "unknown": it meets a condition only when there is none.
        levels_ok = np.array(
            [wanted_levels is None or name in wanted_levels for name in policy.levels]
            + [wanted_levels is None]
        )
        densities_ok = np.array(
            [wanted_densities is None or d in wanted_densities for d in DENSITIES]
            + [wanted_densities is None]
        )
        masks[r] = levels_ok[:, None] & densities_ok[None, :]  # (n_levels + 1, 5)
    _check_streams(policy)
    study = policy.study
    # Internal order puts "unknown" first: code (level + 1) * 5 + (density + 1) needs no branch.
    unknown_first = np.roll(np.roll(masks, 1, axis=1), 1, axis=2)
    tables = unknown_first.reshape(len(rules), -1)  # (n_rules, (n_levels + 1) * 5)
    tables.flags.writeable = False
    masks.flags.writeable = False
    by_stream = tuple(
        tuple(
            sorted(
                (i for i, r in enumerate(rules) if r.stream == s), key=lambda i: rules[i].start_age
            )
        )
        for s in streams
    )
    below = [r.conditions.risk_5y_below for r in rules]
    at_least = [r.conditions.risk_5y_at_least for r in rules]
    return CompiledPolicy(
        name=policy.name,
        levels=policy.levels,
        rule_ids=tuple(r.id for r in rules),
        streams=streams,
        stream_rules=by_stream,
        start_ages=_frozen([r.start_age for r in rules], float),
        stop_ages=_frozen([r.stop_age for r in rules], float),
        intervals=_frozen([r.every_months / 12 for r in rules], float),
        offsets=_frozen([r.offset_months / 12 for r in rules], float),
        stream_index=_frozen([streams.index(r.stream) for r in rules], np.int16),
        modalities=_frozen([modality_mask(r.modalities) for r in rules], np.uint8),
        condition_masks=masks,
        risk_below=_frozen([np.inf if v is None else v for v in below], float),
        risk_at_least=_frozen([-np.inf if v is None else v for v in at_least], float),
        end_of_study=0 if study is None else modality_mask(study.end_of_study),
        absorb_years=0.0 if study is None else study.absorb_months / 12,
        study_years=float("nan") if study is None else float(study.years),
        _tables=tables,
    )


def _check_streams(policy: Policy) -> None:
    """Refuse a policy under which some woman meets two overlapping rules of one stream.

    The planner refuses such a woman (``PlanError``); checking every level x density x
    risk-interval combination here keeps :func:`next_exam` free of per-woman checks.
    """
    conditions = [r.conditions for r in policy.rules]
    edges = sorted(
        {0.0, 1.0}
        | {c.risk_5y_below for c in conditions if c.risk_5y_below is not None}
        | {c.risk_5y_at_least for c in conditions if c.risk_5y_at_least is not None}
    )
    risks = [None, *edges, *((a + b) / 2 for a, b in itertools.pairwise(edges))]
    for level, density, risk in itertools.product(
        (*policy.levels, None), (*DENSITIES, None), risks
    ):
        met = [rule for rule in policy.rules if rule.conditions.holds(level, density, risk)]
        for stream in dict.fromkeys(rule.stream for rule in met):
            ordered = sorted((r for r in met if r.stream == stream), key=lambda r: r.start_age)
            for before, after in itertools.pairwise(ordered):
                if after.start_age < before.stop_age:
                    raise ValueError(
                        f"policy {policy.name!r}: rules {before.id!r} and {after.id!r} of stream "
                        f"{stream!r} both apply at ages {after.start_age}-"
                        f"{min(before.stop_age, after.stop_age)} to a woman with level {level}, "
                        f"density {density}, 5-year risk {risk}; the planner refuses such a "
                        "woman, so the policy cannot be compiled"
                    )


@dataclass(frozen=True)
class NextExam:
    """The next exam of each woman (arrays of length ``n_women``)."""

    age: np.ndarray
    """Age at the exam, years (fractional); NaN when there is none."""
    modalities: np.ndarray
    """Bitmask (uint8) of the modalities due then (bit ``i`` = ``MODALITIES[i]``), 0 if none."""
    rule: np.ndarray
    """int16 index of the rule in ``policy.rules`` (the first listed when several streams are due
    at that age); :data:`NO_RULE` (-1) when none, :data:`END_OF_STUDY` (-2) for that exam."""


def level_codes(compiled: CompiledPolicy, levels) -> np.ndarray:
    """Level names (``None`` for unknown) -> codes: index in ``compiled.levels``, -1 unknown.

    Raises ``ValueError`` for a name the policy does not know.
    """
    lookup = {name: i for i, name in enumerate(compiled.levels)}
    try:
        return np.array([UNKNOWN if v is None else lookup[v] for v in levels], dtype=np.int8)
    except KeyError as exc:
        allowed = ", ".join(compiled.levels) or "none (the policy has no levels)"
        raise ValueError(f"level {exc.args[0]!r} is unknown to policy {compiled.name!r}; "
                         f"allowed: {allowed}") from None  # fmt: skip


def density_codes(densities) -> np.ndarray:
    """BI-RADS density letters (``None`` for unknown) -> codes 0..3 for a..d, -1 unknown."""
    for value in densities:
        if value is not None and value not in DENSITIES:
            raise ValueError(f"density {value!r} is unknown; allowed: a, b, c, d")
    return np.array(
        [UNKNOWN if v is None else DENSITIES.index(v) for v in densities], dtype=np.int8
    )


def _argument(name: str, value, n: int, fill, dtype) -> np.ndarray:
    if value is None:
        return np.full(n, fill, dtype=dtype) if n else np.empty(0, dtype)
    array = np.asarray(value)
    if array.ndim == 0:
        return np.broadcast_to(array.astype(dtype), (n,))
    if array.shape != (n,):
        raise ValueError(
            f"{name} must be a scalar or have shape ({n},) like age, got {array.shape}"
        )
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"{name} must be numeric, got dtype {array.dtype}")
    return array


def _fail_if(name: str, bad: np.ndarray, values: np.ndarray, allowed: str) -> None:
    if bad.any():
        first = int(np.argmax(bad))
        raise ValueError(
            f"{name}: {int(bad.sum())} value(s) out of range, first at index {first} "
            f"({values[first]!r}); allowed: {allowed}"
        )


def _inputs(compiled, age, level, density, risk_5y, years_since_last, study_end_age):
    ages = np.asarray(age, dtype=float)
    if ages.ndim != 1:
        raise ValueError(f"age must be a 1-D array of ages in years, got shape {ages.shape}")
    n = ages.size
    levels = _argument("level", level, n, UNKNOWN, np.int8)
    densities = _argument("density", density, n, UNKNOWN, np.int8)
    risks = _argument("risk_5y", risk_5y, n, np.nan, float).astype(float, copy=False)
    gaps = _argument("years_since_last", years_since_last, n, np.nan, float)
    gaps = gaps.astype(float, copy=False)
    ends = _argument("study_end_age", study_end_age, n, np.nan, float).astype(float, copy=False)
    if n:
        n_levels = len(compiled.levels)
        _fail_if("level", (levels < UNKNOWN) | (levels >= n_levels), levels,
                 f"-1 (unknown) or 0..{n_levels - 1} (index in {compiled.levels})")  # fmt: skip
        _fail_if("density", (densities < UNKNOWN) | (densities > 3), densities,
                 "-1 (unknown) or 0..3 for a..d")  # fmt: skip
        _fail_if("age", ages < 0, ages, "ages >= 0 in years (NaN gives no exam)")
        _fail_if("risk_5y", (risks < 0) | (risks > 1), risks, "proportions in [0, 1] or NaN")
        _fail_if("years_since_last", (gaps < 0) | (gaps > ages), gaps,
                 "0 <= years_since_last <= age, or NaN when there was no screen")  # fmt: skip
    return ages, levels, densities, risks, gaps, ends


def next_exam(
    compiled: CompiledPolicy,
    age,
    level=None,
    density=None,
    risk_5y=None,
    years_since_last=None,
    *,
    study_end_age=None,
) -> NextExam:
    """The next exam of each woman under ``compiled``, as the planner would give it from now.

    Parameters
    ----------
    compiled : CompiledPolicy
        From :func:`compile_policy`.
    age : array of float, shape (n_women,)
        Age now (the planner's plan start), years, fractional. NaN gives no exam.
    level, density : array of int, shape (n_women,), or scalar, or None
        Level code (index in ``compiled.levels``) and density code (0..3 for BI-RADS a..d);
        -1 or None for unknown (an unknown value meets no condition that asks about it).
    risk_5y : array of float, shape (n_women,), or scalar, or None
        Five-year absolute risk, proportion (0.013 = 1.3%); NaN or None for unknown.
    years_since_last : array of float, shape (n_women,), or scalar, or None
        Years since the last screen (any modality); NaN or None when there was none.
    study_end_age : array of float, shape (n_women,), or scalar, or None
        For a study policy: her age at the end of the study period. Up to that age the next
        exam is the routine one if it is due before ``study_end_age - absorb_months / 12``,
        otherwise the end-of-study exam at ``study_end_age``; after it (or when NaN or None) the
        routine schedule alone. Ignored for a policy without a study.

    Returns
    -------
    NextExam
        ``age`` NaN, ``modalities`` 0 and ``rule`` -1 when no exam falls before the end of the
        last band that applies to her.

    Raises ``ValueError`` (naming the argument, the first bad index and value, the allowed
    range) for wrong shapes, codes out of range, negative ages or risks outside [0, 1]. The
    result agrees with the planner to within a few days (see the module docstring).

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
    >>> nxt = next_exam(compile_policy(policy), np.array([48.5, 60.0, 60.0, 74.5]),
    ...                 years_since_last=np.array([np.nan, 0.5, np.nan, 1.0]))
    >>> nxt.age.tolist(), nxt.modalities.tolist(), nxt.rule.tolist()
    ([50.0, 61.5, 60.0, nan], [1, 1, 1, 0], [0, 0, 0, -1])
    """
    ages, levels, densities, risks, gaps, ends = _inputs(
        compiled, age, level, density, risk_5y, years_since_last, study_end_age
    )
    n = ages.size
    out = NextExam(age=np.empty(n), modalities=np.empty(n, np.uint8), rule=np.empty(n, np.int16))
    use_study = compiled.has_study and study_end_age is not None
    for lo in range(0, n, _CHUNK):
        part = slice(lo, min(lo + _CHUNK, n))
        _block(
            compiled, ages[part], levels[part], densities[part], risks[part], gaps[part],
            ends[part] if use_study else None, out.age[part], out.modalities[part], out.rule[part],
        )  # fmt: skip
    for array in (out.age, out.modalities, out.rule):
        array.flags.writeable = False
    return out


def _block(compiled, ages, levels, densities, risks, gaps, ends, out_age, out_mods, out_rule):
    """One block of women; results written into the ``out_*`` views."""
    # Unknown (-1) is slot 0 of the internal tables, so no branch is needed here.
    codes = (levels.astype(np.intp) + 1) * (len(DENSITIES) + 1) + (densities + 1)  # (n,)
    lasts = ages - gaps  # (n,) age at the last screen, NaN when none
    found = [_stream(compiled, rules, ages, codes, risks, lasts) for rules in compiled.stream_rules]
    if len(found) == 1:
        out_age[:], out_mods[:], out_rule[:] = found[0]
    else:
        np.minimum.reduce([due for due, _, _ in found], out=out_age)
        limit = out_age + _EPS
        out_mods[:] = 0
        out_rule[:] = np.iinfo(np.int16).max
        for due, modalities, rule in found:
            # Every stream due at the earliest age adds its modalities; with no exam at all
            # (+inf everywhere) each stream adds none and rule -1.
            is_due = due <= limit
            np.bitwise_or(out_mods, modalities, out=out_mods, where=is_due)
            np.minimum(out_rule, rule, out=out_rule, where=is_due)
    if ends is not None:
        in_study = ages <= ends + _EPS  # a NaN study end: not in a study
        is_replaced = in_study & ~(out_age < ends - compiled.absorb_years - _EPS)
        np.copyto(out_age, ends, where=is_replaced)
        np.copyto(out_mods, compiled.end_of_study, where=is_replaced)
        np.copyto(out_rule, END_OF_STUDY, where=is_replaced)
    np.copyto(out_age, np.nan, where=np.isinf(out_age))


def _stream(compiled, rules, ages, codes, risks, lasts):
    """First exam of one stream: due age (+inf when none), modality bitmask, rule (-1 none)."""
    n = ages.size
    due_stream = np.full(n, np.inf)
    modalities_stream = np.zeros(n, dtype=np.uint8)
    rule_stream = np.full(n, NO_RULE, dtype=np.int16)
    pending = None  # no exam found yet in this stream (None: everyone, before the first rule)
    for r in rules:
        applies = compiled._tables[r].take(codes)  # (n,) level and density conditions
        if np.isfinite(compiled.risk_below[r]):
            applies &= risks < compiled.risk_below[r]
        if np.isfinite(compiled.risk_at_least[r]):
            applies &= risks >= compiled.risk_at_least[r]
        if pending is not None:
            applies &= pending
        due = lasts + compiled.intervals[r]  # NaN without a last screen
        np.fmax(due, ages, out=due)  # not before now (overdue or no last screen: now)
        np.maximum(due, compiled.start_ages[r], out=due)  # not before the band's first birthday
        if compiled.offsets[r]:
            due += compiled.offsets[r]
        applies &= due < compiled.stop_ages[r] - _EPS  # strictly before the band's last birthday
        np.copyto(due_stream, due, where=applies)
        np.copyto(modalities_stream, compiled.modalities[r], where=applies)
        np.copyto(rule_stream, r, where=applies)
        pending = ~applies if pending is None else pending & ~applies
    return due_stream, modalities_stream, rule_stream
