"""Reading a CanRisk pedigree file (versions 2 to 4) into the risk inputs it carries.

The format is CanRisk's (*CanRisk Pedigree Data v2, v3 and v4 File Format Specification*, CanRisk
knowledge base, University of Cambridge; see :mod:`pebs.io.canrisk_format`). :func:`read_canrisk`
checks every line (the version line, each ``##name=value`` risk factor, the column line, each
family member's fields, then the pedigree as a whole: one family, exactly one target, both
parents or neither and each of them in the file, fathers male and mothers female, everyone
connected to the target, ages at diagnosis not after the age at last follow-up) and refuses the
file with a :class:`CanRiskError` that lists every problem: line, column, value and what is
allowed. A UTF-8 byte order mark and CR LF line ends are accepted; other encodings are refused.

What it carries becomes the inputs of the platform (:data:`pebs.trial.RISK_INPUTS`):

=================================================  ==========================================
CanRisk                                            pebs input
=================================================  ==========================================
``##menarche``                                     ``age_at_menarche``
``##parity=0``                                     ``age_at_first_birth`` = ``"nulliparous"``
``##first_live_birth``                             ``age_at_first_birth`` (years)
pedigree: ``BC1`` of her mother, full sisters and  ``n_relatives`` (their count), only when
daughters (:mod:`pebs.trial.family_history`)        her parents are in the file
``##birads`` (``a``-``d``; ``1``-``4`` = ``a``-``d``)   ``density``
``##PRS_BC`` ``zscore``, when ``alpha`` is the      ``prs_z``
PRS313's (:data:`~pebs.io.canrisk_format.PRS313_ALPHA`)
=================================================  ==========================================

A factor the file does not carry (a missing line, ``NA``; ``##parity`` above 0 without
``##first_live_birth``; a pedigree without her parents, whose family history is then not
recorded) is absent from :attr:`CanRiskFile.inputs`: never guessed. CanRisk has no field for
``n_biopsies`` or ``atypical_hyperplasia``. Everything else the file carries (other risk
factors, genetic tests, other cancers, relatives beyond the first degree) is counted in
:attr:`CanRiskFile.ignored_header`, :attr:`~CanRiskFile.ignored_columns` and
:attr:`~CanRiskFile.n_other_affected`.

>>> text = "\\n".join([
...     "##CanRisk 4.0", "##menarche=12", "##parity=0",
...     "##FamID\\t" + "\\t".join(COLUMNS["4"][1:]),
...     "\\t".join(["F1", "NA", "1", "her", "dad", "mum", "F", "0", "0", "50", "1975",
...                *["0"] * 6, *["0:0"] * 10, "0:0:0:0:0"]),
...     "\\t".join(["F1", "NA", "0", "dad", "0", "0", "M", "0", "0", "0", "0",
...                *["0"] * 6, *["0:0"] * 10, "0:0:0:0:0"]),
...     "\\t".join(["F1", "NA", "0", "mum", "0", "0", "F", "0", "0", "0", "0", "AU",
...                *["0"] * 5, *["0:0"] * 10, "0:0:0:0:0"]),
... ])
>>> read_canrisk(text.encode(), this_year=2025).inputs
{'age_at_menarche': 12, 'age_at_first_birth': 'nulliparous', 'n_relatives': 1}
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pebs.io._files import open_binary
from pebs.io.canrisk_format import (
    CANCER_COLUMNS,
    COLUMNS,
    HEADER_KEYS,
    MAX_FILE_BYTES,
    MAX_INDIVIDUALS,
    PRS313_ALPHA,
    VERSIONS,
)
from pebs.io.errors import FileAccessError, InputFormatError
from pebs.io.imports._canrisk_fields import (
    BadValueError,
    Member,
    Problem,
    header_value,
    read_member,
    years,
)
from pebs.io.imports._canrisk_pedigree import pedigree_problems
from pebs.trial.family_history import AffectedRelative, Person, affected_first_degree

__all__ = [
    "NULLIPAROUS",
    "CanRiskError",
    "CanRiskFile",
    "Problem",
    "canrisk_bytes",
    "read_canrisk",
    "read_canrisk_file",
]

NULLIPAROUS = "nulliparous"
"""The platform's answer to "age at first live birth" of a woman with no live birth."""
USED_HEADER = ("menarche", "parity", "first_live_birth", "birads", "prs_bc")
"""Risk-factor lines that become inputs."""
MAX_PROBLEMS = 100
"""Problems collected before the reader stops looking for more."""
_SHOWN = 10
"""Problems named in the error's message (all are in :attr:`CanRiskError.problems`)."""
_VERSION = re.compile(r"^##\s*CanRisk\s+(\d+)(?:\.\d+)?\s*$", re.IGNORECASE)


