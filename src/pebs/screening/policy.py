"""Screening policies: TOML files read into frozen values, with precise validation messages.

The schema is documented in ``docs/policies.md``. A policy is a list of rules (age band, interval,
modalities, conditions on the woman) plus optional "no screening" rules and trial-specific study
rules. Files ship in ``pebs/screening/policies/``; :func:`load_policy` reads one by name or path.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from pebs._named_files import read_named, shipped_names
from pebs._toml_text import parse_toml

MODALITIES = ("mammography", "tomosynthesis", "mri", "ultrasound", "clinical_examination")
KINDS = ("national-programme", "trial-arm", "guideline")
ARMS = ("standard", "risk-based", "any")
DENSITIES = ("a", "b", "c", "d")
DEFAULT_WINDOW_MONTHS = 3
DEFAULT_STREAM = "main"
LIMITS = {
    "window_months": (1, 24), "every_months": (1, 120), "offset_months": (0, 120),
    "years": (1, 30), "absorb_months": (0, 120),
}  # fmt: skip
"""Whole-number keys -> (smallest, largest) allowed value: every plan the planner can date."""
_SHOWN = 80

_TOP_KEYS = {
    "name", "title", "kind", "country", "arm", "levels", "default_level", "source", "notes",
    "window_months",
    "study", "rule", "no_screening",
}  # fmt: skip
_CONDITION_KEYS = {"levels", "density", "risk_5y_below", "risk_5y_at_least"}
_RULE_KEYS = {"id", "ages", "every_months", "modalities", "reason", "offset_months", "stream"}
_NO_SCREENING_KEYS = {"ages", "reason"}
_STUDY_KEYS = {"years", "end_of_study", "end_of_study_reason", "absorb_months"}


class PolicyError(ValueError):
    """A policy file cannot be used; the message names the file, the line or key, and the fix."""


@dataclass(frozen=True)
class Conditions:
    """Who a rule applies to; ``None`` means "any"."""

    levels: tuple[str, ...] | None = None
    density: tuple[str, ...] | None = None
    risk_5y_below: float | None = None
    risk_5y_at_least: float | None = None

    def holds(self, level: str | None, density: str | None, risk_5y: float | None) -> bool:
        """Whether a woman with these values meets every condition (an unknown value meets none
        that asks about it)."""
        if self.levels is not None and level not in self.levels:
            return False
        if self.density is not None and density not in self.density:
            return False
        if self.risk_5y_below is not None and not (
            risk_5y is not None and risk_5y < self.risk_5y_below
        ):
            return False
        return self.risk_5y_at_least is None or (
            risk_5y is not None and risk_5y >= self.risk_5y_at_least
        )

    def describe(self) -> str:
        parts = []
        if self.levels is not None:
            parts.append("level " + "/".join(self.levels))
        if self.density is not None:
            parts.append("density " + "/".join(self.density))
        if self.risk_5y_below is not None:
            parts.append(f"5-year risk < {100 * self.risk_5y_below:g}%")
        if self.risk_5y_at_least is not None:
            parts.append(f"5-year risk >= {100 * self.risk_5y_at_least:g}%")
        return ", ".join(parts) or "everyone"


@dataclass(frozen=True)
class Rule:
    """Exams of some modalities every ``every_months`` between two birthdays, for some women."""

    id: str
    start_age: int
    stop_age: int
    """Exams from the ``start_age`` birthday up to, not including, the ``stop_age`` birthday."""
    every_months: int
    modalities: tuple[str, ...]
    reason: str
    conditions: Conditions
    offset_months: int = 0
    stream: str = DEFAULT_STREAM


@dataclass(frozen=True)
class NoScreening:
    """An explicit "no routine exam" for some women at some ages, with the reason to give."""

    start_age: int
    stop_age: int
    reason: str
    conditions: Conditions


@dataclass(frozen=True)
class Study:
    """Trial-specific rules: a fixed plan length and an end-of-study exam."""

    years: int
    end_of_study: tuple[str, ...]
    end_of_study_reason: str
    absorb_months: int = 0


@dataclass(frozen=True)
class Policy:
    name: str
    title: str
    kind: str
    arm: str
    source: str
    rules: tuple[Rule, ...]
    levels: tuple[str, ...] = ()
    country: str = ""
    notes: str = ""
    window_months: int = DEFAULT_WINDOW_MONTHS
    no_screening: tuple[NoScreening, ...] = ()
    study: Study | None = None
    default_level: str = ""
    """Level used for a woman whose level is not given (e.g. a national programme's general
    population); empty: none."""
    path: str = ""

    @property
    def ages(self) -> tuple[int, int]:
        """Youngest start and oldest stop age over all rules."""
        return min(r.start_age for r in self.rules), max(r.stop_age for r in self.rules)


class _Where:
    """Turns a key path such as ``rule[2].every_months`` into "file:line: key"."""

    def __init__(self, text: str, path: str) -> None:
        self.lines = text.splitlines()
        self.path = path

    def _line(self, table: str | None, index: int | None, key: str | None) -> int | None:
        start, end = 0, len(self.lines)
        if table is not None:
            header = re.compile(rf"^\s*\[\[?\s*{re.escape(table)}\s*\]\]?\s*(#.*)?$")
            found = [i for i, line in enumerate(self.lines) if header.match(line)]
            position = (index or 0) if index is not None else 0
            if position >= len(found):
                return None
            start = found[position]
            later = [
                i
                for i, line in enumerate(self.lines)
                if i > start and line.lstrip().startswith("[")
            ]
            end = later[0] if later else len(self.lines)
        elif key is not None:
            first_table = [i for i, line in enumerate(self.lines) if line.lstrip().startswith("[")]
            end = first_table[0] if first_table else len(self.lines)
        if key is None:
            return start + 1
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for i in range(start, end):
            if pattern.match(self.lines[i]):
                return i + 1
        return start + 1 if table is not None else None

    def error(self, message: str, table: str | None = None, index: int | None = None,
              key: str | None = None) -> PolicyError:  # fmt: skip
        label = table if table is not None else ""
        if index is not None:
            label += f"[{index + 1}]"
        if key is not None:
            label = f"{label}.{key}" if label else key
        line = self._line(table, index, key)
        where = f"{self.path}:{line}" if line else self.path
        return PolicyError(f"{where}: {label}: {message}" if label else f"{where}: {message}")


def _shown(value: object) -> str:
    """``repr(value)``, cut to about 80 characters (a value may be a whole file)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**_SHOWN:
        return f"a number of {len(str(abs(value)))} digits"
    text = repr(value)
    return text if len(text) <= _SHOWN else f"{text[:_SHOWN]}... ({len(text)} characters)"


