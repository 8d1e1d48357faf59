"""Casebooks read from the database: every form's values as the use cases stored them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from factories import DEMO_ACCOUNTS, STUDY, DemoDatabase, demo_database
from pebs.services.actor import actor_for
from pebs.services.errors import PermissionDenied
from pebs.services.records.casebooks import casebook_page, casebook_study
from pebs.services.trial import (
    OutcomeRecord,
    RiskFactors,
    VisitRecord,
    create_screening_plan,
    record_death,
    record_outcome,
    record_questionnaire,
    record_risk_assessment,
    record_visit,
    withdraw,
)
from pebs.store.models import (
    Allocation,
    Consent,
    ConsentDocument,
    EligibilityAssessment,
    Participant,
    ProtocolVersion,
    RiskAssessment,
    ScreeningPlan,
    Study,
    Visit,
)
from pebs.trial.casebook import Casebook, StudySite

FIRST = RiskFactors(n_biopsies=1, atypical_hyperplasia=False, age_at_menarche=12,
                    age_at_first_birth="nulliparous", n_relatives=0, density="c",
                    prs_z=0.1 + 0.2)  # fmt: skip
"""Her first assessment's inputs; 0.1 + 0.2 has no short decimal form (0.30000000000000004)."""
LATEST = RiskFactors(n_biopsies=2, atypical_hyperplasia="unknown", age_at_menarche=11,
                     age_at_first_birth=31, n_relatives=2, density="d", prs_z=1.5)  # fmt: skip
"""Her second assessment's inputs (a higher risk: never a lower level)."""


@pytest.fixture
def demo(empty_url: str) -> Iterator[DemoDatabase]:
    db = demo_database(empty_url, slots_per_stratum=4)
    yield db
    db.close()


def _followed(demo: DemoDatabase) -> str:
    """A risk-based woman at IT-TO with two assessments, visits, a cancer, a questionnaire and
    her death, each recorded through its use case."""
    manager, today = demo.manager, demo.today("IT-TO")
    study_id = demo.participant("IT-TO", "risk-based")
    for factors in (FIRST, LATEST):
        record_risk_assessment(demo.sessions, manager, demo.keys, study_id, factors)
    record_visit(demo.sessions, manager, study_id, VisitRecord(
        today - timedelta(days=3), birads=4, recall=True, biopsy=True, histology="benign",
        modality="mammography", visit_type="screening", density="d", density_reader="Dr <Lévy>",
    ), keys=demo.keys)  # fmt: skip
    cancer = OutcomeRecord(today - timedelta(days=2), "screen_detected", "invasive", "pT1c",
                           "pN0", "cM0")  # fmt: skip
    record_outcome(demo.sessions, manager, study_id, cancer)
    record_questionnaire(demo.sessions, manager, study_id, instrument="EQ-5D-5L",
                         timepoint_months=3, answers={"vas": 80},
                         completed_on=today - timedelta(days=1))  # fmt: skip
    record_death(demo.sessions, manager, study_id, date_of_death=today, cause="breast_cancer",
                 cause_icd10="C50.9")  # fmt: skip
    return study_id


def _casebooks(demo: DemoDatabase, actor=None, *, limit: int = 100) -> dict[str, Casebook]:
    actor = actor or demo.manager
    with demo.sessions() as session, session.begin():
        study_pk = session.scalar(select(Study.id).where(Study.name == STUDY))
        page = casebook_page(session, actor, study_pk, after=0, limit=limit, include_test=False)
    return {book.study_id: book for book in page.casebooks}


def _values(book: Casebook, form: str) -> list[dict]:
    return [dict(instance.values) for instance in book.instances(form)]