class CanRiskError(InputFormatError):
    """A CanRisk file that cannot be used; :attr:`problems` holds every problem found (up to
    :data:`MAX_PROBLEMS`)."""

    def __init__(self, problems: Sequence[Problem], source: str = "CanRisk file") -> None:
        self.problems = tuple(problems)
        shown = "; ".join(str(p) for p in self.problems[:_SHOWN])
        more = len(self.problems) - _SHOWN
        super().__init__(f"{source}: {shown}" + (f"; and {more} more" if more > 0 else ""))


@dataclass(frozen=True)
class CanRiskFile:
    """What a CanRisk file says about its target, in the platform's terms."""

    version: str
    """Major version of the file (``"4"``)."""
    family_id: str
    n_individuals: int
    target_age: int | None
    """Her age at last follow-up in the file (``None``: not given)."""
    target_year_of_birth: int | None
    inputs: dict[str, Any]
    """The inputs the file carries (see the module docstring), and only those."""
    relatives: tuple[AffectedRelative, ...]
    """Her first-degree female relatives with breast cancer (mother, sisters, daughters)."""
    family_history: bool
    """Whether her parents are in the file (``n_relatives`` is derived only then)."""
    n_other_affected: int
    """Other members with breast cancer, not counted: relatives beyond the first degree
    (half-sisters, grandmothers, aunts, cousins...) and men."""
    ignored_header: tuple[str, ...] = ()
    """Risk-factor lines with a value that is no pebs input (``BMI``, ``oc_use``...), as
    written; ``PRS_BC`` when its alpha is not the PRS313's."""
    ignored_columns: dict[str, int] = field(default_factory=dict)
    """Column -> members with a value there that pebs does not use: genetic tests, pathology,
    other cancers, twins, vital status, Ashkenazi origin, and her own cancers."""


def canrisk_bytes(path: Path) -> bytes:
    """The bytes of the file at ``path``, at most one more than
    :data:`~pebs.io.canrisk_format.MAX_FILE_BYTES` (so that a larger file is refused unread by
    :func:`read_canrisk`); :class:`FileAccessError` when it cannot be read."""
    with open_binary(path, "a CanRisk file") as handle:
        try:
            return handle.read(MAX_FILE_BYTES + 1)
        except OSError as error:
            raise FileAccessError(f"{path}: cannot be read ({error.strerror})") from error


def read_canrisk_file(path: Path, *, this_year: int | None = None) -> CanRiskFile:
    """:func:`read_canrisk` of the file at ``path`` (its problems name the file)."""
    try:
        return read_canrisk(canrisk_bytes(path), this_year=this_year)
    except CanRiskError as error:
        raise CanRiskError(error.problems, f"{path}: CanRisk file") from None