def _text(value, where: _Where, table, index, key, required=True) -> str:
    if value is None:
        if required:
            raise where.error("is missing (a non-empty text is required)", table, index, key)
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise where.error(f"must be a non-empty text, got {_shown(value)}", table, index, key)
    return value.strip()


def _whole(value, where, table, index, key, default=None) -> int:
    """A whole number within ``LIMITS[key]``."""
    if value is None and default is not None:
        return default
    lo, hi = LIMITS[key]
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise where.error(
            f"must be a whole number from {lo} to {hi}, got {_shown(value)}", table, index, key
        )
    return value


def _choices(value, allowed, where, table, index, key) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise where.error(f"must be a list of {', '.join(allowed)}", table, index, key)
    for item in value:
        if item not in allowed:
            raise where.error(
                f"unknown value {_shown(item)}; allowed: {', '.join(allowed)}", table, index, key
            )
    return tuple(value)


def _unknown_keys(entry: dict, allowed: set[str], where, table, index) -> None:
    for key in entry:
        if key not in allowed:
            raise where.error(
                f"unknown key {_shown(key)}; allowed: {', '.join(sorted(allowed))}", table, index,
                key[:_SHOWN],
            )  # fmt: skip


def _ages(value, where, table, index) -> tuple[int, int]:
    if (
        not isinstance(value, list) or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):  # fmt: skip
        raise where.error(
            f"must be [start_age, stop_age] in whole years, got {_shown(value)}", table, index,
            "ages",
        )  # fmt: skip
    start, stop = value
    if not 0 <= start < stop <= 120:
        raise where.error(
            f"must satisfy 0 <= start_age < stop_age <= 120, got {_shown(value)}",
            table,
            index,
            "ages",
        )
    return start, stop


