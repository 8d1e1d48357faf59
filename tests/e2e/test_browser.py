"""End-to-end in Debian's Chromium: log in with TOTP, enrol and randomise, enter risk factors
and see the plan, open the dashboards; a second site's user cannot open the first site's
participant. Forms are found by their labels (as a screen reader would). Screenshots are saved to
``test-artifacts/e2e/``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyotp
import pytest

pytestmark = pytest.mark.slow

ANSWERS = {
    "Has she ever had breast cancer": "No", "atypical breast lesion": "No",
    "lobular carcinoma in situ": "No", "radiotherapy to the chest": "No",
    "high-penetrance mutation": "No", "bilateral mastectomy": "No",
    "breast abnormality being worked up": "No", "able to give informed consent": "Yes",
    "understand one of the study languages": "Yes", "health insurance": "Yes",
}  # fmt: skip
MAX_ENROLMENTS = 6
"""Every permuted block (2, 4 or 6 slots) holds both arms, so six enrolments in one stratum
always reach the risk-based arm."""


def _login(browser: Any, server: Any, username: str) -> Any:
    from playwright.sync_api import expect

    password, secret = server.db.logins[username]
    context = browser.new_context(viewport={"width": 1100, "height": 800}, locale="en-GB")
    page = context.new_page()
    page.goto(server.url + "/participants")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"  # skip link first
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Authenticator code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Participants", exact=True)).to_be_visible()
    return page


def _enrol_one(page: Any, server: Any, n: int) -> str:
    from playwright.sync_api import expect

    page.get_by_role("link", name="Register a woman").first.click()
    page.get_by_label("Site").select_option("mypebs-demo/IT-TO")
    page.get_by_label("Full name").fill(f"DEMO Browser Woman {n}")
    page.get_by_label("Date of birth").fill("1969-04-03")
    page.get_by_role("button", name="Register and assess eligibility").click()
    expect(page.get_by_text("Registered. Now assess her eligibility.")).to_be_visible()
    study_id = re.search(r"/participants/([A-Z0-9-]+)/eligibility", page.url).group(1)
    for question, answer in ANSWERS.items():
        page.get_by_role("group", name=re.compile(question)).get_by_label(
            answer, exact=True
        ).check()
    page.get_by_role("button", name="Assess eligibility").click()
    expect(page.get_by_text("She is eligible.")).to_be_visible()
    page.get_by_label(re.compile("She signed the consent form")).check()
    page.get_by_role("button", name="Record consent").click()
    expect(page.get_by_role("button", name="Randomise now")).to_be_visible()
    page.get_by_role("button", name="Randomise now").click()
    expect(page.get_by_text("Randomised.", exact=True)).to_be_visible()
    return study_id


def test_enrol_randomise_risk_factors_plan_and_dashboard(
    browser: Any, server: Any, shots: Path
) -> None:
    from playwright.sync_api import expect

    page = _login(browser, server, "demo-site-staff")
    page.screenshot(path=shots / "01-participants.png")
    for n in range(MAX_ENROLMENTS):
        study_id = _enrol_one(page, server, n)
        if page.get_by_role("link", name="Enter risk factors").count():
            break
        expect(page.get_by_text("randomised: standard").first).to_be_visible()
    else:
        pytest.fail(f"{MAX_ENROLMENTS} enrolments in one stratum never reached the risk-based arm")
    page.screenshot(path=shots / "02-randomised.png", full_page=True)
    page.get_by_role("link", name="Enter risk factors").click()
    page.get_by_label("Age at first period (years)").fill("12")
    page.get_by_label("Age at first live birth (years)").fill("31")
    page.get_by_label("Mother, sisters or daughters with breast cancer").fill("1")
    page.get_by_label("Breast density (BI-RADS)").select_option("c")
    page.get_by_label("Number of breast biopsies").fill("0")
    page.locator('input[name="prs_z_unknown"]').check()  # every input answered, or "unknown"
    page.get_by_label("Age at first period (years)").press("Enter")  # submit from the keyboard
    expect(page.get_by_text("Risk assessed; her screening plan is below.")).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"5-year risk of breast cancer: \d+\.\d\d%"))
    ).to_be_visible()
    expect(page.get_by_text("Planned exams and the reason for each")).to_be_visible()
    assert page.locator("#plan tbody tr").count() >= 1
    assert page.locator("#risk table tbody tr").count() == 3  # the three components
    expect(page.locator("#risk dd.unknown-inputs")).to_have_text("polygenic risk score")
    page.screenshot(path=shots / "03-risk-and-plan.png", full_page=True)
    assert study_id in page.url

    page.get_by_role("link", name="Dashboards").click()
    expect(page.get_by_role("heading", name=re.compile("Dashboards"))).to_be_visible()
    assert page.locator("svg.chart").count() == 3
    expect(page.get_by_text("Only statisticians and monitors see the balance")).to_be_visible()
    page.screenshot(path=shots / "04-dashboards-site.png", full_page=True)

    page.get_by_role("link", name="Français").click()
    expect(page.get_by_role("heading", name=re.compile("Tableaux de bord"))).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "fr"
    page.goto(f"{server.url}/participants/{study_id}")
    expect(page.get_by_role("heading", name="Évaluation du risque")).to_be_visible()
    page.screenshot(path=shots / "05-participant-fr.png", full_page=True)
    page.context.close()


def test_a_site_user_cannot_open_another_sites_participant(
    browser: Any, server: Any, shots: Path
) -> None:
    from playwright.sync_api import expect

    turin = server.db.participant(site="IT-TO")
    page = _login(browser, server, "demo-site-staff-2")  # a site of another country
    response = page.goto(f"{server.url}/participants/{turin}")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    page.screenshot(path=shots / "06-other-site-404.png")
    page.goto(f"{server.url}/participants?q={turin}")
    expect(page.get_by_text("No participant matches.")).to_be_visible()
    page.context.close()


def test_statistician_sees_allocation_balance_and_hebrew_is_right_to_left(
    browser: Any, server: Any, shots: Path
) -> None:
    from playwright.sync_api import expect

    page = _login(browser, server, "demo-statistician")
    page.goto(server.url + "/dashboards")
    expect(page.get_by_role("heading", name="Allocation balance per stratum")).to_be_visible()
    assert page.locator("svg.chart").count() == 4
    page.screenshot(path=shots / "07-dashboards-statistician.png", full_page=True)
    page.get_by_role("link", name="עברית").click()
    assert page.evaluate("document.documentElement.dir") == "rtl"
    page.screenshot(path=shots / "08-hebrew-rtl.png")
    page.context.close()
