"""From a letter's facts to its words: the resolved blocks both renderers print.

:func:`resolve` chooses the template of the letter's language, kind and recipient, keeps the
blocks whose condition holds, fills the placeholders (dates, percents and counts in the
language's format, :mod:`pebs.i18n.formats`) and expands the plan, contact and model blocks into
headings, paragraphs and tables. The PDF (:mod:`pebs.letters.pdf`) and the HTML
(:mod:`pebs.letters.html_document`) are two layouts of the same :class:`ResolvedLetter`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from pebs.i18n import catalogues, formats
from pebs.letters.content import LetterData
from pebs.letters.frequency import natural_frequency
from pebs.letters.templates import Block, Templates, allowed_fields, fill, templates
from pebs.trial.vocabularies import MODALITIES, RISK_LEVELS

__all__ = ["Heading", "Paragraph", "ResolvedLetter", "Table", "letter_title", "resolve"]


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str
    """May hold line breaks (``\\n``), kept by both renderers."""


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]
    """Each column's share of the text width (they add up to 1)."""


Part = Heading | Paragraph | Table


@dataclass(frozen=True)
class ResolvedLetter:
    """A letter in words, ready to lay out."""

    language: str
    direction: str
    """``ltr`` or ``rtl``."""
    title: str
    sender: tuple[str, ...]
    """The site's name, address lines, phone and email."""
    recipient: tuple[str, ...]
    """Her name and address lines (empty for the doctor's copy)."""
    issued_on: date
    date: str
    """``issued_on`` in the language's long form."""
    reference: str
    parts: tuple[Part, ...]


_PLAN_WIDTHS = (0.18, 0.27, 0.2, 0.35)
_LRM = "\u200e"
_TWO_COLUMNS = (0.55, 0.45)


def _left_to_right(value: str) -> str:
    """``value`` marked as left-to-right if it has no right-to-left letter (for Hebrew letters).

    A Latin address, phone number, kit ID or URL inside a right-to-left line would otherwise be
    split into runs and reordered ("+33 4 78" shown as "78 4 33+"); a left-to-right mark
    (U+200E) on each side keeps it one left-to-right run (Unicode bidirectional algorithm, UAX 9,
    rules W7 and N1).
    """
    if not value or any(unicodedata.bidirectional(char) in ("R", "AL") for char in value):
        return value
    return f"{_LRM}{value}{_LRM}"


def _rtl(data: LetterData) -> bool:
    return catalogues()[data.language].direction == "rtl"


def _marked(values: Iterable[str], rtl: bool) -> tuple[str, ...]:
    return tuple(_left_to_right(value) if rtl else value for value in values)


def _require(data: LetterData) -> None:
    needed = {
        "risk_result": ("level", "five_year_risk"),
        "recollection": ("kit_id",),
        "end_of_study": ("visit_due",),
    }.get(data.kind, ())
    if data.recipient == "doctor":
        if data.kind != "risk_result":
            raise ValueError(f"a {data.kind} letter has no doctor's copy (risk_result only)")
        needed += ("model",)
    for name in needed:
        if getattr(data, name) is None:
            raise ValueError(f"a {data.kind} letter to the {data.recipient} needs {name}")
    if data.level is not None and data.level not in RISK_LEVELS:
        raise ValueError(f"level {data.level!r} is not one of: {', '.join(RISK_LEVELS)}")
    for exam in data.exams:
        if exam.modality not in MODALITIES:
            raise ValueError(
                f"exam modality {exam.modality!r} is not one of: {', '.join(MODALITIES)}"
            )


def _frequency(proportion: float, words: Mapping[str, str], language: str) -> str:
    frequency = natural_frequency(proportion)
    if frequency.fewer_than:
        key = "frequency_fewer"
    else:
        key = f"frequency_{frequency.denominator}_{'one' if frequency.count == 1 else 'other'}"
    return fill(
        words[key],
        {
            "count": formats.decimal(frequency.count, language, digits=0),
            "denominator": formats.decimal(frequency.denominator, language, digits=0),
        },
    )


def _fields(data: LetterData, words: Mapping[str, str]) -> dict[str, str]:
    """Every placeholder this letter may use, as text in its language."""
    language = data.language
    values = {
        "full_name": data.full_name,
        "study_id": data.study_id,
        "issued_on": formats.long_date(data.issued_on, language),
        "site_name": data.site.name,
        "kit_id": data.kit_id or "",
        "visit_place": data.site.name,
        "plan_end": formats.long_date(data.plan_end, language) if data.plan_end else "",
        "visit_due": formats.long_date(data.visit_due, language) if data.visit_due else "",
    }
    if data.level is not None:
        values |= {
            "level": catalogues()[language].text(f"level.{data.level}"),
            "level_meaning": words[f"level_{data.level}_meaning"],
            "level_advice": words[f"level_{data.level}_advice"],
        }
    if data.five_year_risk is not None:
        values |= {
            "risk_percent": formats.percent(data.five_year_risk, language, digits=2),
            "risk_frequency": _frequency(data.five_year_risk, words, language),
        }
    if data.model is not None:
        values |= {
            "model_name": data.model.name,
            "model_version": data.model.version,
            "model_card_url": data.model.card_url,
        }
    names = allowed_fields(data.kind, data.recipient)
    return dict(zip(names, _marked((values[name] for name in names), _rtl(data)), strict=True))


