"""A policy compiled to arrays: the next exam of millions of women without a loop over women.

:func:`compile_policy` turns a :class:`~pebs.screening.policy.Policy` into per-rule numpy arrays;
:func:`next_exam` gives, for arrays of women, the age and the modalities of the next exam. It is
the simulator's form of the planner (:func:`pebs.screening.plan`) and follows its rules for the
first exam of a plan starting now: in each stream of rules, walking her bands by age, the exam is
due at the last screen + the band's interval, never before now (overdue, or no last screen: now)
and never before the band's first birthday (a rule with ``offset_months``: the last screen + the
offset when that is not before then, otherwise the first age she can be screened + the offset),
and only if that is before the band's last birthday, otherwise the next band of the
stream is tried with the same last screen. The next exam is the earliest over the streams, with
the union of the modalities of every stream due at that same age. A woman of unknown level has
the policy's ``default_level``, as in the planner. ``arm`` is not checked: compile the policy of
her arm.

Calendar approximation
----------------------
The planner works on dates with whole-month arithmetic (:func:`~pebs.screening.add_months`
keeps the day of the month, clamped to the month's end); this module works on ages in years,
with ``every_months / 12`` and ``offset_months / 12``. Map a date to an age month-exactly (whole
months since birth, plus the elapsed fraction of the current birth-month) and birthdays are exact
integers, so band limits agree exactly. Adding whole months to a date, though, keeps its calendar
day while the length of the month around it changes (28 to 31 days), so the date's position in
the birth-month moves by at most 3/28 of a month: a due date computed from a last screen differs
by **at most about 3.2 days** between the two forms (2.9 measured on random women; whole-year
intervals stay within about 1 day, from 29 February). Where the rules are discontinuous those
days can change the answer: an exam within them of the birthday that ends a band (last exam of
this band, or the next band's interval?), of a study's absorb cutoff (routine exam or
end-of-study exam?), or of another stream's exam (one visit or two?). The vectorised answer is
then the planner's answer for the same woman with her last screen or the plan start moved by at
most a few days. ``tests/screening/test_vectorised.py`` checks both statements on random women
under every shipped policy.

Study policies (``[study]``) end with an end-of-study exam. The planner places it at the plan
start + the study's years; :func:`next_exam` places it at ``study_end_age`` when it is given (a
routine exam due less than ``absorb_months`` before it is replaced by it, as in the planner) and
ignores the study otherwise, giving the routine schedule only.

Like the planner, :func:`next_exam` knows one last screen, not one per stream, so stepping a
woman from exam to exam with ``years_since_last = 0`` does not reproduce an alternating schedule
(streams with an offset, such as WISDOM's highest-risk group): after the first exam the offset
stream is due every ``offset_months`` and the other streams never come (mammography at 45, then
MRI at 45.5, 46, 46.5...). A simulator of such policies must keep one last exam per stream.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

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
"""Women per block: the temporaries of one block stay in the CPU cache."""
_N_DENSITY_SLOTS = len(DENSITIES) + 1


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

    Ages and intervals are in years (``every_months / 12``); modalities are bitmasks (bit ``i``
    = ``MODALITIES[i]``). ``condition_masks[r, level, density]`` says whether rule ``r``'s level
    and density conditions hold for a woman of that level code (index in ``levels``) and density
    code (0..3 = a..d); the last slot of each axis is "unknown", so code -1 indexes it directly.
    Risk thresholds are proportions; ``risk_below[r]`` is +inf and ``risk_at_least[r]`` -inf
    when the rule has no such condition (an unknown risk meets no risk condition).
    """

    name: str
    levels: tuple[str, ...]
    rule_ids: tuple[str, ...]
    streams: tuple[str, ...]
    """Stream names, in order of first appearance in the policy."""
    start_ages: np.ndarray  # (n_rules,) float, years
    stop_ages: np.ndarray  # (n_rules,) float, years (exams strictly before this birthday)
    intervals: np.ndarray  # (n_rules,) float, years
    offsets: np.ndarray  # (n_rules,) float, years
    stream_index: np.ndarray  # (n_rules,) int16, index in ``streams``
    modalities: np.ndarray  # (n_rules,) uint8 bitmask
    condition_masks: np.ndarray  # (n_rules, n_levels + 1, 5) bool
    risk_below: np.ndarray  # (n_rules,) float, +inf when none
    risk_at_least: np.ndarray  # (n_rules,) float, -inf when none
    default_level: int = UNKNOWN
    """Code of the level of a woman whose level is unknown (``policy.default_level``), or -1."""
    end_of_study: int = 0
    """Bitmask of the end-of-study modalities (0 when the policy has no study)."""
    absorb_years: float = 0.0
    study_years: float = float("nan")
    _thresholds: np.ndarray = field(default=None, repr=False, compare=False)
    """Sorted risk thresholds of all rules: they cut the risk axis into classes."""
    _streams: tuple = field(default=(), repr=False, compare=False)
    """Per stream, a tuple of :class:`_Position`: a woman's rules of the stream by age."""

    @property
    def has_study(self) -> bool:
        return self.end_of_study != 0


