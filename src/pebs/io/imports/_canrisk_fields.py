"""The values of a CanRisk file, one field at a time: each is read or refused with what the
specification allows (:mod:`pebs.io.canrisk_format`)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pebs.io.canrisk_format import (
    AFFECTED_UNKNOWN_AGE,
    CANCER_COLUMNS,
    FAMILY_ID_CHARS,
    INDIVIDUAL_ID_CHARS,
    MAX_AGE,
    MIN_YEAR_OF_BIRTH,
    NO_PARENT,
    PATHOLOGY_COLUMN,
    UNSPECIFIED,
)
from pebs.io.errors import quoted

__all__ = [
    "BadValueError",
    "Diagnosis",
    "Member",
    "Problem",
    "header_value",
    "read_member",
    "years",
]

_WORD = re.compile(r"^[\w-]+$")
_WHOLE = re.compile(r"^\d{1,3}$")
_REAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_PRS_PART = re.compile(r"^(alpha|zscore)=(.*)$")
Diagnosis = int | Literal["AU"] | None
"""An age at diagnosis in years, ``"AU"`` (affected, age unknown), or ``None`` (unaffected)."""


def years(diagnosis: Diagnosis) -> int | None:
    """The age of a diagnosis, ``None`` when it is unknown (or there is none)."""
    return diagnosis if isinstance(diagnosis, int) else None


@dataclass(frozen=True)
class Problem:
    """Why one line of the file cannot be used; ``column`` and ``value`` when one field is at
    fault."""

    line: int | None
    column: str | None
    value: str | None
    message: str

    def __str__(self) -> str:
        where = [] if self.line is None else [f"line {self.line}"]
        if self.column is not None:
            where.append(f"column {self.column}")
        found = "" if self.value is None else f"{quoted(self.value)}: "
        return f"{', '.join(where) or 'file'}: {found}{self.message}"


class BadValueError(ValueError):
    """A value the specification does not allow: ``why``, and the values it allows."""

    def __init__(self, why: str, allowed: str) -> None:
        super().__init__(f"{why}; allowed: {allowed}")


# --- risk-factor lines -----------------------------------------------------------------------

_AN_INTEGER = "NA or a whole number"
_A_NUMBER = "NA or a number"


def _integer(text: str) -> int:
    if not _WHOLE.match(text):
        raise BadValueError("not a whole number", _AN_INTEGER)
    return int(text)


def _real(text: str) -> float:
    value = float(text) if _REAL.match(text) else math.nan
    if not math.isfinite(value):
        raise BadValueError("not a number", _A_NUMBER)
    return value


def _codes(allowed: Sequence[str]) -> Callable[[str], str]:
    """A risk-factor code, in either case."""

    def read(text: str) -> str:
        if text.upper() not in allowed:
            raise BadValueError("not one of the codes", ", ".join((UNSPECIFIED, *allowed)))
        return text.upper()

    return read


def _oc_use(text: str) -> str:
    if not re.match(r"^(N|[FC](:\d{1,2})?)$", text.upper()):
        raise BadValueError("not a use of oral contraception", "NA, N, F:<years>, C:<years>")
    return text.upper()


def _menopause(text: str) -> int | str:
    return "N" if text.upper() == "N" else _integer(text)


def _birads(text: str) -> str:
    letters = "abcd"
    code = text.lower()
    if code in letters:
        return code
    if code in ("1", "2", "3", "4"):
        return letters[int(code) - 1]
    raise BadValueError("not a BI-RADS density", "NA, a, b, c, d, 1, 2, 3, 4")


def _prs(text: str) -> dict[str, float]:
    """``alpha=<real>, zscore=<real>`` (either order, spaces allowed)."""
    parts: dict[str, float] = {}
    for part in text.replace(" ", "").split(","):
        found = _PRS_PART.match(part)
        if found is None or found.group(1) in parts or not _REAL.match(found.group(2)):
            raise BadValueError("not a polygenic score", "NA or alpha=<number>, zscore=<number>")
        parts[found.group(1)] = float(found.group(2))
    if set(parts) != {"alpha", "zscore"} or not 0 < parts["alpha"] <= 1:
        raise BadValueError(
            "not a polygenic score (alpha between 0 and 1, and a z-score)",
            "NA or alpha=<number>, zscore=<number>",
        )
    return parts


_KINDS: dict[str, Callable[[str], Any]] = {
    "integer": _integer,
    "real": _real,
    "oc_use": _oc_use,
    "mht_use": _codes("NFEC"),
    "menopause": _menopause,
    "birads": _birads,
    "yes_no": _codes("NY"),
    "prs": _prs,
    "text": str,
}


def header_value(kind: str, text: str) -> Any:
    """The value of a risk-factor line of ``kind`` (:data:`~pebs.io.canrisk_format.HEADER_KEYS`);
    ``None`` for ``NA``; :class:`BadValueError` for a value its kind does not allow."""
    if text.upper() == UNSPECIFIED:
        return None
    return _KINDS[kind](text)


# --- pedigree lines --------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """One family member's line, as far as pebs uses it."""

    line: int
    family_id: str
    target: bool
    id: str
    father: str | None
    mother: str | None
    sex: Literal["F", "M"]
    age: int | None
    """Age at last follow-up; ``None`` when not given (``0``)."""
    year_of_birth: int | None
    cancers: dict[str, Diagnosis]
    """Each cancer column's diagnosis."""
    other: tuple[str, ...]
    """Columns pebs does not use that hold something other than their default (a genetic test,
    a pathology result, Ashkenazi origin, a twin)."""


