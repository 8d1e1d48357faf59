"""Her risk and plan, computed as soon as everything her risk needs is present.

A woman of the risk-based arm gives her inputs at different times: the risk questionnaire
(:class:`~pebs.store.models.RiskQuestionnaire`, the latest counts), the breast density read on her
baseline mammogram (the first performed screening visit with a density) and the polygenic score
of her saliva sample (her latest *accepted* :class:`~pebs.store.models.GenotypeResult`). Whoever
stores an input calls :func:`complete_risk_in` in the same transaction (a laboratory batch calls
:func:`complete_risks_in` for many women at once: the same code, her inputs read and her rows
written in bulk); when the study's ``[risk_assessment]`` rules find nothing missing, her
assessment is computed and stored, and her plan given, by the same functions as a clinician's
assessment (:func:`.risk_assessment.evaluate_risks`, :func:`.risk_assessment.store_risks`).
Without the PRS the assessment is provisional when the study allows it; the PRS, when it
arrives, gives the final one.

An assessment is computed when she has none yet or when an input differs from those of her latest
assessment; never twice for the same inputs. An automatic assessment is never allowed to lower
her level: one that would is *held* (not stored; a ``hold_risk`` audit event on her) and she
appears on the risk-pending worklist (:mod:`.risk_pending`) until a clinician records her
assessment by hand. Inputs the model rejects are held the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, and_, cast, func, select
from sqlalchemy.orm import Session

from pebs.services.actor import Actor
from pebs.services.errors import Conflict, InvalidFields
from pebs.services.keys import IdentityKeys
from pebs.services.subject import Subject
from pebs.services.transaction import instant, local_date
from pebs.services.trial._latest_rows import FirstPer
from pebs.services.trial._risk_factors import QUESTIONNAIRE_INPUTS, RiskFactors
from pebs.services.trial.risk_assessment import (
    RISK_ARM_STATES,
    RiskEvaluation,
    RiskToStore,
    RiskWanted,
    evaluate_risks,
    latest_assessments,
    risk_rules,
    store_risks,
)
from pebs.services.trial.screening_plan import DEFAULT_PLAN_YEARS
from pebs.store.audit import append_event
from pebs.store.models import (
    AuditEvent,
    Country,
    GenotypeResult,
    Participant,
    RiskAssessment,
    RiskQuestionnaire,
    Sample,
    Site,
    Study,
    Visit,
)
from pebs.trial.risk_inputs import RISK_INPUTS, RiskInputRules

__all__ = [
    "DENSITY_MODALITIES",
    "HOLD_ACTION",
    "MISSING_KINDS",
    "RiskInputsFound",
    "complete_risk_in",
    "complete_risks_in",
    "inputs_for",
    "inputs_of",
    "pending_holds",
]

DENSITY_MODALITIES = ("mammography", "tomosynthesis")
"""Examinations on which a breast density is read."""

HOLD_ACTION = "hold_risk"
"""Audit action (entity ``participant``) of an automatic assessment that was not stored."""

MISSING_KINDS = ("questionnaire", "density", "prs")
"""What can be missing for her risk: the questionnaire, the baseline density, the PRS."""

_SOURCE_OF = {"density": "density", "prs_z": "prs"}
"""The source of each input that does not come from the questionnaire."""


@dataclass(frozen=True)
class RiskInputsFound:
    """What her records hold for her risk, and where each input comes from."""

    questionnaire: RiskQuestionnaire | None
    baseline: Visit | None
    """Her baseline mammogram: the first performed screening visit with a density."""
    genotype: GenotypeResult | None
    """Her latest accepted genotype result."""

    def factors(self) -> RiskFactors:
        answers = self.questionnaire.answers if self.questionnaire is not None else {}
        return RiskFactors(
            **{name: answers.get(name) for name in QUESTIONNAIRE_INPUTS},
            density=None if self.baseline is None else self.baseline.density,
            prs_z=None if self.genotype is None else self.genotype.prs_z,
        )  # fmt: skip

    def missing(self, rules: RiskInputRules, *, final: bool = False) -> tuple[str, ...]:
        """What is missing before her risk can be computed (:data:`MISSING_KINDS`, in order):
        the questionnaire always (the model needs her classical factors), the others when the
        study requires them; the PRS not when a provisional assessment is allowed, unless
        ``final`` (what a final assessment waits for)."""
        if final:
            rules = replace(rules, allow_provisional=False)
        absent = {_SOURCE_OF.get(name, "questionnaire")
                  for name in rules.absent_required(self.factors().answers())}  # fmt: skip
        if self.questionnaire is None:
            absent.add("questionnaire")
        return tuple(kind for kind in MISSING_KINDS if kind in absent)

    def sources(self) -> dict[str, int]:
        """The rows the inputs come from, by table."""
        rows = {"risk_questionnaire": self.questionnaire, "visit": self.baseline,
                "genotype_result": self.genotype}  # fmt: skip
        return {name: row.id for name, row in rows.items() if row is not None}


_LATEST_QUESTIONNAIRE = FirstPer(
    RiskQuestionnaire, RiskQuestionnaire.participant_id,
    (RiskQuestionnaire.answered_on.desc(), RiskQuestionnaire.recorded_at.desc(),
     RiskQuestionnaire.id.desc()),
)  # fmt: skip
_BASELINE = FirstPer(
    Visit, Visit.participant_id, (Visit.performed_date, Visit.id),
    where=(Visit.visit_type == "screening", Visit.performed_date.is_not(None),
           Visit.density.is_not(None)),
)  # fmt: skip
_LATEST_GENOTYPE = FirstPer(
    GenotypeResult, Sample.participant_id,
    (GenotypeResult.recorded_at.desc(), GenotypeResult.id.desc()),
    join=(Sample, GenotypeResult.sample_id == Sample.id),
    where=(GenotypeResult.status == "accepted",),
)  # fmt: skip


def inputs_for(session: Session, participant_ids: Iterable[int]) -> dict[int, RiskInputsFound]:
    """Each woman's latest questionnaire, baseline density and latest accepted genotype result."""
    ids = list(participant_ids)
    questionnaires = _LATEST_QUESTIONNAIRE(session, ids)
    baselines = _BASELINE(session, ids)
    genotypes = _LATEST_GENOTYPE(session, ids)
    return {
        i: RiskInputsFound(questionnaires.get(i), baselines.get(i), genotypes.get(i)) for i in ids
    }