def compile_policy(policy: Policy) -> CompiledPolicy:
    """The array form of ``policy`` for :func:`next_exam`.

    Raises ``ValueError`` when two rules of one stream overlap for some women (the planner
    refuses those women; here every combination of level, density and risk is checked once).

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
    below = [r.conditions.risk_5y_below for r in rules]
    at_least = [r.conditions.risk_5y_at_least for r in rules]
    thresholds = sorted({v for v in below + at_least if v is not None})
    study = policy.study
    return CompiledPolicy(
        name=policy.name,
        levels=policy.levels,
        rule_ids=tuple(r.id for r in rules),
        streams=streams,
        start_ages=_frozen([r.start_age for r in rules], float),
        stop_ages=_frozen([r.stop_age for r in rules], float),
        intervals=_frozen([r.every_months / 12 for r in rules], float),
        offsets=_frozen([r.offset_months / 12 for r in rules], float),
        stream_index=_frozen([streams.index(r.stream) for r in rules], np.int16),
        modalities=_frozen([modality_mask(r.modalities) for r in rules], np.uint8),
        condition_masks=_condition_masks(policy),
        risk_below=_frozen([np.inf if v is None else v for v in below], float),
        risk_at_least=_frozen([-np.inf if v is None else v for v in at_least], float),
        default_level=policy.levels.index(policy.default_level) if policy.default_level else -1,
        end_of_study=0 if study is None else modality_mask(study.end_of_study),
        absorb_years=0.0 if study is None else study.absorb_months / 12,
        study_years=float("nan") if study is None else float(study.years),
        _thresholds=_frozen(thresholds, float),
        _streams=tuple(_positions(policy, name, thresholds) for name in streams),
    )


def _condition_masks(policy: Policy) -> np.ndarray:
    """(n_rules, n_levels + 1, 5) bool: rule r's level and density conditions hold for level
    code x density code; the last slot of each axis is "unknown"."""
    masks = np.zeros((len(policy.rules), len(policy.levels) + 1, _N_DENSITY_SLOTS), dtype=bool)
    for r, rule in enumerate(policy.rules):
        conditions = replace(rule.conditions, risk_5y_below=None, risk_5y_at_least=None)
        for (i, level), (j, density) in itertools.product(
            enumerate((*policy.levels, None)), enumerate((*DENSITIES, None))
        ):
            masks[r, i, j] = conditions.holds(level, density, None)
    masks.flags.writeable = False
    return masks


def _code_values(policy: Policy, thresholds: list[float]):
    """(level, density, risk) of each woman code, in code order: the planner's own values.

    Code = (level slot * 5 + density slot) * n_risk_classes + risk class, where slot 0 is
    "unknown" (then slot i is value i - 1) and a risk class is an interval between thresholds
    (class 0: unknown; class 1: below the first threshold; class j + 1: from the j-th threshold
    to the next). Each class is represented by its lowest risk, which meets the same conditions
    as every risk of the class.
    """
    levels = (policy.default_level or None, *policy.levels)  # unknown: the default level
    risks = (None, 0.0, *thresholds) if thresholds else (None,)
    return itertools.product(levels, (None, *DENSITIES), risks)


@dataclass(frozen=True)
class _Position:
    """A woman's k-th rule of one stream by age, looked up by her code (one entry per code)."""

    rules: np.ndarray  # (n_codes,) intp, -1 when she has no k-th rule
    start_ages: np.ndarray  # (n_codes,) float
    stop_ages: np.ndarray  # (n_codes,) float minus _EPS ("strictly before"); -inf: no rule
    intervals: np.ndarray  # (n_codes,) float
    offsets: np.ndarray | None  # (n_codes,) float, None when no rule here has an offset