def _conditions(entry: dict, levels: tuple[str, ...], where, table, index) -> Conditions:
    values: dict[str, object] = {}
    if "levels" in entry:
        if not levels:
            raise where.error(
                "names risk levels but the policy has no top-level 'levels' list", table, index,
                "levels",
            )  # fmt: skip
        values["levels"] = _choices(entry["levels"], levels, where, table, index, "levels")
    if "density" in entry:
        values["density"] = _choices(entry["density"], DENSITIES, where, table, index, "density")
    for key in ("risk_5y_below", "risk_5y_at_least"):
        if key in entry:
            risk = entry[key]
            if isinstance(risk, bool) or not isinstance(risk, int | float) or not 0 < risk < 1:
                raise where.error(
                    f"must be a proportion between 0 and 1 (0.013 for 1.3%), got {_shown(risk)}",
                    table, index, key,
                )  # fmt: skip
            values[key] = float(risk)
    return Conditions(**values)


def parse_policy(text: str, path: str = "<policy>") -> Policy:
    """Read and validate a policy from TOML text; raise :class:`PolicyError` on any problem."""
    where = _Where(text, path)
    data = parse_toml(text, path, PolicyError)
    _unknown_keys(data, _TOP_KEYS, where, None, None)
    name = _text(data.get("name"), where, None, None, "name")
    stem = Path(path).stem
    if path != "<policy>" and name != stem:
        raise where.error(
            f"is {_shown(name)} but the file is named {stem!r}.toml", None, None, "name"
        )
    kind = _choices(data.get("kind", ""), KINDS, where, None, None, "kind")[0]
    arm = _choices(data.get("arm", ""), ARMS, where, None, None, "arm")[0]
    levels: tuple[str, ...] = ()
    if "levels" in data:
        raw = data["levels"]
        if not isinstance(raw, list) or not raw or not all(isinstance(v, str) for v in raw):
            raise where.error("must be a non-empty list of level names", None, None, "levels")
        levels = tuple(raw)
    default_level = _text(data.get("default_level"), where, None, None, "default_level", False)
    if default_level and default_level not in levels:
        raise where.error(
            f"{_shown(default_level)} is not one of the policy's levels "
            f"({', '.join(levels) or 'none'})",
            None, None, "default_level",
        )  # fmt: skip
    window = _whole(data.get("window_months"), where, None, None, "window_months",
                    DEFAULT_WINDOW_MONTHS)  # fmt: skip

    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list) or not raw_rules:
        raise where.error("a policy needs at least one [[rule]]", None, None, None)
    rules = []
    for i, entry in enumerate(raw_rules):
        _unknown_keys(entry, _RULE_KEYS | _CONDITION_KEYS, where, "rule", i)
        start, stop = _ages(entry.get("ages"), where, "rule", i)
        rules.append(
            Rule(
                id=_text(entry.get("id"), where, "rule", i, "id"),
                start_age=start,
                stop_age=stop,
                every_months=_whole(entry.get("every_months"), where, "rule", i, "every_months"),
                modalities=_choices(
                    entry.get("modalities"), MODALITIES, where, "rule", i, "modalities"
                ),
                reason=_text(entry.get("reason"), where, "rule", i, "reason"),
                conditions=_conditions(entry, levels, where, "rule", i),
                offset_months=_whole(
                    entry.get("offset_months"), where, "rule", i, "offset_months", 0
                ),
                stream=_text(entry.get("stream", DEFAULT_STREAM), where, "rule", i, "stream"),
            )
        )
    _check_rules(rules, where)

    no_screening = []
    for i, entry in enumerate(data.get("no_screening", [])):
        _unknown_keys(entry, _NO_SCREENING_KEYS | _CONDITION_KEYS, where, "no_screening", i)
        start, stop = _ages(entry.get("ages"), where, "no_screening", i)
        no_screening.append(
            NoScreening(
                start_age=start,
                stop_age=stop,
                reason=_text(entry.get("reason"), where, "no_screening", i, "reason"),
                conditions=_conditions(entry, levels, where, "no_screening", i),
            )
        )

    study = None
    if "study" in data:
        entry = data["study"]
        _unknown_keys(entry, _STUDY_KEYS, where, "study", None)
        study = Study(
            years=_whole(entry.get("years"), where, "study", None, "years"),
            end_of_study=_choices(
                entry.get("end_of_study"), MODALITIES, where, "study", None, "end_of_study"
            ),
            end_of_study_reason=_text(
                entry.get("end_of_study_reason"), where, "study", None, "end_of_study_reason"
            ),
            absorb_months=_whole(
                entry.get("absorb_months"), where, "study", None, "absorb_months", 0
            ),
        )
    return Policy(
        name=name,
        title=_text(data.get("title"), where, None, None, "title"),
        kind=kind,
        arm=arm,
        source=_text(data.get("source"), where, None, None, "source"),
        rules=tuple(rules),
        levels=levels,
        country=_text(data.get("country"), where, None, None, "country", required=False),
        notes=_text(data.get("notes"), where, None, None, "notes", required=False),
        window_months=window,
        no_screening=tuple(no_screening),
        study=study,
        default_level=default_level,
        path=path,
    )


