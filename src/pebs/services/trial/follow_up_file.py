"""The visits and outcomes files of an import: a woman's repeating records, keyed by her
``source_id``.

A row of the enrolment file holds one woman; her visits and breast cancer diagnoses repeat, so
they come in two more CSV files (UTF-8, a header row), each row naming her by the ``source_id``
of her row in the enrolment file:

- **visits** (``--visits``): ``source_id``, ``performed_date`` (required), ``visit_type``
  (default: an unplanned visit's, ``recall``), ``modality``, ``due_date`` (a visit of her plan:
  the expected visit of that due date and modality is recorded; otherwise an unplanned visit),
  ``birads`` (0-6),
  ``recall``, ``biopsy`` (``yes``/``no``), ``histology``, ``histology_detail``, ``density``
  (a-d), ``density_reader``, ``recorded_at`` (instant with its offset; empty: now);
- **outcomes** (``--outcomes``): ``source_id``, ``diagnosis_date``, ``detection_mode``,
  ``behaviour`` (required), ``t``, ``n``, ``m`` (TNM categories, all three or none),
  ``recorded_at``.

Values are checked here for their form (dates, numbers, yes/no) and by the use cases for their
meaning (:func:`pebs.services.trial.visits.record_visit`,
:func:`pebs.services.trial.outcomes.record_outcome`). The files are read whole, grouped by
woman (a few short records per woman: about 100 bytes each).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from pebs.services.field_rules import DEFAULT_VISIT_TYPE
from pebs.services.trial._file_values import (
    RefusedValueError,
    RowRefused,
    csv_rows,
    parse_date,
    parse_instant,
    parse_whole,
    parse_yes_no,
)
from pebs.services.trial.enrolment_file import Enrolment
from pebs.services.trial.outcomes import OutcomeRecord
from pebs.services.trial.visits import VisitRecord

__all__ = [
    "OUTCOME_COLUMNS",
    "VISIT_COLUMNS",
    "FollowUp",
    "OutcomeRow",
    "VisitRow",
    "read_follow_up",
    "with_follow_up",
]

VISIT_COLUMNS = ("source_id", "visit_type", "modality", "due_date", "performed_date", "birads",
                 "recall", "biopsy", "histology", "histology_detail", "density", "density_reader",
                 "recorded_at")  # fmt: skip
OUTCOME_COLUMNS = ("source_id", "diagnosis_date", "detection_mode", "behaviour", "t", "n", "m",
                   "recorded_at")  # fmt: skip


@dataclass(frozen=True)
class VisitRow:
    """One visit of the visits file."""

    line: int
    record: VisitRecord
    due_date: date | None
    """The due date of the expected visit of her plan it records (``None``: unplanned)."""
    recorded_at: datetime | None
    file: str = "visits"


@dataclass(frozen=True)
class OutcomeRow:
    """One diagnosis of the outcomes file."""

    line: int
    record: OutcomeRecord
    recorded_at: datetime | None
    file: str = "diagnoses"


@dataclass
class FollowUp:
    """The follow-up records of an import, by the ``source_id`` of their woman."""

    by_source: dict[str, list[VisitRow | OutcomeRow]] = field(default_factory=dict)
    refused: list[RowRefused] = field(default_factory=list)
    """Rows that cannot be read, or that name no woman of the enrolment file."""


def read_follow_up(visits: Path | None, outcomes: Path | None) -> FollowUp:
    """The rows of the visits and outcomes files (either may be ``None``); :class:`InvalidInput`
    if a file itself is unusable."""
    found = FollowUp()
    sources = (
        (visits, "visits", VISIT_COLUMNS, ("source_id", "performed_date"), _visit),
        (outcomes, "diagnoses", OUTCOME_COLUMNS,
         ("source_id", "diagnosis_date", "detection_mode", "behaviour"), _outcome),
    )  # fmt: skip
    for path, name, columns, required, parse in sources:
        if path is None:
            continue
        rows = csv_rows(path, columns.__contains__, ", ".join(columns), required, file=name)
        for row in rows:
            if isinstance(row, RowRefused):
                found.refused.append(row)
                continue
            line, value = row
            try:
                if not value["source_id"]:
                    raise RefusedValueError("source_id", "empty: name her by her source_id")
                record = parse(line, value)
            except RefusedValueError as refusal:
                found.refused.append(RowRefused(line, refusal.field, str(refusal), name))
                continue
            found.by_source.setdefault(value["source_id"], []).append(record)
    return found


def with_follow_up(
    rows: Iterable[Enrolment | RowRefused], follow_up: FollowUp
) -> Iterator[Enrolment | RowRefused]:
    """``rows`` with each woman's follow-up records attached (by her ``source_id``; visits by
    performed date, then diagnoses by date); the records that name no woman of ``rows`` are
    appended to ``follow_up.refused`` once ``rows`` are exhausted."""
    for row in rows:
        source_id = None if isinstance(row, RowRefused) else row.new.source_id
        records = follow_up.by_source.pop(source_id, None) if source_id else None
        if records:
            records.sort(key=_order)
            row = replace(row, follow_up=tuple(records))  # type: ignore[arg-type]
        yield row
    for source_id, records in follow_up.by_source.items():
        follow_up.refused.extend(
            RowRefused(
                record.line,
                "source_id",
                f"{source_id!r}: no woman of the enrolment file has this source_id",
                record.file,
            )
            for record in records
        )
    follow_up.by_source.clear()


def _order(record: VisitRow | OutcomeRow) -> tuple[int, date, int]:
    if isinstance(record, VisitRow):
        return 0, record.record.performed_date, record.line
    return 1, record.record.diagnosis_date, record.line


def _text(value: Mapping[str, str], name: str) -> str | None:
    return value.get(name) or None


def _visit(line: int, value: Mapping[str, str]) -> VisitRow:
    birads = value.get("birads", "")
    record = VisitRecord(
        performed_date=parse_date("performed_date", value["performed_date"]),
        birads=parse_whole("birads", birads, unknown=False) if birads else None,
        recall=parse_yes_no("recall", value.get("recall", ""), empty=None),
        biopsy=parse_yes_no("biopsy", value.get("biopsy", ""), empty=None),
        histology=_text(value, "histology"),
        histology_detail=_text(value, "histology_detail"),
        modality=_text(value, "modality"),
        visit_type=value.get("visit_type") or DEFAULT_VISIT_TYPE,
        density=(value.get("density") or "").lower() or None,
        density_reader=_text(value, "density_reader"),
    )
    due = value.get("due_date", "")
    return VisitRow(
        line, record, parse_date("due_date", due) if due else None,
        parse_instant("recorded_at", value.get("recorded_at", "")),
    )  # fmt: skip


def _outcome(line: int, value: Mapping[str, str]) -> OutcomeRow:
    record = OutcomeRecord(
        diagnosis_date=parse_date("diagnosis_date", value["diagnosis_date"]),
        detection_mode=value["detection_mode"],
        behaviour=value["behaviour"],
        t=_text(value, "t"),
        n=_text(value, "n"),
        m=_text(value, "m"),
    )
    return OutcomeRow(line, record, parse_instant("recorded_at", value.get("recorded_at", "")))