def _positions(policy: Policy, stream: str, thresholds: list[float]) -> tuple[_Position, ...]:
    """The rules of ``stream`` met by each code, by age, as lookup tables.

    Raises ``ValueError`` when two of them overlap (the planner refuses such a woman).
    """
    members = sorted(
        (r for r in policy.rules if r.stream == stream), key=lambda rule: rule.start_age
    )
    met_by_code = []
    for level, density, risk in _code_values(policy, thresholds):
        met = [rule for rule in members if rule.conditions.holds(level, density, risk)]
        for before, after in itertools.pairwise(met):
            if after.start_age < before.stop_age:
                raise ValueError(
                    f"policy {policy.name!r}: rules {before.id!r} and {after.id!r} of stream "
                    f"{stream!r} both apply at ages {after.start_age}-"
                    f"{min(before.stop_age, after.stop_age)} to a woman with level {level}, "
                    f"density {density}, 5-year risk {risk}; the planner refuses such a "
                    "woman, so the policy cannot be compiled"
                )
        met_by_code.append(met)
    index = {rule.id: i for i, rule in enumerate(policy.rules)}
    positions = []
    for k in range(max(map(len, met_by_code))):
        kth = [met[k] if k < len(met) else None for met in met_by_code]  # (n_codes,)
        offsets = [0.0 if r is None else r.offset_months / 12 for r in kth]
        positions.append(
            _Position(
                rules=_frozen([NO_RULE if r is None else index[r.id] for r in kth], np.intp),
                start_ages=_frozen([0.0 if r is None else r.start_age for r in kth], float),
                stop_ages=_frozen(
                    [-np.inf if r is None else r.stop_age - _EPS for r in kth], float
                ),
                intervals=_frozen([0.0 if r is None else r.every_months / 12 for r in kth], float),
                offsets=_frozen(offsets, float) if any(offsets) else None,
            )
        )
    return tuple(positions)


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


def _argument(name: str, value, n: int, integer: bool) -> np.ndarray:
    """``value`` as an (n,) array: integer codes (-1 when None) or floats (NaN when None)."""
    if value is None:  # a read-only view of one value: no memory per woman
        return np.broadcast_to(np.int8(UNKNOWN) if integer else np.float64(np.nan), (n,))
    array = np.asarray(value)
    kind = array.dtype
    if not (np.issubdtype(kind, np.integer) or (not integer and np.issubdtype(kind, np.floating))):
        kind = "integer codes" if integer else "numbers"
        raise ValueError(f"{name} must be {kind}, got dtype {array.dtype}")
    if not integer:
        array = array.astype(float, copy=False)
    if array.ndim == 0:
        return np.broadcast_to(array, (n,))
    if array.shape != (n,):
        raise ValueError(
            f"{name} must be a scalar or have shape ({n},) like age, got {array.shape}"
        )
    return array


def _inputs(age, level, density, risk_5y, years_since_last, study_end_age):
    """Shapes and types, checked once; values are checked block by block (:func:`_check`)."""
    ages = np.asarray(age)
    if ages.ndim != 1 or not np.issubdtype(ages.dtype, np.number):
        raise ValueError(f"age must be a 1-D array of ages in years, got {ages.dtype} {ages.shape}")
    n = ages.size
    return (
        ages.astype(float, copy=False),
        _argument("level", level, n, integer=True),
        _argument("density", density, n, integer=True),
        _argument("risk_5y", risk_5y, n, integer=False),
        _argument("years_since_last", years_since_last, n, integer=False),
        _argument("study_end_age", study_end_age, n, integer=False),
    )


def _check(compiled, first: int, ages, levels, densities, risks, gaps) -> None:
    """Raise ``ValueError`` for the first out-of-range value of a block starting at ``first``."""
    n_levels = len(compiled.levels)
    checks = (
        ("level", levels, (levels < UNKNOWN) | (levels >= n_levels),
         f"-1 (unknown) or 0..{n_levels - 1} (index in {compiled.levels})"),
        ("density", densities, (densities < UNKNOWN) | (densities > 3),
         "-1 (unknown) or 0..3 for a..d"),
        ("age", ages, ages < 0, "ages >= 0 in years (NaN gives no exam)"),
        ("risk_5y", risks, (risks < 0) | (risks > 1), "proportions in [0, 1] or NaN"),
        ("years_since_last", gaps, (gaps < 0) | (gaps > ages),
         "0 <= years_since_last <= age, or NaN when there was no screen"),
    )  # fmt: skip
    for name, values, is_bad, allowed in checks:
        if is_bad.any():
            i = int(np.argmax(is_bad))
            value = values[i].item()
            raise ValueError(
                f"{name}: out of range at index {first + i} ({value!r}); allowed: {allowed}"
            )


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
        -1 or None for unknown: an unknown level is the policy's ``default_level`` if it has
        one; otherwise an unknown value meets no condition that asks about it.
    risk_5y : array of float, shape (n_women,), or scalar, or None
        Five-year absolute risk, proportion (0.013 = 1.3%); NaN or None for unknown.
    years_since_last : array of float, shape (n_women,), or scalar, or None
        Years since the last screen (any modality); NaN or None when there was none.
    study_end_age : array of float, shape (n_women,), or scalar, or None
        For a study policy: her age at the end of the study period. Up to that age the next
        exam is the routine one if it is due by ``study_end_age - absorb_months / 12``,
        otherwise the end-of-study exam at ``study_end_age``; after it (or when NaN or None),
        the routine schedule alone. Ignored for a policy without a study.

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
        age, level, density, risk_5y, years_since_last, study_end_age
    )
    n = ages.size
    out = NextExam(age=np.empty(n), modalities=np.empty(n, np.uint8), rule=np.empty(n, np.int16))
    use_study = compiled.has_study and study_end_age is not None
    for lo in range(0, n, _CHUNK):
        part = slice(lo, min(lo + _CHUNK, n))
        block = (ages[part], levels[part], densities[part], risks[part], gaps[part])
        _check(compiled, lo, *block)
        _block(compiled, *block, ends[part] if use_study else None,
               out.age[part], out.modalities[part], out.rule[part])  # fmt: skip
    for array in (out.age, out.modalities, out.rule):
        array.flags.writeable = False
    return out


