"""A service's refusal carries its field and, for the pages, a message key: the key exists in
every catalogue with the format fields the service fills, the API names the field in ``fields``
and the page puts the message next to that field, in the page's language."""

from __future__ import annotations

import ast
import html
import re
import string
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from pebs.web.i18n import LANGUAGES, catalogues

SERVICES = Path(str(resources.files("pebs.services")))
V1 = "/api/v1"


def _coded_refusals() -> list[tuple[str, str, frozenset[str]]]:
    """(where, message code, names of its values) of every ``InvalidInput(...,
    message_code="...")`` in the services; ``values`` must be a literal dict."""
    found = []
    for path in sorted(SERVICES.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            is_refusal = (
                isinstance(node, ast.Call) and getattr(node.func, "id", "") == "InvalidInput"
            )
            if not is_refusal:
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            code = keywords.get("message_code")
            if code is None:
                continue
            assert isinstance(code, ast.Constant), f"{path.name}:{node.lineno}: a literal code"
            values = keywords.get("values")
            names: frozenset[str] = frozenset()
            if values is not None:
                assert isinstance(values, ast.Dict), f"{path.name}:{node.lineno}: a literal dict"
                names = frozenset(k.value for k in values.keys if isinstance(k, ast.Constant))
            found.append((f"{path.name}:{node.lineno}", code.value, names))
    return found


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_scan_finds_the_coded_refusals() -> None:
    codes = {code for _, code, _ in _coded_refusals()}
    assert {"error.future", "error.choice", "error.range", "error.age_at_entry"} <= codes


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_code_of_the_services_has_its_text(language: str) -> None:
    catalogue = catalogues()[language]
    for where, code, names in _coded_refusals():
        assert catalogue.has(code), f"{where}: {code} missing"
        assert _fields(catalogue.text(code)) <= names, f"{where}: {code} needs more values"


def test_new_service_messages_are_translated_in_every_language() -> None:
    english = catalogues()["en"].messages
    for code in ("error.future", "error.age_at_entry", "error.histology_needs_biopsy",
                 "error.field_message"):  # fmt: skip
        for language in LANGUAGES:
            own = catalogues()[language].messages
            assert code in own, (language, code)
            assert _fields(own[code]) == _fields(english[code]), (language, code)


def _field_error(text: str, name: str) -> str | None:
    found = re.search(rf'id="f-{name}-error">([^<]*)<', html.unescape(text))
    return None if found is None else found.group(1)


def test_a_refusal_is_named_by_the_api_and_translated_next_to_its_field(site: Any) -> None:
    site.login("site_staff")
    future = (site.db.today() + timedelta(days=3)).isoformat()
    csrf = site.client.get(f"{V1}/auth/me").json()["csrf_token"]
    body = {"study": "mypebs-demo", "site": "IT-TO", "name": "Later Woman", "birth_date": future}
    api = site.client.post(f"{V1}/participants", json=body, headers={"X-CSRF-Token": csrf})
    assert api.status_code == 422
    assert api.json() == {
        "error": "invalid_input",
        "detail": f"birth_date: {future} is in the future",
        "fields": [{"field": "birth_date", "message": f"{future} is in the future"}],
    }
    form = {"site": "mypebs-demo/IT-TO", "name": "Later Woman", "birth_date": future}
    expected = {"en": f"{future} is in the future", "fr": f"{future} est dans le futur",
                "it": f"{future} è nel futuro"}  # fmt: skip
    for language, message in expected.items():
        site.client.cookies.set("pebs_lang", language)
        page = site.post_form("/participants/new", form)
        assert page.status_code == 422, language
        assert _field_error(page.text, "birth_date") == message
    site.client.cookies.delete("pebs_lang")


def test_missing_tnm_categories_are_named_next_to_each(site: Any) -> None:
    study_id = site.db.participant(state="standard")
    site.login("site_staff")
    form = {"diagnosis_date": site.db.today().isoformat(), "detection_mode": "clinical",
            "behaviour": "invasive", "t": "T1c"}  # fmt: skip
    page = site.post_form(f"/participants/{study_id}/outcome", form)
    assert page.status_code == 422
    problem = "give all three TNM categories, or none (stage not known)"
    assert [_field_error(page.text, name) for name in ("t", "n", "m")] == [None, problem, problem]
