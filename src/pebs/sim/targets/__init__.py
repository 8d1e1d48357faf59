"""Published calibration and validation targets of the simulator (TOML files).

Shipped: ``europe.toml`` (European organised programmes). Each ``[[target]]`` records its source
(full citation), the figure as the source reports it with its interval or range, its definition,
country, and whether it is a **calibration** target (fitted by :mod:`pebs.sim.fit`) or a
**validation** target (only compared, in ``docs/simulation-validation.md``). See
:func:`load_targets`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from pebs._named_files import read_named, shipped_names
from pebs._toml_text import parse_toml

KINDS = ("calibration", "validation")
REQUIRED = ("id", "kind", "measure", "value", "low", "high", "interval", "unit", "definition",
            "country", "source")  # fmt: skip
"""Keys every target must have (calibration targets also need ``sd`` and ``sd_basis``)."""


class TargetError(ValueError):
    """A targets file is unusable; the message names the target, the key and the allowed values."""


@dataclass(frozen=True)
class Target:
    """One published figure and the model quantity it is compared with."""

    id: str
    kind: str  # "calibration" or "validation"
    measure: str  # pebs.sim.measures.MEASURES
    value: float
    low: float
    high: float
    interval: str
    unit: str
    definition: str
    country: str
    source: str
    sd: float | None = None  # calibration: spread used by the objective (same unit)
    sd_basis: str = ""

    def contains(self, model_value: float) -> bool:
        """Whether a model value lies in the source's interval or range (inclusive)."""
        return self.low <= model_value <= self.high


@dataclass(frozen=True)
class TargetSet:
    """The targets of one file."""

    name: str
    version: str
    description: str
    targets: tuple[Target, ...]
    source: str = ""

    def of_kind(self, kind: str) -> tuple[Target, ...]:
        return tuple(t for t in self.targets if t.kind == kind)

    @property
    def calibration(self) -> tuple[Target, ...]:
        return self.of_kind("calibration")

    @property
    def validation(self) -> tuple[Target, ...]:
        return self.of_kind("validation")


def _target(entry: dict, where: str, measures: frozenset[str] | None) -> Target:
    missing = [k for k in REQUIRED if k not in entry]
    if missing:
        raise TargetError(f"{where}: missing keys {missing}; required: {list(REQUIRED)}")
    if entry["kind"] not in KINDS:
        raise TargetError(f"{where}.kind: {entry['kind']!r}; allowed: {', '.join(KINDS)}")
    if measures is not None and entry["measure"] not in measures:
        raise TargetError(
            f"{where}.measure: {entry['measure']!r}; allowed: {', '.join(sorted(measures))}"
        )
    numbers = {}
    for key in ("value", "low", "high", "sd"):
        value = entry.get(key)
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise TargetError(f"{where}.{key}: expected a finite number, got {value!r}")
        numbers[key] = float(value)
    if not numbers["low"] <= numbers["value"] <= numbers["high"]:
        raise TargetError(f"{where}: expected low <= value <= high")
    for key in ("interval", "unit", "definition", "country", "source"):
        if not isinstance(entry[key], str) or not entry[key].strip():
            raise TargetError(f"{where}.{key}: expected a non-empty text")
    no_sd = numbers.get("sd", 0.0) <= 0 or not str(entry.get("sd_basis", "")).strip()
    if entry["kind"] == "calibration" and no_sd:
        raise TargetError(f"{where}: a calibration target needs sd > 0 and its sd_basis")
    return Target(
        id=str(entry["id"]), kind=entry["kind"], measure=entry["measure"],
        value=numbers["value"], low=numbers["low"], high=numbers["high"],
        interval=entry["interval"], unit=entry["unit"],
        definition=" ".join(entry["definition"].split()), country=entry["country"],
        source=" ".join(entry["source"].split()), sd=numbers.get("sd"),
        sd_basis=str(entry.get("sd_basis", "")),
    )  # fmt: skip


def parse_targets(
    text: str, source: str = "<targets>", measures: frozenset[str] | None = None
) -> TargetSet:
    """Targets from the text of a targets file; ``measures``: the allowed measure names."""
    raw = parse_toml(text, source, TargetError)
    entries = raw.get("target")
    if not isinstance(entries, list) or not entries:
        raise TargetError(f"{source}: expected at least one [[target]]")
    targets = tuple(
        _target(e, f"{source}: target[{i}] ({e.get('id', '?')})", measures)
        for i, e in enumerate(entries)
    )
    ids = [t.id for t in targets]
    if len(set(ids)) != len(ids):
        raise TargetError(f"{source}: target ids must be unique")
    return TargetSet(
        name=str(raw.get("name", Path(source).stem)), version=str(raw.get("version", "")),
        description=" ".join(str(raw.get("description", "")).split()), targets=targets,
        source=source,
    )  # fmt: skip


def list_target_sets() -> tuple[str, ...]:
    """Names of the shipped target files."""
    return shipped_names(files("pebs.sim").joinpath("targets"))


def load_targets(name_or_path: str | Path = "europe") -> TargetSet:
    """A shipped target set by name (``europe``) or a targets file by path (measures checked)."""
    from pebs.sim.measures import MEASURES

    text, source = read_named(
        name_or_path, files("pebs.sim").joinpath("targets"), what="targets", error=TargetError
    )
    return parse_targets(text, source, frozenset(MEASURES))
