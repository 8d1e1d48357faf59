"""The audit trail's reasons in every language: every reason the services can write (found in
their source) is an English ``audit_reason.*`` message with a translation in each of the six
languages, and her page shows the reasons in the page language, a typed reason as typed."""

from __future__ import annotations

import ast
import html
import re
import string
from pathlib import Path
from typing import Any

import pytest

import pebs
from pebs.i18n import DEFAULT_LANGUAGE, LANGUAGES, catalogues
from pebs.i18n.audit_reasons import PREFIX, audit_reason, reason_key
from pebs.services.trial import withdraw

SERVICES = Path(pebs.__file__).parent / "services"

PASSED_ON = {
    # pebs.services.auth.logins: the reasons of a failed login, given to its helper by position
    "auth/logins.py": ("unknown username", "wrong password", "account disabled",
                       "wrong TOTP code", "reused TOTP code"),
}  # fmt: skip
"""Reasons the scan below cannot see (passed by position), by the module that writes them."""


def _texts(node: ast.expr) -> list[str]:
    """The texts an expression may be: a literal, an f-string (each field as ``{}``), or either
    side of ``a or b`` / ``a if c else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return ["".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)]
    if isinstance(node, ast.BoolOp):
        return [t for value in node.values for t in _texts(value)]
    if isinstance(node, ast.IfExp):
        return _texts(node.body) + _texts(node.orelse)
    return []


def _gives_a_reason(node: ast.AST) -> bool:
    """``reason=...`` / ``why=...`` in a call, or ``reason = ...`` / ``why = ...``."""
    if isinstance(node, ast.keyword):
        return node.arg in ("reason", "why")
    return isinstance(node, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id in ("reason", "why") for t in node.targets
    )


def _written_reasons() -> set[str]:
    """Every reason text in the services that write audit events: ``reason=``/``why=``
    arguments, values given to a ``reason``/``why`` variable and returned by a ``*_reason``
    function, and :data:`PASSED_ON`."""
    found: set[str] = set()
    for path in sorted(SERVICES.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if "append_event(" not in source:
            continue  # writes no audit event
        for node in ast.walk(ast.parse(source)):
            if _gives_a_reason(node):
                found.update(_texts(node.value))
            elif isinstance(node, ast.FunctionDef) and node.name.endswith("_reason"):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Return) and inner.value is not None:
                        found.update(_texts(inner.value))
    for module, reasons in PASSED_ON.items():
        source = (SERVICES / module).read_text(encoding="utf-8")
        assert all(f'"{reason}"' in source for reason in reasons), module
        found.update(reasons)
    return found


def _filled(template: str) -> str:
    """A reason as stored: each ``{}`` field of the f-string given a value of its own."""
    parts = template.split("{}")
    return "".join(f"{part}V{n}" for n, part in enumerate(parts[:-1])) + parts[-1]


REASONS = sorted(_written_reasons())


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_scan_finds_the_reasons_of_her_pathway() -> None:
    assert {"informed consent", "visit results", "identifying data viewed", "registration",
            "automatic risk assessment: her data is complete", "eligibility under protocol {}",
            "wrong password", "kit assigned by hand"} <= set(REASONS)  # fmt: skip
    assert len(REASONS) >= 50


@pytest.mark.parametrize("template", REASONS)
def test_every_reason_the_services_write_has_a_message(template: str) -> None:
    stored = _filled(template)
    found = reason_key(stored)
    assert found is not None, f"no audit_reason.* message in en/audit.toml reads {stored!r}"
    key, values = found
    assert catalogues()[DEFAULT_LANGUAGE].text(key, **values) == stored


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_reason_message_is_in_each_language_with_the_same_fields(language: str) -> None:
    english = catalogues()[DEFAULT_LANGUAGE].messages
    own = catalogues()[language].messages  # not the English fallback
    keys = [key for key in english if key.startswith(PREFIX)]
    assert [key for key in keys if key not in own] == []
    assert [key for key in keys if _fields(own[key]) - _fields(english[key])] == []


def test_a_reason_is_written_in_the_reader_language() -> None:
    french, hebrew = catalogues()["fr"], catalogues()["he"]
    assert audit_reason(french, "informed consent") == "consentement éclairé"
    assert audit_reason(hebrew, "visit results") == "תוצאות הביקור"
    assert audit_reason(french, "eligibility under protocol 2.1") == (
        "éligibilité selon le protocole 2.1"
    )
    # codes in words: the level and the arm as the pages name them
    assert audit_reason(catalogues()["es"], "screening plan for risk level very_high") == (
        "plan de cribado para: riesgo muy alto"
    )
    assert audit_reason(french, "randomisation to the risk-based arm") == (
        "tirage au sort dans le bras : selon le risque"
    )
    # what a person typed stays as typed, even when it starts like a system reason
    assert audit_reason(french, "moved abroad") == "moved abroad"
    assert audit_reason(french, "informed consent given twice") == "informed consent given twice"
    assert audit_reason(french, None) == ""
    assert audit_reason(catalogues()["en"], "informed consent") == "informed consent"


def test_her_page_shows_the_reasons_in_its_language(site: Any) -> None:
    study_id = site.db.participant(state="consented")
    typed = "Sie zieht nach Berlin"
    withdraw(site.db.sessions, site.db.manager, study_id, level="no_further_contact",
             reason=typed)  # fmt: skip
    site.login("site_staff")
    site.client.cookies.set("pebs_lang", "it")
    page = html.unescape(site.client.get(f"/participants/{study_id}").text)
    trail = re.search(r'<section id="audit".*?</section>', page, re.S).group(0)
    reasons = re.findall(r"<td>([^<]*)</td></tr>", trail)
    assert "consenso informato" in reasons  # informed consent
    assert "registrazione" in reasons  # registration
    assert typed in reasons
    assert "informed consent" not in reasons
