"""Monitoring pages: her page's verification flags, locks and signature (in every language),
the worklist, the study lock page; a monitor verifies, a data manager locks, an investigator
signs through the forms; the signature's manifestation and its voiding are shown."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest

from pebs.i18n import LANGUAGES, catalogues
from pebs.services.trial import record_death


def _section(page: str) -> str:
    return re.search(r'<section id="monitoring".*?</section>', page, re.S).group(0)


@pytest.mark.parametrize("language", LANGUAGES)
def test_her_monitoring_section_is_in_the_page_language(site: Any, language: str) -> None:
    study_id = site.db.participant(state="consented")
    site.login("data_manager")
    site.client.cookies.set("pebs_lang", language)
    section = html.unescape(_section(site.client.get(f"/participants/{study_id}").text))
    words = catalogues()[language]
    assert words.text("mon.title") in section
    assert words.text("crf.consent") in section
    assert words.text("mon.action.lock_casebook") in section
    assert words.text("sig.none") in section
    site.client.cookies.clear()


def test_a_monitor_verifies_and_a_data_manager_locks_through_the_forms(site: Any) -> None:
    study_id = site.db.participant(state="consented")
    page = f"/participants/{study_id}"
    site.login("monitor")
    done = site.post_form(f"{page}/monitoring/verify", {"form": "registration"}, page=page)
    assert done.status_code == 303
    assert "verified by" in html.unescape(_section(site.client.get(page).text))
    worklist = site.client.get("/monitoring/sdv?site=IT-TO")
    assert worklist.status_code == 200
    assert study_id in worklist.text
    site.login("data_manager")
    locked = site.post_form(f"{page}/monitoring/lock", {}, page=page)
    assert locked.status_code == 303
    assert "Her casebook is locked by" in html.unescape(site.client.get(page).text)
    refused = site.post_form(f"{page}/monitoring/unlock", {"reason": ""}, page=page)
    assert refused.status_code == 422
    unlocked = site.post_form(f"{page}/monitoring/unlock", {"reason": "query answered"},
                              page=page)  # fmt: skip
    assert unlocked.status_code == 303


def test_an_investigator_signs_and_the_page_shows_the_manifestation_then_the_void(
    site: Any,
) -> None:
    study_id = site.db.participant(state="standard")
    page = f"/participants/{study_id}"
    username = site.login("site_investigator")
    code = pyotp.TOTP(site.secret).at(datetime.now(UTC) + timedelta(seconds=30))
    wrong = site.post_form(f"{page}/signature", {
        "password": "not-mine", "totp_code": code, "accept": "yes", "meaning_version": "1"},
        page=page)  # fmt: skip
    assert wrong.status_code == 422
    assert "the signature was not applied" in html.unescape(wrong.text)
    signed = site.post_form(f"{page}/signature", {
        "password": f"pw-{username}-long", "totp_code": code, "accept": "yes",
        "meaning_version": "1"}, page=page)  # fmt: skip
    assert signed.status_code == 303, signed.text
    shown = html.unescape(_section(site.client.get(page).text))
    assert f"Signed by {username} ({username}, site investigator)" in shown
    assert "I have reviewed this casebook" in shown
    record_death(site.db.sessions, site.db.manager, study_id,
                 date_of_death=site.db.today() - timedelta(days=1), cause="other")  # fmt: skip
    shown = html.unescape(_section(site.client.get(page).text))
    assert "Signature void: the record changed on" in shown


def test_the_study_lock_page_locks_and_unlocks(site: Any) -> None:
    site.login("data_manager")
    page = site.client.get("/study-lock")
    assert page.status_code == 200
    locked = site.post_form("/study-lock", {"study": "mypebs-demo", "action": "lock",
                                            "reason": "final analysis"})  # fmt: skip
    assert locked.status_code == 303
    shown = html.unescape(site.client.get("/study-lock").text)
    assert "Locked by" in shown
    assert re.search(r"SHA-256 [0-9a-f]{64}", shown)
    unlocked = site.post_form("/study-lock", {"study": "mypebs-demo", "action": "unlock",
                                              "reason": "reopened"})  # fmt: skip
    assert unlocked.status_code == 303