def _block(compiled, ages, levels, densities, risks, gaps, ends, out_age, out_mods, out_rule):
    """One block of women; results written into the ``out_*`` views."""
    codes = (levels.astype(np.intp) + 1) * _N_DENSITY_SLOTS + (densities + 1)  # (n,)
    if len(compiled._thresholds):
        classes = np.searchsorted(compiled._thresholds, risks, side="right") + 1
        classes[np.isnan(risks)] = 0
        codes = codes * (len(compiled._thresholds) + 2) + classes  # see _code_values
    lasts = ages - gaps  # (n,) age at the last screen, NaN when none
    found = [_stream(positions, ages, codes, lasts) for positions in compiled._streams]
    modalities = np.append(compiled.modalities, np.uint8(0))  # rule -1 (wrapped): none
    best, rule = found[0]
    if len(found) == 1:
        mods = modalities.take(rule, mode="wrap")
    else:
        for due, _ in found[1:]:
            best = np.minimum(best, due)
        limit = best + _EPS
        mods = np.zeros(ages.size, dtype=np.uint8)
        rule = np.full(ages.size, len(compiled.rule_ids), dtype=np.intp)
        for due, stream_rule in found:  # every stream due at the earliest age adds its exams
            is_due = due <= limit
            mods |= np.where(is_due, modalities.take(stream_rule, mode="wrap"), 0)
            rule = np.minimum(rule, np.where(is_due, stream_rule, len(compiled.rule_ids)))
    if ends is not None:
        in_study = ages <= ends + _EPS  # a NaN study end: not in a study
        is_replaced = in_study & ~(best <= ends - compiled.absorb_years + _EPS)
        best = np.where(is_replaced, ends, best)
        mods = np.where(is_replaced, compiled.end_of_study, mods)
        rule = np.where(is_replaced, END_OF_STUDY, rule)
    has_exam = best < np.inf
    out_age[:] = np.where(has_exam, best, np.nan)
    out_mods[:] = np.where(has_exam, mods, 0)
    out_rule[:] = np.where(has_exam, rule, NO_RULE)


def _stream(positions, ages, codes, lasts):
    """First exam of one stream: due age (+inf when none) and rule index (any when none).

    A woman's bands in a stream do not overlap and an exam falls inside its band, so her first
    exam is also her earliest over the positions: no "already found" mask is needed.
    """
    due_stream = rule_stream = None
    for position in positions:  # her first rule of the stream by age, then her second...
        start_ages = position.start_ages.take(codes, mode="clip")
        due = lasts + position.intervals.take(codes, mode="clip")  # NaN without a last screen
        np.fmax(due, ages, out=due)  # not before now (overdue or no last screen: now)
        np.maximum(due, start_ages, out=due)  # band start
        if position.offsets is not None:  # alternating stream (see the planner)
            offsets = position.offsets.take(codes, mode="clip")
            earliest = np.maximum(ages, start_ages)  # first age she can be screened
            alternate = lasts + offsets  # keeps the alternation with the last screen going
            alternate = np.where(alternate >= earliest, alternate, earliest + offsets)
            due = np.where(offsets != 0, alternate, due)
        # Strictly before the band's last birthday (NaN age: never).
        due = np.where(due < position.stop_ages.take(codes, mode="clip"), due, np.inf)
        rule = position.rules.take(codes, mode="clip")
        if due_stream is None:
            due_stream, rule_stream = due, rule
        else:
            is_earlier = due < due_stream
            due_stream = np.where(is_earlier, due, due_stream)
            rule_stream = np.where(is_earlier, rule, rule_stream)
    if due_stream is None:  # no woman meets any rule of this stream
        return np.full(ages.size, np.inf), np.full(ages.size, NO_RULE, dtype=np.intp)
    return due_stream, rule_stream