def inputs_of(session: Session, participant_id: int) -> RiskInputsFound:
    """Her latest questionnaire, baseline density and latest accepted genotype result."""
    return inputs_for(session, [participant_id])[participant_id]


def _changed(found: RiskInputsFound, factors: RiskFactors, latest: RiskAssessment) -> bool:
    """Whether an input recorded since her latest assessment differs from its inputs (a
    clinician's assessment by hand is not redone from older records)."""
    inputs: Mapping[str, Any] = latest.inputs
    if {name: inputs.get(name) for name in RISK_INPUTS} == factors.answers():
        return False
    return any(row.recorded_at is not None and row.recorded_at >= latest.assessed_at
               for row in (found.questionnaire, found.baseline, found.genotype)
               if row is not None)  # fmt: skip


_LATEST_HOLD = FirstPer(
    AuditEvent, AuditEvent.entity_id, (AuditEvent.id.desc(),),
    where=(AuditEvent.entity == "participant", AuditEvent.action == HOLD_ACTION),
)  # fmt: skip


def pending_holds(session: Session, participants: Mapping[int, str]) -> dict[int, AuditEvent]:
    """Each woman's held automatic assessment that no recorded assessment has followed yet, by
    row id (``participants``: row id -> study ID)."""
    owners = {study_id: row_id for row_id, study_id in participants.items()}
    holds = _LATEST_HOLD(session, owners)
    if not holds:
        return {}
    assessed = dict(
        session.execute(
            select(RiskAssessment.participant_id, func.max(AuditEvent.id))
            .join(AuditEvent, and_(
                AuditEvent.entity == "risk_assessment", AuditEvent.action == "assess",
                AuditEvent.entity_id == cast(RiskAssessment.id, String),
            ))
            .where(RiskAssessment.participant_id.in_([owners[s] for s in holds]))
            .group_by(RiskAssessment.participant_id)
        ).all()
    )  # fmt: skip
    return {owners[study_id]: hold for study_id, hold in holds.items()
            if hold.id > assessed.get(owners[study_id], 0)}  # fmt: skip


