"""One page of the participant export: a keyset-paged query and a few ``IN (page ids)`` queries.

A page is read in its own short transaction: the participants after the last id of the previous
page in the caller's scope (:func:`pebs.services.participant_pages.participants_after`), then
their latest eligibility, consent, risk assessment and plan, their visit counts, diagnoses,
questionnaires (and, if asked, identity) with one query each, whatever the page size. Memory is
bounded by the page, never by the study.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, case, func, select
from sqlalchemy.orm import Session

from pebs.services.actor import Actor
from pebs.services.keys import IdentityKeys
from pebs.services.participant_pages import participants_after
from pebs.services.trial._export_columns import N_ALWAYS, RESEARCH_COLUMNS
from pebs.store.models import (
    Consent,
    ConsentDocument,
    EligibilityAssessment,
    Outcome,
    ParticipantIdentity,
    ProtocolVersion,
    QuestionnaireResponse,
    RiskAssessment,
    ScreeningPlan,
    Visit,
)
from pebs.trial import State

__all__ = ["Page", "read_page"]


@dataclass(frozen=True)
class Page:
    rows: tuple[tuple[Any, ...], ...]
    """One tuple of plain values per participant, in the order of the data dictionary."""
    last_id: int | None
    """Keyset of the next page (``None``: this page was empty)."""
    n_withheld: int
    """Rows whose research data is left empty (data use withdrawn)."""


def _latest(rows: Sequence[Any]) -> dict[int, Any]:
    """participant id -> her last row (rows ordered by participant, then time)."""
    return {row[0]: row for row in rows}


def _by_participant(session: Session, statement: Any) -> dict[int, Any]:
    return _latest(session.execute(statement).all())


def read_page(
    session: Session,
    actor: Actor,
    study_pk: int,
    *,
    after: int,
    limit: int,
    include_test: bool,
    keys: IdentityKeys | None,
) -> Page:
    """The page of participants with id > ``after`` (see the module docstring)."""
    base = participants_after(session, actor, study_pk, after=after, limit=limit,
                              include_test=include_test)  # fmt: skip
    if not base:
        return Page((), None, 0)
    ids = [row[0].id for row in base]
    facts = _facts(session, ids)
    identities = _identities(session, ids, keys) if keys is not None else None
    rows, n_withheld = [], 0
    for participant, site, country, allocation, death in base:
        withheld = participant.status == State.WITHDRAWN_DATA_USE.value
        n_withheld += withheld
        row = _row(participant, site, country, allocation, death, facts, withheld)
        if identities is not None:
            row += identities.get(participant.id, (None, None, None, None))
        rows.append(row)
    return Page(tuple(rows), ids[-1], n_withheld)


def _facts(session: Session, ids: list[int]) -> dict[str, dict[int, Any]]:
    ea, ra, cd = EligibilityAssessment, RiskAssessment, ConsentDocument
    recall = func.sum(case((Visit.recall.is_(True), 1), else_=0)).cast(Integer)
    biopsy = func.sum(case((Visit.biopsy.is_(True), 1), else_=0)).cast(Integer)
    return {
        "eligibility": _by_participant(session, select(
            ea.participant_id, ea.result, ProtocolVersion.version, ea.assessed_at, ea.reasons,
        ).join(ProtocolVersion, ProtocolVersion.id == ea.protocol_version_id)
            .where(ea.participant_id.in_(ids))
            .order_by(ea.participant_id, ea.assessed_at, ea.id)),
        "consent": _by_participant(session, select(
            Consent.participant_id, Consent.consented_at, cd.language, cd.version,
            Consent.withdrawal_level, Consent.withdrawn_at,
        ).join(cd, cd.id == Consent.consent_document_id)
            .where(Consent.participant_id.in_(ids))
            .order_by(Consent.participant_id, Consent.consented_at, Consent.id)),
        "risk": _by_participant(session, select(
            ra.participant_id, ra.model_name, ra.model_version, ra.outputs, ra.level,
            ra.assessed_at,
        ).where(ra.participant_id.in_(ids)).order_by(ra.participant_id, ra.assessed_at, ra.id)),
        "plan": _by_participant(session, select(
            ScreeningPlan.participant_id, ScreeningPlan.policy, ScreeningPlan.start_date,
        ).where(ScreeningPlan.participant_id.in_(ids), ScreeningPlan.superseded_at.is_(None))
            .order_by(ScreeningPlan.participant_id, ScreeningPlan.id)),
        "visits": _by_participant(session, select(
            Visit.participant_id, func.count(Visit.performed_date), recall, biopsy,
            func.max(Visit.birads),
        ).where(Visit.participant_id.in_(ids)).group_by(Visit.participant_id)),
        "outcomes": _by_participant(session, select(
            Outcome.participant_id, func.count(Outcome.id), func.min(Outcome.diagnosis_date),
        ).where(Outcome.participant_id.in_(ids)).group_by(Outcome.participant_id)),
        "first_outcome": {
            row[0]: row for row in session.execute(select(
                Outcome.participant_id, Outcome.detection_mode, Outcome.behaviour,
                Outcome.t_category, Outcome.n_category, Outcome.m_category, Outcome.stage_group,
            ).where(Outcome.participant_id.in_(ids))
                .order_by(Outcome.participant_id, Outcome.diagnosis_date.desc(),
                          Outcome.id.desc())).all()
        },
        "questionnaires": _by_participant(session, select(
            QuestionnaireResponse.participant_id, func.count(QuestionnaireResponse.id),
        ).where(QuestionnaireResponse.participant_id.in_(ids))
            .group_by(QuestionnaireResponse.participant_id)),
    }  # fmt: skip


def _identities(session: Session, ids: list[int], keys: IdentityKeys) -> dict[int, tuple]:
    cipher = keys.cipher
    rows = session.scalars(
        select(ParticipantIdentity).where(ParticipantIdentity.participant_id.in_(ids))
    )
    return {
        i.participant_id: (
            cipher.decrypt_text(i.name_enc),
            cipher.decrypt_date(i.date_of_birth_enc),
            None if i.contact_enc is None else cipher.decrypt_text(i.contact_enc),
            None if i.national_id_enc is None else cipher.decrypt_text(i.national_id_enc),
        )
        for i in rows
    }


def _row(participant, site, country, allocation, death, facts, withheld) -> tuple:
    always = (participant.study_id, site, country, participant.status, withheld)
    if withheld:
        return always + (None,) * (len(RESEARCH_COLUMNS) - N_ALWAYS)
    pid = participant.id
    e = facts["eligibility"].get(pid)
    c = facts["consent"].get(pid)
    r = facts["risk"].get(pid)
    p = facts["plan"].get(pid)
    v = facts["visits"].get(pid)
    o = facts["outcomes"].get(pid)
    first = facts["first_outcome"].get(pid)
    q = facts["questionnaires"].get(pid)
    failed = ";".join(item["criterion"] for item in e[4]) if e and e[4] else None
    tnm = " ".join(part for part in first[3:6] if part) if first else None
    return (
        *always,
        participant.registered_at, participant.age_at_entry, participant.age_band,
        participant.stratum,
        e and e[1], e and e[2], e and e[3], failed,
        c and c[1], c and f"{country}/{c[2]} {c[3]}", c and c[4], c and c[5],
        allocation and allocation.arm, allocation and allocation.method,
        allocation and allocation.allocated_at,
        r and f"{r[1]} {r[2]}", r and r[3].get("risk_5y"), r and r[4], r and r[5],
        p and p[1], p and p[2],
        v[1] if v else 0, v[2] if v else 0, v[3] if v else 0, v and v[4],
        o[1] if o else 0, o and o[2], first and first[1], first and first[2], tnm or None,
        first and first[6],
        death and death.date_of_death, death and death.cause,
        q[1] if q else 0,
    )  # fmt: skip
