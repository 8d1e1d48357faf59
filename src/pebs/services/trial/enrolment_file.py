"""The enrolment file: one row per woman, as far along the pathway as her record goes.

A CSV file (UTF-8, comma-separated, a header row) that a migration tool or a site's register
writes. Columns (every name is checked: a column pebs does not know is refused, so that no data
is dropped without a word):

=========================  ========================================================================
column                     value
=========================  ========================================================================
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
``n_biopsies`` ...         her risk factors (``n_biopsies``, ``atypical_hyperplasia``,
                           ``age_at_menarche``, ``age_at_first_birth``, ``n_relatives``,
                           ``density``, ``prs_z``): a value, ``unknown``, or empty (absent);
                           ``age_at_first_birth`` also ``nulliparous``. Used if she is
                           allocated to the risk-based arm
``risk_at``                instant of her risk assessment or plan (empty: ``allocated_at``)
=========================  ========================================================================

A row whose values cannot be read is refused with its line, column and the allowed values; the
other rows go on.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pebs.services.errors import InvalidInput
from pebs.services.trial._risk_factors import NULLIPAROUS, UNKNOWN, RiskFactors
from pebs.services.trial.registration import NewParticipant

__all__ = ["COLUMNS", "Enrolment", "RowRefused", "read_enrolments"]

CRITERION_PREFIX = "eligibility."
_IDENTITY = ("site", "name", "birth_date", "national_id", "contact", "language", "is_test")
_INSTANTS = ("registered_at", "assessed_at", "consented_at", "allocated_at", "risk_at")
_WHOLE = ("n_biopsies", "age_at_menarche", "n_relatives")
_FACTORS = (*_WHOLE, "atypical_hyperplasia", "age_at_first_birth", "density", "prs_z")
COLUMNS = (*_IDENTITY, *_INSTANTS, "consent_language", *_FACTORS)
"""Columns of the file besides ``eligibility.<criterion>``."""
_YES, _NO = ("yes", "true", "1"), ("no", "false", "0")
_DENSITIES = ("a", "b", "c", "d")


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


@dataclass(frozen=True)
class RowRefused:
    """A row that cannot be read: nothing of it is stored."""

    line: int
    field: str
    message: str


def read_enrolments(path: Path) -> Iterator[Enrolment | RowRefused]:
    """The rows of the enrolment file at ``path``; :class:`InvalidInput` if the file itself is
    unusable (not UTF-8, no header, unknown or repeated columns, a required column missing)."""
    try:
        handle = path.open("rb")
    except OSError as error:
        raise InvalidInput(f"{path}: cannot open ({error.strerror})", field="file") from None
    with handle, io.TextIOWrapper(handle, encoding="utf-8-sig", newline="") as text:
        rows = csv.reader(text)
        try:
            header = next(rows, None)
            if header is None:
                raise InvalidInput(f"{path}: empty file; a header row is needed", field="file")
            _check_header(path, header)
            for values in rows:
                line = rows.line_num
                if not any(value.strip() for value in values):
                    continue
                if len(values) != len(header):
                    yield RowRefused(line, "row", f"{len(values)} fields; the header has "
                                                  f"{len(header)}")  # fmt: skip
                    continue
                yield _enrolment(line, dict(zip(header, values, strict=True)))
        except UnicodeDecodeError as error:
            raise InvalidInput(
                f"{path}: not UTF-8 text (byte {error.start} of a block)", field="file"
            ) from None
        except csv.Error as error:
            raise InvalidInput(f"{path}: line {rows.line_num}: {error}", field="file") from None


def _check_header(path: Path, header: list[str]) -> None:
    names = [name.strip() for name in header]
    header[:] = names
    repeated = sorted({name for name in names if names.count(name) > 1})
    unknown = [n for n in names if n not in COLUMNS and not n.startswith(CRITERION_PREFIX)]
    missing = [n for n in ("site", "name", "birth_date") if n not in names]
    problems = []
    if repeated:
        problems.append(f"repeated columns {', '.join(repeated)}")
    if unknown:
        problems.append(
            f"unknown columns {', '.join(unknown)} (known: {', '.join(COLUMNS)}, and "
            f"{CRITERION_PREFIX}<criterion>)"
        )
    if missing:
        problems.append(f"missing required columns {', '.join(missing)}")
    if problems:
        raise InvalidInput(f"{path}: {'; '.join(problems)}", field="file")


class _RefusedValueError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _enrolment(line: int, row: Mapping[str, str]) -> Enrolment | RowRefused:
    value = {name: text.strip() for name, text in row.items()}
    try:
        criteria = {
            name.removeprefix(CRITERION_PREFIX): _yes_no(name, text, empty=None)
            for name, text in value.items()
            if name.startswith(CRITERION_PREFIX)
        }
        new = NewParticipant(
            site=value["site"],
            name=value["name"],
            birth_date=_date("birth_date", value["birth_date"]),
            national_id=value.get("national_id") or None,
            contact=value.get("contact") or None,
            is_test=bool(_yes_no("is_test", value.get("is_test", ""), empty=False)),
            language=value.get("language") or None,
        )
        instants = {name: _instant(name, value.get(name, "")) for name in _INSTANTS}
        factors = _factors(value)
    except _RefusedValueError as refusal:
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
    )


def _factors(value: Mapping[str, str]) -> RiskFactors:
    found: dict[str, Any] = {}
    for name in _WHOLE:
        found[name] = _or_unknown(value.get(name, ""), lambda text, n=name: _whole(n, text))
    birth = value.get("age_at_first_birth", "").lower()
    found["age_at_first_birth"] = (
        NULLIPAROUS
        if birth == NULLIPAROUS
        else _or_unknown(birth, lambda text: _whole("age_at_first_birth", text))
    )
    found["atypical_hyperplasia"] = _or_unknown(
        value.get("atypical_hyperplasia", ""),
        lambda text: _yes_no("atypical_hyperplasia", text, empty=None),
    )
    density = value.get("density", "").lower()
    if density and density not in (*_DENSITIES, UNKNOWN):
        raise _RefusedValueError("density", f"{density!r}: expected one of a, b, c, d, {UNKNOWN}")
    found["density"] = density or None
    found["prs_z"] = _or_unknown(value.get("prs_z", ""), lambda text: _number("prs_z", text))
    return RiskFactors(**found)


def _or_unknown(text: str, parse: Any) -> Any:
    if not text:
        return None
    return UNKNOWN if text.lower() == UNKNOWN else parse(text)


def _yes_no(field: str, text: str, *, empty: bool | None) -> bool | None:
    lowered = text.lower()
    if not lowered:
        return empty
    if lowered in _YES:
        return True
    if lowered in _NO:
        return False
    raise _RefusedValueError(field, f"{text!r}: expected yes or no (or empty)")


def _whole(field: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _RefusedValueError(field, f"{text!r}: expected a whole number or {UNKNOWN}") from None


def _number(field: str, text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise _RefusedValueError(field, f"{text!r}: expected a number or {UNKNOWN}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise _RefusedValueError(field, f"{text!r}: expected a finite number or {UNKNOWN}")
    return number


def _date(field: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _RefusedValueError(field, f"{text!r}: expected a date YYYY-MM-DD") from None


def _instant(field: str, text: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _RefusedValueError(
            field, f"{text!r}: expected a date and time with its offset (2025-03-03T10:00+01:00)"
        )
    return moment
