"""What an import tells the page and the API: its counts and the rows it refused.

:func:`collect_import` runs an import with an outcome collector and keeps the refusals (a row
refused, a record of hers refused) in file order, up to :data:`MAX_ERRORS`; the counts are the
import's own (:class:`~.enrolment_import.ImportSummary`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pebs.services.trial.enrolment_import import EnrolmentOutcome, ImportSummary

__all__ = ["MAX_ERRORS", "ImportReport", "collect_import"]

MAX_ERRORS = 10_000
"""Refused rows kept for the answer (all are counted)."""


@dataclass
class ImportReport:
    summary: ImportSummary
    errors: list[EnrolmentOutcome] = field(default_factory=list)
    n_errors: int = 0

    def as_json(self) -> dict[str, Any]:
        summary = self.summary
        return {
            "dry_run": summary.dry_run, "rows": summary.rows, "reached": dict(summary.reached),
            "skipped": summary.skipped, "recorded": dict(summary.recorded),
            "refused": dict(summary.refused), "commits": summary.commits,
            "seconds": round(summary.seconds, 3), "stopped": summary.stopped,
            "n_errors": self.n_errors,
            "errors": [
                {"file": e.file, "line": e.line, "study_id": e.study_id,
                 "step": e.refused_step, "field": e.refused_field, "message": e.message or ""}
                for e in self.errors
            ],
        }  # fmt: skip


def collect_import(
    run: Callable[[Callable[[EnrolmentOutcome], None]], ImportSummary],
) -> ImportReport:
    """Run ``run(on_outcome)`` (an import) and report its counts and refused rows."""
    errors: list[EnrolmentOutcome] = []
    n_errors = 0

    def on_outcome(outcome: EnrolmentOutcome) -> None:
        nonlocal n_errors
        if outcome.refused_step is not None:
            n_errors += 1
            if len(errors) < MAX_ERRORS:
                errors.append(outcome)

    summary = run(on_outcome)
    return ImportReport(summary, errors, n_errors)
