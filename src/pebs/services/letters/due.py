"""The letters due: what each woman of a study should receive and has not been issued yet.

Per woman in the caller's scope (not withdrawn, not dead, not completed), the letters to her
(never the doctor's copy, which is issued on request), each with its *basis*:

- ``risk_result`` for her current plan (``plan:<id>``) once it rests on a final (not
  provisional) risk assessment, in the risk-based arm;
- ``standard_arm`` for her current plan of the standard arm (``plan:<id>``);
- ``recollection`` for a kit given to replace a failed one and not collected yet
  (``kit:<kit ID>``);
- ``end_of_study`` for her end-of-study visit, not performed, due within
  :data:`END_OF_STUDY_NOTICE_WEEKS` (``visit:<id>``).

A letter is due until one of its kind has been issued to her for the same basis: a new plan (a
re-assessment) makes a new result letter due; re-issuing a letter on request does not make it
due again. ``since`` keeps the plans and kits created on or after that day (the visit: its
plan's day).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, String, and_, cast, exists, select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import InvalidInput
from pebs.services.letters._facts import END_OF_STUDY, NOT_WRITTEN_TO, RISK_ARM, STANDARD_ARM
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.transaction import instant
from pebs.services.trial.registration import participant_language
from pebs.services.trial.study_rules import study_named
from pebs.store.models import (
    Country,
    IssuedLetter,
    Participant,
    PlannedExam,
    RiskAssessment,
    Sample,
    ScreeningPlan,
    Site,
    Visit,
)
from pebs.trial import State
from pebs.trial.samples import SampleState

__all__ = ["END_OF_STUDY_NOTICE_WEEKS", "DueLetter", "due_in", "letters_due"]

END_OF_STUDY_NOTICE_WEEKS = 8
"""The end-of-study invitation is due this many weeks before the visit (and after, until the
visit is performed): time to arrange the appointment."""

_NO_LETTER_DUE = tuple(s.value for s in (*NOT_WRITTEN_TO, State.COMPLETED))


@dataclass(frozen=True)
class DueLetter:
    """A letter to a woman that has not been issued yet."""

    study_id: str
    site: str
    kind: str
    basis: str
    """``plan:<id>``, ``kit:<kit ID>`` or ``visit:<id>``."""
    language: str
    """Hers: the language the letter will be written in."""
    since: datetime
    """When what it reports was created (the plan, the kit) or, for a visit, its plan."""


def _not_issued(kind: str, basis) -> object:
    return ~exists().where(
        IssuedLetter.participant_id == Participant.id, IssuedLetter.kind == kind,
        IssuedLetter.recipient == "woman", IssuedLetter.basis == basis,
    )  # fmt: skip


def _women(statement: Select, actor: Actor, study_pk: int) -> Select:
    return actor.scope.apply(
        statement.join(Site, Site.id == Participant.site_id)
        .join(Country, Country.id == Site.country_id)
        .where(Country.study_id == study_pk, Participant.status.not_in(_NO_LETTER_DUE))
    )


def _plans(arm: str, since: datetime | None) -> Select:
    plan = ScreeningPlan
    statement = (
        select(Participant, Site.code, Country.languages, plan.id, plan.created_at,
               RiskAssessment.outputs)
        .select_from(plan)
        .join(Participant, Participant.id == plan.participant_id)
        .outerjoin(RiskAssessment, RiskAssessment.id == plan.risk_assessment_id)
        .where(plan.superseded_at.is_(None), plan.arm == arm,
               _not_issued("risk_result" if arm == RISK_ARM else "standard_arm",
                           "plan:" + _text(plan.id)))
    )  # fmt: skip
    return statement if since is None else statement.where(plan.created_at >= since)


def _text(column):
    return cast(column, String)


def _kits(since: datetime | None) -> Select:
    statement = (
        select(Participant, Site.code, Country.languages, Sample.kit_id, Sample.assigned_at)
        .select_from(Sample)
        .join(Participant, Participant.id == Sample.participant_id)
        .where(Sample.state == SampleState.ASSIGNED.value, Sample.replaces_sample_id.is_not(None),
               _not_issued("recollection", "kit:" + Sample.kit_id))
    )  # fmt: skip
    return statement if since is None else statement.where(Sample.assigned_at >= since)


def _visits(since: datetime | None, until: date) -> Select:
    statement = (
        select(Participant, Site.code, Country.languages, Visit.id, ScreeningPlan.created_at)
        .select_from(Visit)
        .join(Participant, Participant.id == Visit.participant_id)
        .join(PlannedExam, PlannedExam.id == Visit.planned_exam_id)
        .join(ScreeningPlan, and_(ScreeningPlan.id == PlannedExam.screening_plan_id,
                                  ScreeningPlan.superseded_at.is_(None)))
        .where(Visit.visit_type == END_OF_STUDY, Visit.performed_date.is_(None),
               Visit.due_date <= until, _not_issued("end_of_study", "visit:" + _text(Visit.id)))
    )  # fmt: skip
    return statement if since is None else statement.where(ScreeningPlan.created_at >= since)


def _language(participant: Participant, languages: list) -> str:
    return participant.language or participant_language(None, languages)


def due_in(
    session: Session, actor: Actor, study_pk: int, *, since: date | None, today: date
) -> Iterator[DueLetter]:
    """The due letters of the study with key ``study_pk``, by kind, then study ID."""
    start = None if since is None else datetime.combine(since, time(0), tzinfo=UTC)
    until = today + timedelta(weeks=END_OF_STUDY_NOTICE_WEEKS)
    order = (Participant.study_id,)
    for arm, kind in ((RISK_ARM, "risk_result"), (STANDARD_ARM, "standard_arm")):
        rows = session.execute(_women(_plans(arm, start), actor, study_pk).order_by(*order))
        for p, site, languages, plan_id, created, outputs in rows:
            if arm == RISK_ARM and (outputs is None or outputs.get("provisional", False)):
                continue  # a result letter waits for her final assessment
            yield DueLetter(p.study_id, site, kind, f"plan:{plan_id}", _language(p, languages),
                            created)  # fmt: skip
    rows = session.execute(_women(_kits(start), actor, study_pk).order_by(*order))
    for p, site, languages, kit_id, assigned in rows:
        yield DueLetter(p.study_id, site, "recollection", f"kit:{kit_id}",
                        _language(p, languages), assigned)  # fmt: skip
    rows = session.execute(_women(_visits(start, until), actor, study_pk).order_by(*order))
    for p, site, languages, visit_id, created in rows:
        yield DueLetter(p.study_id, site, "end_of_study", f"visit:{visit_id}",
                        _language(p, languages), created)  # fmt: skip


def check_since(since: date | None) -> None:
    if since is not None and (isinstance(since, datetime) or not isinstance(since, date)):
        raise InvalidInput(f"must be a date, got {since!r}", field="since")


@refuses_unstorable_text
def letters_due(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study: str,
    since: date | None = None,
    *,
    at: datetime | None = None,
) -> tuple[DueLetter, ...]:
    """The letters due in ``study`` to the women in the actor's scope (module docstring).

    :class:`NotFound` for an unknown study; :class:`InvalidInput` for a ``since`` that is not a
    date.
    """
    require(actor, Action.ISSUE_LETTER)
    check_since(since)
    today = instant(at).date()
    with session_maker() as session, session.begin():
        study_row = study_named(session, study)
        return tuple(due_in(session, actor, study_row.id, since=since, today=today))
