"""Issuing letters with the real renderer: what is recorded, audited, and the batch."""

from __future__ import annotations

import hashlib
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from pebs.services.errors import InvalidInput
from pebs.services.letters import (
    CHUNK,
    BatchCounts,
    issue_batch,
    issue_letter,
    issued_letters,
    letters_due,
    preview_letter,
)
from pebs.services.letters import batch as batch_module
from pebs.store.models import AuditEvent, IssuedLetter


def _text(pdf: bytes) -> str:
    """The PDF's text, read by pypdf (independent of the renderer)."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _count(women, model) -> int:
    with women.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_an_issued_pdf_is_recorded_with_its_own_sha256_and_audited(women) -> None:
    issued = issue_letter(women.sessions, women.lab.staff, women.lab.keys, women.result,
                          "risk_result", at=women.ISSUED)  # fmt: skip
    assert issued.pdf.startswith(b"%PDF-")
    assert issued.sha256 == hashlib.sha256(issued.pdf).hexdigest()
    assert women.result in _text(issued.pdf)  # her study ID, the letter's reference
    assert issued.file_name == f"{women.result}-risk_result-woman-it.pdf"
    with women.sessions() as session:
        row = session.scalar(select(IssuedLetter))
        event = session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert (row.pdf_sha256, row.pdf_bytes, row.language, row.issued_by) == (
        hashlib.sha256(issued.pdf).hexdigest(),
        len(issued.pdf),
        "it",
        "demo-site-staff",
    )
    assert (event.entity, event.action, event.entity_id) == ("issued_letter", "issue",
                                                             str(row.id))  # fmt: skip
    assert event.new["pdf_sha256"] == row.pdf_sha256
    listed = issued_letters(women.sessions, women.lab.manager, women.result)
    assert [(x.kind, x.sha256) for x in listed] == [("risk_result", row.pdf_sha256)]
    women.deep_ok()


def test_the_doctor_copy_in_another_language_and_a_refused_one_stores_nothing(women) -> None:
    doctor = issue_letter(women.sessions, women.lab.staff, women.lab.keys, women.result,
                          "risk_result", "doctor", "en", at=women.ISSUED)  # fmt: skip
    assert (doctor.recipient, doctor.language) == ("doctor", "en")
    before = _count(women, IssuedLetter), _count(women, AuditEvent)
    with pytest.raises(InvalidInput):
        issue_letter(women.sessions, women.lab.staff, women.lab.keys, women.failed,
                     "recollection", "doctor", at=women.ISSUED)  # fmt: skip
    assert (_count(women, IssuedLetter), _count(women, AuditEvent)) == before


def test_an_html_preview_is_audited_but_not_issued(women) -> None:
    preview = preview_letter(women.sessions, women.lab.staff, women.lab.keys, women.failed,
                             "recollection", language="he", at=women.ISSUED)  # fmt: skip
    assert 'dir="rtl"' in preview.html
    assert women.new_kit in preview.html
    assert _count(women, IssuedLetter) == 0
    with women.sessions() as session:
        event = session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert (event.action, event.entity_id, event.new["format"]) == (
        "preview_letter",
        women.failed,
        "html",
    )
    women.deep_ok()


def test_a_batch_issues_each_due_letter_once(women) -> None:
    standard = women.standard(site="FR-PA")
    counts = BatchCounts()
    issued = list(issue_batch(women.sessions, women.lab.manager, women.lab.keys, women.lab.STUDY,
                              counts=counts, at=women.ISSUED))  # fmt: skip
    assert sorted((x.study_id, x.kind) for x in issued) == sorted(
        [(women.result, "risk_result"), (women.failed, "recollection"),
         (standard, "standard_arm")])  # fmt: skip
    assert counts.issued == {("risk_result", "it"): 1, ("recollection", "it"): 1,
                             ("standard_arm", "fr"): 1}  # fmt: skip
    assert all(x.sha256 == hashlib.sha256(x.pdf).hexdigest() for x in issued)
    assert letters_due(women.sessions, women.lab.manager, women.lab.STUDY,
                       at=women.ISSUED) == ()  # fmt: skip
    again = list(issue_batch(women.sessions, women.lab.manager, women.lab.keys, women.lab.STUDY,
                             at=women.ISSUED))  # fmt: skip
    assert again == []
    women.deep_ok()


def test_a_batch_stopped_in_a_chunk_records_only_the_chunks_taken(women, monkeypatch) -> None:
    women.standard(site="FR-PA")
    monkeypatch.setattr(batch_module, "CHUNK", 2)
    assert CHUNK == 100
    letters = issue_batch(women.sessions, women.lab.manager, women.lab.keys, women.lab.STUDY,
                          at=women.ISSUED)  # fmt: skip
    taken = [next(letters), next(letters), next(letters)]  # the second chunk is open
    letters.close()  # the caller stops (a file could not be written)
    assert len(taken) == 3
    assert _count(women, IssuedLetter) == 2
    assert len(letters_due(women.sessions, women.lab.manager, women.lab.STUDY,
                           at=women.ISSUED)) == 1  # fmt: skip
    women.deep_ok()
