"""Locks: a locked form refuses a change of its values, a locked casebook every write about
her, a locked study every write in it (registration, visits, imports, genotype batches); the
study lock's snapshot is pinned in the audit trail by its SHA-256."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from pebs.services.errors import Conflict, InvalidInput
from pebs.services.laboratory import import_genotype_batch
from pebs.services.monitoring import (
    lock_form,
    lock_participant,
    lock_study,
    monitoring_view,
    unlock_form,
    unlock_participant,
    unlock_study,
)
from pebs.services.trial import (
    NewParticipant,
    VisitRecord,
    create_screening_plan,
    record_visit,
    register_participant,
)
from pebs.services.trial.enrolment_file import read_enrolments
from pebs.services.trial.enrolment_import import import_enrolments
from pebs.store.models import AuditEvent


def _planned_visit(db, study_id: str) -> int:
    create_screening_plan(db.sessions, db.manager, db.keys, study_id)
    return next(f.key for f in monitoring_view(db.sessions, db.manager, study_id).forms
                if f.form == "visit")  # fmt: skip


def _visit(db, study_id: str, visit_id: int | None):
    yesterday = db.today("IT-TO") - timedelta(days=1)
    return record_visit(db.sessions, db.manager, study_id,
                        VisitRecord(performed_date=yesterday, birads=1, visit_type="recall",
                                    modality="mammography"),
                        visit_id=visit_id)  # fmt: skip


def test_a_locked_visit_form_refuses_its_update_until_unlocked(db) -> None:
    study_id = db.participant("IT-TO", "standard")
    visit_id = _planned_visit(db, study_id)
    lock_form(db.sessions, db.manager, study_id, "visit", visit_id)
    with pytest.raises(Conflict) as refused:
        _visit(db, study_id, visit_id)
    assert f"the visit {visit_id} form of {study_id} is locked by demo-data-manager" in str(
        refused.value)  # fmt: skip
    assert refused.value.message_code == "error.form_locked"
    _visit(db, study_id, None)  # a new, unplanned visit is not the locked one
    with pytest.raises(InvalidInput):
        unlock_form(db.sessions, db.manager, study_id, "visit", visit_id, reason=" ")
    unlock_form(db.sessions, db.manager, study_id, "visit", visit_id, reason="result corrected")
    _visit(db, study_id, visit_id)
    with db.sessions() as session:
        [unlocked] = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "form_unlocked")).all()  # fmt: skip
    assert unlocked.reason == "result corrected"
    assert unlocked.entity_id == study_id


def test_a_locked_casebook_refuses_every_write_about_her(db) -> None:
    study_id = db.participant("IT-TO", "standard")
    lock_participant(db.sessions, db.manager, study_id)
    with pytest.raises(Conflict) as refused:
        _visit(db, study_id, None)
    assert refused.value.message_code == "error.participant_locked"
    assert monitoring_view(db.sessions, db.manager, study_id).participant_lock is not None
    unlock_participant(db.sessions, db.manager, study_id, reason="query answered")
    _visit(db, study_id, None)


def test_a_locked_study_refuses_registration_visits_imports_and_lab_batches(
    db, tmp_path: Path
) -> None:
    from lab_factories import dosages, write_vcf

    study_id = db.participant("IT-TO", "standard")
    snapshot = tmp_path / "locked.sqlite"
    locked = lock_study(db.sessions, db.manager, "mypebs-demo", reason="final analysis",
                        snapshot=snapshot, database_url=db.settings.database_url,
                        installation_key=db.keys.hmac_key)  # fmt: skip
    assert locked.locked
    new = NewParticipant(site="IT-TO", name="Late Woman", birth_date=date(1970, 1, 1))
    with pytest.raises(Conflict) as registration:
        register_participant(db.sessions, db.manager, db.keys, "mypebs-demo", new)
    assert registration.value.message_code == "error.study_locked"
    with pytest.raises(Conflict):
        _visit(db, study_id, None)
    rows = tmp_path / "women.csv"
    rows.write_text("site,name,birth_date\nIT-TO,Imported Woman,1970-02-03\n", encoding="utf-8")
    summary = import_enrolments(db.sessions, db.manager, db.keys, "mypebs-demo",
                                read_enrolments(rows))  # fmt: skip
    assert summary.registered == set()
    assert sum(summary.refused.values()) == 1
    batch = write_vcf(tmp_path / "batch.vcf", {"MP-00000000A": dosages(0)})
    with pytest.raises(Conflict):
        import_genotype_batch(db.sessions, db.manager, db.keys, "mypebs-demo", batch)
    unlock_study(db.sessions, db.manager, "mypebs-demo", reason="database reopened")
    _visit(db, study_id, None)


def test_the_snapshot_digest_in_the_audit_trail_is_the_files(db, tmp_path: Path) -> None:
    snapshot = tmp_path / "locked.sqlite"
    lock_study(db.sessions, db.manager, "mypebs-demo", reason="final analysis",
               snapshot=snapshot, database_url=db.settings.database_url,
               installation_key=db.keys.hmac_key)  # fmt: skip
    with db.sessions() as session:
        [event] = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "study_lock_snapshot")).all()  # fmt: skip
    assert event.new["sha256"] == hashlib.sha256(snapshot.read_bytes()).hexdigest()
    assert event.new["file"] == "locked.sqlite"
    with pytest.raises(Conflict):  # locked once
        lock_study(db.sessions, db.manager, "mypebs-demo", reason="again",
                   snapshot=tmp_path / "again.sqlite", database_url=db.settings.database_url,
                   installation_key=db.keys.hmac_key)  # fmt: skip


def test_a_locked_study_takes_no_query_step(db, tmp_path: Path) -> None:
    from pebs.services.queries.workflow import close_query, raise_query

    study_id = db.participant("IT-TO", "standard")
    raised = raise_query(db.sessions, db.manager, study_id, form="registration",
                         item="age_at_entry", question="age differs from the source")  # fmt: skip
    lock_study(db.sessions, db.manager, "mypebs-demo", reason="final analysis",
               snapshot=tmp_path / "locked.sqlite", database_url=db.settings.database_url,
               installation_key=db.keys.hmac_key)  # fmt: skip
    with pytest.raises(Conflict) as new_query:
        raise_query(db.sessions, db.manager, study_id, form="registration",
                    item="age_at_entry", question="again")  # fmt: skip
    assert new_query.value.message_code == "error.study_locked"
    with pytest.raises(Conflict):
        close_query(db.sessions, db.manager, raised.query.id)
    unlock_study(db.sessions, db.manager, "mypebs-demo", reason="query to close")
    assert close_query(db.sessions, db.manager, raised.query.id).query.state == "closed"
