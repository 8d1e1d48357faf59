"""The facts of one letter, read inside a use case's transaction (private to the package).

:func:`gather` resolves everything a letter says from the database: her name and contact
(decrypted), her site's contact (from the study file as loaded), and what the kind reports
(``basis``: the screening plan, kit or visit it is written from). A kind that does not apply to
her is refused with :class:`~pebs.services.errors.InvalidInput` naming ``kind`` (or
``recipient``) and a message code the pages translate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pebs.letters.content import ExamLine, LetterData, ModelInfo, SiteContact
from pebs.risk import cards
from pebs.services.errors import Conflict, InvalidInput
from pebs.services.field_rules import unknown_choice
from pebs.services.keys import IdentityKeys
from pebs.services.subject import Subject
from pebs.services.trial.registration import participant_language
from pebs.store.models import (
    Allocation,
    ParticipantIdentity,
    PlannedExam,
    RiskAssessment,
    Sample,
    ScreeningPlan,
    Study,
    Visit,
)
from pebs.trial import State
from pebs.trial.samples import SampleState
from pebs.trial.vocabularies import LANGUAGES, LETTER_KINDS, LETTER_RECIPIENTS

RISK_ARM, STANDARD_ARM = "risk-based", "standard"
END_OF_STUDY = "end_of_study"
"""The visit type of the end-of-study visit (:data:`pebs.trial.vocabularies.VISIT_TYPES`)."""
NOT_WRITTEN_TO = frozenset({State.WITHDRAWN_NO_CONTACT, State.WITHDRAWN_NO_DATA,
                            State.WITHDRAWN_DATA_USE, State.DIED})  # fmt: skip
"""Women no letter is written to: every withdrawal level ends contact, and after a death."""
_COMPONENTS = ("rr_classical", "rr_prs", "rr_density")


@dataclass(frozen=True)
class Gathered:
    """A letter's facts and what it reports (``plan:<id>``, ``kit:<kit ID>``, ``visit:<id>``)."""

    data: LetterData
    basis: str


def her_language(subject: Subject) -> str:
    """The language of her letters: as recorded, else her country's first."""
    return subject.participant.language or participant_language(None, subject.country.languages)


def check_choice(kind: str, recipient: str, language: str | None) -> None:
    """Refuse an unknown kind, recipient or language, naming the field and the allowed values;
    and a doctor's copy of anything but a risk result."""
    if kind not in LETTER_KINDS:
        raise unknown_choice("kind", kind, LETTER_KINDS)
    if recipient not in LETTER_RECIPIENTS:
        raise unknown_choice("recipient", recipient, LETTER_RECIPIENTS)
    if language is not None and language not in LANGUAGES:
        raise unknown_choice("language", language, LANGUAGES)
    if recipient == "doctor" and kind != "risk_result":
        raise InvalidInput(
            "the doctor's copy exists for a risk result only",
            field="recipient",
            message_code="error.letter_doctor_copy",
        )


def site_contact(study: Study, subject: Subject) -> SiteContact:
    """Her site's name and contact as the study file gives them."""
    code = subject.site.code
    entry: dict[str, Any] = next(
        (s for s in (study.config or {}).get("sites", []) if s.get("code") == code), {}
    )
    return SiteContact(subject.site.name, entry.get("address"), entry.get("phone"),
                       entry.get("email"))  # fmt: skip


def current_plan(session: Session, participant_id: int) -> ScreeningPlan | None:
    return session.scalar(
        select(ScreeningPlan)
        .where(ScreeningPlan.participant_id == participant_id,
               ScreeningPlan.superseded_at.is_(None))
        .order_by(ScreeningPlan.id.desc()).limit(1)
    )  # fmt: skip


def _exams(plan: ScreeningPlan, place: str, today: date) -> tuple[ExamLine, ...]:
    """The plan's exams from ``today`` on (the end-of-study visit is its own letter)."""
    return tuple(
        ExamLine(e.due_date, e.modality, place, plan.policy, e.rule, e.reason)
        for e in plan.exams if e.due_date >= today
    )  # fmt: skip


def is_final(assessment: RiskAssessment) -> bool:
    """An assessment with every input the study needs (not provisional)."""
    return not bool((assessment.outputs or {}).get("provisional", False))


def model_info(assessment: RiskAssessment) -> ModelInfo:
    """The model's name and version as stored with her result, and the path of its card on
    this site (the card of that model name calibrated to her country; ``/models`` lists them
    all when none matches)."""
    out = assessment.outputs or {}
    name = str(out.get("model") or assessment.model_name)
    country = out.get("country") or assessment.inputs.get("country")
    found = [c for c in cards.list_cards() if c.name == name and c.country in (country, None)]
    path = f"/models/{found[0].id}" if found else "/models"
    return ModelInfo(name, assessment.model_version, path)


def _arm(session: Session, participant_id: int) -> str | None:
    return session.scalar(select(Allocation.arm).where(Allocation.participant_id == participant_id))


