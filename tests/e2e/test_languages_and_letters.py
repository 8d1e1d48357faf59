"""End-to-end in Debian's Chromium, in the language of the browser: an Italian country
coordinator works only in Italian (log in, find her woman, issue and download her risk result
letter, whose PDF speaks Italian and whose SHA-256 is the one on her page and in the database),
and a Hebrew letter downloaded from a right-to-left page reads in the right order.

Forms and buttons are found by their labels taken from the message catalogues of the language
(:func:`pebs.i18n.catalogues`), never by English words. A page "speaks Italian" when no visible
text equals an English message that Italian words differently (or that Italian lacks); text
marked as another language (``lang``, e.g. the language menu) is not UI text of the page.

The letter's words are checked against independent readers: pypdf for the Italian PDF,
poppler's ``pdftotext`` (Debian's poppler-utils) for the Hebrew one; the expected sentences are
filled in here from the template file and the catalogue, with her level as stored.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import tomllib
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pyotp
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from pebs.i18n import catalogues
from pebs.services.trial import RiskFactors, record_risk_assessment
from pebs.store.models import IssuedLetter, Participant

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DOCS_IMAGES = ROOT / "docs" / "images"
PDFTOTEXT = "/usr/bin/pdftotext"
ITALIAN_MONTHS = ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio",
                  "agosto", "settembre", "ottobre", "novembre", "dicembre")  # fmt: skip
"""Italian month names (lower case, as Italian writes them in a date: "7 dicembre 2026")."""
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""Left-to-right and right-to-left marks, embeddings, overrides and isolates: invisible."""
FACTORS = RiskFactors(n_biopsies=0, age_at_menarche=12, age_at_first_birth=29, n_relatives=1,
                      density="c", prs_z=1.5)  # fmt: skip
"""Every input of her risk known: the assessment is final (not provisional)."""

VISIBLE_TEXT = """() => {
    const page = document.documentElement.lang;
    const texts = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const text = walker.currentNode.textContent.replace(/\\s+/g, ' ').trim();
        const element = walker.currentNode.parentElement;
        if (!text || !element || element.closest('script, style, [hidden]')) continue;
        if (!element.getClientRects().length) continue;  // not displayed
        const marked = element.closest('[lang]');
        if (marked && marked.lang !== page) continue;  // words of another language, marked so
        texts.push(text);
    }
    for (const input of document.querySelectorAll('input[type=submit], button')) {
        if (input.getClientRects().length && input.value) texts.push(input.value.trim());
    }
    return texts;
}"""
"""The texts the page shows in its own language (text nodes that are displayed)."""


@cache
def _english_only(language: str) -> tuple[frozenset[str], tuple[re.Pattern[str], ...]]:
    """English messages that ``language`` words differently or lacks: the plain ones, and those
    with fields as patterns (a field matches any text) when their own words have at least four
    letters (so that "{n}" or "{a} — {b}" match nothing)."""
    english, other = catalogues()["en"].messages, catalogues()[language].messages
    plain, patterns = set(), []
    for key, message in english.items():
        if other.get(key) == message:
            continue
        if "{" not in message:
            plain.add(" ".join(message.split()))
            continue
        if len(re.findall(r"[A-Za-z]", re.sub(r"\{[^}]*\}", "", message))) >= 4:
            parts = re.split(r"\{[^}]*\}", " ".join(message.split()))
            patterns.append(re.compile(".+?".join(re.escape(part) for part in parts)))
    return frozenset(plain), tuple(patterns)


def _assert_speaks(page: Any, language: str) -> None:
    """No text the page shows is an English message that ``language`` words differently."""
    assert page.evaluate("document.documentElement.lang") == language
    plain, patterns = _english_only(language)
    texts = page.evaluate(VISIBLE_TEXT)
    assert len(texts) > 5, texts  # the page has words at all
    english = [t for t in texts if t in plain or any(p.fullmatch(t) for p in patterns)]
    assert not english, f"English left on {page.url}: {english}"


def _her(server: Any, site: str) -> tuple[str, str]:
    """A woman at ``site`` in the risk-based arm with her final risk and plan: (study ID, her
    level as stored)."""
    db = server.db
    study_id = db.participant(site=site, state="risk-based")
    recorded = record_risk_assessment(db.sessions, db.manager, db.keys, study_id, FACTORS)
    return study_id, recorded.level


def _login(browser: Any, server: Any, role: str, locale: str, language: str) -> Any:
    """A new account of ``role`` logs in through the login page in ``language`` (the browser
    asks for ``locale``); on her home page."""
    from playwright.sync_api import expect

    words = catalogues()[language]
    username, password, secret = server.db.new_user(role)
    context = browser.new_context(viewport={"width": 1100, "height": 800}, locale=locale)
    page = context.new_page()
    page.goto(server.url + "/login")
    expect(page.get_by_role("heading", name=words.text("login.title"))).to_be_visible()
    _assert_speaks(page, language)
    page.get_by_label(words.text("field.username")).fill(username)
    page.get_by_label(words.text("field.password")).fill(password)
    page.get_by_label(words.text("field.totp_code")).fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name=words.text("login.submit")).click()
    welcome = words.text("home.welcome", user=username)
    expect(page.get_by_role("heading", name=welcome)).to_be_visible()
    return page


def _download_her_letter(page: Any, language: str) -> bytes:
    """Her risk result letter, issued from the "Letters" section of her page."""
    words = catalogues()[language]
    page.get_by_label(words.text("field.letter_kind"), exact=True).select_option("risk_result")
    with page.expect_download() as download:
        page.get_by_role("button", name=words.text("letters_page.download_hers")).click()
    return Path(download.value.path()).read_bytes()


