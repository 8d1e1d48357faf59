"""Fixtures: the letter use cases on SQLite *and* PostgreSQL, with the demo study loaded and
women taken through the real path (kits, the laboratory's genotype file, her risk and plan).

The database fixtures (``backend``, ``url``, ``engine``, ``session_maker``) come from
``tests/conftest.py``: a new SQLite file, or a new PostgreSQL schema, per test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from factories import AT, CONSENT_LANGUAGE, ELIGIBLE
from lab_factories import Lab, dosages, lab_for
from pebs.services.laboratory import import_genotype_batch
from pebs.services.operations.deep_audit import deep_verify
from pebs.services.trial import (
    NewParticipant,
    assess_eligibility,
    create_screening_plan,
    override_allocation,
    record_consent,
    register_participant,
)
from pebs.store.models import Participant, Sample

ISSUED = AT + timedelta(days=90)
"""When the letters of these tests are issued: after the laboratory's import (day 84)."""


@dataclass
class Women:
    """Women of the demo study made through the services, and the letters' set-up."""

    lab: Lab
    result: str
    """Risk-based, genotyped: her final risk and plan."""
    failed: str
    """Risk-based, her sample failed quality control: a new kit waits for her saliva."""
    new_kit: str
    """The kit that replaces her failed one."""

    ISSUED = ISSUED

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self.lab.sessions

    def standard(self, site: str = "FR-PA", **extra) -> str:
        """A woman of the standard arm with her country's plan."""
        manager, keys = self.lab.manager, self.lab.keys
        new = NewParticipant(site=site, name="Marie Testée", birth_date=AT.date().replace(
            year=AT.year - 55), **extra)  # fmt: skip
        study_id = register_participant(self.sessions, manager, keys, self.lab.STUDY, new,
                                        at=AT).study_id  # fmt: skip
        assess_eligibility(self.sessions, manager, keys, study_id, ELIGIBLE, at=AT)
        record_consent(self.sessions, manager, study_id, language=CONSENT_LANGUAGE[site[:2]],
                       at=AT)  # fmt: skip
        override_allocation(self.sessions, manager, keys, study_id, arm="standard",
                            reason="test set-up", confirm=True, at=AT)  # fmt: skip
        create_screening_plan(self.sessions, manager, keys, study_id, at=AT)
        return study_id

    def deep_ok(self) -> None:
        with self.sessions() as session:
            report = deep_verify(session.connection())
        assert report.ok, (report.summary, report.mismatches)


def women_for(lab: Lab) -> Women:
    """Two genotyped women of the risk-based arm at IT-TO: one accepted, one failed."""
    kits = lab.shipped(2)
    path = lab.file({kits[0]: dosages(0), kits[1]: dosages(1, no_calls=60)})
    report = import_genotype_batch(lab.sessions, lab.laboratory, lab.keys, lab.STUDY, path,
                                   at=lab.IMPORTED)  # fmt: skip
    assert (report.counts["accepted"], report.counts["failed_qc"]) == (1, 1)
    with lab.sessions() as session:
        owners = dict(session.execute(
            select(Sample.kit_id, Participant.study_id).join(Participant)
            .where(Sample.kit_id.in_(kits))
        ).all())  # fmt: skip
        new_kit = session.scalar(
            select(Sample.kit_id).where(Sample.replaces_sample_id.is_not(None))
        )  # fmt: skip
    return Women(lab, owners[kits[0]], owners[kits[1]], new_kit)


@pytest.fixture
def women(session_maker: sessionmaker[Session], tmp_path: Path) -> Women:
    return women_for(lab_for(session_maker, tmp_path))
