"""The participant export as CDISC ODM 1.3.2: the demo study's casebooks, valid against the
official schema, read back with lxml against the stored rows, scoped and audited like CSV."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from lxml import etree
from sqlalchemy import select

from factories import odm_schema
from pebs.services.actor import actor_for
from pebs.services.errors import InvalidInput
from pebs.services.records.casebooks import casebook_page
from pebs.services.trial import seed_demo_participants, withdraw
from pebs.services.trial.exports import ExportSummary, export_participants
from pebs.store.models import AuditEvent, Participant, RiskAssessment, Study, Visit
from pebs.trial.forms import form_names

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}
TODAY = date(2025, 9, 1)


def _seeded(trial) -> str:
    """The demo's synthetic participants (every stage, country and arm), one of whom then
    withdraws the use of her data; her study ID."""
    seed_demo_participants(
        trial.sessions, trial.actor("data_manager"), trial.keys, trial.STUDY, n=40, seed=5,
        today=TODAY, statistician=trial.actor("statistician"),
        laboratory=actor_for(trial.sessions, "demo-laboratory"),
    )  # fmt: skip
    with trial.sessions() as session:
        gone = session.scalars(select(Participant.study_id).where(
            Participant.status == "in_follow_up").order_by(Participant.id)).first()  # fmt: skip
    withdraw(trial.sessions, trial.actor("data_manager"), gone, level="withdraw_data_use",
             reason="asked")  # fmt: skip
    return gone


def _odm(trial, actor, **options) -> tuple[etree._Element, ExportSummary | None]:
    export = export_participants(trial.sessions, actor, trial.STUDY, format="odm", **options)
    assert (export.media_type, export.extension) == ("application/xml", "xml")
    document = etree.fromstring(b"".join(export.chunks))
    return document, export.summary


def _typed(text: str, data_type: str):
    """An ODM 1.3.2 value (section 2.13 data formats) as a Python value, read without pebs."""
    readers = {"integer": int, "float": float, "date": date.fromisoformat,
               "datetime": lambda t: datetime.fromisoformat(t.replace("Z", "+00:00")),
               "boolean": {"true": True, "false": False}.__getitem__}  # fmt: skip
    return readers.get(data_type, str)(text)


def _items(document) -> dict[tuple[str, str, str | None], dict[str, object]]:
    """(subject, form, repeat key) -> item OID -> typed value, from the file alone."""
    types = {d.get("OID"): d.get("DataType") for d in document.iterfind(".//odm:ItemDef", NS)}
    found = {}
    for group in document.iterfind(".//odm:ItemGroupData", NS):
        subject = group.getparent().getparent().getparent().get("SubjectKey")
        key = (subject, group.getparent().get("FormOID"), group.get("ItemGroupRepeatKey"))
        found[key] = {i.get("ItemOID"): _typed(i.get("Value"), types[i.get("ItemOID")])
                      for i in group.iterfind("odm:ItemData", NS)}  # fmt: skip
    return found


def test_the_demo_study_exports_valid_odm_whose_items_read_back_as_stored(trial) -> None:
    gone = _seeded(trial)
    manager = trial.actor("data_manager")
    document, summary = _odm(trial, manager, chunk_rows=7)
    schema = odm_schema()
    assert schema.validate(document), schema.error_log
    items = _items(document)
    subjects = [s.get("SubjectKey") for s in document.iterfind(".//odm:SubjectData", NS)]
    with trial.sessions() as session:
        stored_ids = session.scalars(select(Participant.study_id).order_by(Participant.id)).all()
        withheld = set(session.scalars(select(Participant.study_id).where(
            Participant.status == "withdrawn_data_use")))  # fmt: skip
        visits = session.execute(select(Visit, Participant.study_id).join(
            Participant, Participant.id == Visit.participant_id)).all()  # fmt: skip
        assessments = session.execute(select(RiskAssessment, Participant.study_id).join(
            Participant, Participant.id == RiskAssessment.participant_id)).all()  # fmt: skip
        study_pk = session.scalar(select(Study.id).where(Study.name == trial.STUDY))
        page = casebook_page(session, manager, study_pk, after=0, limit=1000, include_test=False)
    assert subjects == list(stored_ids)
    assert gone in withheld
    assert summary == ExportSummary(len(stored_ids), len(withheld), "completed")
    # Straight from the stored rows: every visit and every risk assessment of the kept women.
    kept_visits = [(v, s) for v, s in visits if s not in withheld]
    assert len(kept_visits) > 40
    for visit, study_id in kept_visits:
        read = items[(study_id, "F.VISIT", str(visit.id))]
        for name in ("visit_type", "modality", "due_date", "performed_date", "birads", "recall",
                     "biopsy", "histology", "density", "density_reader"):  # fmt: skip
            assert read.get(f"IT.VISIT.{name.upper()}") == getattr(visit, name), name
    assert any(v.birads is not None for v, _ in kept_visits)
    for assessment, study_id in ((a, s) for a, s in assessments if s not in withheld):
        read = items[(study_id, "F.RISK_ASSESSMENT", str(assessment.id))]
        assert read["IT.RISK_ASSESSMENT.RISK_5Y"] == assessment.outputs["risk_5y"]  # exact
        assert read["IT.RISK_ASSESSMENT.ASSESSED_AT"] == assessment.assessed_at
        assert read["IT.RISK_ASSESSMENT.LEVEL"] == assessment.level
    # Every form of every casebook, as the casebooks hold them (tests/services/records check
    # the casebooks against the use cases' input).
    expected = {
        (book.study_id, form.definition.oid, None if form.key is None else str(form.key)):
        {form.definition.item_oid(n): v for n, v in form.values.items() if v is not None}
        for book in page.casebooks for form in book.forms
    }  # fmt: skip
    assert items == expected
    assert {form for _, form, _ in items} >= {"F.REGISTRATION", "F.VISIT", "F.OUTCOME"}


def test_a_withdrawn_woman_has_no_clinical_items(trial) -> None:
    gone = _seeded(trial)
    document, _ = _odm(trial, trial.actor("statistician"))
    subject = document.find(f".//odm:SubjectData[@SubjectKey='{gone}']", NS)
    assert [i.get("ItemOID") for i in subject.iterfind(".//odm:ItemData", NS)] == [
        "IT.REGISTRATION.SITE"]  # fmt: skip


def test_a_site_user_exports_her_site_only_and_it_is_audited(trial) -> None:
    turin = [trial.allocated("standard"), trial.consented()]
    trial.register("FR-PA")
    document, _ = _odm(trial, trial.staff)
    assert [s.get("SubjectKey") for s in document.iterfind(".//odm:SubjectData", NS)] == turin
    assert [loc.get("OID") for loc in document.iterfind(".//odm:Location", NS)] == ["LOC.IT-TO"]
    with trial.sessions() as session:
        started, ended = session.scalars(select(AuditEvent).where(
            AuditEvent.entity == "participant_export").order_by(AuditEvent.id)).all()  # fmt: skip
    assert (started.action, ended.action) == ("export", "export_end")
    assert (started.new["format"], started.new["forms"]) == ("odm", list(form_names()))
    assert started.new["scope"]["role"] == "site_staff"
    assert ended.new == {"study": trial.STUDY, "n_rows": 2, "n_withheld": 0,
                         "status": "completed"}  # fmt: skip
    assert trial.db.chain_ok()


def test_an_odm_export_stopped_early_is_audited(trial) -> None:
    for _ in range(3):
        trial.register()
    export = export_participants(trial.sessions, trial.staff, trial.STUDY, format="odm",
                                 chunk_rows=1)  # fmt: skip
    assert b"<ClinicalData" in next(export.chunks)
    assert b"<SubjectData" in next(export.chunks)
    export.chunks.close()
    assert export.summary == ExportSummary(1, 0, "stopped")


def test_identity_and_unknown_formats_are_refused_naming_the_formats(trial) -> None:
    trial.register()
    before = trial.db.rows()
    with pytest.raises(InvalidInput, match="'odm' is not a table format; allowed: csv, parquet"):
        export_participants(trial.sessions, trial.staff, trial.STUDY, format="odm",
                            include_identity=True, keys=trial.keys)  # fmt: skip
    with pytest.raises(InvalidInput, match="allowed: csv, parquet, odm") as refused:
        export_participants(trial.sessions, trial.staff, trial.STUDY, format="xml")
    assert refused.value.field == "format"
    assert trial.db.rows() == before  # refused before anything, audit included
