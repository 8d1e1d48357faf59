"""The fields of a model card, defined once, and their checking when a card file is read.

Every field carries a one-line description in ``metadata["doc"]``; the API's response models
and the documentation are built from these classes, so a field is added or renamed here only.
:func:`build` turns a TOML table into a card and raises :class:`CardError` naming the file and
the field (``gail.toml: inputs[2].missing: ...``) when a value is missing, empty, of the wrong
type or unknown.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AgeRange",
    "CalibrationRow",
    "CalibrationSection",
    "CardError",
    "CardInput",
    "DiscriminationFigure",
    "DiscriminationSection",
    "ModelCard",
    "Provenance",
    "build",
    "describe_fields",
]

KINDS = ("model", "method")


class CardError(ValueError):
    """A packaged card cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class AgeRange:
    """Ages (whole or fractional years at assessment) the model accepts: from <= age < below."""

    from_age: int | None = field(
        metadata={"doc": "Youngest accepted age in years (inclusive); None: any"}
    )
    below_age: int | None = field(
        metadata={"doc": "Accepted ages are below this, in years; None: any"}
    )
    note: str = field(
        metadata={"doc": "What the range means and any guidance narrower than what is accepted"}
    )


@dataclass(frozen=True)
class CardInput:
    """One input of the model and what happens when it is unknown."""

    name: str = field(metadata={"doc": "Name of the input in the Python function or file columns"})
    description: str = field(metadata={"doc": "What it is"})
    units: str = field(
        metadata={"doc": "Units or coding (years, count, BI-RADS letter, SD units...)"}
    )
    allowed: str = field(metadata={"doc": "Accepted values"})
    missing: str = field(metadata={"doc": "How an unknown value is handled"})


@dataclass(frozen=True)
class CalibrationRow:
    """Expected (model) against observed (reference) values in one age band at assessment."""

    band: str = field(metadata={"doc": "Age band at assessment, e.g. '40-44' (whole years)"})
    expected: float = field(
        metadata={"doc": "E: the model's value for the band (the section's method gives units)"}
    )
    observed: float = field(
        metadata={"doc": "O: the reference value for the band, in the same units"}
    )
    e_over_o: float = field(metadata={"doc": "E/O ratio (1 = calibrated)"})
    n_women: int = field(metadata={"doc": "Women assessed for the band"})


@dataclass(frozen=True)
class CalibrationSection:
    """How well predicted risks agree with incidence."""

    summary: tuple[str, ...] = field(
        metadata={"doc": "Statements about calibration, each with its source"}
    )
    method: str | None = field(
        metadata={"doc": "How the table was produced; None when there is no table"}
    )
    table: tuple[CalibrationRow, ...] = field(
        default=(), metadata={"doc": "E/O by age band (generated; may be empty)"}
    )


@dataclass(frozen=True)
class DiscriminationFigure:
    """One published or measured discrimination figure."""

    metric: str = field(metadata={"doc": "Metric, e.g. 'AUC' or 'concordance statistic'"})
    value: str = field(metadata={"doc": "Value with its 95% confidence interval, as published"})
    population: str = field(metadata={"doc": "Women in whom it was measured"})
    source: str = field(metadata={"doc": "Publication (authors, journal, year)"})


@dataclass(frozen=True)
class DiscriminationSection:
    """How well the model separates women who develop breast cancer from women who do not."""

    summary: tuple[str, ...] = field(metadata={"doc": "Statements about discrimination"})
    figures: tuple[DiscriminationFigure, ...] = field(
        default=(), metadata={"doc": "Published figures (may be empty)"}
    )


@dataclass(frozen=True)
class Provenance:
    """Where the numbers come from and how the implementation was checked."""

    parameters: tuple[str, ...] = field(metadata={"doc": "Each parameter set and its source"})
    reference_implementation: str = field(
        metadata={"doc": "The independent implementation pebs is checked against"}
    )
    exactness: str = field(metadata={"doc": "The agreement achieved with it, and on what data"})


