"""What a genotype batch import did with each sample of the file: the batch report.

Every sample name of the file lands in exactly one :class:`Outcome` (a name given twice lands in
``duplicate`` once). The report lists kit IDs only, never a participant, her identity or her
arm: the laboratory reads it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["STORED_OUTCOMES", "BatchReport", "Outcome"]


class Outcome(enum.StrEnum):
    """What happened to one sample of the file."""

    ACCEPTED = "accepted"
    """Passed quality control: her result is stored and the sample is genotyped."""
    FAILED_QC = "failed_qc"
    """Failed quality control: the result is stored as failed and a new kit is requested."""
    UNKNOWN_KIT = "unknown_kit"
    """Not a kit of this study (or not a well-formed kit ID): refused."""
    NOT_SHIPPED = "not_shipped"
    """The kit is assigned or collected but was never shipped: refused, nothing stored."""
    DUPLICATE = "duplicate"
    """The name is given more than once in the file: every copy refused."""
    UNCHANGED = "unchanged"
    """The same result is already stored (a re-import): nothing changes."""
    CONFLICT = "conflict"
    """Already genotyped with a different result: stored as a conflict for the data manager,
    nothing overwritten."""
    ALREADY_FAILED = "already_failed"
    """The kit failed quality control in an earlier batch and was replaced by a new kit; this
    different result is refused (genotype the new kit)."""
    ABANDONED = "abandoned"
    """The kit was abandoned: refused."""


STORED_OUTCOMES = (Outcome.ACCEPTED, Outcome.FAILED_QC, Outcome.CONFLICT)
"""Outcomes that store a genotype result."""


@dataclass(frozen=True)
class BatchReport:
    """The report of one import (or dry run) of a genotype file."""

    reference: str | None
    """The stored batch (``LB-...``); ``None`` when nothing was stored (a dry run, or a file
    with nothing new)."""
    study: str
    file_name: str
    file_sha256: str
    score_id: str
    score_version: str
    """SHA-256 of the scoring file (the PGS Catalog gives no version number)."""
    normalisation: str
    """Where the z-score's mean and standard deviation come from."""
    imported_at: datetime
    dry_run: bool
    min_call_rate: float
    max_imputed: int
    n_variants: int
    """Variants of the score."""
    absent_variants: tuple[str, ...]
    """Score variants the file does not carry (imputed at the population mean dosage)."""
    kits: Mapping[Outcome, tuple[str, ...]]
    """Kit IDs (sample names as in the file) of each outcome, in file order."""
    n_samples: int
    """Sample columns of the file."""
    n_risks_completed: int = 0
    """Women whose risk and plan the accepted results completed (a dry run counts those it
    would complete)."""
    previous_imports: tuple[str, ...] = field(default=())
    """Earlier batches of the same file (same SHA-256) for this study."""

    @property
    def stored(self) -> bool:
        return self.reference is not None

    @property
    def counts(self) -> dict[str, int]:
        return {outcome.value: len(self.kits.get(outcome, ())) for outcome in Outcome}

    @property
    def changes_nothing(self) -> bool:
        """No result would be stored: every sample is unchanged or refused."""
        return not any(self.kits.get(outcome) for outcome in STORED_OUTCOMES)

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> BatchReport:
        """The report written by :meth:`as_json` (a stored batch's)."""
        return cls(
            reference=document["reference"], study=document["study"],
            file_name=document["file_name"], file_sha256=document["file_sha256"],
            score_id=document["score_id"], score_version=document["score_version"],
            normalisation=document["normalisation"],
            imported_at=datetime.fromisoformat(document["imported_at"]),
            dry_run=document["dry_run"], min_call_rate=document["min_call_rate"],
            max_imputed=document["max_imputed"], n_variants=document["n_variants"],
            absent_variants=tuple(document["absent_variants"]),
            kits={Outcome(name): tuple(kits) for name, kits in document["kits"].items()},
            n_samples=document["n_samples"], n_risks_completed=document["n_risks_completed"],
            previous_imports=tuple(document["previous_imports"]),
        )  # fmt: skip

    def as_json(self) -> dict[str, Any]:
        """The report as stored with the batch (``LabBatch.report``) and shown to callers."""
        return {
            "reference": self.reference, "study": self.study, "file_name": self.file_name,
            "file_sha256": self.file_sha256, "score_id": self.score_id,
            "score_version": self.score_version, "normalisation": self.normalisation,
            "imported_at": self.imported_at.isoformat(), "dry_run": self.dry_run,
            "min_call_rate": self.min_call_rate, "max_imputed": self.max_imputed,
            "n_variants": self.n_variants, "absent_variants": list(self.absent_variants),
            "n_samples": self.n_samples, "counts": self.counts,
            "kits": {outcome.value: list(self.kits.get(outcome, ())) for outcome in Outcome},
            "n_risks_completed": self.n_risks_completed,
            "previous_imports": list(self.previous_imports),
        }  # fmt: skip
