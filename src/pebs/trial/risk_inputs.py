"""Which risk model a study uses, which of its inputs it requires, and whether an answer lowers a
woman's level.

Each input of a risk assessment is in one of three states: a **value**, an explicit
**unknown** (she does not know, or the measurement will not be available: recorded as such and
handled by the model's missing-covariate rule) or **absent** (not answered). An absent input
that the study requires is an error naming it; it is never scored as unknown or as the lowest
category. The study file says which inputs are required (``[risk_assessment]``, read by
:func:`parse_rules`):

- ``required``: inputs that must be answered, with a value or ``"unknown"``;
- ``allow_provisional``: if true, an assessment without the polygenic risk score (``prs_z``
  absent, for instance while the laboratory result is awaited) is allowed and marked
  *provisional*; if false it is refused. An explicit ``"unknown"`` PRS (no result will come)
  gives a final assessment that lists the PRS as unknown;
- ``model`` (optional): the id of the five-year model, one of
  :func:`pebs.risk.registry.model_ids` (default :data:`pebs.risk.registry.DEFAULT_MODEL`, the
  personalised model).

An input that is not required may be left absent: it is then recorded and scored as unknown.
``atypical_hyperplasia`` is asked only of women who had a biopsy: with ``n_biopsies = 0`` it is
never required.

>>> rules = RiskInputRules()
>>> rules.absent_required({"n_biopsies": 0, "density": "b"})
('age_at_menarche', 'age_at_first_birth', 'n_relatives', 'prs_z')
>>> is_lower("high", "low"), is_lower("low", "average"), is_lower(None, "low")
(True, False, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pebs.risk.levels import LEVELS
from pebs.risk.registry import DEFAULT_MODEL, UnknownModelError, check_model_id

__all__ = [
    "CLASSICAL_INPUTS",
    "DEFAULT_RULES",
    "PROVISIONAL_INPUT",
    "RISK_INPUTS",
    "UNKNOWN",
    "RiskInputRules",
    "RiskRulesError",
    "is_lower",
    "parse_rules",
    "rules_from_json",
]

UNKNOWN = "unknown"
"""The explicit answer "she does not know" (or "the measurement will not be available")."""

RISK_INPUTS = (
    "n_biopsies", "atypical_hyperplasia", "age_at_menarche", "age_at_first_birth",
    "n_relatives", "density", "prs_z",
)  # fmt: skip
"""Inputs of the personalised model as the trial platform names them (API, form, study file)."""

CLASSICAL_INPUTS = ("n_biopsies", "age_at_menarche", "age_at_first_birth", "n_relatives")
"""The questionnaire factors: with none of them known the model gives no risk."""

PROVISIONAL_INPUT = "prs_z"
"""Without it (absent) an assessment can only be provisional."""

_KEYS = frozenset({"required", "allow_provisional", "model"})


class RiskRulesError(ValueError):
    """A ``[risk_assessment]`` section cannot be used; the message names the key."""


@dataclass(frozen=True)
class RiskInputRules:
    """A study's risk model and its requirements on the inputs (see the module docstring)."""

    required: tuple[str, ...] = RISK_INPUTS
    allow_provisional: bool = False
    model: str = DEFAULT_MODEL
    """Id of the five-year model (:mod:`pebs.risk.registry`)."""

    def absent_required(self, answers: Mapping[str, Any]) -> tuple[str, ...]:
        """Required inputs that ``answers`` leaves absent (``None`` or not a key), in
        :data:`RISK_INPUTS` order. The PRS is not listed when a provisional assessment is
        allowed; hyperplasia is not listed for a woman with no biopsy."""
        absent = []
        for name in RISK_INPUTS:
            if name not in self.required or answers.get(name) is not None:
                continue
            if name == "atypical_hyperplasia" and answers.get("n_biopsies") == 0:
                continue
            if name == PROVISIONAL_INPUT and self.allow_provisional:
                continue
            absent.append(name)
        return tuple(absent)

    def is_provisional(self, answers: Mapping[str, Any]) -> bool:
        """True when the PRS is required but absent and the study allows that."""
        return (
            self.allow_provisional
            and PROVISIONAL_INPUT in self.required
            and answers.get(PROVISIONAL_INPUT) is None
        )

    def as_json(self) -> dict[str, Any]:
        """The rules as stored; ``model`` only when it is not the default, so that a configuration
        stored before the key existed reads, and compares, the same."""
        document: dict[str, Any] = {
            "required": list(self.required), "allow_provisional": self.allow_provisional,
        }  # fmt: skip
        if self.model != DEFAULT_MODEL:
            document["model"] = self.model
        return document


