"""Every page of the site, for every role, in every shipped language: no English left.

The pages are found in the app's router (every ``GET`` route outside the API), so a new page is
covered as soon as it is routed; its path parameters are filled from a seeded database (women of
both arms with a plan, a kit, a shipment and a genotype batch). Each page's visible text (text
nodes and the ``title``, ``aria-label``, ``placeholder`` and ``alt`` attributes) is compared with
the English words the site can show: every English catalogue message, every reason of a shipped
screening policy and the demo study's English text. A text in a non-English page that equals a
short English message, or contains a run of at least three words of a longer one, fails, unless
that language's own catalogue uses the same words (``screening`` is Italian too). Skipped: the
content of ``<code>``, ``<script>``, ``<style>``, elements marked ``translate="no"`` and elements
whose ``lang`` is another language (the language menu, the English model cards), study IDs, kit
IDs, usernames and codes (:data:`_ALLOWED`).

Run with ``-s`` for the completeness figures (translated keys / English keys, and the pages with
English left, per language).
"""

from __future__ import annotations

import re
import string
from collections import defaultdict
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select

from factories import DEMO_ACCOUNTS, STUDY
from lab_factories import QUESTIONNAIRE, dosages, write_vcf
from pebs.i18n import DEFAULT_LANGUAGE, LANGUAGES, catalogues
from pebs.screening.policy import load_policy, shipped_policies
from pebs.services.actor import actor_for
from pebs.services.laboratory import import_genotype_batch
from pebs.services.queries.workflow import answer_query, raise_query
from pebs.services.samples import record_collection, samples_of, ship_samples
from pebs.services.trial import VisitRecord, record_risk_questionnaire, record_visit
from pebs.store.models import LabBatch
from pebs.trial.study import load_study
from pebs.trial.vocabularies import ROLES

_ALLOWED = re.compile(
    r"^(?:[A-Z]{2}-[A-Z]{2}(?:-\d{6})?|MP-[0-9A-Z]+|LB-\d{8}-[0-9A-Z]{6}|SH-[0-9A-Z-]+"
    r"|t-[a-z_]+-\d+|[A-Z]{2}|[\d\s.,:%/()\-\u2013\u2014+\u00d7<>=]*|pebs|MyPeBS|BI-RADS|TNM|PRS"
    r"|TOTP|MRI)$"
)
"""Texts that are the same in every language: study IDs, sites, kit, batch and shipment IDs,
usernames, country codes, numbers and dates, and names of codes."""
_SKIPPED_TAGS = {"code", "script", "style", "pre"}
_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
_MIN_RUN = 3
_WORD = re.compile(r"[a-z]{3,}[,.;:]?")
"""A word of English prose (codes such as ``BRCA1`` or ``PRS`` are not)."""
"""Words of a longer English message that, found together in a page, count as English."""


