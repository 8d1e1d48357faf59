"""The statistical analysis plan of a study: endpoint, horizon, margins, analysis sets.

The study file's optional ``[analysis]`` table (MyPeBS values, ClinicalTrials.gov NCT03672331:
primary endpoint the cumulative incidence of stage II or higher breast cancer at 4 years,
non-inferiority of risk-based screening, 480 per 100,000 expected in the standard arm, margin
+120 per 100,000, i.e. a relative margin of 1.25):

- ``endpoint``: the primary endpoint, one of :data:`ENDPOINTS`;
- ``alternative_endpoints``: further definitions analysed the same way (sensitivity);
- ``horizon_years``: the time from randomisation the endpoint counts (years, > 0);
- ``reference_arm``: the arm the other one is compared with (an arm of the study);
- ``margin_ratio`` (> 1) and ``margin_difference`` (a proportion, 0 to 1): the non-inferiority
  margins on the ratio and the difference scales;
- ``alpha``: the one-sided level (0 to 0.5);
- ``per_protocol_excludes``: who leaves the per-protocol set, from :data:`PER_PROTOCOL_RULES`;
- ``interim`` (optional table ``[analysis.interim]``): the group-sequential monitoring plan the
  data monitoring committee follows (:mod:`pebs.trial.interim_plan`).

Endpoint definitions use only what pebs stores of a diagnosis (behaviour, the AJCC 8th edition
anatomic stage group of :mod:`pebs.trial.staging`):

- ``stage_2_plus``: invasive, stage group IIA or higher;
- ``stage_2_plus_or_unstaged``: the same, or invasive without a stage group (the cautious
  reading of a missing stage);
- ``invasive``: any invasive cancer; ``any_cancer``: invasive or DCIS.

A tumour larger than 20 mm (T2 or more) is always stage IIA or higher in the anatomic table, so
"stage II+ or tumour > 20 mm" is the same set as ``stage_2_plus``; it is not a separate choice.
Cross-over between arms is not recorded by pebs and is therefore not a per-protocol rule.

>>> plan = parse_analysis_plan({"reference_arm": "standard"}, arms=("standard", "risk-based"))
>>> plan.endpoint, plan.horizon_years, plan.margin_ratio, plan.comparison_arm
('stage_2_plus', 4.0, 1.25, 'risk-based')
>>> is_endpoint("stage_2_plus", "invasive", "IIB"), is_endpoint("stage_2_plus", "dcis", "0")
(True, False)
>>> parse_analysis_plan({"alpha": 0.6}, arms=("standard", "risk-based"))
Traceback (most recent call last):
...
pebs.trial.analysis_plan.AnalysisPlanError: analysis.alpha: 0.6 is not a one-sided level; \
allowed: a number above 0 and below 0.5
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pebs.trial.staging import stage_at_least_ii

if TYPE_CHECKING:
    from pebs.trial.interim_plan import InterimPlan

__all__ = [
    "ENDPOINTS",
    "PER_PROTOCOL_RULES",
    "AnalysisPlan",
    "AnalysisPlanError",
    "is_endpoint",
    "parse_analysis_plan",
]

ENDPOINTS = ("stage_2_plus", "stage_2_plus_or_unstaged", "invasive", "any_cancer")
"""Endpoint definitions (module docstring)."""
PER_PROTOCOL_RULES = ("withdrew_before_first_screen", "no_screen", "no_risk_assessment")
"""Per-protocol exclusions: withdrawal (any level) before her first screening examination; no
screening examination performed; no risk assessment (risk-based arm only)."""

_KEYS = frozenset(
    {"endpoint", "alternative_endpoints", "horizon_years", "reference_arm", "margin_ratio",
     "margin_difference", "alpha", "per_protocol_excludes", "interim"}
)  # fmt: skip


class AnalysisPlanError(ValueError):
    """An ``[analysis]`` table that cannot be used; the message names the key."""


@dataclass(frozen=True)
class AnalysisPlan:
    """The primary analysis of a two-arm non-inferiority trial (module docstring)."""

    reference_arm: str
    comparison_arm: str
    endpoint: str = "stage_2_plus"
    alternative_endpoints: tuple[str, ...] = ("stage_2_plus_or_unstaged", "invasive")
    horizon_years: float = 4.0
    margin_ratio: float = 1.25
    margin_difference: float = 0.0012
    """Absolute margin, a proportion (0.0012 = 120 per 100,000)."""
    alpha: float = 0.025
    """One-sided level."""
    per_protocol_excludes: tuple[str, ...] = PER_PROTOCOL_RULES
    interim: InterimPlan | None = None
    """The interim monitoring plan (``None``: the study file gives none)."""

    def as_json(self) -> dict[str, Any]:
        """The plan as stored with the study configuration (read by :func:`parse_analysis_plan`)."""
        document = {
            "endpoint": self.endpoint,
            "alternative_endpoints": list(self.alternative_endpoints),
            "horizon_years": self.horizon_years,
            "reference_arm": self.reference_arm,
            "margin_ratio": self.margin_ratio,
            "margin_difference": self.margin_difference,
            "alpha": self.alpha,
            "per_protocol_excludes": list(self.per_protocol_excludes),
        }
        if self.interim is not None:  # absent otherwise: a plan stored before reads the same
            document["interim"] = self.interim.as_json()
        return document


def is_endpoint(endpoint: str, behaviour: str, stage_group: str | None) -> bool:
    """Whether a diagnosis (behaviour ``invasive``/``dcis``, stage group or ``None``) counts."""
    if endpoint == "any_cancer":
        return True
    if behaviour != "invasive":
        return False
    if endpoint == "invasive":
        return True
    if stage_group is None:
        return endpoint == "stage_2_plus_or_unstaged"
    if endpoint in ("stage_2_plus", "stage_2_plus_or_unstaged"):
        return stage_at_least_ii(stage_group)
    raise AnalysisPlanError(f"endpoint {endpoint!r} is unknown; allowed: {', '.join(ENDPOINTS)}")


def _error(key: str, message: str) -> AnalysisPlanError:
    return AnalysisPlanError(f"analysis.{key}: {message}")


def _number(table: Mapping[str, Any], key: str, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _error(key, f"{value!r} is not a number")
    return float(value)


def _choices(table: Mapping[str, Any], key: str, default: Sequence[str],
             allowed: Sequence[str]) -> tuple[str, ...]:  # fmt: skip
    values = table.get(key, default)
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise _error(key, f"must be a list of names; allowed: {', '.join(allowed)}")
    for value in values:
        if value not in allowed:
            raise _error(key, f"{value!r} is unknown; allowed: {', '.join(allowed)}")
    return tuple(dict.fromkeys(values))


def parse_analysis_plan(table: Mapping[str, Any] | None, *, arms: Sequence[str]) -> AnalysisPlan:
    """The ``[analysis]`` table (``None``: the defaults, the first arm as reference).

    ``arms`` are the study's arm names (two).
    """
    table = dict(table or {})
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise _error(unknown[0], f"is not a key; allowed: {', '.join(sorted(_KEYS))}")
    if len(arms) != 2:
        raise AnalysisPlanError(f"analysis: needs a study of two arms, not {len(arms)}")
    reference = table.get("reference_arm", arms[0])
    if reference not in arms:
        raise _error("reference_arm", f"{reference!r} is not an arm; arms: {', '.join(arms)}")
    endpoint = table.get("endpoint", "stage_2_plus")
    if endpoint not in ENDPOINTS:
        raise _error("endpoint", f"{endpoint!r} is unknown; allowed: {', '.join(ENDPOINTS)}")
    horizon = _number(table, "horizon_years", 4.0)
    if not 0 < horizon <= 50:
        raise _error("horizon_years", f"{horizon} is not allowed; allowed: above 0, up to 50")
    margin_ratio = _number(table, "margin_ratio", 1.25)
    if not margin_ratio > 1:
        raise _error("margin_ratio", f"{margin_ratio} is not allowed; allowed: above 1")
    margin_difference = _number(table, "margin_difference", 0.0012)
    if not 0 < margin_difference < 1:
        raise _error(
            "margin_difference",
            f"{margin_difference} is not allowed; allowed: a proportion above 0 and below 1",
        )
    alpha = _number(table, "alpha", 0.025)
    if not 0 < alpha < 0.5:
        raise _error("alpha", f"{alpha} is not a one-sided level; allowed: a number above 0 "
                     "and below 0.5")  # fmt: skip
    interim = None
    if "interim" in table:
        from pebs.trial.interim_plan import parse_interim_plan  # it imports this module's error

        interim = parse_interim_plan(table["interim"])
    alternatives = _choices(table, "alternative_endpoints",
                            AnalysisPlan.alternative_endpoints, ENDPOINTS)  # fmt: skip
    return AnalysisPlan(
        reference_arm=reference,
        comparison_arm=next(a for a in arms if a != reference),
        endpoint=endpoint,
        alternative_endpoints=tuple(a for a in alternatives if a != endpoint),
        horizon_years=horizon,
        margin_ratio=margin_ratio,
        margin_difference=margin_difference,
        alpha=alpha,
        per_protocol_excludes=_choices(
            table, "per_protocol_excludes", PER_PROTOCOL_RULES, PER_PROTOCOL_RULES
        ),
        interim=interim,
    )