def _recorded_sha256(server: Any, study_id: str) -> list[str]:
    with server.db.sessions() as session:
        return list(session.scalars(
            select(IssuedLetter.pdf_sha256)
            .join(Participant, Participant.id == IssuedLetter.participant_id)
            .where(Participant.study_id == study_id)
        ))  # fmt: skip


def _italian_day(day: date) -> str:
    return f"{day.day} {ITALIAN_MONTHS[day.month - 1]} {day.year}"


def _template_words(language: str) -> dict[str, Any]:
    """The letter template file of ``language`` (data shipped with pebs.letters)."""
    source = resources.files("pebs.letters.templates").joinpath(f"{language}.toml")
    return tomllib.loads(source.read_text(encoding="utf-8"))


def _one_line(text: str) -> str:
    return " ".join(BIDI_CONTROLS.sub("", text).split())


def _words(text: str) -> list[str]:
    """The words of ``text`` in the order it gives them (bidi controls and punctuation left out:
    pdftotext puts a colon or a full stop between two right-to-left words on either side of the
    space; the words themselves must come in the order they are written)."""
    return re.findall(r"\w+", BIDI_CONTROLS.sub("", text))


def _find(words: list[str], sentence: list[str]) -> int | None:
    """Where ``sentence`` starts in ``words`` (each word in order, none between), or ``None``."""
    n = len(sentence)
    return next((i for i in range(len(words) - n + 1) if words[i : i + n] == sentence), None)


def test_an_italian_coordinator_works_only_in_italian(
    browser: Any, server: Any, shots: Path
) -> None:
    from playwright.sync_api import expect

    it = catalogues()["it"]
    study_id, level = _her(server, "IT-TO")
    page = _login(browser, server, "country_coordinator", "it-IT", "it")
    _assert_speaks(page, "it")
    menu = page.get_by_role("navigation", name=it.text("nav.label"))
    sections = menu.get_by_role("link").evaluate_all("links => links.map(a => a.href)")
    assert len(sections) >= 5, sections
    for section in sections:  # every page of her menu
        page.goto(section)
        _assert_speaks(page, "it")

    page.goto(server.url + "/")
    menu.get_by_role("link", name=it.text("nav.participants"), exact=True).click()
    page.get_by_label(it.text("list.search")).fill(study_id)
    page.get_by_role("button", name=it.text("list.apply")).click()
    _assert_speaks(page, "it")
    page.get_by_role("link", name=study_id, exact=True).click()
    expect(
        page.get_by_role("heading", name=it.text("letters_page.title"), exact=True)
    ).to_be_visible()
    _assert_speaks(page, "it")

    before = server.db.today("IT-TO")
    pdf = _download_her_letter(page, "it")
    after = server.db.today("IT-TO")
    sha256 = hashlib.sha256(pdf).hexdigest()
    assert _recorded_sha256(server, study_id) == [sha256]
    page.reload()
    expect(page.locator("#letters tbody code")).to_have_text(sha256[:12])
    _assert_speaks(page, "it")
    page.screenshot(path=shots / "14-participant-it.png", full_page=True)
    page.locator("#letters").scroll_into_view_if_needed()
    page.screenshot(path=DOCS_IMAGES / "web-participant-it.png")  # her letters, in Italian

    text = _one_line(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    assert f"Il suo risultato: {it.text(f'level.{level}')}" in text  # her level, in Italian
    assert re.search(r"\bdonn[ae] su 100 come lei\b", text), text  # out of 100 women like her
    assert _italian_day(before) in text or _italian_day(after) in text, text
    assert _template_words("en")["risk_result"]["woman"]["title"] not in text
    page.context.close()


def test_a_hebrew_letter_reads_in_logical_order(
    browser: Any, server: Any, shots: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    if not Path(PDFTOTEXT).exists():
        pytest.fail(f"no {PDFTOTEXT}: run 'make browser' (apt-get install poppler-utils)")
    he = catalogues()["he"]
    study_id, level = _her(server, "IL-TA")
    page = _login(browser, server, "data_manager", "he-IL", "he")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    page.goto(f"{server.url}/participants/{study_id}")
    expect(
        page.get_by_role("heading", name=he.text("letters_page.title"), exact=True)
    ).to_be_visible()
    assert page.evaluate("document.documentElement.dir") == "rtl"
    _assert_speaks(page, "he")
    pdf = _download_her_letter(page, "he")
    page.context.close()
    assert _recorded_sha256(server, study_id) == [hashlib.sha256(pdf).hexdigest()]

    (tmp_path / "letter.pdf").write_bytes(pdf)
    extracted = subprocess.run(
        [shutil.which(PDFTOTEXT) or PDFTOTEXT, "-enc", "UTF-8", str(tmp_path / "letter.pdf"),
         "-"], check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    words = _words(extracted)
    template = _template_words("he")
    blocks = {b["text"] for b in template["risk_result"]["woman"]["blocks"] if "text" in b}
    assert "התוצאה שלך: {level}" in blocks  # the heading of her result
    assert "{level_meaning} {level_advice}" in blocks  # the paragraph under "what it means"
    heading = _words(f"התוצאה שלך: {he.text(f'level.{level}')}")  # "Your result: <level>"
    meaning = _words(" ".join(template["words"][f"level_{level}_{part}"]
                              for part in ("meaning", "advice")))  # fmt: skip
    assert len(heading) == 4
    assert len(meaning) > 20
    at_heading, at_meaning = _find(words, heading), _find(words, meaning)
    assert at_heading is not None, (heading, _one_line(extracted))
    assert at_meaning is not None, (meaning, _one_line(extracted))
    assert at_heading < at_meaning  # in the order of the letter
