"""Fixtures: the trial services on SQLite *and* PostgreSQL, with the demo study loaded.

The database fixtures (``backend``, ``url``, ``engine``, ``session_maker``) come from
``tests/conftest.py``: a new SQLite file, or a new PostgreSQL schema, per test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from factories import AT, CONSENT_LANGUAGE, DEMO_ACCOUNTS, ELIGIBLE, STUDY
from pebs.services.actor import Actor, actor_for
from pebs.services.keys import IdentityKeys
from pebs.services.trial import (
    NewParticipant,
    allocate,
    assess_eligibility,
    generate_allocation_list,
    load_study_config,
    override_allocation,
    record_consent,
    register_participant,
)
from pebs.store.audit import verify_chain
from pebs.store.crypto import IdentityCipher
from pebs.store.models import AuditEvent, Base, Country, Site, User

TODAY = date(2025, 3, 3)
"""The day of ``AT`` (:data:`factories.AT`)."""
BORN_52 = date(1972, 5, 10)
"""52 on TODAY: stratum <site>:50-59."""


class Db:
    """Row counts and the audit trail of one test database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def rows(self) -> dict[str, int]:
        """Rows per table: a failed use case must leave every count unchanged."""
        with self.sessions() as session:
            return {
                table.name: session.scalar(select(func.count()).select_from(table)) or 0
                for table in Base.metadata.sorted_tables
            }

    def events(self) -> list[AuditEvent]:
        with self.sessions() as session:
            return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))

    def chain_ok(self) -> bool:
        with self.sessions() as session:
            return verify_chain(session).ok


@pytest.fixture
def db(session_maker: sessionmaker[Session]) -> Db:
    return Db(session_maker)


@dataclass
class Trial:
    """The demo study loaded in a fresh database, with an actor per role."""

    sessions: sessionmaker[Session]
    keys: IdentityKeys
    actors: dict[str, Actor]
    db: Db

    STUDY = STUDY
    AT = AT
    TODAY = TODAY
    BORN_52 = BORN_52
    ELIGIBLE = ELIGIBLE

    def actor(self, name: str) -> Actor:
        return self.actors[name]

    @property
    def staff(self) -> Actor:
        """Site staff at IT-TO (the demo study's first site)."""
        return self.actors["staff"]

    def add_user(self, username: str, role: str, *, site: str = "", country: str = "") -> Actor:
        with self.sessions.begin() as session:
            site_row = session.scalar(select(Site).where(Site.code == site)) if site else None
            country_row = (
                session.scalar(select(Country).where(Country.code == country)) if country else None
            )
            session.add(
                User(
                    username=username,
                    full_name=username,
                    role=role,
                    site=site_row,
                    country=country_row,
                )
            )
        actor = actor_for(self.sessions, username)
        self.actors[username] = actor
        return actor

    def register(
        self, site: str = "IT-TO", *, born: date = BORN_52, actor: Actor | None = None, **extra
    ) -> str:
        new = NewParticipant(site=site, name="Test Woman", birth_date=born, **extra)
        return register_participant(
            self.sessions, actor or self.actors["data_manager"], self.keys, STUDY, new, at=AT
        ).study_id

    def consented(self, site: str = "IT-TO", *, born: date = BORN_52, **extra) -> str:
        """A registered, eligible, consented woman (language: the site country's first)."""
        study_id = self.register(site, born=born, **extra)
        manager = self.actors["data_manager"]
        assess_eligibility(self.sessions, manager, self.keys, study_id, ELIGIBLE, at=AT)
        language = CONSENT_LANGUAGE[site[:2]]
        record_consent(self.sessions, manager, study_id, language=language, at=AT)
        return study_id

    def lists(self, strata: list[str], slots: int = 4, *, seed: int = 1, is_test=False):
        return generate_allocation_list(
            self.sessions, self.actors["statistician"], STUDY, slots_per_stratum=slots,
            seed=seed, strata=strata, is_test=is_test, at=AT,
        )  # fmt: skip

    def allocated(self, arm: str, site: str = "IT-TO", **extra) -> str:
        """A consented woman assigned to ``arm`` by a (deterministic) override."""
        study_id = self.consented(site, **extra)
        override_allocation(
            self.sessions, self.actors["data_manager"], self.keys, study_id, arm=arm,
            reason="test set-up", confirm=True, at=AT,
        )  # fmt: skip
        return study_id

    def randomised(self, site: str = "IT-TO", **extra) -> str:
        study_id = self.consented(site, **extra)
        allocate(self.sessions, self.actors["data_manager"], self.keys, study_id, at=AT)
        return study_id


@pytest.fixture
def trial(session_maker: sessionmaker[Session], db: Db) -> Trial:
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
    return Trial(session_maker, keys, actors, db)
