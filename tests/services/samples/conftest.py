"""Fixtures: the kit use cases on SQLite *and* PostgreSQL, with the demo study loaded (kits
``MP-...`` assigned at randomisation, a result expected 12 weeks after collection).

The database fixtures (``backend``, ``url``, ``engine``, ``session_maker``) come from
``tests/conftest.py``: a new SQLite file, or a new PostgreSQL schema, per test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from factories import AT, CONSENT_LANGUAGE, DEMO_ACCOUNTS, ELIGIBLE, STUDY
from pebs.services.actor import Actor, actor_for
from pebs.services.keys import IdentityKeys
from pebs.services.samples import record_collection
from pebs.services.trial import (
    NewParticipant,
    assess_eligibility,
    load_study_config,
    override_allocation,
    record_consent,
    register_participant,
)
from pebs.store.audit import append_event, verify_chain
from pebs.store.crypto import IdentityCipher
from pebs.store.models import AuditEvent, Base, Country, Participant, Sample, Site, User

BORN_52 = date(1972, 5, 10)
RANDOMISED_ON = AT.date()
"""The day every woman of these tests is allocated (:data:`factories.AT`)."""
COLLECTED_ON = RANDOMISED_ON + timedelta(days=7)
LATER = AT + timedelta(days=30)
"""When the tests record what happened after randomisation."""


@dataclass
class Kits:
    """The demo study in a fresh database, an actor per role, women made through the services."""

    sessions: sessionmaker[Session]
    keys: IdentityKeys
    actors: dict[str, Actor]

    STUDY = STUDY
    AT = AT
    LATER = LATER
    RANDOMISED_ON = RANDOMISED_ON
    COLLECTED_ON = COLLECTED_ON

    def actor(self, name: str) -> Actor:
        return self.actors[name]

    def add_user(self, username: str, role: str, *, site: str = "", country: str = "") -> Actor:
        """A new account, audited as an administrator's would be."""
        with self.sessions.begin() as session:
            site_row = session.scalar(select(Site).where(Site.code == site)) if site else None
            country_row = (
                session.scalar(select(Country).where(Country.code == country)) if country else None
            )
            session.add(User(username=username, full_name=username, role=role, site=site_row,
                             country=country_row))  # fmt: skip
            append_event(session, actor="test", action="create", entity="user",
                         entity_id=username, new={"role": role, "site": site or None,
                                                  "country": country or None})  # fmt: skip
        self.actors[username] = actor_for(self.sessions, username)
        return self.actors[username]

    def woman_consented(self, site: str = "IT-TO") -> str:
        """A registered, eligible, consented woman at ``site``, aged 52."""
        manager = self.actors["data_manager"]
        new = NewParticipant(site=site, name="Test Woman", birth_date=BORN_52)
        study_id = register_participant(self.sessions, manager, self.keys, STUDY, new,
                                         at=AT).study_id  # fmt: skip
        assess_eligibility(self.sessions, manager, self.keys, study_id, ELIGIBLE, at=AT)
        record_consent(self.sessions, manager, study_id, language=CONSENT_LANGUAGE[site[:2]], at=AT)
        return study_id

    def woman(self, arm: str, site: str = "IT-TO") -> str:
        """A woman at ``site`` allocated ``arm`` by the data manager (a deterministic override)
        on :data:`RANDOMISED_ON`."""
        study_id = self.woman_consented(site)
        override_allocation(self.sessions, self.actors["data_manager"], self.keys, study_id,
                            arm=arm, reason="test set-up", confirm=True, at=AT)  # fmt: skip
        return study_id

    def kits_of(self, study_id: str) -> list[Sample]:
        """Her kits, oldest first, read from the table."""
        with self.sessions() as session:
            return list(session.scalars(
                select(Sample).join(Participant, Participant.id == Sample.participant_id)
                .where(Participant.study_id == study_id).order_by(Sample.id)
            ))  # fmt: skip

    def kit(self, site: str = "IT-TO") -> tuple[str, str]:
        """(study ID, kit ID) of a new risk-based woman at ``site``: her kit is ``assigned``."""
        study_id = self.woman("risk-based", site)
        return study_id, self.kits_of(study_id)[-1].kit_id

    def collected(self, site: str = "IT-TO", on: date = COLLECTED_ON) -> tuple[str, str]:
        study_id, kit_id = self.kit(site)
        record_collection(self.sessions, self.actors["data_manager"], kit_id, on, at=LATER)
        return study_id, kit_id

    def set_state(self, kit_id: str, state: str) -> None:
        """Put a kit in ``state`` directly (what the laboratory import does to it)."""
        with self.sessions.begin() as session:
            session.execute(update(Sample).where(Sample.kit_id == kit_id).values(state=state))

    def events(self, after: int = 0) -> list[AuditEvent]:
        with self.sessions() as session:
            events = select(AuditEvent).where(AuditEvent.id > after).order_by(AuditEvent.id)
            return list(session.scalars(events))

    def last_event_id(self) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.max(AuditEvent.id))) or 0

    def rows(self) -> dict[str, int]:
        with self.sessions() as session:
            return {
                table.name: session.scalar(select(func.count()).select_from(table)) or 0
                for table in Base.metadata.sorted_tables
            }

    def chain_ok(self) -> bool:
        with self.sessions() as session:
            return verify_chain(session).ok


@pytest.fixture
def kits(session_maker: sessionmaker[Session]) -> Kits:
    load_study_config(session_maker, Actor.system("test"), STUDY, demo_users=True)
    keys = IdentityKeys.from_settings_values([IdentityCipher.generate_key()], b"k" * 32)
    roles = {
        "staff": "site_staff",
        "investigator": "site_investigator",
        "coordinator": "country_coordinator",
        "data_manager": "data_manager",
        "statistician": "statistician",
        "monitor": "monitor",
        "administrator": "administrator",
    }
    actors = {name: actor_for(session_maker, DEMO_ACCOUNTS[role]) for name, role in roles.items()}
    found = Kits(session_maker, keys, actors)
    found.add_user("laboratory", "laboratory")
    found.add_user("staff_fr", "site_staff", site="FR-PA")
    return found


def at_day(day: date) -> datetime:
    """Noon UTC of ``day`` (the same calendar day in every demo country)."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=AT.tzinfo)