def _check_rules(rules: list[Rule], where: _Where) -> None:
    ids = [r.id for r in rules]
    for i, rule in enumerate(rules):
        if ids.index(rule.id) != i:
            raise where.error(
                f"id {_shown(rule.id)} is used by more than one rule", "rule", i, "id"
            )
    # Rules of one stream for the same women form one schedule: no overlap, no gap.
    groups: dict[tuple, list[tuple[int, Rule]]] = {}
    for i, rule in enumerate(rules):
        groups.setdefault((rule.stream, rule.conditions), []).append((i, rule))
    for members in groups.values():
        members.sort(key=lambda item: item[1].start_age)
        for (_, before), (j, after) in itertools.pairwise(members):
            if after.start_age < before.stop_age:
                raise where.error(
                    f"ages {after.start_age}-{after.stop_age} overlap rule {before.id!r} "
                    f"({before.start_age}-{before.stop_age}) for the same women and stream",
                    "rule", j, "ages",
                )  # fmt: skip
            if after.start_age > before.stop_age:
                raise where.error(
                    f"ages leave a gap after rule {before.id!r} ({before.start_age}-"
                    f"{before.stop_age}) for the same women and stream; make the bands "
                    "contiguous or use a [[no_screening]] entry to say why",
                    "rule", j, "ages",
                )  # fmt: skip


def policy_dir():
    """The folder of shipped policy files (a Traversable)."""
    return files("pebs.screening").joinpath("policies")


@functools.cache
def shipped_policies() -> tuple[str, ...]:
    """Names of the policies shipped with pebs (read once per process)."""
    return shipped_names(policy_dir())


def load_policy(name_or_path: str | Path) -> Policy:
    """A shipped policy by name (``"fr"``) or a policy file by path.

    A shipped policy is read once per process (shipped files do not change; a :class:`Policy`
    is immutable); a file is read at each call. Raises :class:`PolicyError` for an unknown name
    (listing the shipped ones), an unreadable file, or an invalid policy.

    >>> load_policy("fr") is load_policy("fr")
    True
    """
    if isinstance(name_or_path, str) and name_or_path in shipped_policies():
        return _shipped_policy(name_or_path)
    return _read_policy(name_or_path)


def _read_policy(name_or_path: str | Path) -> Policy:
    text, source = read_named(name_or_path, policy_dir(), what="policy", error=PolicyError)
    return parse_policy(text, source)


_shipped_policy = functools.cache(_read_policy)
