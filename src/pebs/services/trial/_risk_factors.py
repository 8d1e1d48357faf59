"""A woman's risk-model inputs as the trial platform takes them: value, unknown or absent.

Each input of :class:`RiskFactors` is a value, :data:`UNKNOWN` (she does not know; the model's
missing-covariate rule applies and the result lists the input as unknown) or ``None`` (absent:
not answered). Which absent inputs are an error is the study's rule
(:class:`pebs.trial.RiskInputRules`); an absent input that the study does not require is
scored, and recorded, as unknown. ``age_at_first_birth`` is a number of years,
:data:`NULLIPAROUS` (no live birth) or unknown.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields
from typing import Any, Literal

from pebs.risk.inputs import RiskInputs
from pebs.risk.protocol import FiveYearModel, FiveYearResult
from pebs.services.errors import InvalidFields
from pebs.trial.risk_inputs import CLASSICAL_INPUTS, RISK_INPUTS, UNKNOWN
from pebs.trial.vocabularies import BREAST_DENSITIES

__all__ = [
    "DENSITIES",
    "NULLIPAROUS",
    "QUESTIONNAIRE_INPUTS",
    "UNKNOWN",
    "RiskFactors",
    "field_errors",
    "model_inputs",
    "no_classical_known",
    "platform_names",
    "platform_text",
]

NULLIPAROUS = "nulliparous"
"""The answer to "age at first live birth" of a woman who has had no live birth."""
DENSITIES = BREAST_DENSITIES
QUESTIONNAIRE_INPUTS = tuple(name for name in RISK_INPUTS if name not in ("density", "prs_z"))
"""The inputs she answers on the risk questionnaire (density and PRS are measured)."""

Unknown = Literal["unknown"]

_UNNAMED = "risk_factors"
"""The field of a rejection about no single input."""

NO_CLASSICAL = (
    'no classical risk factor is known: give a value (not "unknown") for at least one of '
    + ", ".join(CLASSICAL_INPUTS)
)
"""Why an assessment with every questionnaire factor unknown is refused (the model would give
no risk)."""


@dataclass(frozen=True)
class RiskFactors:
    """Her answers and measurements: a value, :data:`UNKNOWN`, or ``None`` (absent)."""

    n_biopsies: int | Unknown | None = None
    """Breast biopsies she has had (benign or not)."""
    atypical_hyperplasia: bool | Unknown | None = None
    """Atypical hyperplasia on a biopsy; not asked (``None``) when she had no biopsy."""
    age_at_menarche: int | Unknown | None = None
    age_at_first_birth: int | Literal["nulliparous", "unknown"] | None = None
    """Years, :data:`NULLIPAROUS` (no live birth) or unknown."""
    n_relatives: int | Unknown | None = None
    """First-degree relatives (mother, sisters, daughters) with breast cancer."""
    density: str | None = None
    """BI-RADS density a, b, c or d, or unknown."""
    prs_z: float | Unknown | None = None
    """Standardised PRS313 (z-score), or unknown."""

    def answers(self) -> dict[str, Any]:
        """Every input by its name (:data:`pebs.trial.RISK_INPUTS` order)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def unknown(self) -> tuple[str, ...]:
        """Inputs answered :data:`UNKNOWN`."""
        return tuple(name for name, value in self.answers().items() if value == UNKNOWN)

    def problems(self) -> dict[str, str]:
        """A message per input whose value is not of an allowed kind (empty when all are)."""
        problems: dict[str, str] = {}
        for name in ("n_biopsies", "age_at_menarche", "n_relatives"):
            value = getattr(self, name)
            if not (value is None or value == UNKNOWN or _whole(value)):
                problems[name] = f"{value!r} is not a whole number or {UNKNOWN!r}"
        birth = self.age_at_first_birth
        if not (birth is None or birth in (UNKNOWN, NULLIPAROUS) or _whole(birth)):
            problems["age_at_first_birth"] = (
                f"{birth!r} is not a number of years, {NULLIPAROUS!r} or {UNKNOWN!r}"
            )
        if self.atypical_hyperplasia not in (None, True, False, UNKNOWN):
            problems["atypical_hyperplasia"] = (
                f"{self.atypical_hyperplasia!r} is not yes (true), no (false) or {UNKNOWN!r}"
            )
        if self.density is not None and self.density not in (*DENSITIES, UNKNOWN):
            problems["density"] = f"{self.density!r} is not a BI-RADS density a, b, c or d"
        prs = self.prs_z
        if not (prs is None or prs == UNKNOWN or _finite_number(prs)):
            problems["prs_z"] = f"{prs!r} is not a finite number or {UNKNOWN!r}"
        return problems


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _finite_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _known(value: Any) -> Any:
    """The model's "unknown" (``None``) for both unknown and absent inputs."""
    return None if value is None or value == UNKNOWN else value