def _identifier(text: str, limit: int, what: str) -> str:
    if not (_WORD.match(text) and len(text) <= limit and text.strip("0-")):
        raise BadValueError(
            f"not {what}", f"1 to {limit} letters, digits, '-' or '_', not only zeros"
        )
    return text


def _name(text: str) -> str:
    if text != UNSPECIFIED and not _WORD.match(text):
        raise BadValueError("not a name", f"{UNSPECIFIED}, or letters, digits, '-' or '_'")
    return text


def _code(allowed: Sequence[str]) -> Callable[[str], str]:
    """A pedigree code, exactly as the specification writes it."""

    def read(text: str) -> str:
        if text not in allowed:
            raise BadValueError("not one of the codes", ", ".join(allowed))
        return text

    return read


def _parent(text: str) -> str | None:
    if text == NO_PARENT:
        return None
    return _identifier(text, INDIVIDUAL_ID_CHARS, "an identifier")


def _flag(text: str) -> bool:
    if text not in ("0", "1"):
        raise BadValueError("not a flag", "0, 1")
    return text == "1"


def _age(text: str) -> int | None:
    if not _WHOLE.match(text) or int(text) > MAX_AGE:
        raise BadValueError(
            "not an age", f"0 (not known) or a whole number of years up to {MAX_AGE}"
        )
    return int(text) or None


def _diagnosis(text: str) -> Diagnosis:
    if text == AFFECTED_UNKNOWN_AGE:
        return AFFECTED_UNKNOWN_AGE
    if not _WHOLE.match(text) or int(text) > MAX_AGE:
        raise BadValueError(
            "not an age at diagnosis",
            f"0 (unaffected), AU (affected, age unknown) or 1 to {MAX_AGE} years",
        )
    return int(text) or None


def _test(text: str, results: Sequence[str]) -> bool:
    """Whether a genetic test ``type:result`` says something (not ``0:0``)."""
    test_type, _, result = text.partition(":")
    if (
        test_type not in ("0", "S", "T")
        or result not in ("0", *results)
        or ((test_type == "0") != (result == "0"))
    ):
        raise BadValueError(
            "not a genetic test",
            f"0:0 (untested), or S or T (search, direct test) : {', '.join(results)}",
        )
    return text != "0:0"


def _pathology(text: str) -> bool:
    results = text.split(":")
    if len(results) != 5 or any(r not in ("0", "N", "P") for r in results):
        raise BadValueError(
            "not five pathology results", "0, N or P for each of ER:PR:HER2:CK14:CK56"
        )
    return text != "0:0:0:0:0"


