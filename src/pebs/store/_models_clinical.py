"""Clinical follow-up tables: risk assessments, screening plans, visits, outcomes, deaths and
questionnaires (re-exported by :mod:`pebs.store.models`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pebs.store._base import Base, one_of, user_fk, utcnow
from pebs.trial.vocabularies import (
    BEHAVIOURS,
    BREAST_DENSITIES,
    DEATH_CAUSES,
    DETECTION_MODES,
    HISTOLOGIES,
    MODALITIES,
    QUESTIONNAIRE_TIMEPOINTS,
    RISK_LEVELS,
    STAGE_GROUPS,
    VISIT_TYPES,
)


def _tnm_check(column: str, axis: str) -> CheckConstraint:
    """A TNM category starts with its axis letter, optionally after a ``c``/``p`` prefix."""
    patterns = " OR ".join(f"{column} LIKE '{p}{axis}%'" for p in ("", "c", "p"))
    return CheckConstraint(f"{column} IS NULL OR {patterns}", name=column)


class RiskAssessment(Base):
    """A risk model's inputs and outputs (incl. components) and the resulting level."""

    __tablename__ = "risk_assessments"
    __table_args__ = (one_of("level", RISK_LEVELS, "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    model_name: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[str] = mapped_column(String(32))
    inputs: Mapped[dict[str, Any]]
    outputs: Mapped[dict[str, Any]]
    level: Mapped[str] = mapped_column(String(16))
    assessed_at: Mapped[datetime] = mapped_column(default=utcnow)
    assessed_by_id: Mapped[int | None] = user_fk()


class ScreeningPlan(Base):
    """The arm's screening plan for a participant; a new plan supersedes the previous one."""

    __tablename__ = "screening_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    risk_assessment_id: Mapped[int | None] = mapped_column(ForeignKey("risk_assessments.id"))
    arm: Mapped[str] = mapped_column(String(32))
    policy: Mapped[str] = mapped_column(String(64))
    start_date: Mapped[date]
    end_date: Mapped[date]
    notes: Mapped[list[Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = user_fk()
    superseded_at: Mapped[datetime | None]

    exams: Mapped[list[PlannedExam]] = relationship(
        back_populates="plan", order_by="PlannedExam.due_date"
    )


class PlannedExam(Base):
    """One dated exam of a plan, with its window, modality and the rule that planned it."""

    __tablename__ = "planned_exams"
    __table_args__ = (
        one_of("modality", MODALITIES, "modality"),
        CheckConstraint("window_start <= due_date AND due_date <= window_end", name="window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    screening_plan_id: Mapped[int] = mapped_column(ForeignKey("screening_plans.id"), index=True)
    due_date: Mapped[date]
    window_start: Mapped[date]
    window_end: Mapped[date]
    modality: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(String(64))

    plan: Mapped[ScreeningPlan] = relationship(back_populates="exams")


class Visit(Base):
    """An expected or performed exam: due date and window, result (BI-RADS 0-6), work-up."""

    __tablename__ = "visits"
    __table_args__ = (
        one_of("visit_type", VISIT_TYPES, "visit_type"),
        one_of("modality", MODALITIES, "modality"),
        one_of("histology", HISTOLOGIES, "histology"),
        one_of("density", BREAST_DENSITIES, "density"),
        CheckConstraint("birads BETWEEN 0 AND 6", name="birads"),
        CheckConstraint("window_start <= due_date AND due_date <= window_end", name="window"),
        Index(None, "participant_id", "due_date"),
        Index(None, "performed_date", "window_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    planned_exam_id: Mapped[int | None] = mapped_column(ForeignKey("planned_exams.id"))
    visit_type: Mapped[str] = mapped_column(String(16))
    modality: Mapped[str | None] = mapped_column(String(32))
    due_date: Mapped[date]
    window_start: Mapped[date]
    window_end: Mapped[date]
    performed_date: Mapped[date | None]
    birads: Mapped[int | None] = mapped_column(SmallInteger)
    recall: Mapped[bool | None] = mapped_column(Boolean)
    biopsy: Mapped[bool | None] = mapped_column(Boolean)
    histology: Mapped[str | None] = mapped_column(String(32))
    histology_detail: Mapped[str | None] = mapped_column(Text)
    density: Mapped[str | None] = mapped_column(String(1))
    """BI-RADS breast density (a-d) read on this mammogram (her baseline one sets her risk)."""
    density_reader: Mapped[str | None] = mapped_column(String(200))
    """Who read the density (a radiologist's name, or an automated tool and its version)."""
    recorded_at: Mapped[datetime | None]
    recorded_by_id: Mapped[int | None] = user_fk()


class Outcome(Base):
    """A breast cancer diagnosis: date, mode of detection, behaviour, TNM and AJCC stage group."""

    __tablename__ = "outcomes"
    __table_args__ = (
        one_of("detection_mode", DETECTION_MODES, "detection_mode"),
        one_of("behaviour", BEHAVIOURS, "behaviour"),
        one_of("stage_group", STAGE_GROUPS, "stage_group"),
        _tnm_check("t_category", "T"),
        _tnm_check("n_category", "N"),
        _tnm_check("m_category", "M"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    diagnosis_date: Mapped[date]
    detection_mode: Mapped[str] = mapped_column(String(16))
    behaviour: Mapped[str] = mapped_column(String(8))
    t_category: Mapped[str | None] = mapped_column(String(16))
    """As normalised by :func:`pebs.trial.parse_tnm`, with its c/p prefix (``pT1c``)."""
    n_category: Mapped[str | None] = mapped_column(String(16))
    m_category: Mapped[str | None] = mapped_column(String(16))
    stage_group: Mapped[str | None] = mapped_column(String(8))
    """AJCC 8th edition anatomic stage group, computed by :mod:`pebs.trial`."""
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = user_fk()


class Death(Base):
    """Date and cause of death (at most one per participant)."""

    __tablename__ = "deaths"
    __table_args__ = (one_of("cause", DEATH_CAUSES, "cause"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), unique=True)
    date_of_death: Mapped[date]
    cause: Mapped[str] = mapped_column(String(16))
    cause_icd10: Mapped[str | None] = mapped_column(String(8))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = user_fk()


class QuestionnaireResponse(Base):
    """Answers to one instrument at 0, 3, 12 or 48 months."""

    __tablename__ = "questionnaire_responses"
    __table_args__ = (
        UniqueConstraint(
            "participant_id",
            "timepoint_months",
            "instrument",
            name="uq_questionnaire_responses_timepoint",
        ),
        one_of("timepoint_months", QUESTIONNAIRE_TIMEPOINTS, "timepoint_months"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    timepoint_months: Mapped[int] = mapped_column(SmallInteger)
    instrument: Mapped[str] = mapped_column(String(64))
    answers: Mapped[dict[str, Any]]
    completed_on: Mapped[date]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = user_fk()