@dataclass(frozen=True)
class ModelCard:
    """What a shipped risk model is for, on whom, with which inputs, and how good it is."""

    id: str = field(metadata={"doc": "Card id: 'gail', 'icare' or 'personalised-<COUNTRY>'"})
    name: str = field(metadata={"doc": "The model's name, as written with every result"})
    version: str = field(metadata={"doc": "The model's version, as written with every result"})
    kind: str = field(
        metadata={"doc": "'model' (gives a woman's risk) or 'method' (an engine models build on)"}
    )
    country: str | None = field(
        metadata={"doc": "Country code of a country-calibrated model, else None"}
    )
    summary: str = field(metadata={"doc": "Intended use in one sentence"})
    population_short: str = field(metadata={"doc": "The population in a few words (for tables)"})
    content_language: str = field(metadata={"doc": "Language of the card's text (BCP 47 code)"})
    documentation: str = field(
        metadata={"doc": "Path of the full documentation in the source repository"}
    )
    intended_use: tuple[str, ...] = field(metadata={"doc": "What the model is for"})
    not_for: tuple[str, ...] = field(metadata={"doc": "Women and uses it must not be applied to"})
    population: tuple[str, ...] = field(
        metadata={"doc": "Population it was developed or calibrated on"}
    )
    ages: AgeRange = field(metadata={"doc": "Accepted ages"})
    inputs: tuple[CardInput, ...] = field(
        metadata={"doc": "Inputs, with units and missing-value handling"}
    )
    outputs: tuple[str, ...] = field(metadata={"doc": "What it returns, with units"})
    calibration: CalibrationSection = field(metadata={"doc": "Calibration"})
    discrimination: DiscriminationSection = field(metadata={"doc": "Discrimination"})
    provenance: Provenance = field(
        metadata={"doc": "Parameters' sources and the reference implementation"}
    )
    limitations: tuple[str, ...] = field(metadata={"doc": "Known limits"})
    references: tuple[str, ...] = field(metadata={"doc": "Publications"})


def describe_fields(cls: type = ModelCard) -> dict[str, str]:
    """Field name -> description of a card class.

    >>> describe_fields(CardInput)["missing"]
    'How an unknown value is handled'
    """
    return {f.name: f.metadata["doc"] for f in dataclasses.fields(cls)}


def build(cls: type, value: Any, file: str, path: str = "") -> Any:
    """An instance of the card class ``cls`` from the TOML table ``value`` of ``file``;
    ``path`` locates the table inside the file (``inputs[2].``) for the messages."""
    if not isinstance(value, dict):
        raise CardError(f"{file}: {path.rstrip('.') or 'card'}: expected a table, "
                        f"got {type(value).__name__}")  # fmt: skip
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)
    names = [f.name for f in fields]
    unknown = sorted(set(value) - set(names))
    if unknown:
        raise CardError(f"{file}: {path}{unknown[0]}: unknown field; allowed: "
                        f"{', '.join(names)}")  # fmt: skip
    arguments = {}
    for spec in fields:
        name = spec.name
        if name not in value:
            if spec.default is not dataclasses.MISSING:
                continue
            if _is_optional(hints[name]):
                arguments[name] = None
                continue
            raise CardError(f"{file}: {path}{name}: required field is missing")
        if value[name] is None and _is_optional(hints[name]):
            arguments[name] = None  # from as_dict(); TOML has no null
            continue
        arguments[name] = _convert(_strip_optional(hints[name]), value[name], file, path + name)
    if cls is ModelCard and arguments["kind"] not in KINDS:
        raise CardError(f"{file}: kind: {arguments['kind']!r} is not one of {', '.join(KINDS)}")
    return cls(**arguments)


def _is_optional(hint: Any) -> bool:
    return isinstance(hint, types.UnionType) and type(None) in typing.get_args(hint)


def _strip_optional(hint: Any) -> Any:
    if _is_optional(hint):
        (inner,) = [a for a in typing.get_args(hint) if a is not type(None)]
        return inner
    return hint


def _convert(hint: Any, value: Any, file: str, path: str) -> Any:
    if dataclasses.is_dataclass(hint):
        return build(hint, value, file, path + ".")
    if typing.get_origin(hint) is tuple:
        (item,) = [a for a in typing.get_args(hint) if a is not Ellipsis]
        if not isinstance(value, list):
            raise CardError(f"{file}: {path}: expected a list, got {type(value).__name__}")
        return tuple(_convert(item, v, file, f"{path}[{i}]") for i, v in enumerate(value))
    if hint is str:
        if not isinstance(value, str) or not value.strip():
            raise CardError(f"{file}: {path}: expected a non-empty text, got {value!r:.60}")
        return " ".join(value.split())
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise CardError(f"{file}: {path}: expected a whole number, got {value!r:.60}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise CardError(f"{file}: {path}: expected a number, got {value!r:.60}")
        return float(value)
    raise CardError(f"{file}: {path}: unsupported field type {hint!r}")  # pragma: no cover
