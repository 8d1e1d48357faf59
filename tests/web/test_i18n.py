"""The message catalogues: every key the pages use exists in English and French; the started
languages fall back to English; Hebrew is right to left."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from pebs.trial.vocabularies import (
    BEHAVIOURS,
    DETECTION_MODES,
    PARTICIPANT_STATES,
    RISK_LEVELS,
    ROLES,
    WITHDRAWAL_LEVELS,
)
from pebs.web.i18n import LANGUAGES, catalogues, negotiate

_SAME_IN_BOTH = {"risk.version", "allocation.title", "action.questionnaires", "qnr.title",
                 "qnr.instrument"}
"""Words that are the same in English and French."""
WEB = Path(str(resources.files("pebs.web")))
_LITERAL_KEY = re.compile(r"""\bt\(\s*["']([A-Za-z0-9_.\-]+)["']""")
_TEMPLATE_KEY_ARG = re.compile(r"""(?:hint|error|prefix)=["']([a-z_]+\.[a-z_.]*)["']""")
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
    keys |= {f"dash.period_{p}" for p in ("month", "quarter", "year")}
    keys |= {f"step.{s}" for s in ("registered", "eligible", "consented", "randomised",
                                   "plan_given", "in_follow_up")}  # fmt: skip
    return keys


def test_the_scan_finds_the_keys_it_should() -> None:
    keys = _used_keys()
    assert {"nav.participants", "login.failed", "hint.date", "dash.recruitment"} <= keys
    assert len(keys) > 150


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_key_used_exists_in_english_and_french(language: str) -> None:
    messages = catalogues()[language].messages
    missing = sorted(k for k in _used_keys() | _dynamic_keys() if k not in messages)
    assert not missing, f"{language}: missing keys {missing}"


def test_french_has_exactly_the_english_keys() -> None:
    english, french = catalogues()["en"].messages, catalogues()["fr"].messages
    assert set(english) == set(french)
    same = [
        k
        for k in english
        if english[k] == french[k] and len(english[k]) > 12 and k not in _SAME_IN_BOTH
    ]
    assert not same, f"untranslated in French: {same}"


def test_french_keeps_the_format_fields() -> None:
    english, french = catalogues()["en"].messages, catalogues()["fr"].messages
    for key, text in english.items():
        assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", french[key])), key


def test_started_languages_fall_back_to_english() -> None:
    for code in ("it", "nl", "he", "es"):
        catalogue = catalogues()[code]
        assert catalogue.text("nav.participants") != catalogues()["en"].text("nav.participants")
        assert catalogue.text("dash.recruitment") == "Recruitment against target"
        assert set(catalogue.messages) <= set(catalogues()["en"].messages), code


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
