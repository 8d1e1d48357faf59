"""A plan's reasons and notes in every language: one catalogue key per rule of every shipped
policy, in all six languages, the English key equal to the policy's own reason; the planner's
notes and context read back from its real output and written again in each language."""

from __future__ import annotations

import re
import string
from datetime import date

import pytest

from pebs.i18n import DEFAULT_LANGUAGE, LANGUAGES, catalogues
from pebs.i18n.plans import NOTE_KEYS, exam_reason, no_screening_key, plan_note, reason_key
from pebs.screening.planner import Woman, plan
from pebs.screening.policy import load_policy, shipped_policies

START = date(2025, 1, 1)


def _expected_reasons() -> dict[str, str]:
    """Key -> English reason of every rule, end-of-study exam and "no screening" entry."""
    found = {}
    for name in shipped_policies():
        policy = load_policy(name)
        found |= {reason_key(name, rule.id): rule.reason for rule in policy.rules}
        if policy.study is not None:
            found[reason_key(name, "end-of-study")] = policy.study.end_of_study_reason
        found |= {no_screening_key(name, n): entry.reason
                  for n, entry in enumerate(policy.no_screening, start=1)}  # fmt: skip
    return found


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_there_is_a_reason_per_rule_of_every_policy() -> None:
    reasons = _expected_reasons()
    assert len(reasons) >= 33  # 12 shipped policies: 28 rules, 1 end of study, 4 no-screening
    assert "reason.mypebs-risk-based.end-of-study" in reasons
    assert "reason.uspstf-2024.no-screening-1" in reasons


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_reason_has_its_key_in_every_language(language: str) -> None:
    own = catalogues()[language].messages
    missing = sorted(set(_expected_reasons()) - set(own))
    assert not missing, f"{language}: {missing}"


def test_english_keys_are_the_policies_own_words() -> None:
    english = catalogues()[DEFAULT_LANGUAGE].messages
    for key, reason in _expected_reasons().items():
        assert english[key] == reason, key


@pytest.mark.parametrize("language", [c for c in LANGUAGES if c != DEFAULT_LANGUAGE])
def test_reasons_are_translated(language: str) -> None:
    own, english = catalogues()[language].messages, catalogues()[DEFAULT_LANGUAGE].messages
    same = [k for k in _expected_reasons() if own[k] == english[k]]
    assert not same, f"{language}: not translated {same}"
    for key in (*NOTE_KEYS, "plan_context.overdue", "plan_context.from_birthday"):
        allowed = {f.removesuffix("_ordinal") + "_age" for f in _fields(english[key])}
        assert _fields(own[key]) <= _fields(english[key]) | allowed, (language, key)


def _notes(policy: str, woman: Woman, **length: float) -> tuple[str, ...]:
    return plan(load_policy(policy), woman, START, **length).notes


PLANS = {
    "before_band": ("fr", Woman(date(1985, 6, 1)), {"years": 4}),
    "after_band": ("fr", Woman(date(1940, 6, 1)), {"years": 4}),
    "ends": ("fr", Woman(date(1952, 6, 1)), {"years": 4}),
    "no_screening": ("ecibc", Woman(date(1983, 6, 1)), {"years": 2}),
    "study_period": ("mypebs-risk-based", Woman(date(1970, 6, 1), arm="risk-based", level="low"),
                     {"years": 10}),
    "absorbed": ("mypebs-risk-based", Woman(date(1970, 6, 1), arm="risk-based",
                                            level="average", last_screen=date(2024, 12, 1)), {}),
    "none_due": ("fr", Woman(date(1970, 6, 1), last_screen=date(2024, 12, 1)), {"years": 1}),
}  # fmt: skip
"""Plans whose one note is of each kind the planner writes."""


@pytest.mark.parametrize("kind", sorted(PLANS))
def test_the_planners_notes_are_written_in_every_language(kind: str) -> None:
    policy, woman, length = PLANS[kind]
    (note,) = _notes(policy, woman, **length)
    dates = re.findall(r"\d{4}-\d{2}-\d{2}", note)
    for language in LANGUAGES:
        shown = plan_note(catalogues()[language], policy, note)
        if language == DEFAULT_LANGUAGE:
            assert shown == note
            continue
        assert shown != note, (language, kind)
        assert not re.search(r"\d{4}-\d{2}-\d{2}", shown), (language, shown)  # dates localised
        assert "{" not in shown
        assert f"'{policy}'" not in shown
        numbers = set(re.findall(r"\d+", re.sub(r"\d{4}-\d{2}-\d{2}", "", note)))
        numbers -= {n for d in dates for n in d.split("-")}
        assert numbers <= set(re.findall(r"\d+", shown)) | {"1", "2", "3"}, (language, shown)


def test_a_note_in_french_by_hand() -> None:
    note = "Routine screening under fr ends at her 75th birthday (2027-06-01)."
    assert plan_note(catalogues()["fr"], "fr", note) == (
        "Le dépistage habituel selon fr s'arrête à ses 75 ans (1 juin 2027)."
    )


def test_the_no_rule_note_drops_the_quotes() -> None:
    note = "No rule of policy 'wisdom' applies to this woman."
    assert plan_note(catalogues()["es"], "wisdom", note) == (
        "Ninguna regla de la política wisdom se aplica a esta mujer."
    )


def test_reasons_with_the_planners_context() -> None:
    overdue = plan(load_policy("fr"), Woman(date(1960, 6, 1), last_screen=date(2020, 1, 1)),
                   START, years=2).exams[0]  # fmt: skip
    assert overdue.reason.endswith("(overdue: last screen on 2020-01-01).")
    assert exam_reason(catalogues()["it"], "fr", overdue.rule, overdue.reason) == (
        "Mammografia con esame clinico del seno ogni 2 anni dai 50 ai 74 anni (programma "
        "francese di screening organizzato) (in ritardo: ultimo screening il 1 gen 2020)."
    )
    birthday = plan(load_policy("fr"), Woman(date(1975, 6, 1)), START, years=2).exams[0]
    assert exam_reason(catalogues()["nl"], "fr", birthday.rule, birthday.reason).endswith(
        "(vanaf haar 50e verjaardag)."
    )


def test_what_is_not_recognised_is_shown_as_stored() -> None:
    french = catalogues()["fr"]
    assert exam_reason(french, "fr", "biennial-50-74", "An older wording.") == "An older wording."
    assert exam_reason(french, "no-such-policy", "x", "Kept.") == "Kept."
    assert exam_reason(french, "fr", None, "Kept.") == "Kept."
    assert plan_note(french, "fr", "A note of an older release.") == "A note of an older release."
