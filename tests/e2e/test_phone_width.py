"""Every page fits a phone's width: at 390 x 844 CSS pixels (a common phone), each role opens
every page it has (the main menu, then the pages those link to: a participant and her forms, a
kit, a shipment, a batch, an account, a model card...) and no page is wider than the window.
Wide tables scroll inside their own box; the page itself never scrolls sideways.

Pages are found by following links, one page of each kind (the study ID, kit ID or reference in
the address left out), so a page added to the menu or to her page is checked without naming it
here. Downloads (CSV, ZIP, a link marked `download`) are not pages and are skipped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest

from pebs.services.actor import PERMISSIONS, Action
from pebs.services.trial import RiskFactors, record_risk_assessment

pytestmark = pytest.mark.slow

PHONE = {"width": 390, "height": 844}
ROLES = ("site_staff", "country_coordinator", "data_manager", "statistician", "laboratory",
         "administrator")  # fmt: skip
NOT_PAGES = re.compile(r"\.(csv|zip|pdf)$|^/(language|logout|samples/manifest)\b")
"""Links that download a file or change a setting rather than show a page."""
IDS = [
    (re.compile(r"/[A-Z]{2}-[A-Z]{2}-\d{6}\b"), "/<study id>"),
    (re.compile(r"/MP-[0-9A-Z]{9}\b"), "/<kit id>"),
    (re.compile(r"/[A-Z]{2}-[A-Z]{2}-S\d{4}\b"), "/<shipment>"),
    (re.compile(r"/LB-[0-9]{8}-[0-9A-Z]+\b"), "/<batch>"),
    (re.compile(r"/accounts/[^/?#]+"), "/accounts/<username>"),
    (re.compile(r"/models/[^/?#]+"), "/models/<card>"),
]
"""An address -> the kind of page it is (one page of each kind is opened)."""
MAX_PAGES = 60
"""A bound on the pages one role opens (far more than any role has)."""

OVERFLOW = """() => ({
    page: document.documentElement.scrollWidth,
    window: window.innerWidth,
    wider: [...document.querySelectorAll('main *, header *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5
                     && !e.parentElement.closest('.table-scroll'))
        .slice(0, 5).map(e => e.tagName + '.' + e.className),
})"""
"""The page's width against the window's, and a few elements that stick out (to name them when
the page is too wide)."""


def _kind(path: str) -> str:
    for pattern, shape in IDS:
        path = pattern.sub(shape, path)
    return path


def _login(browser: Any, server: Any, role: str) -> Any:
    """A phone-sized browser context logged in as a new account of ``role`` (the demo account's
    scope), on its home page. A new account each time: a TOTP code is accepted once."""
    from playwright.sync_api import expect

    username, password, secret = server.db.new_user(role)
    context = browser.new_context(viewport=PHONE, locale="en-GB", accept_downloads=False)
    page = context.new_page()
    page.goto(server.url + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Authenticator code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=f"Welcome, {username}")).to_be_visible()
    return page


def _links(page: Any, origin: str) -> list[str]:
    """The addresses (path and query) of this site that the page links to, in page order."""
    hrefs = page.eval_on_selector_all(  # a link marked as a download is a file, not a page
        "a[href]:not([download])", "links => links.map(a => a.href)"
    )
    paths = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != origin:
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if not NOT_PAGES.search(parts.path):
            paths.append(path)
    return paths


def _her_with_risk_and_plan(server: Any) -> str:
    """A woman at IT-TO in the risk-based arm with her risk and plan (so her page shows every
    section: risk, plan, kits, letters)."""
    study_id = server.db.participant(site="IT-TO", state="risk-based")
    factors = RiskFactors(n_biopsies=0, age_at_menarche=13, age_at_first_birth=27,
                          n_relatives=0, density="b", prs_z=0.2)  # fmt: skip
    record_risk_assessment(server.db.sessions, server.db.manager, server.db.keys, study_id,
                           factors)  # fmt: skip
    return study_id


@pytest.fixture(scope="module")
def her(server: Any) -> str:
    return _her_with_risk_and_plan(server)


@pytest.mark.parametrize("role", ROLES)
def test_no_page_is_wider_than_a_phone(
    browser: Any, server: Any, her: str, shots: Path, role: str
) -> None:
    page = _login(browser, server, role)
    start = ["/"]
    if role in PERMISSIONS[Action.READ_PARTICIPANT]:  # her page, its sections and its forms
        start.append(f"/participants/{her}")
    queue, seen, opened, too_wide = list(start), set(), [], {}
    while queue and len(opened) < MAX_PAGES:
        path = queue.pop(0)
        if _kind(path.split("?")[0]) in seen:
            continue
        seen.add(_kind(path.split("?")[0]))
        response = page.goto(server.url + path)
        assert response is not None
        assert response.status == 200, (path, response.status)  # a link shown to her opens
        opened.append(path)
        width = page.evaluate(OVERFLOW)
        assert width["window"] == PHONE["width"]
        if width["page"] > width["window"]:
            too_wide[path] = width
        queue.extend(_links(page, server.url))
    page.context.close()
    assert len(opened) >= 3, opened  # home, the menu's pages: the crawl really ran
    assert not too_wide, "wider than a phone:\n" + "\n".join(
        f"{path}: {width}" for path, width in too_wide.items()
    )


def test_her_page_on_a_phone(browser: Any, server: Any, her: str, shots: Path) -> None:
    page = _login(browser, server, "site_staff")
    page.goto(f"{server.url}/participants/{her}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=shots / "13-participant-phone.png", full_page=True)
    page.screenshot(path=Path(__file__).resolve().parents[2] / "docs/images/web-phone.png")
    page.context.close()
