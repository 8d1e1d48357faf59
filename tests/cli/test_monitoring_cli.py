"""``pebs study lock|unlock`` and ``pebs monitoring`` on a SQLite file (the services are tested
on SQLite and PostgreSQL in tests/services/monitoring)."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from factories import DEMO_ACCOUNTS, SECRET_KEY, DemoDatabase, demo_database
from pebs.cli import main
from pebs.services.errors import Conflict
from pebs.services.monitoring import monitoring_view
from pebs.services.trial import VisitRecord, create_screening_plan, record_visit
from pebs.store.models import AuditEvent, Participant

MANAGER = DEMO_ACCOUNTS["data_manager"]


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> DemoDatabase:
    url = f"sqlite:///{tmp_path / 'trial.db'}"
    monkeypatch.setenv("PEBS_DATABASE_URL", url)
    monkeypatch.setenv("PEBS_ENVIRONMENT", "development")
    monkeypatch.setenv("PEBS_SECRET_KEY", SECRET_KEY)
    database = demo_database(url, slots_per_stratum=4)
    capsys.readouterr()
    yield database
    database.close()


def test_study_lock_prints_the_snapshot_digest_and_refuses_an_import(
    db: DemoDatabase, tmp_path: Path, capsys
) -> None:
    snapshot = tmp_path / "locked.sqlite"
    assert main(["study", "lock", "--study", "mypebs-demo", "--user", MANAGER, "-o",
                 str(snapshot), "--reason", "final analysis"]) == 0  # fmt: skip
    printed = re.search(r"SHA-256 ([0-9a-f]{64})", capsys.readouterr().out).group(1)
    on_disk = hashlib.sha256(snapshot.read_bytes()).hexdigest()
    assert printed == on_disk
    with db.sessions() as session:
        [event] = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "study_lock_snapshot")).all()  # fmt: skip
    assert event.new["sha256"] == on_disk
    women = tmp_path / "women.csv"
    women.write_text("site,name,birth_date\nIT-TO,Late Woman,1970-02-03\n", encoding="utf-8")
    main(["participants", "import", str(women), "--study", "mypebs-demo", "--user", MANAGER])
    assert "1  refused at register" in capsys.readouterr().err
    with db.sessions() as session:
        assert (
            session.scalar(select(Participant.id).where(Participant.site_id.is_not(None))) is None
        )
    assert main(["study", "unlock", "--study", "mypebs-demo", "--user", MANAGER]) == 2  # reason
    assert main(["study", "unlock", "--study", "mypebs-demo", "--user", MANAGER, "--reason",
                 "reopened"]) == 0  # fmt: skip


def test_a_form_locked_from_the_command_line_refuses_the_visit_update(
    db: DemoDatabase, capsys
) -> None:
    study_id = db.participant("IT-TO", "standard")
    create_screening_plan(db.sessions, db.manager, db.keys, study_id)
    visit_id = next(f.key for f in monitoring_view(db.sessions, db.manager, study_id).forms
                    if f.form == "visit")  # fmt: skip
    assert main(["monitoring", "lock", study_id, "visit", "--key", str(visit_id),
                 "--user", MANAGER]) == 0  # fmt: skip
    assert f"visit {visit_id} form of {study_id} is locked" in capsys.readouterr().out
    with pytest.raises(Conflict):
        record_visit(db.sessions, db.manager, study_id,
                     VisitRecord(performed_date=db.today("IT-TO") - timedelta(days=1)),
                     visit_id=visit_id)  # fmt: skip
    assert main(["monitoring", "status", study_id, "--user", DEMO_ACCOUNTS["monitor"]]) == 0
    assert f"visit {visit_id}" in capsys.readouterr().out
    # a bad form: one line naming the field and the forms, exit 65
    assert main(["monitoring", "lock", study_id, "biopsy", "--user", MANAGER]) == 65
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "form" in err[0]
    assert "visit" in err[0]
    assert main(["monitoring", "unlock", study_id, "visit", "--key", str(visit_id), "--user",
                 MANAGER, "--reason", "corrected"]) == 0  # fmt: skip
    record_visit(db.sessions, db.manager, study_id,
                 VisitRecord(performed_date=db.today("IT-TO") - timedelta(days=1)),
                 visit_id=visit_id)  # fmt: skip


def test_a_monitor_verifies_from_the_command_line(db: DemoDatabase, capsys) -> None:
    study_id = db.participant("IT-TO", "consented")
    monitor = DEMO_ACCOUNTS["monitor"]
    assert main(["monitoring", "verify", study_id, "registration", "--user", monitor]) == 0
    assert main(["monitoring", "worklist", "mypebs-demo", "--user", monitor]) == 0
    lines = capsys.readouterr().out.splitlines()
    [mine] = [line for line in lines if line.startswith(f"IT-TO\t{study_id}\t")]
    assert mine.split("\t")[2] == "1"  # verified