def model_inputs(factors: RiskFactors, age: int) -> RiskInputs:
    """The model's inputs for one woman of ``age`` (completed years)."""
    birth = factors.age_at_first_birth
    density = factors.density
    return RiskInputs(
        age=[age],
        n_biopsies=[_known(factors.n_biopsies)],
        atypical_hyperplasia=[_known(factors.atypical_hyperplasia)],
        age_at_menarche=[_known(factors.age_at_menarche)],
        age_at_first_birth=[None if birth == NULLIPAROUS else _known(birth)],
        nulliparous=[birth == NULLIPAROUS],
        n_relatives=[_known(factors.n_relatives)],
        density=["" if density in (None, UNKNOWN) else density],
        prs_z=[_known(factors.prs_z)],
    )


def platform_names(model: FiveYearModel, names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The model's input names (``age_menarche``) as the platform's (``age_at_menarche``).

    A study's model takes the platform's inputs: ``model.inputs`` names :data:`RISK_INPUTS` in
    that order, in the model's spelling; other names (``age``) are the same on both sides.
    """
    platform = dict(zip(model.inputs, RISK_INPUTS, strict=True))
    return tuple(platform.get(name, name) for name in names)


def platform_text(model: FiveYearModel, text: str) -> str:
    """A model's message with its input names spelt as the platform's (whole words only).

    The model's reasons name its own inputs (``age_menarche must be > 0 and <= age``); the API
    and the pages name the platform's (``age_at_menarche``).
    """
    renamed = {ours: theirs for ours, theirs in zip(model.inputs, RISK_INPUTS, strict=True)
               if ours != theirs}  # fmt: skip
    if not renamed:
        return text
    pattern = r"\b(" + "|".join(map(re.escape, renamed)) + r")\b"
    return re.sub(pattern, lambda found: renamed[found.group(1)], text)


def no_classical_known(factors: RiskFactors) -> InvalidFields | None:
    """The refusal of an assessment in which every classical factor is unknown or absent
    (``nulliparous`` is an answer), naming the four; ``None`` when one of them is known."""
    answers = factors.answers()
    if any(answers[name] not in (None, UNKNOWN) for name in CLASSICAL_INPUTS):
        return None
    return InvalidFields(
        f"risk factors: {NO_CLASSICAL}", dict.fromkeys(CLASSICAL_INPUTS, NO_CLASSICAL),
        message_code="error.risk_no_classical",
    )  # fmt: skip


def field_errors(model: FiveYearModel, result: FiveYearResult, i: int = 0) -> InvalidFields:
    """Why ``model`` gave woman ``i`` no risk, as an error naming each input (the platform's
    names, in the field list and in the messages)."""
    messages: dict[str, str] = {}
    unnamed: list[str] = []
    for rejection in result.rejections(i):
        reason = platform_text(model, rejection.reason)
        for name in platform_names(model, rejection.inputs):
            messages.setdefault(name, reason)
        if not rejection.inputs:
            unnamed.append(reason)
    if unnamed:
        messages.setdefault(_UNNAMED, "; ".join(unnamed))
    return InvalidFields(f"risk factors: {platform_text(model, result.reasons()[i])}", messages)