def _last_screens(session: Session, days: Mapping[int, date]) -> dict[int, date]:
    """Each woman's latest screening mammogram on or before her day (``days``: row id -> day;
    her plan counts from it); women without one are absent."""
    latest: dict[int, date] = {}
    if not days:
        return latest
    for owner, performed in session.execute(
        select(Visit.participant_id, Visit.performed_date).where(
            Visit.participant_id.in_(list(days)), Visit.visit_type == "screening",
            Visit.modality.in_(DENSITY_MODALITIES), Visit.performed_date.is_not(None),
        )
    ):  # fmt: skip
        if performed <= days[owner] and performed > latest.get(owner, date.min):
            latest[owner] = performed
    return latest


def _subjects(session: Session, participant_ids: Sequence[int]) -> dict[int, Subject]:
    """The women with their site and country, in one query (:class:`Conflict` for a row id
    without a participant)."""
    subjects = {
        participant.id: Subject(participant, site, country)
        for participant, site, country in session.execute(
            select(Participant, Site, Country)
            .join(Site, Site.id == Participant.site_id)
            .join(Country, Country.id == Site.country_id)
            .where(Participant.id.in_(participant_ids))
        )
    }  # fmt: skip
    for participant_id in participant_ids:
        if participant_id not in subjects:
            raise Conflict(f"no participant with row id {participant_id}")
    return subjects


@dataclass(frozen=True)
class _Held:
    """An automatic assessment not stored: why, and the audit values."""

    subject: Subject
    why: str
    new: dict[str, Any]


def _hold(session: Session, actor: Actor, held: Sequence[_Held], at: datetime) -> None:
    """A ``hold_risk`` event on each woman, unless she already waits with the same values."""
    if not held:
        return
    waiting = pending_holds(
        session, {one.subject.participant.id: one.subject.participant.study_id for one in held}
    )
    for one in held:
        participant = one.subject.participant
        hold = waiting.get(participant.id)
        if hold is not None and hold.new == one.new:
            continue  # already waiting for a clinician with these inputs
        append_event(
            session, actor=actor.username, action=HOLD_ACTION, entity="participant",
            entity_id=participant.study_id, reason=one.why, new=one.new, at=at,
        )  # fmt: skip


def complete_risk_in(
    session: Session, *, participant_id: int, actor: Actor, keys: IdentityKeys, at: datetime
) -> str | None:
    """Compute and store her risk assessment and plan if her inputs are complete; her level.

    Runs in the caller's transaction; the caller holds her row lock (or is the only writer) and
    has just stored one of her inputs. Returns ``None`` when nothing was stored: she is not in
    the risk-based arm, an input is missing, her inputs are those of her latest assessment, or
    the assessment was held (it would lower her level, or the model rejects her inputs). The
    assessment's actor is ``actor`` (whose action completed her data); ``keys`` decrypt her date
    of birth (her age on the assessment date, ``at`` in her country).
    """
    levels = complete_risks_in(
        session, participant_ids=[participant_id], actor=actor, keys=keys, at=at
    )
    return levels[participant_id]


