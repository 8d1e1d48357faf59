"""The template files: all load, and the loader refuses what breaks the format."""

from __future__ import annotations

import copy
import re
import tomllib
from importlib import resources

import pytest

from pebs.letters.templates import (
    LETTERS,
    TEMPLATE_VERSION,
    TemplateError,
    fill,
    parse,
    templates,
)
from pebs.trial.vocabularies import LANGUAGES, LETTER_KINDS

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _english() -> dict:
    raw = resources.files("pebs.letters.templates").joinpath("en.toml").read_text("utf-8")
    return tomllib.loads(raw)


def test_every_language_has_every_letter() -> None:
    loaded = templates()
    assert set(loaded) == set(LANGUAGES)
    for language in LANGUAGES:
        assert set(loaded[language].letters) == set(LETTERS)
    assert {kind for kind, _ in LETTERS} == set(LETTER_KINDS)


def test_languages_use_the_same_placeholders_as_english() -> None:
    """A translation that drops {kit_id} or {risk_percent} would hide a fact from her."""
    loaded = templates()

    def used(language: str, kind: str, recipient: str) -> list[set[str]]:
        template = loaded[language].letters[kind, recipient]
        texts = [template.title, *(block.text or "" for block in template.blocks)]
        return [set(PLACEHOLDER.findall(text)) for text in texts]

    for kind, recipient in LETTERS:
        english = set().union(*used("en", kind, recipient))
        for language in LANGUAGES:
            assert set().union(*used(language, kind, recipient)) == english, (language, kind)
            blocks = loaded[language].letters[kind, recipient].blocks
            english_blocks = loaded["en"].letters[kind, recipient].blocks
            assert [(b.type, b.when) for b in blocks] == [
                (b.type, b.when) for b in english_blocks
            ], (language, kind, recipient)


def test_unknown_placeholder_names_the_file_and_the_key() -> None:
    document = _english()
    document["recollection"]["woman"]["blocks"][1]["text"] = "Your kit {kit_number}."
    with pytest.raises(TemplateError) as raised:
        parse(document, "en", "templates/en.toml")
    message = str(raised.value)
    assert "templates/en.toml" in message
    assert "recollection.woman.blocks[1].text" in message
    assert "{kit_number}" in message
    assert "kit_id" in message


@pytest.mark.parametrize(
    "text", ["{full_name.__class__}", "{0}", "{full_name!r}", "{full_name:>10}", "a } b"]
)
def test_refuses_anything_but_plain_names(text: str) -> None:
    document = _english()
    document["end_of_study"]["woman"]["title"] = text
    with pytest.raises(TemplateError, match=r"end_of_study\.woman\.title"):
        parse(document, "en", "en.toml")


def test_a_placeholder_of_another_kind_is_refused() -> None:
    """{kit_id} means nothing in an end-of-study letter."""
    document = _english()
    document["end_of_study"]["woman"]["blocks"][0]["text"] = "Kit {kit_id}"
    with pytest.raises(TemplateError, match=r"\{kit_id\}"):
        parse(document, "en", "en.toml")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["words"].pop("plan_due"), "words.plan_due is missing"),
        (lambda d: d["words"].update(plan_when="When"), "words.plan_when is not a known word"),
        (lambda d: d["standard_arm"].pop("woman"), r"\[standard_arm.woman\] is missing"),
        (
            lambda d: d["standard_arm"].update(doctor=d["recollection"]["woman"]),
            r"\[standard_arm.doctor\] has no letter",
        ),
        (lambda d: d.update(reminder={}), r"\[reminder\] is not a letter kind"),
        (
            lambda d: d["recollection"]["woman"]["blocks"].append({"type": "signature"}),
            r"blocks\[7\]\.type: 'signature' is not one of",
        ),
        (
            lambda d: d["recollection"]["woman"]["blocks"].append({"type": "model"}),
            "doctor's copy only",
        ),
        (
            lambda d: d["recollection"]["woman"]["blocks"][0].update(when="sometimes"),
            r"blocks\[0\]\.when: 'sometimes'",
        ),
        (
            lambda d: d["recollection"]["woman"]["blocks"].append({"type": "contact", "text": "x"}),
            "takes no text",
        ),
        (lambda d: d["recollection"]["woman"]["blocks"][0].pop("text"), "non-empty string"),
    ],
)
def test_refuses_a_broken_file(change, expected: str) -> None:
    document = copy.deepcopy(_english())
    change(document)
    with pytest.raises(TemplateError, match=expected):
        parse(document, "en", "en.toml")


def test_fill_replaces_names_only() -> None:
    fields = {"full_name": "Ada", "study_id": "X-1"}
    assert fill("Dear {full_name} ({study_id}), {full_name}", fields) == "Dear Ada (X-1), Ada"
    # values are not read again as templates
    assert fill("{full_name}", {"full_name": "{study_id}"}) == "{study_id}"


def test_template_version_names_the_files() -> None:
    series, digest = TEMPLATE_VERSION.split("+")
    assert series.isdigit()
    assert re.fullmatch(r"[0-9a-f]{12}", digest)