def test_every_form_holds_what_the_use_cases_stored(demo: DemoDatabase) -> None:
    study_id, today = _followed(demo), demo.today("IT-TO")
    book = _casebooks(demo)[study_id]
    assert (book.site, book.country, book.data_use_withdrawn) == ("IT-TO", "IT", False)
    assert [f.form for f in book.forms] == [
        "registration", "eligibility", "consent", "allocation", "risk_factors",
        "risk_assessment", "risk_assessment", "screening_plan", "screening_plan",
        *["visit"] * len(book.instances("visit")), "outcome", "death", "questionnaire",
    ]  # fmt: skip
    with demo.sessions() as session:
        woman = session.scalar(select(Participant).where(Participant.study_id == study_id))
        pid = woman.id
        eligibility = session.scalar(select(EligibilityAssessment).where(
            EligibilityAssessment.participant_id == pid))  # fmt: skip
        protocol = session.get(ProtocolVersion, eligibility.protocol_version_id)
        consent = session.scalar(select(Consent).where(Consent.participant_id == pid))
        document = session.get(ConsentDocument, consent.consent_document_id)
        allocation = session.scalar(select(Allocation).where(Allocation.participant_id == pid))
        assessments = session.scalars(select(RiskAssessment).where(
            RiskAssessment.participant_id == pid).order_by(RiskAssessment.id)).all()  # fmt: skip
        plans = session.scalars(select(ScreeningPlan).where(
            ScreeningPlan.participant_id == pid).order_by(ScreeningPlan.id)).all()  # fmt: skip
        visits = session.scalars(select(Visit).where(Visit.participant_id == pid)
                                 .order_by(Visit.id)).all()  # fmt: skip
    assert _values(book, "registration") == [{
        "site": "IT-TO", "age_at_entry": 55, "age_band": "50-59", "language": woman.language,
        "registered_at": woman.registered_at}]  # fmt: skip
    assert _values(book, "eligibility") == [{
        "protocol_version": protocol.version, "result": "eligible",
        "screen_failure_criteria": None, "assessed_at": eligibility.assessed_at}]  # fmt: skip
    assert _values(book, "consent") == [{
        "consent_version": f"IT/it {document.version}", "consented_at": consent.consented_at,
        "withdrawal_level": None, "withdrawn_at": None, "withdrawal_reason": None}]  # fmt: skip
    assert _values(book, "allocation") == [{
        "arm": "risk-based", "method": "override", "stratum": "IT-TO:50-59",
        "allocated_at": allocation.allocated_at, "override_reason": "test set-up"}]  # fmt: skip
    assert _values(book, "risk_factors") == [{
        "n_biopsies": "2", "atypical_hyperplasia": "unknown", "age_at_menarche": "11",
        "age_at_first_birth": "31", "n_relatives": "2", "density": "d",
        "prs_z": "1.5"}]  # fmt: skip
    assert [i.key for i in book.instances("risk_assessment")] == [a.id for a in assessments]
    assert _values(book, "risk_assessment") == [{
        "model": a.model_name, "model_version": a.model_version, "risk_5y": a.outputs["risk_5y"],
        "level": a.level, "assessed_at": a.assessed_at} for a in assessments]  # fmt: skip
    assert [v["risk_5y"] > 0 for v in _values(book, "risk_assessment")] == [True, True]
    assert _values(book, "screening_plan") == [{
        "arm": "risk-based", "policy": p.policy, "start_date": p.start_date,
        "end_date": p.end_date, "superseded_at": p.superseded_at} for p in plans]  # fmt: skip
    assert [p.superseded_at is None for p in plans] == [False, True]
    assert [i.key for i in book.instances("visit")] == [v.id for v in visits]
    performed = [v for v in _values(book, "visit") if v["performed_date"] is not None]
    assert performed == [{
        "visit_type": "screening", "modality": "mammography", "due_date": today - timedelta(3),
        "performed_date": today - timedelta(days=3), "birads": 4, "recall": True, "biopsy": True,
        "histology": "benign", "density": "d", "density_reader": "Dr <Lévy>"}]  # fmt: skip
    planned = [v for v in visits if v.performed_date is None]
    assert [v for v in _values(book, "visit") if v["performed_date"] is None] == [{
        "visit_type": v.visit_type, "modality": v.modality, "due_date": v.due_date,
        "performed_date": None, "birads": None, "recall": None, "biopsy": None,
        "histology": None, "density": None, "density_reader": None} for v in planned]  # fmt: skip
    assert _values(book, "outcome") == [{
        "diagnosis_date": today - timedelta(days=2), "detection_mode": "screen_detected",
        "behaviour": "invasive", "t_category": "pT1c", "n_category": "pN0", "m_category": "cM0",
        "stage_group": "IA"}]  # fmt: skip
    assert _values(book, "questionnaire") == [{
        "instrument": "EQ-5D-5L", "timepoint_months": 3,
        "completed_on": today - timedelta(days=1)}]  # fmt: skip
    assert _values(book, "death") == [{
        "date_of_death": today, "cause": "breast_cancer", "cause_icd10": "C50.9"}]  # fmt: skip


