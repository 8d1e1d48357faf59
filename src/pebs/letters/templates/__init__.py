"""The letters' wording: one TOML file per language, ``templates/<code>.toml``, read once.

A file has a ``[words]`` table (the words every letter of that language shares: table headings,
contact labels, the natural-frequency sentences, what each risk level means, the exams' names)
and one table per letter, named ``[<kind>.<recipient>]`` (``[risk_result.woman]``,
``[risk_result.doctor]``, ``[standard_arm.woman]``, ``[recollection.woman]``,
``[end_of_study.woman]``). A letter's table has a ``title`` and an ordered array of ``blocks``::

    [[risk_result.woman.blocks]]
    type = "paragraph"            # heading | paragraph | plan | contact | model
    text = "Dear {full_name},"    # heading and paragraph only
    when = "provisional"          # optional: provisional | final | exams | no_exams | plan_end

``{name}`` placeholders are filled with the letter's facts by :func:`fill`, a plain lookup of
named fields (no attribute access, no format specification, no expression). Which names a
letter may use is fixed by its kind and recipient (:func:`allowed_fields`); the files are checked
when they are read, and an unknown placeholder, block type, condition, word or letter is an error
naming the file and the key.

:data:`TEMPLATE_VERSION` changes whenever a template file does (its last part is the files'
SHA-256), so the version recorded with an issued letter names the wording it was printed with.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from pebs.trial.vocabularies import LANGUAGES, MODALITIES, RISK_LEVELS

__all__ = [
    "BLOCK_TYPES",
    "CONDITIONS",
    "LETTERS",
    "TEMPLATE_VERSION",
    "Block",
    "LetterTemplate",
    "TemplateError",
    "Templates",
    "allowed_fields",
    "fill",
    "templates",
]

LETTERS = (
    ("risk_result", "woman"),
    ("risk_result", "doctor"),
    ("standard_arm", "woman"),
    ("recollection", "woman"),
    ("end_of_study", "woman"),
)
"""Every (kind, recipient) that has a template: the doctor's copy exists for risk results only."""
BLOCK_TYPES = ("heading", "paragraph", "plan", "contact", "model")
"""``plan``: the table of her exams; ``contact``: the site's contact; ``model``: the model's name,
version, card, inputs and components (doctor's copy only)."""
CONDITIONS = ("provisional", "final", "exams", "no_exams", "plan_end")
"""A block with ``when`` is printed only if the result is provisional / final, if she has exams
/ none, if the plan has an end date."""
_COMMON_FIELDS = ("full_name", "study_id", "issued_on", "site_name")
_KIND_FIELDS = {
    "risk_result": (
        "level",
        "level_meaning",
        "level_advice",
        "risk_percent",
        "risk_frequency",
        "plan_end",
    ),
    "standard_arm": ("plan_end",),
    "recollection": ("kit_id",),
    "end_of_study": ("visit_due", "visit_place"),
}
_DOCTOR_FIELDS = ("model_name", "model_version", "model_card_url")
_FREQUENCY_FIELDS = ("count", "denominator")
WORDS: dict[str, tuple[str, ...]] = {
    "reference": ("study_id",),
    "plan_due": (),
    "plan_exam": (),
    "plan_place": (),
    "plan_reason": (),
    "contact_heading": (),
    "contact_phone": (),
    "contact_email": (),
    "contact_address": (),
    "model_heading": (),
    "model_name_version": ("model_name", "model_version"),
    "model_card": ("model_card_url",),
    "inputs_heading": (),
    "input_column": (),
    "value_column": (),
    "components_heading": (),
    "component_column": (),
    "relative_risk_column": (),
    "unknown": (),
    "frequency_100_one": _FREQUENCY_FIELDS,
    "frequency_100_other": _FREQUENCY_FIELDS,
    "frequency_1000_one": _FREQUENCY_FIELDS,
    "frequency_1000_other": _FREQUENCY_FIELDS,
    "frequency_fewer": _FREQUENCY_FIELDS,
    **{f"level_{level}_{part}": () for level in RISK_LEVELS for part in ("meaning", "advice")},
    **{f"exam_{modality}": () for modality in MODALITIES},
}
"""Every word a language's ``[words]`` table gives, with the placeholders it may use."""
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_VERSION_SERIES = "1"


class TemplateError(ValueError):
    """A template file breaks the rules above (the message names the file and the key)."""


@dataclass(frozen=True)
class Block:
    """One block of a letter: ``text`` for headings and paragraphs, ``when`` its condition."""

    type: str
    text: str | None = None
    when: str | None = None


@dataclass(frozen=True)
class LetterTemplate:
    """The title and blocks of one kind of letter to one recipient, in one language."""

    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Templates:
    """The templates and words of one language."""

    language: str
    words: Mapping[str, str]
    letters: Mapping[tuple[str, str], LetterTemplate]


def allowed_fields(kind: str, recipient: str) -> tuple[str, ...]:
    """The placeholders a letter of this kind to this recipient may use."""
    doctor = _DOCTOR_FIELDS if recipient == "doctor" else ()
    return (*_COMMON_FIELDS, *_KIND_FIELDS[kind], *doctor)


