"""The participant list and page, identifying data, and scope: a site user never opens another
site's participant (404, as the API)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from pebs.store.models import AuditEvent


def test_list_is_paged_and_searched_by_study_id(site: Any) -> None:
    ids = [site.db.participant() for _ in range(27)]  # more than one page (25)
    site.login("site_staff")
    first = site.client.get("/participants")
    assert first.status_code == 200
    shown = re.findall(r'<a href="/participants/(IT-TO-\d{6})">', first.text)
    assert len(shown) == 25
    assert shown == sorted(shown)  # registration order
    following = re.search(r'rel="next" href="([^"]+)"', first.text)
    assert following is not None
    second = site.client.get(following.group(1).replace("&amp;", "&"))
    more = re.findall(r'<a href="/participants/(IT-TO-\d{6})">', second.text)
    assert not set(more) & set(shown)
    assert ids[-1] in shown + more
    found = site.client.get(f"/participants?q={ids[3][-4:]}")
    assert re.findall(r'<a href="/participants/([A-Z]{2}-[A-Z]{2}-\d{6})">', found.text) == [ids[3]]
    lower = site.client.get(f"/participants?q={ids[3].lower()}")
    assert ids[3] in lower.text
    none = site.client.get("/participants?q=ZZ-NOTHING")
    assert "No participant matches." in none.text
    bad = site.client.get("/participants?status=asleep")
    assert bad.status_code == 422
    assert "status: 'asleep' is unknown" in html.unescape(bad.text)


def test_site_user_never_sees_another_sites_participant(site: Any) -> None:
    other = site.db.participant(site="FR-PA", state="risk-based")
    site.login("site_staff")
    assert "No participant matches." in site.client.get(f"/participants?q={other}").text
    for path in ("", "/eligibility", "/consent", "/allocation", "/risk", "/visit", "/outcome",
                 "/identity"):  # fmt: skip
        response = site.client.get(f"/participants/{other}{path}")
        assert response.status_code == 404, path
        assert "text/html" in response.headers["content-type"]
        assert "Not found" in response.text
    own = site.db.participant(state="risk-based")
    token = site.csrf(site.client.get(f"/participants/{own}").text)
    for path in ("/risk", "/allocation", "/outcome"):
        response = site.client.post(f"/participants/{other}{path}", data={
            "csrf_token": token, "diagnosis_date": "2024-01-01", "detection_mode": "clinical",
            "behaviour": "invasive"})  # fmt: skip
        assert response.status_code == 404, path


def test_country_coordinator_sees_her_country_only(site: Any) -> None:
    milan = site.db.participant(site="IT-MI")
    paris = site.db.participant(site="FR-PA")
    site.login("country_coordinator")
    assert site.client.get(f"/participants/{milan}").status_code == 200
    assert site.client.get(f"/participants/{paris}").status_code == 404


def test_participant_page_sections(site: Any) -> None:
    study_id = site.db.participant(state="standard")
    site.login("site_staff")
    page = site.client.get(f"/participants/{study_id}")
    assert page.status_code == 200
    text = page.text
    for heading in ("Pathway", "Summary", "Risk assessment", "Screening plan", "Visits",
                    "Outcomes", "Audit history"):  # fmt: skip
        assert f">{heading}</h2>" in text or f'aria-label="{heading}"' in text, heading
    assert 'aria-current="step"' in text
    assert "IT-TO (IT)" in text
    assert "(Europe/Rome)" in text  # times in her country's zone
    assert "Test Woman" not in text  # identifying data is not on the page
    assert "Give her the standard plan" in text


def test_identity_only_for_roles_that_need_it_and_audited(site: Any) -> None:
    study_id = site.db.participant()
    site.login("site_staff")
    page = site.client.get(f"/participants/{study_id}")
    assert f'href="/participants/{study_id}/identity"' in page.text

    def reads() -> int:
        with site.db.sessions() as session:
            statement = (
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "read_identity", AuditEvent.entity_id == study_id)
            )
            return session.scalar(statement)

    identity = site.client.get(f"/participants/{study_id}/identity")
    assert identity.status_code == 200
    assert "Test Woman" in identity.text
    assert reads() == 1
    site.login("statistician")
    page = site.client.get(f"/participants/{study_id}")
    assert page.status_code == 200
    assert "/identity" not in page.text
    refused = site.client.get(f"/participants/{study_id}/identity")
    assert refused.status_code == 403
    assert "Test Woman" not in refused.text
    assert reads() == 1


@pytest.mark.parametrize("role", ["administrator"])
def test_roles_without_participant_data(site: Any, role: str) -> None:
    study_id = site.db.participant()
    site.login(role)
    home = site.client.get("/")
    assert home.status_code == 200
    assert 'href="/participants"' not in home.text
    assert site.client.get("/participants").status_code == 403
    assert site.client.get(f"/participants/{study_id}").status_code == 403
    assert site.client.get("/dashboards").status_code == 403