def test_risk_factors_in_their_own_words(demo: DemoDatabase) -> None:
    """Booleans as yes/no, nulliparous kept, a float's shortest round-trip text."""
    study_id = demo.participant("IT-TO", "risk-based")
    record_risk_assessment(demo.sessions, demo.manager, demo.keys, study_id, FIRST)
    (factors,) = _values(_casebooks(demo)[study_id], "risk_factors")
    assert factors == {
        "n_biopsies": "1", "atypical_hyperplasia": "no", "age_at_menarche": "12",
        "age_at_first_birth": "nulliparous", "n_relatives": "0", "density": "c",
        "prs_z": "0.30000000000000004"}  # fmt: skip
    assert float(factors["prs_z"]) == 0.1 + 0.2


def test_withdrawn_data_use_leaves_registration_only(demo: DemoDatabase) -> None:
    gone = demo.participant("IT-TO", "standard")
    create_screening_plan(demo.sessions, demo.manager, demo.keys, gone)
    withdraw(demo.sessions, demo.manager, gone, level="withdraw_data_use", reason="asked")
    kept = demo.participant("IT-TO", "standard")
    books = _casebooks(demo)
    assert books[gone].data_use_withdrawn
    assert [f.form for f in books[gone].forms] == ["registration"]
    assert _values(books[gone], "registration") == [{
        "site": "IT-TO", "age_at_entry": None, "age_band": None, "language": None,
        "registered_at": None}]  # fmt: skip
    assert not books[kept].data_use_withdrawn
    assert [f.form for f in books[kept].forms] == [
        "registration", "eligibility", "consent", "allocation"]  # fmt: skip


def test_scoped_paged_and_a_fixed_number_of_queries(demo: DemoDatabase) -> None:
    turin = [demo.participant("IT-TO", "eligible") for _ in range(3)]
    paris = demo.participant("FR-PA", "consented")
    staff = actor_for(demo.sessions, DEMO_ACCOUNTS["site_staff"])
    assert sorted(_casebooks(demo, staff)) == sorted(turin)
    assert paris in _casebooks(demo)
    manager = demo.manager
    statements: list[str] = []

    def record(connection, cursor, statement, *args) -> None:
        statements.append(statement)

    engine = demo.sessions.kw["bind"]
    with demo.sessions() as session, session.begin():
        study_pk = session.scalar(select(Study.id).where(Study.name == STUDY))
        event.listen(engine, "before_cursor_execute", record)
        try:
            page = casebook_page(session, manager, study_pk, after=0, limit=2, include_test=False)
        finally:
            event.remove(engine, "before_cursor_execute", record)
    assert len(page.casebooks) == 2
    assert len(statements) == 8  # the page, then one query per table of repeating forms
    with demo.sessions() as session:
        study_pk = session.scalar(select(Study.id).where(Study.name == STUDY))
        study = casebook_study(session, staff, study_pk)
    assert study.sites == (StudySite("IT-TO", study.sites[0].name, "IT"),)
    assert study.arms == ("standard", "risk-based")


def test_roles_without_participant_access_are_refused(demo: DemoDatabase) -> None:
    laboratory = actor_for(demo.sessions, DEMO_ACCOUNTS["laboratory"])
    with pytest.raises(PermissionDenied):
        _casebooks(demo, laboratory)


def test_a_page_of_some_forms_reads_their_tables_alone(demo: DemoDatabase) -> None:
    study_id = _followed(demo)
    whole = _casebooks(demo)[study_id]
    manager = demo.manager
    statements: list[str] = []

    def record(connection, cursor, statement, *args) -> None:
        statements.append(statement)

    engine = demo.sessions.kw["bind"]
    with demo.sessions() as session, session.begin():
        study_pk = session.scalar(select(Study.id).where(Study.name == STUDY))
        event.listen(engine, "before_cursor_execute", record)
        try:
            page = casebook_page(session, manager, study_pk, after=0, limit=100,
                                 include_test=False, forms={"visit", "risk_factors"})  # fmt: skip
        finally:
            event.remove(engine, "before_cursor_execute", record)
    assert len(statements) == 3  # the page, the visits, the risk assessments (risk_factors)
    (book,) = [book for book in page.casebooks if book.study_id == study_id]
    kept = ("registration", "allocation", "death", "risk_assessment", "risk_factors", "visit")
    assert book.instances("visit")
    assert book.instances("risk_factors")
    assert book.forms == tuple(i for i in whole.forms if i.form in kept)