def _holds(when: str | None, data: LetterData) -> bool:
    return {
        None: True,
        "provisional": data.provisional,
        "final": not data.provisional,
        "exams": bool(data.exams),
        "no_exams": not data.exams,
        "plan_end": data.plan_end is not None,
    }[when]


def _plan(data: LetterData, words: Mapping[str, str]) -> Table:
    catalogue = catalogues()[data.language]
    rows = tuple(
        _marked(
            (
                formats.long_date(exam.due, data.language),
                words[f"exam_{exam.modality}"],
                exam.place,
                catalogue.get(f"reason.{exam.policy}.{exam.rule}", exam.reason),
            ),
            _rtl(data),
        )
        for exam in data.exams
    )
    columns = (words["plan_due"], words["plan_exam"], words["plan_place"], words["plan_reason"])
    return Table(columns, rows, _PLAN_WIDTHS)


def _contact(data: LetterData, words: Mapping[str, str]) -> list[Part]:
    site = data.site
    name, address, phone, email = _marked(
        (site.name, site.address or "", site.phone or "", site.email or ""), _rtl(data)
    )
    lines = [name]
    for label, value in (
        ("contact_address", address),
        ("contact_phone", phone),
        ("contact_email", email),
    ):
        if value:
            lines.append(f"{words[label]}: {value}")
    return [Heading(words["contact_heading"]), Paragraph("\n".join(lines))]


def _value(value: object, language: str, unknown: str) -> str:
    if value is None or value == "unknown":
        return unknown
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    whole = float(value).is_integer()
    return formats.decimal(value, language, digits=0 if whole else 2)


def _component(value: float | None, language: str, unknown: str) -> str:
    """A relative-risk component, or ``unknown`` for one that is not known (never 1)."""
    return unknown if value is None else formats.decimal(value, language, digits=2)


def _model(data: LetterData, words: Mapping[str, str], fields: Mapping[str, str]) -> list[Part]:
    language = data.language
    parts: list[Part] = [
        Heading(words["model_heading"]),
        Paragraph(
            fill(words["model_name_version"], fields) + "\n" + fill(words["model_card"], fields)
        ),
    ]
    if data.inputs:
        rows = tuple(
            _marked((name, _value(value, language, words["unknown"])), _rtl(data))
            for name, value in data.inputs.items()
        )
        parts += [
            Heading(words["inputs_heading"]),
            Table((words["input_column"], words["value_column"]), rows, _TWO_COLUMNS),
        ]
    if data.components:
        rows = tuple(
            _marked((name, _component(value, language, words["unknown"])), _rtl(data))
            for name, value in data.components.items()
        )
        columns = (words["component_column"], words["relative_risk_column"])
        parts += [Heading(words["components_heading"]), Table(columns, rows, _TWO_COLUMNS)]
    return parts


def _parts(
    block: Block, data: LetterData, language: Templates, fields: dict[str, str]
) -> list[Part]:
    words = language.words
    if block.type == "heading":
        return [Heading(fill(block.text or "", fields))]
    if block.type == "paragraph":
        return [Paragraph(fill(block.text or "", fields))]
    if block.type == "plan":
        return [_plan(data, words)] if data.exams else []
    if block.type == "contact":
        return _contact(data, words)
    return _model(data, words, fields)


def resolve(data: LetterData) -> ResolvedLetter:
    """The words of ``data``'s letter.

    Raises
    ------
    ValueError
        If the letter lacks a fact its kind needs (a risk result's level or risk, a kit ID, a
        visit date, the doctor's copy's model) or asks for a doctor's copy of another kind.
    """
    _require(data)
    language = templates()[data.language]
    template = language.letters[data.kind, data.recipient]
    fields = _fields(data, language.words)
    parts = [
        part
        for block in template.blocks
        if _holds(block.when, data)
        for part in _parts(block, data, language, fields)
    ]
    site = data.site
    sender = _marked(
        (
            line
            for line in (site.name, *(site.address or "").splitlines(), site.phone, site.email)
            if line
        ),
        _rtl(data),
    )
    recipient = (
        ()
        if data.recipient == "doctor"
        else _marked((data.full_name, *(data.address or "").splitlines()), _rtl(data))
    )
    return ResolvedLetter(
        language=data.language,
        direction=catalogues()[data.language].direction,
        title=fill(template.title, fields),
        sender=sender,
        recipient=recipient,
        issued_on=data.issued_on,
        date=fields["issued_on"],
        reference=fill(language.words["reference"], fields),
        parts=tuple(parts),
    )


def letter_title(data: LetterData) -> str:
    """The letter's title in its language (for file names and lists)."""
    language = templates()[data.language]
    _require(data)
    return fill(language.letters[data.kind, data.recipient].title, _fields(data, language.words))