def _risk_result(session: Session, subject: Subject, today: date) -> tuple[dict[str, Any], str]:
    p = subject.participant
    if _arm(session, p.id) != RISK_ARM:
        raise InvalidInput(
            f"{p.study_id} is not in the risk-based arm: no risk result letter",
            field="kind",
            message_code="error.letter_not_risk_arm",
        )
    plan = current_plan(session, p.id)
    assessment = None
    if plan is not None and plan.risk_assessment_id is not None:
        assessment = session.get(RiskAssessment, plan.risk_assessment_id)
    if plan is None or assessment is None or not is_final(assessment):
        raise InvalidInput(
            f"{p.study_id} has no final risk assessment with its plan yet",
            field="kind",
            message_code="error.letter_no_final_risk",
        )
    out = assessment.outputs
    risk = float(out["risk_5y"])  # stored as a proportion (risk_5y_pct is the percent)
    facts = {
        "level": assessment.level, "five_year_risk": risk, "provisional": False,
        "exams": _exams(plan, subject.site.name, today), "plan_end": plan.end_date,
        "model": model_info(assessment), "inputs": dict(assessment.inputs),
        "components": {name: None if out[name] is None else float(out[name])
                       for name in _COMPONENTS if name in out},  # None: unknown
    }  # fmt: skip
    return facts, f"plan:{plan.id}"


def _standard_arm(session: Session, subject: Subject, today: date) -> tuple[dict[str, Any], str]:
    p = subject.participant
    plan = current_plan(session, p.id)
    if _arm(session, p.id) != STANDARD_ARM or plan is None:
        raise InvalidInput(
            f"{p.study_id} has no plan of the standard arm",
            field="kind",
            message_code="error.letter_not_standard_arm",
        )
    facts = {"exams": _exams(plan, subject.site.name, today), "plan_end": plan.end_date}
    return facts, f"plan:{plan.id}"


def recollection_kit(session: Session, participant_id: int) -> Sample | None:
    """Her kit given to replace a failed one, not collected yet."""
    return session.scalar(
        select(Sample)
        .where(Sample.participant_id == participant_id,
               Sample.state == SampleState.ASSIGNED.value,
               Sample.replaces_sample_id.is_not(None))
        .order_by(Sample.id.desc()).limit(1)
    )  # fmt: skip


def _recollection(session: Session, subject: Subject, today: date) -> tuple[dict[str, Any], str]:
    kit = recollection_kit(session, subject.participant.id)
    if kit is None:
        raise InvalidInput(
            f"{subject.participant.study_id} has no new kit waiting for saliva",
            field="kind",
            message_code="error.letter_no_recollection",
        )
    return {"kit_id": kit.kit_id}, f"kit:{kit.kit_id}"


def end_of_study_visit(session: Session, participant_id: int) -> Visit | None:
    """Her end-of-study visit not performed yet (of her current plan)."""
    return session.scalar(
        select(Visit)
        .join(PlannedExam, PlannedExam.id == Visit.planned_exam_id)
        .join(ScreeningPlan, ScreeningPlan.id == PlannedExam.screening_plan_id)
        .where(Visit.participant_id == participant_id, Visit.visit_type == END_OF_STUDY,
               Visit.performed_date.is_(None), ScreeningPlan.superseded_at.is_(None))
        .order_by(Visit.due_date.desc(), Visit.id.desc()).limit(1)
    )  # fmt: skip


def _end_of_study(session: Session, subject: Subject, today: date) -> tuple[dict[str, Any], str]:
    visit = end_of_study_visit(session, subject.participant.id)
    if visit is None:
        raise InvalidInput(
            f"{subject.participant.study_id} has no end-of-study visit to come",
            field="kind",
            message_code="error.letter_no_end_visit",
        )
    return {"visit_due": visit.due_date}, f"visit:{visit.id}"


_KINDS = {"risk_result": _risk_result, "standard_arm": _standard_arm,
          "recollection": _recollection, "end_of_study": _end_of_study}  # fmt: skip


def gather(
    session: Session, keys: IdentityKeys, subject: Subject, study: Study, *, kind: str,
    recipient: str, language: str | None, issued_on: date,
) -> Gathered:  # fmt: skip
    """Her letter ``kind`` to ``recipient`` in ``language`` (``None``: hers), dated
    ``issued_on``; refused when the kind does not apply to her (see the module docstring)."""
    check_choice(kind, recipient, language)
    p = subject.participant
    if subject.state in NOT_WRITTEN_TO:
        raise Conflict(f"{p.study_id} is {subject.state.value!r}: no letter is written to her")
    facts, basis = _KINDS[kind](session, subject, issued_on)
    identity = session.get(ParticipantIdentity, p.id)
    if identity is None:
        raise Conflict(f"{p.study_id} has no identity record")
    cipher = keys.cipher
    data = LetterData(
        kind=kind, recipient=recipient, language=language or her_language(subject),
        issued_on=issued_on, study_id=p.study_id, full_name=cipher.decrypt_text(identity.name_enc),
        address=cipher.decrypt_optional(identity.contact_enc),
        site=site_contact(study, subject), **facts,
    )  # fmt: skip
    return Gathered(data, basis)