DEFAULT_RULES = RiskInputRules()
"""Every input required, no provisional assessment: the rules of a study file without a
``[risk_assessment]`` section (and of configurations stored before it existed)."""


def parse_rules(section: Any, key: str = "risk_assessment") -> RiskInputRules:
    """The rules of a study file's ``[risk_assessment]`` table (``None``: :data:`DEFAULT_RULES`).

    :class:`RiskRulesError` names the key, the bad value and the allowed values.

    >>> parse_rules({"required": ["n_biopsies", "prs_z"], "allow_provisional": True})
    RiskInputRules(required=('n_biopsies', 'prs_z'), allow_provisional=True, \
model='pebs-personalised-5y')
    >>> parse_rules({"model": "gail"})
    Traceback (most recent call last):
    ...
    pebs.trial.risk_inputs.RiskRulesError: risk_assessment.model: unknown risk model 'gail'; \
allowed: pebs-personalised-5y
    >>> parse_rules({"required": ["biopsies"]})
    Traceback (most recent call last):
    ...
    pebs.trial.risk_inputs.RiskRulesError: risk_assessment.required: unknown input 'biopsies'; \
allowed: n_biopsies, atypical_hyperplasia, age_at_menarche, age_at_first_birth, n_relatives, \
density, prs_z
    """
    if section is None:
        return DEFAULT_RULES
    if not isinstance(section, dict):
        raise RiskRulesError(f"{key}: must be a table, got {section!r}")
    for name in section:
        if name not in _KEYS:
            raise RiskRulesError(f"{key}.{name}: unknown key; allowed: {', '.join(sorted(_KEYS))}")
    required = section.get("required", list(RISK_INPUTS))
    if not isinstance(required, list) or not all(isinstance(v, str) for v in required):
        raise RiskRulesError(f"{key}.required: must be a list of input names, got {required!r}")
    for name in required:
        if name not in RISK_INPUTS:
            raise RiskRulesError(
                f"{key}.required: unknown input {name!r}; allowed: {', '.join(RISK_INPUTS)}"
            )
        if required.count(name) > 1:
            raise RiskRulesError(f"{key}.required: {name!r} is listed twice")
    provisional = section.get("allow_provisional", False)
    if not isinstance(provisional, bool):
        raise RiskRulesError(f"{key}.allow_provisional: must be true or false, got {provisional!r}")
    if provisional and PROVISIONAL_INPUT not in required:
        raise RiskRulesError(
            f"{key}.allow_provisional: true needs {PROVISIONAL_INPUT!r} in {key}.required (an "
            "assessment is provisional only without a required PRS)"
        )
    try:
        model = check_model_id(section.get("model", DEFAULT_MODEL), f"{key}.model")
    except UnknownModelError as exc:
        raise RiskRulesError(str(exc)) from None
    ordered = tuple(name for name in RISK_INPUTS if name in required)
    return RiskInputRules(ordered, provisional, model)


def rules_from_json(document: Mapping[str, Any] | None) -> RiskInputRules:
    """The rules written by :meth:`RiskInputRules.as_json` (``None``: :data:`DEFAULT_RULES`)."""
    if not document:
        return DEFAULT_RULES
    return RiskInputRules(
        tuple(document["required"]), bool(document["allow_provisional"]),
        document.get("model", DEFAULT_MODEL),
    )  # fmt: skip


def is_lower(previous: str | None, new: str) -> bool:
    """Whether level ``new`` is below ``previous`` (low < average < high < very_high)."""
    if previous not in LEVELS or new not in LEVELS:
        return False
    return LEVELS.index(new) < LEVELS.index(previous)
