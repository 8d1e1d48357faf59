"""Saliva kits and samples of the risk-based arm: kit identifiers, sample states, study rules.

A woman randomised to the risk-based arm gives saliva in a kit whose identifier is printed on the
tube label (never her name). The identifier is the study's prefix, a hyphen, eight random
characters and one check character of ISO/IEC 7064 MOD 37,36 (the hybrid system over the 36
digits and capital letters: every single-character substitution and every transposition of two
adjacent characters is detected). The genotyping laboratory names each VCF sample by its kit ID.

A sample moves through these states (:func:`next_state`)::

    assigned -> collected -> shipped -> received -> genotyped
                                           \\-> failed_qc -> recollection_requested
    (any state before a result) -> abandoned (with a reason)

A failed sample is replaced by a new kit (``recollection_requested`` names the kit that
replaces it). The study file says when kits are assigned, when a result is overdue and what the
laboratory's quality control accepts (:func:`parse_sample_rules`, :func:`parse_lab_rules`).

>>> check_character("MP-7QX2K9ZD")
'L'
>>> is_valid_kit_id("MP-7QX2K9ZDL"), is_valid_kit_id("MP-7QX2K9DZL")
(True, False)
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

__all__ = [
    "ALPHABET",
    "AWAITING_RESULT",
    "DEFAULT_LAB_RULES",
    "DEFAULT_SAMPLE_RULES",
    "KIT_ASSIGNMENT",
    "LabRules",
    "SampleEvent",
    "SampleRules",
    "SampleRulesError",
    "SampleState",
    "SampleTransitionError",
    "check_character",
    "hybrid_check",
    "is_overdue",
    "is_valid_kit_id",
    "lab_rules_from_json",
    "new_kit_id",
    "next_state",
    "parse_lab_rules",
    "parse_sample_rules",
    "result_due",
    "sample_rules_from_json",
]

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
"""Characters of a kit ID (and of its check character): ISO/IEC 7064's alphanumeric set."""
_BODY_LENGTH = 8


def check_character(text: str) -> str:
    """The ISO/IEC 7064 MOD 37,36 check character of ``text`` (hyphens are ignored).

    :class:`ValueError` for a character outside :data:`ALPHABET`.
    """
    return hybrid_check(text.replace("-", ""), ALPHABET)


def hybrid_check(text: str, alphabet: str) -> str:
    """The check character of ISO/IEC 7064's hybrid system MOD (M+1),M over ``alphabet`` (M
    characters): MOD 11,10 over the digits, MOD 37,36 over digits and capital letters."""
    modulus = len(alphabet)
    product = modulus
    for character in text:
        value = alphabet.find(character)
        if value < 0:
            raise ValueError(f"kit ID: {character!r} is not one of {alphabet}")
        total = (product + value) % modulus or modulus
        product = (2 * total) % (modulus + 1)
    return alphabet[(modulus + 1 - product) % modulus]


def is_valid_kit_id(kit_id: str, prefix: str | None = None) -> bool:
    """Whether ``kit_id`` is ``PREFIX-XXXXXXXXC`` with the right check character (and, when
    given, the study's ``prefix``)."""
    head, _, body = kit_id.partition("-")
    if not head or len(body) != _BODY_LENGTH + 1 or (prefix is not None and head != prefix):
        return False
    if any(c not in ALPHABET for c in head + body):
        return False
    return check_character(f"{head}-{body[:-1]}") == body[-1]