def _year(text: str, this_year: int) -> int | None:
    if text == "0":
        return None
    if not re.match(r"^\d{4}$", text) or not MIN_YEAR_OF_BIRTH <= int(text) <= this_year:
        raise BadValueError(
            "not a year of birth", f"0 (not known) or {MIN_YEAR_OF_BIRTH} to {this_year}"
        )
    return int(text)


def read_member(
    fields: Sequence[str], columns: Sequence[str], line: int, this_year: int
) -> tuple[Member | None, list[Problem]]:
    """The member of one pedigree line whose fields match ``columns`` one to one, or the
    problem of each field that cannot be used."""
    problems: list[Problem] = []
    value = dict(zip(columns, fields, strict=True))

    def read(column: str, reader: Callable[[str], Any]) -> Any:
        try:
            return reader(value[column])
        except BadValueError as refusal:
            problems.append(Problem(line, column, value[column], str(refusal)))
            return None

    family = read("FamID", lambda t: _identifier(t, FAMILY_ID_CHARS, "a family identifier"))
    read("Name", _name)
    target = read("Target", _flag)
    member_id = read("IndivID", lambda t: _identifier(t, INDIVIDUAL_ID_CHARS, "an identifier"))
    father, mother = read("FathID", _parent), read("MothID", _parent)
    sex = read("Sex", _code("MF"))
    age, year = read("Age", _age), read("Yob", lambda t: _year(t, this_year))
    cancers = {column: read(column, _diagnosis) for column in CANCER_COLUMNS}
    other = [
        column for column, reader in _OTHER.items() if column in value and read(column, reader)
    ]
    genes = columns[columns.index("Ashkn") + 1 : -1]
    other += [
        column
        for column in genes
        if read(column, lambda t, c=column: _test(t, _RESULTS.get(c, ("N", "P"))))
    ]
    if read(PATHOLOGY_COLUMN, _pathology):
        other.append(PATHOLOGY_COLUMN)
    if problems:
        return None, problems
    problems = _cancer_problems(line, sex, age, cancers)
    if problems:
        return None, problems
    return Member(
        line, family, target, member_id, father, mother, sex, age, year, cancers, tuple(other)
    ), []


def _cancer_problems(
    line: int, sex: str, age_now: int | None, cancers: dict[str, Diagnosis]
) -> list[Problem]:
    """Diagnoses that contradict her age at last follow-up, each other or her sex."""
    problems: list[Problem] = []
    for column in CANCER_COLUMNS:
        age = years(cancers[column])
        if age is not None and age_now is not None and age > age_now:
            problems.append(
                Problem(
                    line,
                    column,
                    str(age),
                    (
                        f"after the age at last follow-up ({age_now}, column Age); "
                        "allowed: an age at diagnosis up to it"
                    ),
                )
            )
    first, second = cancers["BC1"], cancers["BC2"]
    if second is not None and first is None:
        problems.append(
            Problem(line, "BC2", str(second), "a second breast cancer without a first (BC1 0)")
        )
    elif years(first) is not None and years(second) is not None and first > second:  # type: ignore[operator]
        problems.append(
            Problem(
                line,
                "BC2",
                str(second),
                (f"before the first breast cancer (BC1 {first}); allowed: BC2 not before BC1"),
            )
        )
    for column, barred in (("OC", "M"), ("PRO", "F")):
        if cancers[column] is not None and sex == barred:
            person = "man" if barred == "M" else "woman"
            problems.append(Problem(line, column, str(cancers[column]), f"a {person}; allowed: 0"))
    return problems


_OTHER: dict[str, Callable[[str], Any]] = {
    "MZtwin": lambda t: _code("0123456789A")(t) != "0",
    "Dead": _flag,
    "Ashkn": _flag,
}
"""Columns pebs checks but does not use, and whether a value says something."""
_RESULTS = {"HOXB13": ("N", "HET", "HOM")}
"""Results of a genetic test other than ``N`` or ``P`` (HOXB13: heterozygous, homozygous)."""
