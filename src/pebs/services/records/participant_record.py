"""One participant's whole record as the pages show it (read-only).

Role checked first, the participant found through the caller's scope with the services' own
scoped query, so an out-of-scope participant is :class:`~pebs.services.errors.NotFound`. Nothing
here returns identifying data (that is :func:`get_identity`, audited) or allocation-list
internals (slot, block, position).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.signature_status import SignatureView, signature_in
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.subject import find_participant
from pebs.services.trial.registration import participant_language
from pebs.store.models import (
    Allocation,
    ConsentDocument,
    EligibilityAssessment,
    Outcome,
    RiskAssessment,
    ScreeningPlan,
    Visit,
)
from pebs.store.models import Consent as ConsentRow

__all__ = [
    "ConsentView",
    "EligibilityView",
    "ExamView",
    "OutcomeView",
    "ParticipantRecord",
    "PlanView",
    "RiskView",
    "VisitView",
    "participant_record",
]


@dataclass(frozen=True)
class EligibilityView:
    protocol_version: str
    result: str
    reasons: tuple[str, ...]
    assessed_at: datetime


@dataclass(frozen=True)
class ConsentView:
    language: str
    document_version: str
    consented_at: datetime
    withdrawal_level: str | None
    withdrawn_at: datetime | None


@dataclass(frozen=True)
class RiskView:
    assessed_at: datetime
    model_name: str
    model_version: str
    level: str
    risk_5y_pct: float
    """Five-year absolute risk, **percent**."""
    components: dict[str, float | None]
    """Relative-risk components: classical factors, polygenic score, density (``None``:
    unknown)."""
    missing: tuple[str, ...]
    """Inputs the model scored as unknown (``n_biopsies``, ..., ``prs_z``; assessments stored
    before the list existed: ``prs_z``, ``density``)."""
    inputs: dict[str, Any]
    provisional: bool = False
    """Assessed without the polygenic risk score (the study allows it); to be replaced."""


@dataclass(frozen=True)
class ExamView:
    due: date
    window_start: date
    window_end: date
    modality: str
    reason: str
    """The policy's reason, in English as stored (the pages look up ``reason.<policy>.<rule>``)."""
    rule: str | None = None
    """The id of the policy rule that planned the exam (``end-of-study`` for the study's last
    exam); ``None`` for exams stored before the rule was kept."""


@dataclass(frozen=True)
class PlanView:
    arm: str
    policy: str
    start: date
    end: date
    notes: tuple[str, ...]
    exams: tuple[ExamView, ...]
    created_at: datetime


@dataclass(frozen=True)
class VisitView:
    id: int
    visit_type: str
    modality: str | None
    due_date: date
    window_start: date
    window_end: date
    performed_date: date | None
    birads: int | None
    recall: bool | None
    biopsy: bool | None
    histology: str | None


@dataclass(frozen=True)
class OutcomeView:
    diagnosis_date: date
    detection_mode: str
    behaviour: str
    tnm: str | None
    stage_group: str | None


@dataclass(frozen=True)
class ParticipantRecord:
    study_id: str
    study: str
    site: str
    country: str
    time_zone: str
    languages: tuple[str, ...]
    """Her country's study languages (consent documents)."""
    language: str
    """The language her letters are written in (one of ``languages``, ISO 639-1)."""
    status: str
    age_at_entry: int | None
    age_band: str | None
    stratum: str | None
    is_test: bool
    registered_at: datetime
    arm: str | None
    allocated_at: datetime | None
    eligibility: EligibilityView | None
    """Her latest assessment."""
    consent: ConsentView | None
    risks: tuple[RiskView, ...]
    """Newest first."""
    plan: PlanView | None
    """Her current plan (not superseded)."""
    visits: tuple[VisitView, ...]
    outcomes: tuple[OutcomeView, ...]
    signature: SignatureView | None = None
    """Her investigator's latest signature, its manifestation and whether it still holds
    (21 CFR 11.50); ``None``: never signed."""


def _latest(session: Session, model: Any, participant_id: int, order: Any) -> Any:
    return session.scalar(
        select(model).where(model.participant_id == participant_id)
        .order_by(order.desc(), model.id.desc()).limit(1)
    )  # fmt: skip