def new_kit_id(prefix: str) -> str:
    """A new random kit ID for a study whose kits start with ``prefix``."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(_BODY_LENGTH))
    return f"{prefix}-{body}{check_character(f'{prefix}-{body}')}"


class SampleState(enum.StrEnum):
    ASSIGNED = "assigned"
    COLLECTED = "collected"
    SHIPPED = "shipped"
    RECEIVED = "received"
    GENOTYPED = "genotyped"
    FAILED_QC = "failed_qc"
    RECOLLECTION_REQUESTED = "recollection_requested"
    ABANDONED = "abandoned"


class SampleEvent(enum.StrEnum):
    COLLECT = "collect"
    SHIP = "ship"
    RECEIVE = "receive"
    GENOTYPE = "genotype"
    FAIL_QC = "fail_qc"
    REQUEST_RECOLLECTION = "request_recollection"
    ABANDON = "abandon"


_S, _E = SampleState, SampleEvent
_TRANSITIONS: dict[tuple[SampleState, SampleEvent], SampleState] = {
    (_S.ASSIGNED, _E.COLLECT): _S.COLLECTED,
    (_S.COLLECTED, _E.SHIP): _S.SHIPPED,
    (_S.SHIPPED, _E.RECEIVE): _S.RECEIVED,
    (_S.SHIPPED, _E.GENOTYPE): _S.GENOTYPED,  # a result implies the laboratory received it
    (_S.RECEIVED, _E.GENOTYPE): _S.GENOTYPED,
    (_S.SHIPPED, _E.FAIL_QC): _S.FAILED_QC,
    (_S.RECEIVED, _E.FAIL_QC): _S.FAILED_QC,
    (_S.FAILED_QC, _E.REQUEST_RECOLLECTION): _S.RECOLLECTION_REQUESTED,
    **{(s, _E.ABANDON): _S.ABANDONED for s in (_S.ASSIGNED, _S.COLLECTED, _S.SHIPPED,
                                              _S.RECEIVED, _S.FAILED_QC)},
}  # fmt: skip
SAMPLE_STATES = tuple(state.value for state in SampleState)
"""Every sample state, in pathway order."""


class SampleTransitionError(ValueError):
    """The event is not possible in the sample's state; the message lists what is."""


def next_state(state: str | SampleState, event: str | SampleEvent) -> SampleState:
    """The state after ``event``, or :class:`SampleTransitionError`.

    >>> next_state("collected", "ship")
    <SampleState.SHIPPED: 'shipped'>
    >>> next_state("genotyped", "abandon")
    Traceback (most recent call last):
    ...
    pebs.trial.samples.SampleTransitionError: a genotyped sample cannot abandon (nothing is \
possible: it is final)
    """
    current, happening = SampleState(state), SampleEvent(event)
    new = _TRANSITIONS.get((current, happening))
    if new is None:
        possible = [e.value for (s, e) in _TRANSITIONS if s is current]
        allowed = ", ".join(possible) if possible else "nothing is possible: it is final"
        raise SampleTransitionError(
            f"a {current.value} sample cannot {happening.value} ({allowed})"
        )
    return new


AWAITING_RESULT = (SampleState.COLLECTED, SampleState.SHIPPED, SampleState.RECEIVED)
"""States of a sample given by her and still without a genotype result."""


def result_due(collected_on: date | None, weeks: int) -> date | None:
    """The day a sample's result is expected: ``weeks`` after its collection (``None`` before)."""
    return None if collected_on is None else collected_on + timedelta(weeks=weeks)


def is_overdue(state: str, collected_on: date | None, weeks: int, on: date) -> bool:
    """Whether a sample waiting for its result is past :func:`result_due` on day ``on``.

    >>> is_overdue("shipped", date(2026, 1, 5), 12, date(2026, 3, 30))
    False
    >>> is_overdue("shipped", date(2026, 1, 5), 12, date(2026, 3, 31))
    True
    >>> is_overdue("genotyped", date(2026, 1, 5), 12, date(2026, 6, 1))
    False
    """
    due = result_due(collected_on, weeks)
    return due is not None and on > due and SampleState(state) in AWAITING_RESULT


class SampleRulesError(ValueError):
    """A ``[samples]`` or ``[laboratory]`` table of a study file cannot be used."""


KIT_ASSIGNMENT = ("randomisation", "manual")
"""When kits are assigned: at randomisation to the risk-based arm, or by site staff."""


@dataclass(frozen=True)
class SampleRules:
    """The study's kits: their prefix, when they are assigned, when a result is overdue."""

    kit_prefix: str = "KIT"
    assign_at: str = "randomisation"
    result_expected_weeks: int = 12

    def as_json(self) -> dict[str, Any]:
        return {"kit_prefix": self.kit_prefix, "assign_at": self.assign_at,
                "result_expected_weeks": self.result_expected_weeks}  # fmt: skip


@dataclass(frozen=True)
class LabRules:
    """The laboratory's scoring and quality control: the score (a PGS Catalog id shipped with
    pebs), the least call rate over the score's variants (a proportion) and the most variants
    that may be imputed (absent from the file, scored at the population mean dosage)."""

    score: str = "PGS000004"
    min_call_rate: float = 0.95
    max_imputed: int = 16

    def as_json(self) -> dict[str, Any]:
        return {"score": self.score, "min_call_rate": self.min_call_rate,
                "max_imputed": self.max_imputed}  # fmt: skip