class _Text(HTMLParser):
    """The visible text of a page: texts outside skipped elements, and some attributes."""

    def __init__(self, language: str) -> None:
        super().__init__(convert_charrefs=True)
        self.language = language
        self.texts: list[str] = []
        self.html_attrs: dict[str, str] = {}
        self._stack: list[tuple[str, bool]] = []

    def _skipping(self) -> bool:
        return any(skip for _, skip in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.html_attrs = values
        lang = values.get("lang", self.language)
        skip = (tag in _SKIPPED_TAGS or values.get("translate") == "no"
                or (tag != "html" and lang.split("-")[0] != self.language))  # fmt: skip
        if not skip and not self._skipping():
            self.texts += [values[name] for name in _ATTRIBUTES if values.get(name)]
        if tag not in {"br", "img", "input", "meta", "link", "hr", "wbr", "col", "source"}:
            self._stack.append((tag, skip))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                del self._stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if not self._skipping() and data.strip():
            self.texts.append(data)


def visible_text(page: str, language: str) -> tuple[list[str], dict[str, str]]:
    """(texts, attributes of ``<html>``) of a page, whitespace collapsed."""
    parser = _Text(language)
    parser.feed(page)
    texts = [" ".join(t.split()) for t in parser.texts]
    return [t for t in texts if t and not _ALLOWED.match(t)], parser.html_attrs


def _literal_runs(message: str) -> list[str]:
    """The parts of a message between its ``{fields}``."""
    return [" ".join(literal.split()) for literal, *_ in string.Formatter().parse(message)]


def _english_texts() -> list[tuple[str, str]]:
    """(key or source, English text) of everything the site may show in English."""
    found = list(catalogues()[DEFAULT_LANGUAGE].messages.items())
    for name in shipped_policies():
        policy = load_policy(name)
        found += [(f"policy {name}: {r.id}", r.reason) for r in policy.rules]
        found += [(f"policy {name}: no screening", e.reason) for e in policy.no_screening]
        if policy.study is not None:
            found.append((f"policy {name}: end of study", policy.study.end_of_study_reason))
    study = load_study(STUDY)
    for protocol in study.protocols:
        for criterion in protocol.eligibility.criteria:
            found.append((f"study: criterion.{criterion.id}.question", criterion.question))
            found.append((f"study: criterion.{criterion.id}.failure_reason",
                          criterion.failure_reason))  # fmt: skip
    found += [(f"study: consent {c.country}/{c.language}/{c.version}", c.title)
              for c in study.consents]  # fmt: skip
    return found


class EnglishFinder:
    """Finds English messages in the texts of one language's pages."""

    def __init__(self, language: str) -> None:
        own = catalogues()[language].messages
        english = catalogues()[DEFAULT_LANGUAGE].messages
        study_own = load_study(STUDY).translations.get(language, {})
        own_text = "\n".join([*own.values(), *study_own.values()]).casefold()
        self.whole: dict[str, str] = {}
        self.runs: dict[str, str] = {}
        for key, message in _english_texts():
            if key in own and own[key] == english.get(key):
                continue  # the same words in this language
            for literal in _literal_runs(message):
                words = literal.strip(" .,:;()—-").split()
                if not words or " ".join(words).casefold() in own_text:
                    continue
                if len(words) < _MIN_RUN:
                    self.whole.setdefault(" ".join(words).casefold(), key)
                    continue
                for start in range(len(words) - _MIN_RUN + 1):
                    run = words[start : start + _MIN_RUN]
                    if not any(_WORD.fullmatch(word) for word in run):
                        continue  # codes only (BRCA1, BRCA2, PALB2)
                    text = " ".join(run).casefold()
                    if text not in own_text:
                        self.runs.setdefault(text, key)

    def english_in(self, text: str) -> str | None:
        """The key (or source) of an English message found in ``text``, else ``None``."""
        folded = text.casefold()
        if folded.strip(" .,:;()—-") in self.whole:
            return self.whole[folded.strip(" .,:;()—-")]
        words = folded.split()
        for start in range(len(words) - _MIN_RUN + 1):
            run = " ".join(words[start : start + _MIN_RUN]).strip(" .,:;()—-")
            if run in self.runs:
                return self.runs[run]
        return None


def test_the_finder_finds_english_and_leaves_french_alone() -> None:
    finder = EnglishFinder("fr")
    assert finder.english_in("Participants") == "nav.participants"
    assert finder.english_in("She is already randomised: standard arm.") is not None
    assert finder.english_in("Participantes") is None
    assert finder.english_in("mammographie tous les 2 ans") is None
    texts, attrs = visible_text(
        '<html lang="fr" dir="ltr"><body><p>Bonjour</p><code>Participants</code>'
        '<p translate="no">Participants</p><a lang="en" title="Home">English</a>'
        '<p title="Accueil">IT-TO-000001</p></body></html>', "fr")  # fmt: skip
    assert texts == ["Bonjour", "Accueil"]
    assert attrs == {"lang": "fr", "dir": "ltr"}


# The seeded database and the pages


@pytest.fixture(scope="module")
def urls(site: Any, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Every page of the site, with its path parameters filled from seeded data."""
    db = site.db
    women = {state: db.participant(state=state)
             for state in ("registered", "eligible", "consented", "standard")}  # fmt: skip
    risk_based = db.participant(state="risk-based")
    record_risk_questionnaire(db.sessions, db.manager, db.keys, risk_based, QUESTIONNAIRE,
                              answered_on=db.today())  # fmt: skip
    visit = record_visit(db.sessions, db.manager, risk_based, VisitRecord(
        performed_date=db.today(), modality="mammography", visit_type="screening", birads=4,
        recall=True, biopsy=True, histology="benign", density="c",
        density_reader="Dr Radiologist"), keys=db.keys)  # fmt: skip
    query = raise_query(db.sessions, db.manager, risk_based, form="visit", item="birads",
                        key=visit.visit_id, question="BI-RADS 4?", proposed_value="3")  # fmt: skip
    answer_query(db.sessions, actor_for(db.sessions, DEMO_ACCOUNTS["site_staff"]), query.query.id,
                 text="4: recall booked.")  # fmt: skip
    kit_id = samples_of(db.sessions, db.manager, risk_based).kits[-1].kit_id
    record_collection(db.sessions, db.manager, kit_id, db.today())
    shipment = ship_samples(db.sessions, db.manager, STUDY, "IT-TO", [kit_id], db.today())
    laboratory = actor_for(db.sessions, db.new_user("laboratory")[0])
    vcf = write_vcf(tmp_path_factory.mktemp("vcf") / "batch.vcf", {kit_id: dosages(3)})
    import_genotype_batch(db.sessions, laboratory, db.keys, STUDY, Path(vcf))
    with db.sessions() as session:
        batch = session.scalar(select(LabBatch.reference).order_by(LabBatch.id.desc()).limit(1))
    by_path = {
        "/participants/{study_id}/eligibility": {"study_id": women["registered"]},
        "/participants/{study_id}/consent": {"study_id": women["eligible"]},
        "/participants/{study_id}/allocation": {"study_id": women["consented"]},
        "/lab/batches/{reference}": {"reference": batch},
        "/samples/shipments/{reference}": {"reference": shipment.reference},
    }
    default = {
        "study_id": risk_based,
        "kit_id": kit_id,
        "card_id": "gail",
        "username": DEMO_ACCOUNTS["site_staff"],
        "site": "IT-TO",
        "study": STUDY,
        "format": "csv",
        "query_id": query.query.id,
    }
    found = []
    for route in _routes(site.client.app.routes):
        if not isinstance(route, APIRoute) or "GET" not in route.methods:
            continue
        if not route.endpoint.__module__.startswith("pebs.web.") or route.path == "/language":
            continue  # the API's routes, and the language switch (a redirect)
        values = by_path.get(route.path, default)
        found.append(route.path.format(**values))
    found += [
        f"/participants/{women['standard']}",
        f"/participants/{risk_based}/visit",
        "/worklists?site=IT-TO",
        f"/samples?site=IT-TO&study={STUDY}",
        f"/lab/shipments?reference={shipment.reference}",
        "/participants/XX-XX-999999",
    ]
    return sorted(set(found))


def _routes(routes: list[Any]) -> Iterator[Any]:
    """Every route of the app, including those of the routers it includes."""
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from _routes(included.routes) if included is not None else (route,)


Pages = dict[str, dict[tuple[str, str], str]]
"""language -> (role, url) -> page."""


@pytest.fixture(scope="module")
def pages(site: Any, urls: list[str]) -> Pages:
    """Every page, as every role that has pages sees it (a refused page too: it is a page), in
    every language; redirects are not pages."""
    result: Pages = defaultdict(dict)
    for role in ROLES:
        site.login(role)
        for language in LANGUAGES:
            site.client.cookies.set("pebs_lang", language)
            for url in urls:
                response = site.client.get(url, follow_redirects=False)
                if response.is_redirect or "text/html" not in response.headers["content-type"]:
                    continue  # not a page (a redirect, a CSV file)
                result[language][(role, url)] = response.text
    for who, path in (("anonymous", "/login"), ("password only", "/login/totp"),
                      ("no second factor yet", "/totp/enrol")):  # fmt: skip
        _log_in_part_way(site, who)
        for language in LANGUAGES:
            site.client.cookies.set("pebs_lang", language)
            response = site.client.get(path, follow_redirects=False)
            assert response.status_code == 200, (who, path, response.status_code)
            result[language][(who, path)] = response.text
    site.client.cookies.clear()
    return result


def _log_in_part_way(site: Any, who: str) -> None:
    """No session, a session waiting for its TOTP code, or one that must enrol TOTP first."""
    site.client.cookies.clear()
    if who == "password only":
        site.login("site_staff", with_code=False)
    elif who == "no second factor yet":
        username, password, _ = site.db.new_user("site_staff", totp=False)
        page = site.client.get("/login").text
        response = site.client.post("/login", data={
            "csrf_token": site.csrf(page), "username": username, "password": password,
            "totp_code": "", "next": "/"}, follow_redirects=False)  # fmt: skip
        assert response.status_code == 303, response.text


def _leftovers(pages: Pages, language: str) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(role, url) -> [(text, English key)] of one language's pages."""
    finder = EnglishFinder(language)
    found = {}
    for where, page in pages[language].items():
        texts, _ = visible_text(page, language)
        hits = [(text, key) for text in texts if (key := finder.english_in(text)) is not None]
        if hits:
            found[where] = hits
    return found


def test_every_route_is_rendered_for_some_role(pages: Pages, urls: list[str]) -> None:
    seen = {url for (_, url), page in pages["en"].items()}
    assert set(urls) <= seen
    assert len(urls) >= 30
    ok = {url for (role, url), page in pages["en"].items() if 'class="error' not in page}
    assert {f for f in urls if "XX-XX" not in f} - ok == set()


@pytest.mark.parametrize("language", [DEFAULT_LANGUAGE])
def test_english_pages_are_all_english(pages: Pages, language: str) -> None:
    for (role, url), page in pages[language].items():
        _, attrs = visible_text(page, language)
        assert (attrs.get("lang"), attrs.get("dir")) == ("en", "ltr"), (role, url)


def test_every_hebrew_page_is_right_to_left(pages: Pages) -> None:
    for where, page in pages["he"].items():
        _, attrs = visible_text(page, "he")
        assert (attrs.get("lang"), attrs.get("dir")) == ("he", "rtl"), where


def _report(pages: Pages) -> None:
    english = catalogues()[DEFAULT_LANGUAGE].messages
    print("\nlanguage  keys translated  pages with English left")
    for language in LANGUAGES:
        own = catalogues()[language].messages
        n_keys = sum(1 for k in english if k in own)
        leftovers = _leftovers(pages, language) if language != DEFAULT_LANGUAGE else {}
        n_pages = len(pages[language])
        print(f"{language:8}  {n_keys}/{len(english)} ({100 * n_keys / len(english):.1f}%)"
              f"  {len(leftovers)}/{n_pages}")  # fmt: skip
        keys = sorted({key for hits in leftovers.values() for _, key in hits})
        if keys:
            print(f"          English left ({len(keys)}): {', '.join(keys[:40])}")


def test_completeness_report(pages: Pages) -> None:
    _report(pages)
    assert set(pages) == set(LANGUAGES)


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != DEFAULT_LANGUAGE])
def test_no_english_is_left_on_any_page(pages: Pages, language: str) -> None:
    leftovers = _leftovers(pages, language)
    shown = [
        f"{role} {url}: {text!r} ({key})"
        for (role, url), hits in sorted(leftovers.items())
        for text, key in hits[:3]
    ]
    assert not leftovers, f"{language}: English on {len(leftovers)} pages:\n" + "\n".join(shown)
