"""The enrolment flow in pages: register -> eligibility -> consent -> randomise, with the
validation messages of each form."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from factories import ELIGIBLE
from pebs.store.models import Allocation, AuditEvent, Participant

ANSWERS = {criterion: "yes" if answer else "no" for criterion, answer in ELIGIBLE.items()}
"""The eligible answers as the eligibility form sends them."""


def _register(web: Any, **fields: str):
    data = {"site": "mypebs-demo/IT-TO", "name": "Flow Woman", "birth_date": "1969-05-02",
            **fields}  # fmt: skip
    return web.post_form("/participants/new", data)


def _count(site: Any, model: Any) -> int:
    with site.db.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_the_whole_flow_register_eligibility_consent_randomise(site: Any) -> None:
    site.login("site_staff")
    form = site.client.get("/participants/new")
    assert 'value="mypebs-demo/IT-TO"' in form.text
    assert "FR-PA" not in form.text  # only her own site
    response = _register(site, national_id="IT-FLOW-1", contact="flow@example.invalid")
    assert response.status_code == 303
    location = response.headers["location"]
    study_id = re.match(r"/participants/(IT-TO-\d{6})/eligibility\?done=registered", location)
    assert study_id is not None, location
    study_id = study_id.group(1)
    page = site.client.get(location)
    assert "Registered. Now assess her eligibility." in page.text
    assert "Has she ever had breast cancer" in page.text  # the protocol's own questions
    response = site.post_form(f"/participants/{study_id}/eligibility", ANSWERS)
    assert response.status_code == 303
    assert response.headers["location"] == f"/participants/{study_id}/consent?done=eligible"
    response = site.post_form(f"/participants/{study_id}/consent",
                              {"language": "it", "signed": "on"})  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/participants/{study_id}/allocation")
    confirm = site.client.get(response.headers["location"])
    assert "Randomise now" in confirm.text
    response = site.post_form(f"/participants/{study_id}/allocation", {})
    assert response.status_code == 303
    page = site.client.get(response.headers["location"])
    assert "Randomised." in page.text
    with site.db.sessions() as session:
        arm = session.scalar(
            select(Allocation.arm).join(Participant).where(Participant.study_id == study_id)
        )
    assert arm in ("standard", "risk-based")
    assert f"randomised: {arm}" in page.text
    # the list shows her, and the audit history on her page shows each step
    assert study_id in site.client.get(f"/participants?q={study_id[-6:]}").text
    for action in ("registered", "eligibility assessed", "consent recorded", "randomised"):
        assert f"<td>{action}</td>" in page.text, action
    # randomising again shows the same allocation (idempotent), never a second one
    site.post_form(f"/participants/{study_id}/allocation", {})
    with site.db.sessions() as session:
        n = session.scalar(select(func.count()).select_from(Allocation).join(Participant)
                           .where(Participant.study_id == study_id))  # fmt: skip
    assert n == 1


def test_registration_messages_name_each_field(site: Any) -> None:
    site.login("site_staff")
    before = _count(site, Participant)
    response = site.post_form("/participants/new", {"site": "", "name": " ",
                                                    "birth_date": "15/03/1970"})  # fmt: skip
    assert response.status_code == 422
    text = response.text
    assert "Please correct the following" in text
    assert text.count('class="field-error"') == 3
    assert "Site: this field is required" in text
    assert "Full name: this field is required" in text
    assert "Date of birth: give a date as YYYY-MM-DD" in text
    assert 'aria-invalid="true"' in text
    assert 'value="15/03/1970"' in text  # what she typed is kept
    future = (site.db.today() + timedelta(days=3)).isoformat()
    response = _register(site, birth_date=future)
    assert response.status_code == 422
    assert f"Date of birth: {future} is in the future" in response.text  # next to its field
    response = _register(site, site="mypebs-demo/FR-PA")  # another site: not offered
    assert response.status_code == 422
    assert "choose one of: mypebs-demo/IT-TO" in response.text
    assert _count(site, Participant) == before


def test_a_duplicate_national_id_is_refused(site: Any) -> None:
    site.login("site_staff")
    assert _register(site, national_id="IT-DUP-7").status_code == 303
    response = _register(site, national_id="IT-DUP-7")
    assert response.status_code == 422
    assert "already registered" in response.text


def test_screen_failure_and_incomplete_eligibility(site: Any) -> None:
    site.login("site_staff")
    study_id = site.db.participant()
    path = f"/participants/{study_id}/eligibility"
    response = site.post_form(path, {**ANSWERS, "chest_irradiation": "unknown"})
    assert response.status_code == 422
    assert "Incomplete" in response.text
    assert "Has she ever had radiotherapy to the chest?" in response.text
    bad = site.post_form(path, {**ANSWERS, "chest_irradiation": "perhaps"})
    assert bad.status_code == 422
    response = site.post_form(path, {**ANSWERS, "chest_irradiation": "yes"})
    assert response.status_code == 303
    page = site.client.get(response.headers["location"])
    assert "not eligible (screen failure)" in page.text
    assert "previous chest irradiation" in page.text


def test_consent_needs_the_confirmation_and_a_study_language(site: Any) -> None:
    site.login("site_staff")
    study_id = site.db.participant(state="eligible")
    path = f"/participants/{study_id}/consent"
    response = site.post_form(path, {"language": "it"})
    assert response.status_code == 422
    assert "tick to confirm" in response.text
    response = site.post_form(path, {"language": "fr", "signed": "on"})
    assert response.status_code == 422
    assert "choose one of: it" in response.text
    response = site.post_form(path, {"language": "it", "signed": "on",
                                     "document_version": "9.9"})  # fmt: skip
    assert response.status_code == 409
    assert "not the one in force" in response.text


def test_randomisation_refused_lists_every_reason(site: Any) -> None:
    site.login("site_staff")
    study_id = site.db.participant()  # registered only
    before = _count(site, Allocation)
    response = site.post_form(f"/participants/{study_id}/allocation", {})
    assert response.status_code == 409
    assert "Randomisation refused" in response.text
    assert response.text.count("<li>") >= 2  # not eligible, no consent
    assert _count(site, Allocation) == before


def test_monitor_sees_no_forms(site: Any) -> None:
    site.login("monitor")
    study_id = site.db.participant(state="consented")
    page = site.client.get(f"/participants/{study_id}")
    assert page.status_code == 200
    assert "Randomise</a>" not in page.text
    assert "Show identifying data" not in page.text
    assert site.client.get("/participants/new").status_code == 403
    events = _count(site, AuditEvent)
    response = site.post_form(f"/participants/{study_id}/allocation", {},
                              page=f"/participants/{study_id}")  # fmt: skip
    assert response.status_code == 403
    assert (
        "(monitor) may not randomise a participant; allowed roles: country coordinator, "
        "central data manager, site investigator, site staff"
    ) in html.unescape(response.text)
    site.client.cookies.set("pebs_lang", "fr")
    french = site.post_form(f"/participants/{study_id}/allocation", {},
                            page=f"/participants/{study_id}")  # fmt: skip
    assert french.status_code == 403
    assert (
        "(moniteur) : action non autorisée pour ce rôle : randomiser une "
        "participante ; rôles autorisés : coordinateur national, data manager central, "
        "investigateur du centre, personnel du centre"
    ) in html.unescape(french.text)
    assert _count(site, AuditEvent) == events