def read_canrisk(data: bytes, *, this_year: int | None = None) -> CanRiskFile:
    """The target's inputs and family history in a CanRisk file's bytes; :class:`CanRiskError`
    lists every problem (``this_year``: the latest year of birth allowed, this year by
    default)."""
    lines = _text(data).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    problems: list[Problem] = []
    version, header, members, line_of = _read_lines(lines, problems, this_year or date.today().year)
    if not problems:
        problems += pedigree_problems(members)
    if problems:
        raise CanRiskError(problems[:MAX_PROBLEMS])
    target = next(m for m in members if m.target)
    people = [
        Person(
            m.id, m.father, m.mother, m.sex, m.cancers["BC1"] is not None, years(m.cancers["BC1"])
        )
        for m in members
    ]
    relatives = affected_first_degree(people, target.id)
    inputs = _inputs(header, line_of, problems)
    if problems:
        raise CanRiskError(problems)
    family_history = target.mother is not None
    if family_history:
        inputs["n_relatives"] = len(relatives)
    affected = sum(1 for p in people if p.breast_cancer and p.id != target.id)
    return CanRiskFile(
        version,
        target.family_id,
        len(members),
        target.age,
        target.year_of_birth,
        inputs,
        relatives,
        family_history,
        affected - len(relatives),
        _ignored_header(header),
        _ignored_columns(members),
    )


