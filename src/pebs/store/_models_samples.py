"""Saliva kits, shipments, laboratory batches, genotype results and the risk questionnaire
(re-exported by :mod:`pebs.store.models`).

A sample row is one kit: its ID (printed on the tube, never her name), its state
(:data:`pebs.trial.samples.SAMPLE_STATES`) and the dates it moved. A genotype result belongs to
one sample and one laboratory batch and keeps the score's provenance; a second, different result
for a genotyped sample is stored as a ``conflict`` for the data manager and changes nothing else.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pebs.store._base import Base, one_of, user_fk, utcnow
from pebs.trial.samples import SAMPLE_STATES

GENOTYPE_STATUSES = ("accepted", "failed_qc", "conflict", "superseded", "rejected")
"""A stored genotype result: the sample's result (``accepted``), a failed quality control, a
different result for a genotyped sample awaiting the data manager (``conflict``), an accepted
result replaced when a conflict was resolved for the new one (``superseded``), or a conflicting
result the data manager set aside (``rejected``)."""


class Shipment(Base):
    """A box of samples sent by one site to the central laboratory."""

    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    shipped_on: Mapped[date]
    shipped_at: Mapped[datetime] = mapped_column(default=utcnow)
    shipped_by_id: Mapped[int | None] = user_fk()
    received_at: Mapped[datetime | None]
    received_by_id: Mapped[int | None] = user_fk()


class Sample(Base):
    """One saliva kit of a participant, and where it is."""

    __tablename__ = "samples"
    __table_args__ = (
        one_of("state", SAMPLE_STATES, "state"),
        CheckConstraint("state != 'abandoned' OR abandoned_reason IS NOT NULL", name="abandoned"),
        Index(None, "state", "collected_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kit_id: Mapped[str] = mapped_column(String(24), unique=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    state: Mapped[str] = mapped_column(String(32))
    replaces_sample_id: Mapped[int | None] = mapped_column(ForeignKey("samples.id"))
    """The failed sample this kit replaces (a recollection), if any."""
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    assigned_by_id: Mapped[int | None] = user_fk()
    collected_on: Mapped[date | None]
    collected_by_id: Mapped[int | None] = user_fk()
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"), index=True)
    received_at: Mapped[datetime | None]
    result_at: Mapped[datetime | None]
    abandoned_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class LabBatch(Base):
    """One genotype file imported from the laboratory, with its report."""

    __tablename__ = "lab_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    study_pk: Mapped[int] = mapped_column(ForeignKey("studies.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    score_id: Mapped[str] = mapped_column(String(32))
    score_version: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    imported_by_id: Mapped[int | None] = user_fk()
    report: Mapped[dict[str, Any]]


class GenotypeResult(Base):
    """A sample's polygenic score from one batch, with quality control and provenance."""

    __tablename__ = "genotype_results"
    __table_args__ = (
        one_of("status", GENOTYPE_STATUSES, "status"),
        CheckConstraint("call_rate >= 0 AND call_rate <= 1", name="call_rate"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("samples.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("lab_batches.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    prs_z: Mapped[float | None] = mapped_column(Float)
    """The standardised score (z, standard deviations of the population distribution)."""
    raw_score: Mapped[float | None] = mapped_column(Float)
    call_rate: Mapped[float] = mapped_column(Float)
    """Proportion of the score's variants called in the file (0 to 1)."""
    n_variants: Mapped[int]
    n_matched: Mapped[int]
    n_missing: Mapped[int]
    n_imputed: Mapped[int]
    qc_reason: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = user_fk()
    resolution_reason: Mapped[str | None] = mapped_column(Text)


class RiskQuestionnaire(Base):
    """Her answers to the risk-factor questions (a value or ``"unknown"`` for each), kept until
    everything her risk needs is present; the latest one counts."""

    __tablename__ = "risk_questionnaires"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    answers: Mapped[dict[str, Any]]
    answered_on: Mapped[date]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = user_fk()


__all__ = [
    "GENOTYPE_STATUSES",
    "GenotypeResult",
    "LabBatch",
    "RiskQuestionnaire",
    "Sample",
    "Shipment",
]
