"""The message catalogues: every key the pages use exists in all six languages, each language
has exactly the English keys with the same format fields, a key a language lacks falls back to
English, and Hebrew is right to left."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from pebs.i18n import Catalogue
from pebs.io.exports import FORMATS
from pebs.trial.vocabularies import (
    BEHAVIOURS,
    DEATH_CAUSES,
    DETECTION_MODES,
    HISTOLOGIES,
    MODALITIES,
    PARTICIPANT_STATES,
    RISK_LEVELS,
    ROLES,
    VISIT_TYPES,
    WITHDRAWAL_LEVELS,
)
from pebs.web.i18n import LANGUAGES, catalogues, negotiate

OTHERS = [code for code in LANGUAGES if code != "en"]
_SAME_AS_ENGLISH = {
    "fr": {"risk.version", "allocation.title", "action.questionnaires", "qnr.title",
           "qnr.instrument", "letters_page.consultations_title", "audit_reason.questionnaire",
           "crf.allocation", "crf.questionnaire"},
    "nl": {"page.protocol"},
    "es": {"pending.provisional"},
}  # fmt: skip
"""Long messages that are rightly the same words as in English, per language."""
WEB = Path(str(resources.files("pebs.web")))
_LITERAL_KEY = re.compile(r"""\bt\(\s*["']([A-Za-z0-9_.\-]+)["']""")
_TEMPLATE_KEY_ARG = re.compile(r"""(?:hint|error|prefix)=["']([a-z_]+\.[a-z_.]*)["']""")
_FIELD = re.compile(r"{(\w+)}")
_PYTHON_KEY = re.compile(r"""["']((?:error|login|totp|dash|consort|done|nav)\.[a-z_]+)["']""")


def _used_keys() -> set[str]:
    keys: set[str] = set()
    for path in (WEB / "templates").glob("*.html"):
        text = path.read_text(encoding="utf-8")
        keys |= set(_LITERAL_KEY.findall(text))
        keys |= {k for k in _TEMPLATE_KEY_ARG.findall(text) if not k.endswith(".")}
    for path in WEB.rglob("*.py"):
        keys |= set(_PYTHON_KEY.findall(path.read_text(encoding="utf-8")))
    return {k for k in keys if not k.endswith((".", "_", ".html"))}


def _dynamic_keys() -> set[str]:
    """Keys the templates build from a prefix and a value (``"status." ~ p.status``)."""
    fields = set()
    for path in (WEB / "templates").glob("*.html"):
        text = path.read_text(encoding="utf-8")
        fields |= set(re.findall(r"""(?:input|select)\(\s*["']([a-z_]+)["']""", text))
        fields |= set(re.findall(r"""answer\(\s*["']([a-z_]+)["'], t\(""", text))
    fields |= {"signed", "username", "password", "totp_code"}
    keys = {f"field.{f}" for f in fields}
    keys |= {f"status.{s}" for s in PARTICIPANT_STATES} | {f"role.{r}" for r in ROLES}
    keys |= {f"level.{v}" for v in RISK_LEVELS} | {f"withdrawal.{v}" for v in WITHDRAWAL_LEVELS}
    keys |= {f"detection.{v}" for v in DETECTION_MODES} | {f"behaviour.{v}" for v in BEHAVIOURS}
    keys |= {f"modality.{v}" for v in MODALITIES} | {f"visit_type.{v}" for v in VISIT_TYPES}
    keys |= {f"histology.{v}" for v in HISTOLOGIES} | {f"death_cause.{v}" for v in DEATH_CAUSES}
    keys |= {f"answer.{v}" for v in ("yes", "no", "unknown")}
    keys |= {f"arm.{a}" for a in ("standard", "risk-based")}
    keys |= {f"density.{d}" for d in "abcd"}
    keys |= {f"eligibility.{r}" for r in ("eligible", "screen_failure")}
    keys |= {f"risk.rr_{c}" for c in ("classical", "prs", "density")}
    keys |= {f"risk.input_{c}" for c in ("n_biopsies", "atypical_hyperplasia", "age_at_menarche",
                                         "age_at_first_birth", "n_relatives", "density",
                                         "prs_z")}  # fmt: skip
    keys |= {"density.unknown", "field.reason", "field.confirm_lower"}
    keys |= {f"dash.by_{b}" for b in ("country", "site")}
    keys |= {f"export_format.{f}" for f in FORMATS}
    keys |= {f"dash.period_{p}" for p in ("month", "quarter", "year")}
    keys |= {f"step.{s}" for s in ("registered", "eligible", "consented", "randomised",
                                   "plan_given", "in_follow_up")}  # fmt: skip
    return keys


def test_the_scan_finds_the_keys_it_should() -> None:
    keys = _used_keys()
    assert {"nav.participants", "login.failed", "hint.date", "dash.recruitment"} <= keys
    assert len(keys) > 150


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_key_used_exists_in_every_language(language: str) -> None:
    messages = catalogues()[language].messages
    missing = sorted(k for k in _used_keys() | _dynamic_keys() if k not in messages)
    assert not missing, f"{language}: missing keys {missing}"


@pytest.mark.parametrize("language", OTHERS)
def test_every_language_has_exactly_the_english_keys(language: str) -> None:
    english, own = catalogues()["en"].messages, catalogues()[language].messages
    assert sorted(set(english) - set(own)) == [], f"{language}: missing"
    assert sorted(set(own) - set(english)) == [], f"{language}: not in English"


@pytest.mark.parametrize("language", OTHERS)
def test_long_messages_are_translated(language: str) -> None:
    english, own = catalogues()["en"].messages, catalogues()[language].messages
    allowed = _SAME_AS_ENGLISH.get(language, set())
    same = [k for k in english
            if own.get(k) == english[k] and len(_FIELD.sub("", english[k])) > 12
            and k not in allowed]  # fmt: skip
    assert not same, f"untranslated in {language}: {same}"


@pytest.mark.parametrize("language", OTHERS)
def test_every_language_keeps_the_format_fields(language: str) -> None:
    """The same fields as English; a plan note (``plan_note.*``, ``plan_context.*``) may also
    use ``<field>_age`` for an English ``<field>_ordinal`` (:mod:`pebs.i18n.plans`)."""
    english, own = catalogues()["en"].messages, catalogues()[language].messages
    changed = []
    for key, text in english.items():
        fields, theirs = set(_FIELD.findall(text)), set(_FIELD.findall(own.get(key, text)))
        if key.startswith(("plan_note.", "plan_context.")):
            fields |= {f.removesuffix("_ordinal") + "_age" for f in fields}
            changed += [key] if not theirs <= fields else []
        elif theirs != fields:
            changed.append(key)
    assert not changed, f"{language}: other format fields in {changed}"


def test_a_missing_key_falls_back_to_english() -> None:
    partial = Catalogue("xx", "X", "ltr", {"nav.home": "Maison"}, catalogues()["en"].messages)
    assert partial.text("nav.home") == "Maison"
    assert partial.text("nav.participants") == catalogues()["en"].text("nav.participants")


def test_directions() -> None:
    assert {code: catalogues()[code].direction for code in LANGUAGES} == {
        "en": "ltr", "fr": "ltr", "it": "ltr", "nl": "ltr", "he": "rtl", "es": "ltr"}  # fmt: skip


def test_unknown_key_is_an_error() -> None:
    with pytest.raises(KeyError):
        catalogues()["fr"].text("no.such.key")


def test_formatting() -> None:
    assert catalogues()["fr"].text("list.caption", n=3) == "3 participantes sur cette page"


@pytest.mark.parametrize(
    ("header", "cookie", "expected"),
    [
        (None, None, "en"),
        ("fr-FR,fr;q=0.9", None, "fr"),
        ("de;q=1.0, he;q=0.8, fr;q=0.5", None, "he"),
        ("fr;q=0, es", None, "es"),
        ("it;q=abc", None, "en"),
        ("fr", "nl", "nl"),
        ("fr", "xx", "fr"),
    ],
)
def test_negotiate(header: str | None, cookie: str | None, expected: str) -> None:
    assert negotiate(header, cookie) == expected


def test_every_permission_has_its_words_and_english_matches_the_command_line() -> None:
    """A refused page names the action (``permission.<name>``) in its own language; in English
    with the same words as the command line's and the API's refusal."""
    from pebs.services.actor import Action

    english = catalogues()["en"].messages
    named = {key.removeprefix("permission."): text for key, text in english.items()
             if key.startswith("permission.")}  # fmt: skip
    assert named == {action.name.lower(): action.value for action in Action}
