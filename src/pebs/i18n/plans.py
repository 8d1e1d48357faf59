"""A screening plan's words in the reader's language: the reason of each exam and the plan's notes.

The planner (:mod:`pebs.screening.planner`) writes its reasons and notes in English, and they are
stored so; the pages and letters show them through this module:

- an exam's reason is the catalogue's ``reason.<policy>.<rule>`` (``plans.toml``; the study's
  last exam has the rule ``end-of-study``), with the planner's context ("overdue: last screen on
  ...", "from her 50th birthday") translated too;
- a note is either a policy's own "no screening" reason (``reason.<policy>.no-screening-<n>``,
  ``n`` counted from 1 in the policy file) or one of the planner's notes, whose English form in
  the catalogue (``plan_note.*``) is read back to its values and written again in the language.

Anything not recognised (a policy that is not shipped, a key a language lacks, a note of an older
release) is shown as stored, in English: a reader never loses information.

>>> from pebs.i18n import catalogues
>>> stored = "Mammography every 2 years from 50 to 69 (Italian national screening programme)."
>>> exam_reason(catalogues()["nl"], "it", "biennial-50-69", stored)
'Mammografie om de 2 jaar van 50 tot 69 jaar (Italiaans nationaal bevolkingsonderzoek).'
>>> planned = stored[:-1] + " (from her 50th birthday)."
>>> exam_reason(catalogues()["fr"], "it", "biennial-50-69", planned)[-36:]
'dépistage) (à partir de ses 50 ans).'
>>> plan_note(catalogues()["it"], "fr", "Routine screening under fr ends at her 75th birthday "
...           "(2031-05-02).")
'Lo screening abituale secondo fr termina al compimento dei 75 anni (2 mag 2031).'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from functools import cache

from pebs.i18n import formats
from pebs.i18n.catalogue import DEFAULT_LANGUAGE, Catalogue
from pebs.i18n.read_back import read_back
from pebs.screening.policy import Policy, PolicyError, load_policy, shipped_policies

__all__ = ["NOTE_KEYS", "exam_reason", "no_screening_key", "plan_note", "reason_key"]

NOTE_KEYS = (
    "plan_note.absorbed",
    "plan_note.no_rule",
    "plan_note.before_band",
    "plan_note.after_band",
    "plan_note.none_due",
    "plan_note.ends",
    "plan_note.study_period",
)
"""The planner's notes, in English in ``en/plans.toml`` exactly as the planner writes them."""

_CONTEXT_KEYS = ("plan_context.overdue", "plan_context.from_birthday")
"""The planner's context added to a reason ("overdue: last screen on ...")."""

_ORDINAL = re.compile(r"(\d+)(?:st|nd|rd|th)")


def reason_key(policy: str, rule: str) -> str:
    """``reason.<policy>.<rule>``: the catalogue key of a rule's reason.

    >>> reason_key("mypebs-risk-based", "end-of-study")
    'reason.mypebs-risk-based.end-of-study'
    """
    return f"reason.{policy}.{rule}"


def no_screening_key(policy: str, number: int) -> str:
    """The key of a policy's ``number``-th (from 1) "no screening" reason."""
    return f"reason.{policy}.no-screening-{number}"


def exam_reason(catalogue: Catalogue, policy: str, rule: str | None, stored: str) -> str:
    """The reason of one planned exam in the catalogue's language; ``stored`` (the English the
    planner wrote) when the rule or the language's text is not known."""
    if catalogue.code == DEFAULT_LANGUAGE or rule is None:
        return stored
    english = _english_reason(policy, rule)
    own = catalogue.messages.get(reason_key(policy, rule))
    if english is None or own is None:
        return stored
    if stored == english:
        return own
    # The planner's form: the reason with "(<context>)" inside its last sentence.
    body = english.removesuffix(".")
    stop = english[len(body) :]
    if not (stored.startswith(f"{body} (") and stored.endswith(f"){stop}")):
        return stored
    context = _context(catalogue, stored[len(body) + 2 : len(stored) - len(stop) - 1])
    if context is None:
        return stored
    own_body = own.removesuffix(".")
    return f"{own_body} ({context}){own[len(own_body) :]}"


def plan_note(catalogue: Catalogue, policy: str, note: str) -> str:
    """One note of a plan in the catalogue's language; the stored English when not recognised."""
    if catalogue.code == DEFAULT_LANGUAGE:
        return note
    loaded = _policy(policy)
    if loaded is not None:
        for number, entry in enumerate(loaded.no_screening, start=1):
            if entry.reason == note:
                return catalogue.messages.get(no_screening_key(policy, number), note)
    for key in NOTE_KEYS:
        values = read_back(key, note)
        if values is not None and key in catalogue.messages:
            return catalogue.text(key, **_localised(values, catalogue.code))
    return note


def _context(catalogue: Catalogue, context: str) -> str | None:
    for key in _CONTEXT_KEYS:
        values = read_back(key, context)
        if values is not None and key in catalogue.messages:
            return catalogue.text(key, **_localised(values, catalogue.code))
    return None


@cache
def _policy(name: str) -> Policy | None:
    if name not in shipped_policies():
        return None
    try:
        return load_policy(name)
    except PolicyError:  # pragma: no cover - shipped policies are checked by their own tests
        return None


def _english_reason(policy: str, rule: str) -> str | None:
    loaded = _policy(policy)
    if loaded is None:
        return None
    if rule == "end-of-study":
        return None if loaded.study is None else loaded.study.end_of_study_reason
    return next((r.reason for r in loaded.rules if r.id == rule), None)


def _localised(values: Mapping[str, str], language: str) -> dict[str, str]:
    """Values read from English, written for ``language``: ISO dates in its format, quotes
    dropped around names, and ``<field>_ordinal`` (``71st``) also as ``<field>_age`` (``71``)."""
    result: dict[str, str] = {}
    for name, value in values.items():
        text = value.strip("'")
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            text = formats.medium_date(date.fromisoformat(text), language)
        result[name] = text
        ordinal = _ORDINAL.fullmatch(text)
        if name.endswith("_ordinal") and ordinal is not None:
            result[name.removesuffix("_ordinal") + "_age"] = ordinal.group(1)
    return result
