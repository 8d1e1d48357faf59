"""Source data verification: a mark holds while the form's values are those verified, and a
later change of them (by any use case) clears it; the plan says what is to verify."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pebs.services.errors import InvalidInput, NotFound, PermissionDenied
from pebs.services.monitoring import monitoring_view, sdv_worklist, verify_source_data
from pebs.services.trial import VisitRecord, create_screening_plan, record_visit


def _status(db, actor, study_id: str, label: str) -> str:
    [form] = [f for f in monitoring_view(db.sessions, actor, study_id).forms if f.label == label]
    return form.sdv


def test_a_change_of_the_visit_clears_its_verification(db, monitor) -> None:
    study_id = db.participant("IT-TO", "standard")
    create_screening_plan(db.sessions, db.manager, db.keys, study_id)
    visit = next(f for f in monitoring_view(db.sessions, monitor, study_id).forms
                 if f.form == "visit")  # fmt: skip
    verify_source_data(db.sessions, monitor, study_id, "visit", visit.key)
    assert _status(db, monitor, study_id, visit.label) == "verified"
    record_visit(db.sessions, db.manager, study_id,
                 VisitRecord(performed_date=db.today("IT-TO") - timedelta(days=1), birads=2),
                 visit_id=visit.key)  # fmt: skip
    assert _status(db, monitor, study_id, visit.label) == "changed"
    verify_source_data(db.sessions, monitor, study_id, "visit", visit.key)  # verified again
    assert _status(db, monitor, study_id, visit.label) == "verified"


def test_the_plan_says_which_forms_are_to_verify(db, monitor) -> None:
    # mypebs-demo.toml: consent, allocation, outcome and death for every woman
    study_id = db.participant("IT-TO", "standard")
    forms = {f.form: f.sdv for f in monitoring_view(db.sessions, monitor, study_id).forms}
    assert forms["consent"] == "to_verify"
    assert forms["allocation"] == "to_verify"
    worklist = sdv_worklist(db.sessions, monitor, "mypebs-demo", site="IT-TO")
    [row] = [row for row in worklist.women if row.study_id == study_id]
    assert (row.n_verified, row.n_changed, row.n_to_verify) == (0, 0, 2)
    verify_source_data(db.sessions, monitor, study_id, "consent",
                       _key(db, monitor, study_id, "consent"))  # fmt: skip
    worklist = sdv_worklist(db.sessions, monitor, "mypebs-demo", site="IT-TO")
    [row] = [row for row in worklist.women if row.study_id == study_id]
    assert (row.n_verified, row.n_to_verify) == (1, 1)
    [site] = worklist.sites
    assert site.site == "IT-TO"
    assert site.n_verified >= 1


def _key(db, actor, study_id: str, form: str) -> int:
    return next(f.key for f in monitoring_view(db.sessions, actor, study_id).forms
                if f.form == form)  # fmt: skip


def test_bad_marks_are_refused_naming_the_field(db, monitor) -> None:
    study_id = db.participant("IT-TO", "consented")
    with pytest.raises(InvalidInput) as unknown:
        verify_source_data(db.sessions, monitor, study_id, "biopsy")
    assert unknown.value.field == "form"
    assert "visit" in str(unknown.value)
    with pytest.raises(InvalidInput) as keyless:
        verify_source_data(db.sessions, monitor, study_id, "visit")
    assert keyless.value.field == "key"
    with pytest.raises(NotFound):
        verify_source_data(db.sessions, monitor, study_id, "death")  # she has none
    with pytest.raises(PermissionDenied):  # only monitors verify
        verify_source_data(db.sessions, db.manager, study_id, "registration")
