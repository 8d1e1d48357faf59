"""What the forms offer: the eligibility questions in force, the sites in the caller's scope,
the loaded studies, the countries' time zones, a study's own words in each language; and whether
a role may do something (to show or hide a form — the use cases check again)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pebs.i18n.study_text import StudyWording
from pebs.services.actor import PERMISSIONS, Action, Actor, require
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.subject import find_participant
from pebs.services.trial.study_rules import criteria_of, protocol_in_force
from pebs.store.models import (
    Country,
    Site,
    Study,
)

__all__ = [
    "Criterion",
    "SiteChoice",
    "can",
    "eligibility_questions",
    "registration_sites",
    "studies_for",
    "study_wording",
    "study_zones",
    "worklist_sites",
]


@dataclass(frozen=True)
class Criterion:
    id: str
    question: str
    expected: bool


@refuses_unstorable_text
def eligibility_questions(
    session_maker: sessionmaker[Session], actor: Actor, study_id: str
) -> tuple[str, int, int, tuple[Criterion, ...]]:
    """(protocol version, min age, max age, criteria) in force today in her country."""
    require(actor, Action.ASSESS_ELIGIBILITY)
    with session_maker() as session, session.begin():
        subject = find_participant(session, actor, study_id)
        today = datetime.now(UTC).astimezone(ZoneInfo(subject.country.time_zone)).date()
        criteria = criteria_of(protocol_in_force(session, subject.country.study_id, today))
    questions = tuple(Criterion(c.id, c.question, c.expected) for c in criteria.criteria)
    return criteria.protocol_version, criteria.min_age, criteria.max_age, questions


@dataclass(frozen=True)
class SiteChoice:
    study: str
    code: str
    name: str
    country: str


def _sites_in_scope(
    session_maker: sessionmaker[Session], actor: Actor, *, active_only: bool
) -> tuple[SiteChoice, ...]:
    statement = (
        select(Study.name, Site, Country)
        .join(Country, Site.country_id == Country.id)
        .join(Study, Country.study_id == Study.id)
        .order_by(Study.name, Site.code)
    )
    if active_only:
        statement = statement.where(Site.is_active.is_(True))
    with session_maker() as session:
        return tuple(
            SiteChoice(study, site.code, site.name, country.code)
            for study, site, country in session.execute(statement).all()
            if actor.sees_site(site.id, country.id)
        )


@refuses_unstorable_text
def registration_sites(
    session_maker: sessionmaker[Session], actor: Actor
) -> tuple[SiteChoice, ...]:
    """The active sites where the actor may register women, by study and code."""
    require(actor, Action.REGISTER)
    return _sites_in_scope(session_maker, actor, active_only=True)


@refuses_unstorable_text
def study_zones(session_maker: sessionmaker[Session]) -> dict[str, str]:
    """Country code -> IANA time zone (to show times in the country's zone)."""
    with session_maker() as session:
        return dict(session.execute(select(Country.code, Country.time_zone)).all())


@refuses_unstorable_text
def studies_for(session_maker: sessionmaker[Session], actor: Actor) -> tuple[str, ...]:
    """Names of the loaded studies (by name), for the dashboards' study choice."""
    require(actor, Action.READ_PARTICIPANT)
    with session_maker() as session:
        return tuple(session.scalars(select(Study.name).order_by(Study.name)))


@refuses_unstorable_text
def study_wording(session_maker: sessionmaker[Session], actor: Actor, study: str) -> StudyWording:
    """The study's own words in every language it translates (an unknown study has none)."""
    require(actor, Action.READ_PARTICIPANT)
    with session_maker() as session:
        config = session.scalar(select(Study.config).where(Study.name == study))
    return StudyWording.from_config(config or {})


@refuses_unstorable_text
def worklist_sites(session_maker: sessionmaker[Session], actor: Actor) -> tuple[SiteChoice, ...]:
    """The sites whose worklists the actor may read."""
    require(actor, Action.READ_WORKLIST)
    return _sites_in_scope(session_maker, actor, active_only=False)


def can(actor: Actor, action: Action) -> bool:
    """Whether the actor's role may do ``action`` (to show or hide a form; the services check
    again)."""
    return actor.role in PERMISSIONS[action]
