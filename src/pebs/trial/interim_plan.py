"""The interim monitoring plan of a study: the group-sequential design its data monitoring
committee (DSMB) follows.

The optional ``[analysis.interim]`` table of a study file (a part of the analysis plan, so the
endpoint, horizon, margins and one-sided alpha are those of ``[analysis]``):

- ``design``: the boundary type, in rpact's spellings (:data:`DESIGN_KINDS`): ``asOF`` / ``asP``
  Lan-DeMets alpha spending of O'Brien-Fleming / Pocock type, ``OF`` / ``P`` the classical
  boundaries (:mod:`pebs.stats.group_sequential`);
- ``information_rates``: the planned information fractions of the looks, increasing, the last 1
  (at most 10 looks);
- ``power``: the power the design was planned for (a proportion above alpha, below 1);
- ``scale``: the scale of the monitored non-inferiority test, ``ratio`` (margin
  ``margin_ratio``) or ``difference`` (``margin_difference``);
- ``max_women``: the women evaluable at the final analysis (information 1); at a look the
  information fraction is the women evaluable then over ``max_women``;
- ``proportion_ref_h1``, ``proportion_new_h1``: the endpoint proportions of the planned
  alternative (reference and comparison arm; proportions, not per 100,000), for the conditional
  power under H1.

A woman is *evaluable* at a data cut when she was randomised at least one horizon before it and
her endpoint status at the horizon is known: the endpoint was diagnosed within the horizon, or
she was followed up to the horizon, or she died before it without the endpoint (counted without
the endpoint, as in the intention-to-treat proportion).

>>> plan = parse_interim_plan({"information_rates": [0.5, 1.0], "max_women": 85_000})
>>> plan.design, plan.information_rates, plan.scale, plan.proportion_ref_h1
('asOF', (0.5, 1.0), 'ratio', 0.0048)
>>> parse_interim_plan({"information_rates": [0.5, 0.4, 1.0], "max_women": 10})
Traceback (most recent call last):
...
pebs.trial.analysis_plan.AnalysisPlanError: analysis.interim.information_rates: [0.5, 0.4, 1.0] \
is not allowed; allowed: 1 to 10 increasing fractions above 0, the last 1
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from pebs.stats.group_sequential import DESIGN_KINDS, MAX_LOOKS
from pebs.trial.analysis_plan import AnalysisPlanError

__all__ = ["DESIGN_KINDS", "SCALES", "InterimPlan", "parse_interim_plan"]

SCALES = ("ratio", "difference")
_KEYS = frozenset(
    {"design", "information_rates", "power", "scale", "max_women", "proportion_ref_h1",
     "proportion_new_h1"}
)  # fmt: skip
_MYPEBS_STANDARD = 0.0048
"""480 per 100,000 expected in the standard arm at 4 years (NCT03672331 synopsis)."""


@dataclass(frozen=True)
class InterimPlan:
    """The group-sequential monitoring of the primary endpoint (module docstring)."""

    information_rates: tuple[float, ...]
    max_women: int
    design: str = "asOF"
    power: float = 0.8
    scale: str = "ratio"
    proportion_ref_h1: float = _MYPEBS_STANDARD
    proportion_new_h1: float = _MYPEBS_STANDARD

    def as_json(self) -> dict[str, Any]:
        return {
            "design": self.design,
            "information_rates": list(self.information_rates),
            "power": self.power,
            "scale": self.scale,
            "max_women": self.max_women,
            "proportion_ref_h1": self.proportion_ref_h1,
            "proportion_new_h1": self.proportion_new_h1,
        }


def _error(key: str, message: str) -> AnalysisPlanError:
    return AnalysisPlanError(f"analysis.interim.{key}: {message}")


def _proportion(table: Mapping[str, Any], key: str) -> float:
    value = table.get(key, _MYPEBS_STANDARD)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise _error(key, f"{value!r} is not allowed; allowed: a proportion above 0 and below 1")
    return float(value)


def parse_interim_plan(table: Mapping[str, Any]) -> InterimPlan:
    """The ``[analysis.interim]`` table (module docstring)."""
    if not isinstance(table, Mapping):
        raise _error("design", "the interim plan must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise _error(unknown[0], f"is not a key; allowed: {', '.join(sorted(_KEYS))}")
    design = table.get("design", "asOF")
    if design not in DESIGN_KINDS:
        raise _error("design", f"{design!r} is unknown; allowed: {', '.join(DESIGN_KINDS)}")
    rates = table.get("information_rates")
    numbers = isinstance(rates, list | tuple) and all(
        isinstance(r, int | float) and not isinstance(r, bool) for r in rates
    )
    if not (
        numbers
        and 1 <= len(rates) <= MAX_LOOKS
        and rates[0] > 0
        and all(b > a for a, b in pairwise(rates))
        and rates[-1] == 1
    ):
        raise _error(
            "information_rates",
            f"{rates!r} is not allowed; allowed: 1 to {MAX_LOOKS} increasing fractions above 0, "
            "the last 1",
        )
    max_women = table.get("max_women")
    if isinstance(max_women, bool) or not isinstance(max_women, int) or max_women < 2:
        raise _error("max_women", f"{max_women!r} is not allowed; allowed: a whole number of "
                     "women, at least 2")  # fmt: skip
    power = table.get("power", 0.8)
    if isinstance(power, bool) or not isinstance(power, int | float) or not 0 < power < 1:
        raise _error("power", f"{power!r} is not allowed; allowed: a proportion above 0, below 1")
    scale = table.get("scale", "ratio")
    if scale not in SCALES:
        raise _error("scale", f"{scale!r} is unknown; allowed: {', '.join(SCALES)}")
    return InterimPlan(
        information_rates=tuple(float(r) for r in rates),
        max_women=max_women,
        design=design,
        power=float(power),
        scale=scale,
        proportion_ref_h1=_proportion(table, "proportion_ref_h1"),
        proportion_new_h1=_proportion(table, "proportion_new_h1"),
    )
