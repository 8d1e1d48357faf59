"""The one rule for text that cannot be stored, and that every use case applies it.

The rule (independent of the code): a text can be stored when it has no NUL character and
encodes to UTF-8 (Python refuses to encode the surrogates U+D800 to U+DFFF).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import dataclass

import pytest

import pebs.services
from pebs.services.errors import InvalidFields
from pebs.services.storable_text import refuses_unstorable_text, text_problems


@dataclass(frozen=True)
class _Input:
    name: str
    notes: tuple[str, ...] = ()


def _storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


@pytest.mark.parametrize("text", ["", "Zoë", "שלום", "\t=1", "\U0001f600", chr(0xD800),
                                  chr(0xDCFF), "a\x00", chr(0xD83D) + chr(0xDE00)])  # fmt: skip
def test_the_rule_is_utf8_without_nul(text: str) -> None:
    assert (text_problems({"x": text}) == {}) is _storable(text)


def test_problems_are_named_by_the_callers_fields() -> None:
    problems = text_problems({
        "new": _Input("ok", ("fine", "bad\x00")),
        "answers": {"q1": ["x", "\ud800"], "q\x00": 1, "q2": {"deep": "\udfff"}},
        "study_id": "IT-TO-000001",
        "count": 3,
    })  # fmt: skip
    assert sorted(problems) == ["answers", "answers.q1.1", "answers.q2.deep", "notes.1"]
    assert problems["notes.1"] == "must not contain the NUL character (U+0000)"
    assert problems["answers"].startswith("an item name must not contain the NUL")
    assert problems["answers.q2.deep"].startswith("contains U+DFFF")


def test_a_wrapped_use_case_does_not_run_on_unstorable_text() -> None:
    calls = []

    @refuses_unstorable_text
    def use_case(sessions: object, *, cause: str, detail: str | None = None) -> str:
        calls.append(cause)
        return cause

    assert use_case(None, cause="other") == "other"
    with pytest.raises(InvalidFields) as refused:
        use_case(None, cause="x\ud800", detail="a\x00")
    assert refused.value.fields == {
        "cause": "contains U+D800, half of a UTF-16 surrogate pair and not a character; send "
        "the text as UTF-8",
        "detail": "must not contain the NUL character (U+0000)",
    }
    assert calls == ["other"]


USE_CASE_PACKAGES = (
    "trial",
    "records",
    "auth",
    "samples",
    "laboratory",
    "letters",
    "queries",
    "monitoring",
    "analysis",
)
"""The service packages whose use cases the entry points call with text from a request."""


def _use_cases() -> list[tuple[str, object]]:
    """Public functions of the :data:`USE_CASE_PACKAGES` whose first argument is a session
    factory: the use cases the entry points call."""
    found = []
    for module_info in pkgutil.walk_packages(pebs.services.__path__, "pebs.services."):
        parts = module_info.name.split(".")
        if parts[2] not in USE_CASE_PACKAGES or any(p.startswith("_") for p in parts):
            continue
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(value):
                continue
            if inspect.unwrap(value).__module__ != module.__name__:
                continue
            parameters = list(inspect.signature(value).parameters.values())
            if parameters and "sessionmaker" in str(parameters[0].annotation):
                found.append((f"{module.__name__}.{name}", value))
    return found


def test_every_use_case_refuses_unstorable_text() -> None:
    use_cases = _use_cases()
    assert len(use_cases) > 40  # the walk found them
    unchecked = [name for name, f in use_cases if not getattr(f, "refuses_unstorable_text", False)]
    assert unchecked == []