def _risk(row: RiskAssessment) -> RiskView:
    out = row.outputs
    missing = tuple(out["unknown_inputs"]) if "unknown_inputs" in out else tuple(
        name for name in ("prs_z", "density") if out.get(f"missing_{name.split('_')[0]}")
    )  # fmt: skip
    components = {n: out.get(f"rr_{n}") for n in ("classical", "prs", "density")}
    return RiskView(row.assessed_at, row.model_name, row.model_version, row.level,
                    float(out.get("risk_5y_pct", 100.0 * out["risk_5y"])), components, missing,
                    dict(row.inputs), bool(out.get("provisional", False)))  # fmt: skip


def _plan(row: ScreeningPlan | None) -> PlanView | None:
    if row is None:
        return None
    exams = tuple(ExamView(e.due_date, e.window_start, e.window_end, e.modality, e.reason, e.rule)
                  for e in row.exams)  # fmt: skip
    return PlanView(row.arm, row.policy, row.start_date, row.end_date,
                    tuple(str(n) for n in row.notes), exams, row.created_at)  # fmt: skip


@refuses_unstorable_text
def participant_record(
    session_maker: sessionmaker[Session], actor: Actor, study_id: str
) -> ParticipantRecord:
    """Everything the participant page shows (pseudonymised), in the actor's scope. A signature
    found void for the first time is recorded as such (:func:`signature_in`)."""
    require(actor, Action.READ_PARTICIPANT)
    with session_maker() as session, session.begin():
        subject = find_participant(session, actor, study_id)
        p, country = subject.participant, subject.country
        allocation = session.scalar(select(Allocation).where(Allocation.participant_id == p.id))
        assessment = _latest(session, EligibilityAssessment, p.id,
                             EligibilityAssessment.assessed_at)  # fmt: skip
        eligibility = None if assessment is None else EligibilityView(
            assessment.protocol_version.version, assessment.result,
            tuple(r["reason"] for r in assessment.reasons), assessment.assessed_at)  # fmt: skip
        consent_row = _latest(session, ConsentRow, p.id, ConsentRow.consented_at)
        consent = None
        if consent_row is not None:
            document: ConsentDocument = consent_row.document
            consent = ConsentView(
                document.language, document.version, consent_row.consented_at,
                consent_row.withdrawal_level, consent_row.withdrawn_at,
            )  # fmt: skip
        risks = session.scalars(
            select(RiskAssessment).where(RiskAssessment.participant_id == p.id)
            .order_by(RiskAssessment.assessed_at.desc(), RiskAssessment.id.desc())
        )  # fmt: skip
        plan = session.scalar(
            select(ScreeningPlan)
            .where(ScreeningPlan.participant_id == p.id, ScreeningPlan.superseded_at.is_(None))
            .order_by(ScreeningPlan.id.desc()).limit(1)
        )  # fmt: skip
        visits = session.scalars(
            select(Visit).where(Visit.participant_id == p.id).order_by(Visit.due_date, Visit.id)
        )
        outcomes = session.scalars(
            select(Outcome).where(Outcome.participant_id == p.id).order_by(Outcome.diagnosis_date)
        )
        return ParticipantRecord(
            study_id=p.study_id, study=subject.study(session).name, site=subject.site.code,
            country=country.code, time_zone=country.time_zone,
            languages=tuple(country.languages),
            language=p.language or participant_language(None, country.languages),
            status=p.status, age_at_entry=p.age_at_entry,
            age_band=p.age_band, stratum=p.stratum, is_test=p.is_test,
            registered_at=p.registered_at,
            arm=None if allocation is None else allocation.arm,
            allocated_at=None if allocation is None else allocation.allocated_at,
            eligibility=eligibility, consent=consent, risks=tuple(_risk(r) for r in risks),
            plan=_plan(plan),
            visits=tuple(
                VisitView(v.id, v.visit_type, v.modality, v.due_date, v.window_start,
                          v.window_end, v.performed_date, v.birads, v.recall, v.biopsy,
                          v.histology)
                for v in visits
            ),
            outcomes=tuple(
                OutcomeView(o.diagnosis_date, o.detection_mode, o.behaviour,
                            " ".join(c for c in (o.t_category, o.n_category, o.m_category) if c)
                            or None, o.stage_group)
                for o in outcomes
            ),
            signature=signature_in(session, p.id, p.study_id, country.study_id),
        )  # fmt: skip