def fill(text: str, fields: Mapping[str, str]) -> str:
    """``text`` with every ``{name}`` replaced by ``fields[name]`` (names only, nothing else).

    >>> fill("About {count} in {denominator}.", {"count": "3", "denominator": "100"})
    'About 3 in 100.'
    """
    return _PLACEHOLDER.sub(lambda match: fields[match.group(1)], text)


def _check_text(text: Any, allowed: tuple[str, ...], where: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise TemplateError(f"{where}: must be a non-empty string")
    for name in _PLACEHOLDER.findall(text):
        if name not in allowed:
            raise TemplateError(
                f"{where}: unknown placeholder {{{name}}}; allowed: {', '.join(allowed) or 'none'}"
            )
    if "{" in _PLACEHOLDER.sub("", text) or "}" in _PLACEHOLDER.sub("", text):
        raise TemplateError(f"{where}: a brace that is not a {{name}} placeholder")
    return text


def _block(raw: Any, kind: str, recipient: str, where: str) -> Block:
    if not isinstance(raw, dict):
        raise TemplateError(f"{where}: must be a table")
    unknown = set(raw) - {"type", "text", "when"}
    if unknown:
        raise TemplateError(
            f"{where}: unknown key {sorted(unknown)[0]!r}; allowed: type, text, when"
        )
    block_type, when = raw.get("type"), raw.get("when")
    if block_type not in BLOCK_TYPES:
        raise TemplateError(f"{where}.type: {block_type!r} is not one of: {', '.join(BLOCK_TYPES)}")
    if when is not None and when not in CONDITIONS:
        raise TemplateError(f"{where}.when: {when!r} is not one of: {', '.join(CONDITIONS)}")
    if block_type == "model" and recipient != "doctor":
        raise TemplateError(f"{where}: a model block belongs in the doctor's copy only")
    text = None
    if block_type in ("heading", "paragraph"):
        text = _check_text(raw.get("text"), allowed_fields(kind, recipient), f"{where}.text")
    elif "text" in raw:
        raise TemplateError(f"{where}.text: a {block_type} block takes no text")
    return Block(block_type, text, when)


def _letter(raw: Any, kind: str, recipient: str, where: str) -> LetterTemplate:
    if not isinstance(raw, dict) or set(raw) != {"title", "blocks"}:
        raise TemplateError(f"{where}: must be a table of exactly title and blocks")
    title = _check_text(raw["title"], allowed_fields(kind, recipient), f"{where}.title")
    if not isinstance(raw["blocks"], list) or not raw["blocks"]:
        raise TemplateError(f"{where}.blocks: must be a non-empty array of tables")
    blocks = tuple(
        _block(block, kind, recipient, f"{where}.blocks[{index}]")
        for index, block in enumerate(raw["blocks"])
    )
    return LetterTemplate(title, blocks)


def parse(document: Mapping[str, Any], language: str, name: str) -> Templates:
    """Check one language's parsed template file (``name`` is used in error messages)."""
    words = document.get("words")
    if not isinstance(words, dict):
        raise TemplateError(f"{name}: no [words] table")
    for key in sorted(set(WORDS) ^ set(words)):
        problem = "is missing" if key in WORDS else "is not a known word"
        raise TemplateError(f"{name}: words.{key} {problem}")
    checked = {key: _check_text(words[key], WORDS[key], f"{name}: words.{key}") for key in WORDS}
    kinds = {kind for kind, _ in LETTERS}
    for kind in set(document) - {"words"}:
        if kind not in kinds:
            raise TemplateError(f"{name}: [{kind}] is not a letter kind; allowed: {sorted(kinds)}")
    letters = {}
    for kind, recipient in LETTERS:
        raw = document.get(kind, {}).get(recipient)
        if raw is None:
            raise TemplateError(f"{name}: [{kind}.{recipient}] is missing")
        letters[kind, recipient] = _letter(raw, kind, recipient, f"{name}: {kind}.{recipient}")
    for kind in kinds:
        extra = set(document.get(kind, {})) - {r for k, r in LETTERS if k == kind}
        if extra:
            raise TemplateError(f"{name}: [{kind}.{sorted(extra)[0]}] has no letter")
    return Templates(language, checked, letters)


def _files() -> dict[str, bytes]:
    folder = resources.files(__name__)
    return {code: folder.joinpath(f"{code}.toml").read_bytes() for code in LANGUAGES}


@cache
def templates() -> dict[str, Templates]:
    """Every language's templates, read and checked once."""
    result = {}
    for code, raw in _files().items():
        name = f"templates/{code}.toml"
        try:
            document = tomllib.loads(raw.decode("utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise TemplateError(f"{name}: {error}") from error
        result[code] = parse(document, code, name)
    return result


def _version() -> str:
    digest = hashlib.sha256()
    for code, raw in sorted(_files().items()):
        digest.update(code.encode() + b"\0" + raw + b"\0")
    return f"{_VERSION_SERIES}+{digest.hexdigest()[:12]}"


TEMPLATE_VERSION = _version()
"""The wording's version: ``<series>+<first 12 hex digits of the files' SHA-256>``."""