def complete_risks_in(
    session: Session, *, participant_ids: Iterable[int], actor: Actor, keys: IdentityKeys,
    at: datetime,
) -> dict[int, str | None]:  # fmt: skip
    """:func:`complete_risk_in` for several women at once: each woman's level by row id
    (``None`` when nothing was stored for her).

    Her inputs and latest assessments are read for a few hundred women at a time in a few
    queries, the model is called once per study and country, and the assessments and plans
    are stored in bulk; each woman gets the rows and audit events that :func:`complete_risk_in`
    gives her alone.
    """
    when = instant(at)
    wanted = list(dict.fromkeys(participant_ids))
    levels: dict[int, str | None] = dict.fromkeys(wanted)
    for start in range(0, len(wanted), _CHUNK):
        levels.update(_complete(session, wanted[start : start + _CHUNK], actor, keys, when))
    return levels


_CHUNK = 500
"""Women completed together (their row ids are bound parameters of each query)."""


def _complete(
    session: Session, participant_ids: Sequence[int], actor: Actor, keys: IdentityKeys,
    when: datetime,
) -> dict[int, str]:  # fmt: skip
    """:func:`complete_risks_in` for a few hundred women: the levels stored, by row id."""
    subjects = _subjects(session, participant_ids)
    in_arm = [pid for pid in participant_ids if subjects[pid].state in RISK_ARM_STATES]
    found = inputs_for(session, in_arm)
    latest = latest_assessments(session, in_arm)
    studies: dict[int, list[Subject]] = {}
    for pid in in_arm:
        studies.setdefault(subjects[pid].country.study_id, []).append(subjects[pid])
    levels: dict[int, str] = {}
    for women in studies.values():
        study = women[0].study(session)
        rules = risk_rules(session, study)
        due = []
        for subject in women:
            her, previous = found[subject.participant.id], latest.get(subject.participant.id)
            factors = her.factors()
            if her.missing(rules) or (previous is not None
                                      and not _changed(her, factors, previous)):  # fmt: skip
                continue
            due.append(RiskWanted(subject, factors, local_date(when, subject.country.time_zone)))
        evaluations = evaluate_risks(session, keys, study, due, previous=latest)
        levels |= _store_or_hold(session, actor, study, due, evaluations, found, when)
    return levels


def _store_or_hold(
    session: Session, actor: Actor, study: Study, due: Sequence[RiskWanted],
    evaluations: Sequence[RiskEvaluation | InvalidFields | Conflict],
    found: Mapping[int, RiskInputsFound], when: datetime,
) -> dict[int, str]:  # fmt: skip
    """Store each evaluation, or hold it (refused, or lowering her level); the levels stored."""
    held, stored = [], []
    for one, evaluation in zip(due, evaluations, strict=True):
        sources = found[one.subject.participant.id].sources()
        values = {"inputs": one.factors.answers(), "sources": sources}
        if isinstance(evaluation, InvalidFields | Conflict):
            why = f"automatic risk assessment not possible: {evaluation}"
            held.append(_Held(one.subject, why, {**values, "held": "rejected"}))
        elif evaluation.lowers:
            held.append(_Held(
                one.subject, _lowering_reason(evaluation),
                {**values, "held": "lowered", "level": evaluation.level,
                 "previous_level": evaluation.previous_level,
                 "risk_5y": evaluation.outputs["risk_5y"]},
            ))  # fmt: skip
        else:
            audit = {"automatic": True, "sources": sources}
            stored.append(RiskToStore(one.subject, evaluation, None, audit))
    _hold(session, actor, held, when)
    screens = _last_screens(session, {one.subject.participant.id: one.evaluation.day
                                      for one in stored})  # fmt: skip
    recorded = store_risks(
        session, actor, study,
        [replace(one, last_screen=screens.get(one.subject.participant.id)) for one in stored],
        plan_years=DEFAULT_PLAN_YEARS, at=when,
        reason="automatic risk assessment: her data is complete",
    )  # fmt: skip
    return {one.subject.participant.id: risk.level
            for one, risk in zip(stored, recorded, strict=True)}  # fmt: skip


def _lowering_reason(evaluation: RiskEvaluation) -> str:
    return (
        f"automatic risk assessment held: it would lower her level from "
        f"{evaluation.previous_level} to {evaluation.level}; a clinician confirms it"
    )
