"""Fixtures: the demo study on SQLite and PostgreSQL with its demo accounts, one actor per role,
and women taken through the services to the states the query tests need."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from factories import DEMO_ACCOUNTS, DemoDatabase, demo_database
from pebs.services.actor import Actor, actor_for
from pebs.services.trial import RiskFactors, record_risk_assessment, record_visit
from pebs.services.trial.visits import VisitRecord
from pebs.store.models import AuditEvent, DataQuery

RISK_FACTORS = RiskFactors(
    n_biopsies=0, age_at_menarche=13, age_at_first_birth=28, n_relatives=0, density="b",
    prs_z="unknown",
)  # fmt: skip
"""Every input the demo study requires, answered."""


@dataclass
class Queries:
    db: DemoDatabase
    actors: dict[str, Actor]

    @property
    def sessions(self):
        return self.db.sessions

    def __getitem__(self, role: str) -> Actor:
        return self.actors[role]

    def woman(self, state: str = "standard", site: str = "IT-TO") -> str:
        return self.db.participant(site, state)

    def visit(self, study_id: str, days_ago: int = 0, **results) -> int:
        """A performed unplanned visit (a mammogram) ``days_ago`` days ago; its row id."""
        record = VisitRecord(performed_date=self.db.today() - timedelta(days=days_ago),
                             modality="mammography", **results)  # fmt: skip
        return record_visit(self.sessions, self["data_manager"], study_id, record,
                            keys=self.db.keys).visit_id  # fmt: skip

    def assess(self, study_id: str, **factors) -> None:
        """Her risk assessed by hand (:data:`RISK_FACTORS` with ``factors`` changed)."""
        values = {**RISK_FACTORS.answers(), **factors}
        record_risk_assessment(self.sessions, self["data_manager"], self.db.keys, study_id,
                               RiskFactors(**values), confirm_lower=True,
                               reason="corrected inputs")  # fmt: skip

    def stored(self, **where) -> list[DataQuery]:
        """Stored queries matching ``where`` (column = value), in id order."""
        with self.sessions() as session:
            statement = select(DataQuery).order_by(DataQuery.id)
            for name, value in where.items():
                statement = statement.where(getattr(DataQuery, name) == value)
            return list(session.scalars(statement))

    def events(self, query_id: int) -> list[AuditEvent]:
        with self.sessions() as session:
            return list(session.scalars(
                select(AuditEvent).where(AuditEvent.entity == "data_query",
                                         AuditEvent.entity_id == str(query_id))
                .order_by(AuditEvent.id)))  # fmt: skip


@pytest.fixture
def q(empty_url: str) -> Iterator[Queries]:
    database = demo_database(empty_url, slots_per_stratum=4)
    actors = {role: actor_for(database.sessions, name) for role, name in DEMO_ACCOUNTS.items()}
    yield Queries(database, actors)
    database.close()
