"""Fixtures of the store tests: a small configured study (``world``) and participants.

The database fixtures (``backend``, ``url``, ``engine``, ``session_maker``...) are in
``tests/conftest.py``: every store test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from pebs.store.models import Country, Participant, Site, Study, User


@dataclass(frozen=True)
class World:
    """Ids of a small configured study: two countries, three sites, users of each kind."""

    study: int
    fr: int
    it: int
    fr_gr: int
    fr_pa: int
    it_mi: int
    staff_gr: int
    coordinator_fr: int
    data_manager: int


T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def world(session_maker: sessionmaker[Session]) -> World:
    with session_maker.begin() as session:
        study = Study(name="demo", title="Demo study")
        fr = Country(
            study=study,
            code="FR",
            name="France",
            languages=["fr"],
            time_zone="Europe/Paris",
            standard_policy="fr",
            recruitment_target=100,
        )
        it = Country(
            study=study,
            code="IT",
            name="Italy",
            languages=["it"],
            time_zone="Europe/Rome",
            standard_policy="it",
            recruitment_target=100,
        )
        fr_gr = Site(country=fr, code="FR-GR", name="Grenoble")
        fr_pa = Site(country=fr, code="FR-PA", name="Paris")
        it_mi = Site(country=it, code="IT-MI", name="Milano")
        staff = User(username="staff-gr", full_name="Site Staff", role="site_staff", site=fr_gr)
        coordinator = User(
            username="coord-fr", full_name="Coordinator", role="country_coordinator", country=fr
        )
        manager = User(username="dm", full_name="Data Manager", role="data_manager")
        session.add_all([study, fr, it, fr_gr, fr_pa, it_mi, staff, coordinator, manager])
        session.flush()
        return World(
            study.id,
            fr.id,
            it.id,
            fr_gr.id,
            fr_pa.id,
            it_mi.id,
            staff.id,
            coordinator.id,
            manager.id,
        )


def _add_participant(
    session: Session, site_id: int, study_id: str, *, age: int = 52, band: str = "50-59"
) -> Participant:
    participant = Participant(
        study_id=study_id, site_id=site_id, age_at_entry=age, age_band=band, registered_at=T0
    )
    session.add(participant)
    session.flush()
    return participant


@pytest.fixture
def add_participant():
    """``add_participant(session, site_id, "FR-GR-000001")``: a flushed participant."""
    return _add_participant
