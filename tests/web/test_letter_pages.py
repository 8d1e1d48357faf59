"""The letter pages: her "Letters" section (issue, preview, the letters issued, consultations,
her language), the consultation form, the study's letters due and the batch ZIP; in English and
Hebrew (right to left); scope, roles and refusals next to their fields."""

from __future__ import annotations

import hashlib
import html
import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from pypdf import PdfReader
from sqlalchemy import select

from factories import STUDY
from pebs.services.trial import create_screening_plan
from pebs.store.models import Consultation, IssuedLetter, Participant


@contextmanager
def _in_hebrew(site: Any) -> Iterator[None]:
    """The pages in Hebrew (the language menu's cookie), then back to English."""
    site.client.cookies.set("pebs_lang", "he")
    try:
        yield
    finally:
        site.client.cookies.delete("pebs_lang")


def _standard(site: Any, where: str = "IT-TO") -> str:
    """A woman of the standard arm with her country's plan."""
    study_id = site.db.participant(site=where, state="standard")
    create_screening_plan(site.db.sessions, site.db.manager, site.db.keys, study_id)
    return study_id


def _field_error(text: str, field_id: str) -> str | None:
    found = re.search(rf'id="{field_id}-error">([^<]*)<', html.unescape(text))
    return None if found is None else found.group(1)


def _letters(site: Any, study_id: str) -> list[IssuedLetter]:
    with site.db.sessions() as session:
        return list(session.scalars(
            select(IssuedLetter).join(Participant, Participant.id == IssuedLetter.participant_id)
            .where(Participant.study_id == study_id)
        ))  # fmt: skip


def test_her_letter_is_issued_as_a_pdf_whose_recorded_sha256_matches(site: Any) -> None:
    study_id = _standard(site)
    site.login("site_staff")
    page = site.client.get(f"/participants/{study_id}").text
    section = re.search(r'<section id="letters".*?</section>', page, re.S)
    assert section is not None
    assert "Her letters are written in: Italiano." in html.unescape(section.group(0))
    assert "No letter has been issued yet." in section.group(0)

    response = site.post_form(f"/participants/{study_id}/letters", {
        "letter_kind": "standard_arm", "letter_recipient": "woman", "letter_format": "pdf",
        "letter_language": "it"}, page=f"/participants/{study_id}")  # fmt: skip
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    received = hashlib.sha256(response.content).hexdigest()
    assert response.headers["x-letter-sha256"] == received
    [row] = _letters(site, study_id)
    assert (row.pdf_sha256, row.kind, row.language) == (received, "standard_arm", "it")
    assert study_id in PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    page = site.client.get(f"/participants/{study_id}").text
    assert f"<code>{received[:12]}</code>" in page


def test_a_letter_that_does_not_apply_is_refused_next_to_its_field(site: Any) -> None:
    study_id = _standard(site)
    site.login("site_staff")
    refused = site.post_form(f"/participants/{study_id}/letters", {
        "letter_kind": "risk_result", "letter_recipient": "woman", "letter_format": "pdf"},
        page=f"/participants/{study_id}/letters")  # fmt: skip
    assert refused.status_code == 422
    assert _field_error(refused.text, "f-letter_kind") == (
        "she is not in the risk-based group: there is no risk result letter"
    )
    assert _letters(site, study_id) == []
    with _in_hebrew(site):
        hebrew = site.client.post(f"/participants/{study_id}/letters", data={
            "csrf_token": site.csrf(refused.text), "letter_kind": "standard_arm",
            "letter_recipient": "doctor", "letter_format": "pdf"})  # fmt: skip
    assert hebrew.status_code == 422
    assert '<html lang="he" dir="rtl">' in hebrew.text
    assert (
        _field_error(hebrew.text, "f-letter_recipient") == "עותק לרופא קיים רק למכתב תוצאת הסיכון"
    )


def test_an_html_preview_is_not_recorded_as_issued(site: Any) -> None:
    study_id = _standard(site)
    site.login("site_staff")
    response = site.post_form(f"/participants/{study_id}/letters", {
        "letter_kind": "standard_arm", "letter_recipient": "woman", "letter_format": "html",
        "letter_language": "he"}, page=f"/participants/{study_id}/letters")  # fmt: skip
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'dir="rtl"' in response.text
    assert _letters(site, study_id) == []


