"""Which forms a monitor verifies against the source documents (risk-based monitoring).

Source data verification (SDV) compares what was entered in a woman's casebook with the
hospital's records. Risk-based monitoring (ICH E6(R2) 5.0 and 5.18.3; EMA reflection paper on
risk based quality management in clinical trials, EMA/269011/2013) verifies in full only the
data that protect the participants and the primary analysis, and a sample of the rest.

The study file's optional ``[monitoring]`` table says which:

- ``sdv_forms``: the forms verified for every woman (names of :data:`pebs.trial.forms.FORMS`);
- ``sample_fraction`` (a proportion, 0 to 1, default 0): of every other form instance, this
  fraction is drawn for verification too. The draw is a deterministic function of the woman's
  study ID, the form and its key (the first 8 bytes of a SHA-256, as a number in [0, 1)), so
  every monitor, page and export agrees on it and it never changes.

Without the table every form is verified (``sdv_forms`` = all forms): the cautious default.

>>> plan = parse_monitoring_plan({"sdv_forms": ["consent", "death"], "sample_fraction": 0.0})
>>> plan.needs_verification("FR-PA-000012", "consent", None)
True
>>> plan.needs_verification("FR-PA-000012", "visit", 7)
False
>>> parse_monitoring_plan({"sdv_forms": ["biopsy"]})
Traceback (most recent call last):
...
pebs.trial.monitoring_plan.MonitoringPlanError: monitoring.sdv_forms: form 'biopsy' is \
unknown; forms: registration, eligibility, consent, allocation, risk_factors, risk_assessment, \
screening_plan, visit, outcome, death, questionnaire
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pebs.trial.forms import FormError, form_named, form_names

__all__ = [
    "DEFAULT_MONITORING_PLAN",
    "MonitoringPlan",
    "MonitoringPlanError",
    "monitoring_plan_from_json",
    "parse_monitoring_plan",
]

_KEYS = frozenset({"sdv_forms", "sample_fraction"})


class MonitoringPlanError(ValueError):
    """A ``[monitoring]`` table that cannot be used; the message names the key."""


@dataclass(frozen=True)
class MonitoringPlan:
    """The forms verified for every woman, and the sampled fraction of the others."""

    sdv_forms: tuple[str, ...]
    """Form names, in pathway order."""
    sample_fraction: float = 0.0
    """Proportion (0 to 1) of the other form instances drawn for verification."""

    def needs_verification(self, study_id: str, form: str, key: int | None) -> bool:
        """Whether her instance ``key`` of ``form`` is to be verified under this plan."""
        if form in self.sdv_forms:
            return True
        if self.sample_fraction <= 0.0:
            return False
        return _draw(study_id, form, key) < self.sample_fraction

    def as_json(self) -> dict[str, Any]:
        """The plan as stored with the study configuration (:func:`monitoring_plan_from_json`)."""
        return {"sdv_forms": list(self.sdv_forms), "sample_fraction": self.sample_fraction}


DEFAULT_MONITORING_PLAN = MonitoringPlan(sdv_forms=form_names())
"""Without a ``[monitoring]`` table: every form of every woman is verified."""


def _draw(study_id: str, form: str, key: int | None) -> float:
    """A number in [0, 1) fixed by (study ID, form, key): the sampling draw."""
    digest = hashlib.sha256(f"{study_id}\x1f{form}\x1f{key or 0}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def parse_monitoring_plan(section: Any) -> MonitoringPlan:
    """The study file's ``[monitoring]`` table (``None``: :data:`DEFAULT_MONITORING_PLAN`)."""
    if section is None:
        return DEFAULT_MONITORING_PLAN
    if not isinstance(section, Mapping):
        raise MonitoringPlanError("monitoring: must be a table")
    unknown = sorted(set(section) - _KEYS)
    if unknown:
        raise MonitoringPlanError(
            f"monitoring.{unknown[0]}: unknown key; allowed: {', '.join(sorted(_KEYS))}"
        )
    forms = section.get("sdv_forms")
    if not isinstance(forms, list) or not all(isinstance(name, str) for name in forms):
        raise MonitoringPlanError(
            "monitoring.sdv_forms: must be a list of form names; forms: " + ", ".join(form_names())
        )
    for name in forms:
        try:
            form_named(name)
        except FormError as error:
            raise MonitoringPlanError(f"monitoring.sdv_forms: {error}") from None
    fraction = section.get("sample_fraction", 0.0)
    if (
        isinstance(fraction, bool)
        or not isinstance(fraction, int | float)
        or not (0.0 <= fraction <= 1.0)
    ):
        raise MonitoringPlanError(
            f"monitoring.sample_fraction: must be a proportion from 0 to 1, got {fraction!r}"
        )
    ordered = tuple(name for name in form_names() if name in forms)
    return MonitoringPlan(ordered, float(fraction))


def monitoring_plan_from_json(document: Mapping[str, Any] | None) -> MonitoringPlan:
    """The plan written by :meth:`MonitoringPlan.as_json` (``None``: the default plan)."""
    if not document:
        return DEFAULT_MONITORING_PLAN
    return MonitoringPlan(tuple(document["sdv_forms"]), float(document["sample_fraction"]))
