"""Participants' casebooks (:mod:`pebs.trial.casebook`) read from the database, a page at a time.

:func:`casebook_page` reads the page of participants after a row id in the caller's scope (the
participant export's scoped keyset query,
:func:`pebs.services.participant_pages.participants_after`), then each table of her record with
one ``IN (page ids)`` query: eligibility assessments, consents, risk assessments, screening
plans, visits, outcomes and questionnaires; eight queries per page whatever its size. The
caller owns the (read) transaction; the participant export runs one short transaction per
page (:func:`pebs.services.trial.export_participants`).

Pseudonymised: no identity is read. A woman who withdrew the use of her data has her
registration form only, holding her site and nothing else (as the CSV export leaves her
research columns empty). What each form holds:

- ``registration``, ``allocation``, ``death``: her participant, allocation and death rows;
- ``eligibility``, ``consent``, ``risk_assessment``, ``screening_plan``, ``visit``, ``outcome``,
  ``questionnaire``: one instance per stored row, keyed by the row's id (the consent version as
  ``<country>/<language> <version>``, as in the CSV export; the screen-failure criteria as their
  ids joined by ``;``);
- ``risk_factors``: the inputs of her latest risk assessment (by time, then id), what her level
  was computed from; answers waiting for their assessment (a risk questionnaire before her
  density or PRS arrives) are not in it. Numbers are written as text (``"2"``, a PRS in Python's
  shortest round-trip form), atypical hyperplasia as ``yes``/``no``, with ``unknown`` and
  ``nulliparous`` kept as given.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pebs.services.actor import Action, Actor, require
from pebs.services.participant_pages import participants_after
from pebs.store.models import (
    Arm,
    Consent,
    ConsentDocument,
    Country,
    EligibilityAssessment,
    Outcome,
    Participant,
    ProtocolVersion,
    QuestionnaireResponse,
    RiskAssessment,
    ScreeningPlan,
    Site,
    Study,
    Visit,
)
from pebs.trial import State
from pebs.trial.casebook import Casebook, CasebookStudy, FormInstance, StudySite
from pebs.trial.forms import form_named, form_names

__all__ = ["CasebookPage", "casebook_page", "casebook_study"]


@dataclass(frozen=True)
class CasebookPage:
    casebooks: tuple[Casebook, ...]
    """One casebook per participant of the page, in row id order."""
    last_id: int | None
    """Keyset of the next page (``None``: this page was empty)."""
    n_withheld: int
    """Casebooks holding registration only (data use withdrawn)."""


def casebook_study(session: Session, actor: Actor, study_pk: int) -> CasebookStudy:
    """The study's name, title, arms and the sites in ``actor``'s scope."""
    require(actor, Action.READ_PARTICIPANT)
    study = session.get_one(Study, study_pk)
    arms = session.scalars(select(Arm.name).where(Arm.study_id == study_pk).order_by(Arm.id))
    sites = session.execute(
        actor.scope.apply(
            select(Site.code, Site.name, Country.code)
            .join(Country, Site.country_id == Country.id)
            .where(Country.study_id == study_pk),
            Site.id,
        ).order_by(Site.code)
    ).all()
    return CasebookStudy(
        study.name, study.title, tuple(arms), tuple(StudySite(*site) for site in sites)
    )


def casebook_page(
    session: Session,
    actor: Actor,
    study_pk: int,
    *,
    after: int,
    limit: int,
    include_test: bool,
    only: Sequence[int] | None = None,
    forms: Collection[str] | None = None,
) -> CasebookPage:
    """The casebooks of the page of participants with row id > ``after`` (module docstring);
    ``only``: of the participants with these row ids alone; ``forms``: with the instances of
    these forms alone (and registration), the others' tables not read (``None``: every form)."""
    require(actor, Action.READ_PARTICIPANT)
    base = participants_after(session, actor, study_pk, after=after, limit=limit,
                              include_test=include_test, only=only)  # fmt: skip
    if not base:
        return CasebookPage((), None, 0)
    withheld = {row[0].id for row in base if row[0].status == State.WITHDRAWN_DATA_USE.value}
    ids = [row[0].id for row in base if row[0].id not in withheld]
    forms = _repeating_forms(session, ids, None if forms is None else set(forms))
    casebooks = []
    for participant, site, country, allocation, death in base:
        pid = participant.id
        if pid in withheld:
            found = {"registration": [FormInstance("registration", None, {"site": site})]}
        else:
            found = {"registration": [_registration(participant, site)]}
            found |= {name: rows.get(pid, []) for name, rows in forms.items()}
            found["consent"] = [_consent(row, country) for row in found.get("consent", ())]
            assessments = found.get("risk_assessment", [])
            found["risk_assessment"] = [_risk_assessment(row) for row in assessments]
            if assessments:
                latest = max(assessments, key=lambda row: (row.assessed_at, row.id))
                found["risk_factors"] = [_risk_factors(latest.inputs)]
            if allocation is not None:
                found["allocation"] = [_allocation(allocation, participant.stratum)]
            if death is not None:
                found["death"] = [_instance("death", None, death)]
        instances = tuple(i for name in form_names() for i in found.get(name, ()))
        casebooks.append(Casebook(participant.study_id, site, country, pid in withheld, instances))
    return CasebookPage(tuple(casebooks), base[-1][0].id, len(withheld))