def test_a_consultation_is_recorded_from_her_page(site: Any) -> None:
    study_id = _standard(site)
    site.login("site_staff")
    form = f"/participants/{study_id}/consultation"
    today = site.db.today()
    tomorrow = (today + timedelta(days=2)).isoformat()
    refused = site.post_form(form, {"consultation_held_on": tomorrow, "consultation_mode": "visit",
                                    "consultation_held_by": "Dr Rossi"})  # fmt: skip
    assert refused.status_code == 422
    assert _field_error(refused.text, "f-consultation_held_on") == f"{tomorrow} is in the future"
    done = site.post_form(form, {"consultation_held_on": today.isoformat(),
                                 "consultation_mode": "phone", "consultation_held_by": "Dr Rossi",
                                 "consultation_questions": "Why not every year?"})  # fmt: skip
    assert done.status_code == 303
    assert (
        done.headers["location"] == f"/participants/{study_id}?done=consultation_recorded#letters"
    )
    page = site.client.get(done.headers["location"]).text
    assert "The consultation has been saved." in page
    assert "Why not every year?" in page
    assert "By phone" in page
    with site.db.sessions() as session:
        assert session.scalar(select(Consultation.held_by)) == "Dr Rossi"


def test_her_language_is_changed_among_her_country_languages(site: Any) -> None:
    study_id = site.db.participant(site="BE-BR", state="standard")
    site.login("data_manager")
    letters = f"/participants/{study_id}/letters"
    refused = site.post_form(f"/participants/{study_id}/language", {"her_language": "it"},
                             page=letters)  # fmt: skip
    assert refused.status_code == 422
    assert _field_error(refused.text, "f-her_language") == "choose one of: nl, fr"
    done = site.post_form(f"/participants/{study_id}/language", {"her_language": "fr"},
                          page=letters)  # fmt: skip
    assert done.status_code == 303
    page = site.client.get(done.headers["location"]).text
    assert "Her letters are written in: Français." in html.unescape(page)


def test_the_letters_due_page_and_its_zip_for_the_roles_that_issue(site: Any) -> None:
    study_id = _standard(site)
    site.login("site_staff")
    home = site.client.get("/").text
    assert 'href="/letters"' in home
    page = site.client.get("/letters")
    assert page.status_code == 200
    assert f'href="/participants/{study_id}#letters"' in page.text
    with _in_hebrew(site):
        hebrew = site.client.get("/letters")
    assert '<html lang="he" dir="rtl">' in hebrew.text
    assert "מכתבים לשליחה" in hebrew.text

    response = site.client.post("/letters/batch", data={"csrf_token": site.csrf(page.text),
                                                        "study": STUDY})  # fmt: skip
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    name = f"{study_id}-standard_arm-woman-it.pdf"
    assert name in archive.namelist()
    [row] = _letters(site, study_id)
    assert row.pdf_sha256 == hashlib.sha256(archive.read(name)).hexdigest()
    again = site.client.get("/letters").text
    assert f'href="/participants/{study_id}#letters"' not in again

    site.login("monitor")
    assert 'href="/letters"' not in site.client.get("/").text
    assert site.client.get("/letters").status_code == 403


def test_another_site_s_woman_is_not_found(site: Any) -> None:
    study_id = _standard(site, "FR-PA")
    site.login("site_staff")  # at IT-TO
    page = site.client.get(f"/participants/{study_id}/letters")
    assert page.status_code == 404
    response = site.client.post(f"/participants/{study_id}/letters", data={
        "csrf_token": site.csrf(site.client.get("/letters").text), "letter_kind": "standard_arm",
        "letter_recipient": "woman", "letter_format": "pdf"})  # fmt: skip
    assert response.status_code == 404
    assert _letters(site, study_id) == []


def test_registration_stores_the_language_chosen(site: Any) -> None:
    site.login("site_staff")
    done = site.post_form("/participants/new", {
        "site": f"{STUDY}/IT-TO", "name": "Lucia Test", "birth_date": "1970-02-02",
        "her_language": "en"})  # fmt: skip
    assert done.status_code == 422  # English is not an Italian study language
    assert _field_error(done.text, "f-her_language") == "choose one of: it"
    done = site.post_form("/participants/new", {
        "site": f"{STUDY}/IT-TO", "name": "Lucia Test", "birth_date": "1970-02-02",
        "her_language": "it"})  # fmt: skip
    assert done.status_code == 303
    study_id = done.headers["location"].split("/")[2]
    with site.db.sessions() as session:
        stored = session.scalar(select(Participant.language)
                                .where(Participant.study_id == study_id))  # fmt: skip
    assert stored == "it"
