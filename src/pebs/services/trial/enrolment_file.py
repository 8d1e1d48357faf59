"""The enrolment file: one row per woman, as far along the pathway as her record goes.

A CSV file (UTF-8, comma-separated, a header row) that a migration tool or a site's register
writes. Columns (every name is checked: a column pebs does not know is refused, so that no data
is dropped without a word):

=========================  ========================================================================
column                     value
=========================  ========================================================================
``source_id``              the identifier the source system gave her (optional, unique): she is
                           recognised by it when the file is imported again; the visits and
                           outcomes files name her by it
``site``                   study-wide site code (``FR-PA``); required
``name``                   her name; required
``birth_date``             ``YYYY-MM-DD``; required
``national_id``            optional (duplicates are refused through its HMAC)
``contact``                optional
``language``               her letters' language (ISO 639-1); empty: her country's first
``is_test``                ``yes``/``no`` (empty: no): a training participant
``registered_at``          instant with its offset (``2025-03-03T10:00:00+01:00``); empty: now
``eligibility.<name>``     her answer to the protocol's criterion ``<name>``: ``yes``, ``no`` or
                           empty (not answered); she is assessed if any answer is given
``assessed_at``            instant of the eligibility assessment (empty: ``registered_at``)
``consented_at``           instant she consented; empty: she stops before consent
``consent_language``       language of the consent document (empty: her ``language``)
``allocated_at``           instant of randomisation; empty: she stops before allocation
``arm``                    the arm the source system allocated (empty: the next concealed slot of
                           her stratum is taken); needs ``allocation_method``
``allocation_method``      how the source system allocated her, in its words (``minimisation``)
``allocation_reference``   the source system's reference of the allocation (optional)
``n_biopsies`` ...         her risk factors (``n_biopsies``, ``atypical_hyperplasia``,
                           ``age_at_menarche``, ``age_at_first_birth``, ``n_relatives``,
                           ``density``, ``prs_z``): a value, ``unknown``, or empty (absent);
                           ``age_at_first_birth`` also ``nulliparous``. Used if she is
                           allocated to the risk-based arm
``risk_at``                instant of her risk assessment or plan (empty: ``allocated_at``)
``date_of_death``          ``YYYY-MM-DD`` (empty: not known to have died); needs ``death_cause``
``death_cause``            one of :data:`pebs.trial.vocabularies.DEATH_CAUSES`
``death_icd10``            the cause's ICD-10 code (optional)
``death_recorded_at``      instant the death was recorded (empty: now)
=========================  ========================================================================

A row whose values cannot be read is refused with its line, column and the allowed values; the
other rows go on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pebs.services.trial._file_values import (
    RefusedValueError,
    RowRefused,
    csv_rows,
    parse_date,
    parse_instant,
    parse_number,
    parse_whole,
    parse_yes_no,
    unknown_or,
)
from pebs.services.trial._risk_factors import NULLIPAROUS, UNKNOWN, RiskFactors
from pebs.services.trial.allocation import ImportedAllocation
from pebs.services.trial.registration import NewParticipant
from pebs.trial.vocabularies import DEATH_CAUSES

__all__ = [
    "COLUMNS",
    "CRITERION_PREFIX",
    "DeathRecord",
    "Enrolment",
    "RowRefused",
    "read_enrolments",
]

CRITERION_PREFIX = "eligibility."
_IDENTITY = ("source_id", "site", "name", "birth_date", "national_id", "contact", "language",
             "is_test")  # fmt: skip
_INSTANTS = ("registered_at", "assessed_at", "consented_at", "allocated_at", "risk_at",
             "death_recorded_at")  # fmt: skip
_ALLOCATION = ("arm", "allocation_method", "allocation_reference")
_WHOLE = ("n_biopsies", "age_at_menarche", "n_relatives")
_FACTORS = (*_WHOLE, "atypical_hyperplasia", "age_at_first_birth", "density", "prs_z")
_DEATH = ("date_of_death", "death_cause", "death_icd10")
COLUMNS = (*_IDENTITY, *_INSTANTS, "consent_language", *_ALLOCATION, *_FACTORS, *_DEATH)
"""Columns of the file besides ``eligibility.<criterion>``."""
_DENSITIES = ("a", "b", "c", "d")


@dataclass(frozen=True)
class DeathRecord:
    """Her death as the source system recorded it."""

    date_of_death: date
    cause: str
    cause_icd10: str | None
    recorded_at: datetime | None


@dataclass(frozen=True)
class Enrolment:
    """One woman of the file and how far her record takes her."""

    line: int
    new: NewParticipant
    registered_at: datetime | None
    answers: Mapping[str, bool | None] | None
    """Answers by criterion; ``None``: no eligibility column (she stops after registration)."""
    assessed_at: datetime | None
    consented_at: datetime | None
    consent_language: str | None
    allocated_at: datetime | None
    factors: RiskFactors
    risk_at: datetime | None
    imported: ImportedAllocation | None = None
    """Her allocation as the source system made it (``None``: a slot of the lists)."""
    death: DeathRecord | None = None
    follow_up: tuple[Any, ...] = field(default=())
    """Her visits and outcomes (:mod:`.follow_up_file` records), in the order to record them."""


def read_enrolments(path: Path) -> Iterator[Enrolment | RowRefused]:
    """The rows of the enrolment file at ``path``; :class:`InvalidInput` if the file itself is
    unusable (not UTF-8, no header, unknown or repeated columns, a required column missing)."""
    known_text = f"{', '.join(COLUMNS)}, and {CRITERION_PREFIX}<criterion>"
    for row in csv_rows(path, _known, known_text, ("site", "name", "birth_date"), file="women"):
        yield row if isinstance(row, RowRefused) else enrolment_of(*row)


def _known(name: str) -> bool:
    return name in COLUMNS or name.startswith(CRITERION_PREFIX)


def enrolment_of(line: int, value: Mapping[str, str]) -> Enrolment | RowRefused:
    """The woman of one row (column -> stripped text), or why the row cannot be read."""
    try:
        criteria = {
            name.removeprefix(CRITERION_PREFIX): parse_yes_no(name, text, empty=None)
            for name, text in value.items()
            if name.startswith(CRITERION_PREFIX)
        }
        new = NewParticipant(
            site=value["site"],
            name=value["name"],
            birth_date=parse_date("birth_date", value["birth_date"]),
            national_id=value.get("national_id") or None,
            contact=value.get("contact") or None,
            is_test=bool(parse_yes_no("is_test", value.get("is_test", ""), empty=False)),
            language=value.get("language") or None,
            source_id=value.get("source_id") or None,
        )
        instants = {name: parse_instant(name, value.get(name, "")) for name in _INSTANTS}
        factors = _factors(value)
        imported = _imported(value, instants["allocated_at"])
        death = _death(value, instants["death_recorded_at"])
    except RefusedValueError as refusal:
        return RowRefused(line, refusal.field, str(refusal))
    return Enrolment(
        line=line,
        new=new,
        registered_at=instants["registered_at"],
        answers=criteria if any(v is not None for v in criteria.values()) else None,
        assessed_at=instants["assessed_at"],
        consented_at=instants["consented_at"],
        consent_language=value.get("consent_language") or None,
        allocated_at=instants["allocated_at"],
        factors=factors,
        risk_at=instants["risk_at"],
        imported=imported,
        death=death,
    )


def _imported(value: Mapping[str, str], allocated_at: datetime | None) -> ImportedAllocation | None:
    arm, method = value.get("arm", ""), value.get("allocation_method", "")
    reference = value.get("allocation_reference", "")
    if not arm:
        for name in ("allocation_method", "allocation_reference"):
            if value.get(name):
                raise RefusedValueError(name, f"{value[name]!r}: given without an arm")
        return None
    if not method:
        raise RefusedValueError(
            "allocation_method", "empty: an imported arm needs the source system's method"
        )
    if allocated_at is None:
        raise RefusedValueError(
            "allocated_at", "empty: an imported arm needs its allocation instant"
        )
    return ImportedAllocation(arm, method, reference or None)


def _death(value: Mapping[str, str], recorded_at: datetime | None) -> DeathRecord | None:
    day, cause = value.get("date_of_death", ""), value.get("death_cause", "")
    if not day:
        for name in ("death_cause", "death_icd10"):
            if value.get(name):
                raise RefusedValueError(name, f"{value[name]!r}: given without a date_of_death")
        return None
    if cause not in DEATH_CAUSES:
        raise RefusedValueError(
            "death_cause", f"{cause!r}: expected one of {', '.join(DEATH_CAUSES)}"
        )
    icd10 = value.get("death_icd10") or None
    return DeathRecord(parse_date("date_of_death", day), cause, icd10, recorded_at)


def _factors(value: Mapping[str, str]) -> RiskFactors:
    found: dict[str, Any] = {}
    for name in _WHOLE:
        found[name] = unknown_or(value.get(name, ""), lambda text, n=name: parse_whole(n, text))
    birth = value.get("age_at_first_birth", "").lower()
    found["age_at_first_birth"] = (
        NULLIPAROUS
        if birth == NULLIPAROUS
        else unknown_or(birth, lambda text: parse_whole("age_at_first_birth", text))
    )
    found["atypical_hyperplasia"] = unknown_or(
        value.get("atypical_hyperplasia", ""),
        lambda text: parse_yes_no("atypical_hyperplasia", text, empty=None),
    )
    density = value.get("density", "").lower()
    if density and density not in (*_DENSITIES, UNKNOWN):
        raise RefusedValueError("density", f"{density!r}: expected one of a, b, c, d, {UNKNOWN}")
    found["density"] = density or None
    found["prs_z"] = unknown_or(value.get("prs_z", ""), lambda text: parse_number("prs_z", text))
    return RiskFactors(**found)