def _instance(form: str, key: int | None, row: Any, **values: Any) -> FormInstance:
    """The form's items read from the attributes of ``row`` of the same name, or ``values``."""
    items = {item.name: values[item.name] if item.name in values else getattr(row, item.name)
             for item in form_named(form).items}  # fmt: skip
    return FormInstance(form, key, items)


def _registration(participant: Participant, site: str) -> FormInstance:
    return _instance("registration", None, participant, site=site)


def _allocation(allocation: Any, stratum: str | None) -> FormInstance:
    return _instance("allocation", None, allocation, stratum=stratum)


def _consent(row: Any, country: str) -> FormInstance:
    version = f"{country}/{row.language} {row.version}"
    return _instance("consent", row.id, row, consent_version=version)


def _risk_assessment(row: Any) -> FormInstance:
    return _instance("risk_assessment", row.id, row, model=row.model_name,
                     risk_5y=row.outputs.get("risk_5y"))  # fmt: skip


def _risk_factors(inputs: dict[str, Any]) -> FormInstance:
    return FormInstance("risk_factors", None, {
        item.name: _factor_text(inputs.get(item.name)) for item in form_named("risk_factors").items
    })  # fmt: skip


def _factor_text(value: Any) -> str | None:
    """A risk input as the ``risk_factors`` form's text (module docstring)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    return repr(value)  # int: its digits; float: the shortest text that reads back the same


def _repeating_forms(
    session: Session, ids: list[int], wanted: set[str] | None
) -> dict[str, dict[int, list[Any]]]:
    """Form name -> participant id -> her rows (instances, or rows still to map), in id order;
    the forms of ``wanted`` alone (``risk_factors`` is made from the risk assessments' rows),
    every form for ``None``."""
    if not ids:
        return defaultdict(dict)
    if wanted is not None and "risk_factors" in wanted:
        wanted = wanted | {"risk_assessment"}
    ea, cd, qr = EligibilityAssessment, ConsentDocument, QuestionnaireResponse
    statements: dict[str, tuple[Any, Callable[[Any], Any]]] = {
        "eligibility": (
            select(ea.id, ea.participant_id, ea.result, ProtocolVersion.version.label(
                "protocol_version"), ea.reasons, ea.assessed_at)
            .join(ProtocolVersion, ProtocolVersion.id == ea.protocol_version_id)
            .where(ea.participant_id.in_(ids)),
            lambda row: _instance("eligibility", row.id, row, screen_failure_criteria=";".join(
                reason["criterion"] for reason in row.reasons) or None),
        ),
        "consent": (
            select(Consent.id, Consent.participant_id, Consent.consented_at,
                   Consent.withdrawal_level, Consent.withdrawn_at, Consent.withdrawal_reason,
                   cd.language, cd.version)
            .join(cd, cd.id == Consent.consent_document_id)
            .where(Consent.participant_id.in_(ids)),
            lambda row: row,
        ),
        "risk_assessment": (
            _all_columns(RiskAssessment).where(RiskAssessment.participant_id.in_(ids)),
            lambda row: row,
        ),
        "screening_plan": (
            _all_columns(ScreeningPlan).where(ScreeningPlan.participant_id.in_(ids)),
            lambda row: _instance("screening_plan", row.id, row),
        ),
        "visit": (
            _all_columns(Visit).where(Visit.participant_id.in_(ids)),
            lambda row: _instance("visit", row.id, row),
        ),
        "outcome": (
            _all_columns(Outcome).where(Outcome.participant_id.in_(ids)),
            lambda row: _instance("outcome", row.id, row),
        ),
        "questionnaire": (
            _all_columns(qr).where(qr.participant_id.in_(ids)),
            lambda row: _instance("questionnaire", row.id, row),
        ),
    }  # fmt: skip
    return {name: _grouped(_rows(session, statement), make)
            for name, (statement, make) in statements.items()
            if wanted is None or name in wanted}  # fmt: skip


def _all_columns(entity: Any) -> Any:
    """A select of every column of ``entity``'s table: named rows, no ORM objects to build."""
    return select(*entity.__table__.c)


def _rows(session: Session, statement: Any) -> Iterable[Any]:
    """The statement's named rows, ordered by owner, then id (of its first column's table)."""
    table = statement.selected_columns[0].table
    return session.execute(statement.order_by(table.c.participant_id, table.c.id))


def _grouped(rows: Iterable[Any], make: Callable[[Any], Any]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row.participant_id].append(make(row))
    return grouped
