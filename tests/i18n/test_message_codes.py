"""Every refusal a service gives a message code (any error family: ``InvalidInput``,
``Conflict``, ``NotFound``...) has its text in all six languages, with no format field the
service does not fill; and a page shows a coded refusal in its own language."""

from __future__ import annotations

import ast
import string
from datetime import date
from importlib import resources
from pathlib import Path

import pytest

from pebs.i18n import LANGUAGES, catalogues
from pebs.services.errors import Conflict, NotFound
from pebs.web.forms import refusal_text

SERVICES = Path(str(resources.files("pebs.services")))


def _coded() -> list[tuple[str, str, frozenset[str] | None]]:
    """(where, code, names of its values; ``None`` when the values are not a literal dict) of
    every call with a literal ``message_code=`` in the services."""
    found = []
    for path in sorted(SERVICES.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            code = keywords.get("message_code")
            if not isinstance(code, ast.Constant):
                continue
            values = keywords.get("values")
            names: frozenset[str] | None = frozenset()
            if isinstance(values, ast.Dict):
                names = frozenset(k.value for k in values.keys if isinstance(k, ast.Constant))
            elif values is not None:
                names = None
            found.append((f"{path.relative_to(SERVICES)}:{node.lineno}", code.value, names))
    return found


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_scan_finds_codes_of_every_family() -> None:
    codes = {code for _, code, _ in _coded()}
    assert {"error.no_participant", "error.visit_recorded", "error.kit_exists",
            "error.consent_version", "error.future"} <= codes  # fmt: skip


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_code_has_its_text_in_every_language(language: str) -> None:
    messages = catalogues()[language].messages
    for where, code, names in _coded():
        assert code in messages, f"{language}: {where}: {code} missing"
        if names is not None:
            assert _fields(messages[code]) <= names, f"{language}: {where}: {code} needs values"


def test_a_conflict_is_shown_in_the_page_language_with_its_date() -> None:
    error = Conflict("visit 3 was already recorded (2027-03-09)",
                     message_code="error.visit_recorded",
                     values={"day": date(2027, 3, 9)})  # fmt: skip
    assert refusal_text(error, catalogues()["fr"]) == (
        "Cette visite a déjà été enregistrée (9 mars 2027)."
    )
    english = refusal_text(error, catalogues()["en"])
    assert english == "This visit was already recorded (9 Mar 2027)."


def test_a_refusal_without_a_code_keeps_its_own_words() -> None:
    assert refusal_text(NotFound("no such thing"), catalogues()["he"]) == "no such thing"