def _text(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise CanRiskError(
            [
                Problem(
                    None,
                    None,
                    None,
                    (
                        f"larger than {MAX_FILE_BYTES:,} bytes, far more than a CanRisk "
                        f"pedigree needs (at most {MAX_INDIVIDUALS} family members): is it a "
                        "CanRisk file?"
                    ),
                )
            ]
        )
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise CanRiskError(
            [
                Problem(
                    line,
                    None,
                    None,
                    (
                        f"byte 0x{data[error.start]:02X} is not UTF-8 text: save the file "
                        "from CanRisk again, or in a text editor as UTF-8"
                    ),
                )
            ]
        ) from None


def _fields(text: str) -> list[str]:
    """A line's fields: TAB-separated, or separated by white space when it has no TAB."""
    stripped = text.strip()
    return [f.strip() for f in stripped.split("\t")] if "\t" in stripped else stripped.split()


_Header = dict[str, tuple[Any, str, int]]
"""Risk-factor name (lower case) -> (value, name as written, line)."""


def _read_lines(
    lines: Sequence[str], problems: list[Problem], this_year: int
) -> tuple[str, _Header, list[Member], dict[str, int]]:
    """The version, the risk factors, the members and the line of each risk factor."""
    version: str | None = None
    columns: tuple[str, ...] | None = None
    header: _Header = {}
    members: list[Member] = []
    for number, text in enumerate(lines, start=1):
        if len(problems) >= MAX_PROBLEMS or not text.strip():
            continue
        if version is None:
            version = _version(number, text.strip())
        elif columns is None and text.startswith("##FamID"):
            columns = _column_line(number, text, version)
        elif columns is None and text.startswith("##"):
            _risk_factor(number, text, header, problems)
        elif columns is None:
            problems.append(
                Problem(
                    number,
                    None,
                    None,
                    "a family member's line before the column line (##FamID, Name, ...)",
                )
            )
        elif text.startswith("#"):
            problems.append(
                Problem(
                    number,
                    None,
                    _cut(text),
                    (
                        "a header line after the family members' lines: a file holds one family, "
                        "its version line, risk factors and column line first"
                    ),
                )
            )
        else:
            _member(number, _fields(text), columns, this_year, members, problems)
    if version is None:
        problems.append(Problem(None, None, None, "the file is empty"))
    elif columns is None:
        problems.append(Problem(None, None, None, "no column line (##FamID, Name, ...)"))
    elif not members and not problems:
        problems.append(Problem(None, None, None, "no family member's line"))
    return version or "", header, members, {key: line for key, (_, _, line) in header.items()}


def _cut(text: str) -> str:
    return text.strip()[:40]


def _version(number: int, text: str) -> str:
    found = _VERSION.match(text)
    major = found.group(1) if found else None
    if major not in VERSIONS:
        why = (
            "CanRisk version 1 files are no longer read (no BARD1 column): save the pedigree "
            "from CanRisk again"
            if major == "1"
            else "not a CanRisk version line"
        )
        raise CanRiskError(
            [
                Problem(
                    number,
                    None,
                    _cut(text),
                    (
                        f"{why}; allowed: ##CanRisk 4.0, ##CanRisk 3.0, ##CanRisk 2.0 as the "
                        "first line"
                    ),
                )
            ]
        )
    assert major is not None
    return major


def _column_line(number: int, text: str, version: str) -> tuple[str, ...]:
    expected = COLUMNS[version]
    found = tuple(_fields(text[2:]))
    if found != expected:
        raise CanRiskError(
            [
                Problem(
                    number,
                    None,
                    None,
                    (
                        f"the column line is not CanRisk version {version}'s ({len(found)} "
                        f"columns); allowed: ##{' '.join(expected)} ({len(expected)} columns)"
                    ),
                )
            ]
        )
    return expected


def _risk_factor(number: int, text: str, header: _Header, problems: list[Problem]) -> None:
    name, equals, value = text[2:].partition("=")
    name, value = name.strip(), value.strip()
    key = name.lower()
    if not equals or not name:
        problems.append(
            Problem(
                number,
                None,
                _cut(text),
                "not a risk-factor line; allowed: ##name=value, or the column line ##FamID ...",
            )
        )
    elif key in header:
        problems.append(
            Problem(number, f"##{name}", value, f"given twice (first on line {header[key][2]})")
        )
    elif key not in HEADER_KEYS:  # not the specification's: reported as ignored
        header[key] = (None if value.upper() == "NA" else value, name, number)
    else:
        try:
            header[key] = (header_value(HEADER_KEYS[key], value), name, number)
        except BadValueError as refusal:
            problems.append(Problem(number, f"##{name}", value, str(refusal)))


def _member(
    number: int,
    fields: list[str],
    columns: tuple[str, ...],
    this_year: int,
    members: list[Member],
    problems: list[Problem],
) -> None:
    if len(fields) != len(columns):
        problems.append(
            Problem(
                number,
                None,
                None,
                (
                    f"{len(fields)} fields; allowed: {len(columns)}, one per column, "
                    "separated by a TAB"
                ),
            )
        )
        return
    member, found = read_member(fields, columns, number, this_year)
    problems.extend(found)
    if member is not None:
        members.append(member)


def _inputs(header: _Header, line_of: dict[str, int], problems: list[Problem]) -> dict[str, Any]:
    """The inputs the risk-factor lines carry (see the module docstring)."""
    value = {key: item[0] for key, item in header.items() if key in HEADER_KEYS}
    inputs: dict[str, Any] = {}
    if value.get("menarche") is not None:
        inputs["age_at_menarche"] = value["menarche"]
    parity, first_birth = value.get("parity"), value.get("first_live_birth")
    if parity == 0 and first_birth is not None:
        problems.append(
            Problem(
                line_of["first_live_birth"],
                "##first_live_birth",
                str(first_birth),
                "a first live birth with ##parity=0; allowed: one or the other",
            )
        )
    elif parity == 0:
        inputs["age_at_first_birth"] = NULLIPAROUS
    elif first_birth is not None:
        inputs["age_at_first_birth"] = first_birth
    if value.get("birads") is not None:
        inputs["density"] = value["birads"]
    prs = value.get("prs_bc")
    if prs is not None and _is_prs313(prs["alpha"]):
        inputs["prs_z"] = prs["zscore"]
    return inputs


def _is_prs313(alpha: float) -> bool:
    return abs(alpha - PRS313_ALPHA) < 0.0005


def _ignored_header(header: _Header) -> tuple[str, ...]:
    ignored = []
    for key, (value, name, _) in header.items():
        is_used = key in USED_HEADER and (
            key != "prs_bc" or value is None or _is_prs313(value["alpha"])
        )
        if value is not None and not is_used:
            ignored.append(name)
    return tuple(ignored)


def _ignored_columns(members: Sequence[Member]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for member in members:
        counts.update(member.other)
        counts.update(c for c in CANCER_COLUMNS[1:] if member.cancers[c] is not None)
        if member.target and member.cancers["BC1"] is not None:
            counts["BC1"] += 1
    return dict(counts)