DEFAULT_SAMPLE_RULES = SampleRules()
DEFAULT_LAB_RULES = LabRules()


def _table(section: Any, key: str, allowed: set[str]) -> Mapping[str, Any]:
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise SampleRulesError(f"{key}: must be a table, got {section!r}")
    for name in section:
        if name not in allowed:
            raise SampleRulesError(
                f"{key}.{name}: unknown key; allowed: {', '.join(sorted(allowed))}"
            )
    return section


def _whole(
    section: Mapping[str, Any], key: str, name: str, default: int, low: int, high: int
) -> int:
    value = section.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SampleRulesError(f"{key}.{name}: a whole number from {low} to {high}, got {value!r}")
    return value


def parse_sample_rules(section: Any, key: str = "samples") -> SampleRules:
    """The study file's ``[samples]`` table (``None``: :data:`DEFAULT_SAMPLE_RULES`).

    >>> parse_sample_rules({"kit_prefix": "MP", "result_expected_weeks": 12})
    SampleRules(kit_prefix='MP', assign_at='randomisation', result_expected_weeks=12)
    >>> parse_sample_rules({"assign_at": "consent"})
    Traceback (most recent call last):
    ...
    pebs.trial.samples.SampleRulesError: samples.assign_at: 'consent' is unknown; allowed: \
randomisation, manual
    """
    table = _table(section, key, {"kit_prefix", "assign_at", "result_expected_weeks"})
    prefix = table.get("kit_prefix", DEFAULT_SAMPLE_RULES.kit_prefix)
    if (not isinstance(prefix, str) or not 1 <= len(prefix) <= 6
            or any(c not in ALPHABET for c in prefix)):  # fmt: skip
        raise SampleRulesError(
            f"{key}.kit_prefix: 1 to 6 digits or capital letters, got {prefix!r}"
        )
    assign_at = table.get("assign_at", DEFAULT_SAMPLE_RULES.assign_at)
    if assign_at not in KIT_ASSIGNMENT:
        raise SampleRulesError(
            f"{key}.assign_at: {assign_at!r} is unknown; allowed: {', '.join(KIT_ASSIGNMENT)}"
        )
    weeks = _whole(table, key, "result_expected_weeks", 12, 1, 104)
    return SampleRules(prefix, assign_at, weeks)


def parse_lab_rules(section: Any, key: str = "laboratory") -> LabRules:
    """The study file's ``[laboratory]`` table (``None``: :data:`DEFAULT_LAB_RULES`).

    >>> parse_lab_rules({"score": "PGS000004", "min_call_rate": 0.97, "max_imputed": 10})
    LabRules(score='PGS000004', min_call_rate=0.97, max_imputed=10)
    >>> parse_lab_rules({"min_call_rate": 97})
    Traceback (most recent call last):
    ...
    pebs.trial.samples.SampleRulesError: laboratory.min_call_rate: a proportion from 0 to 1 \
(not a percent), got 97
    """
    table = _table(section, key, {"score", "min_call_rate", "max_imputed"})
    score = table.get("score", DEFAULT_LAB_RULES.score)
    if not isinstance(score, str) or not score:
        raise SampleRulesError(f"{key}.score: a PGS Catalog score id, got {score!r}")
    rate = table.get("min_call_rate", DEFAULT_LAB_RULES.min_call_rate)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise SampleRulesError(
            f"{key}.min_call_rate: a proportion from 0 to 1 (not a percent), got {rate!r}"
        )
    imputed = _whole(table, key, "max_imputed", DEFAULT_LAB_RULES.max_imputed, 0, 100_000)
    return LabRules(score, float(rate), imputed)


def sample_rules_from_json(document: Mapping[str, Any] | None) -> SampleRules:
    """The rules written by :meth:`SampleRules.as_json` (``None``: the defaults)."""
    return SampleRules(**document) if document else DEFAULT_SAMPLE_RULES


def lab_rules_from_json(document: Mapping[str, Any] | None) -> LabRules:
    """The rules written by :meth:`LabRules.as_json` (``None``: the defaults)."""
    return LabRules(**document) if document else DEFAULT_LAB_RULES
