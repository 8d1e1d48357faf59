"""Query pages: a data manager raises a query from her page, her site answers it from its
worklist, the monitor reviews it; refusals next to their field; another site's query is not
found; her page's panel names the field and its value now in every language; the missing-forms
page and its CSV."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date
from typing import Any

import pytest

from pebs.i18n import LANGUAGES, catalogues
from pebs.services.queries.workflow import raise_query


def _query_id(response: Any) -> int:
    match = re.fullmatch(r"/queries/(\d+)\?done=query_raise", response.headers["location"])
    assert match is not None, response.headers["location"]
    return int(match.group(1))


def test_raised_answered_and_closed_through_the_pages(site: Any) -> None:
    woman = site.db.participant(state="standard")
    site.login("data_manager")
    page = f"/participants/{woman}/query"
    raised = site.post_form(page, {"query_instance": "allocation:", "query_item": "arm",
                                   "question": "Is it the arm on the paper form?"})  # fmt: skip
    assert raised.status_code == 303
    query_id = _query_id(raised)
    detail = html.unescape(site.client.get(f"/queries/{query_id}").text)
    assert "Randomisation — Arm" in detail
    assert "<code>standard</code>" in detail

    site.login("site_staff")
    worklist = site.client.get("/queries").text
    assert f'href="/queries/{query_id}"' in worklist
    answered = site.post_form(f"/queries/{query_id}/answer", {"answer": "Yes, it is."},
                              page=f"/queries/{query_id}")  # fmt: skip
    assert (answered.status_code, answered.headers["location"]) == (
        303, f"/queries/{query_id}?done=query_answer")  # fmt: skip

    site.login("monitor")
    assert f'href="/queries/{query_id}"' in site.client.get("/queries").text  # to review
    closed = site.post_form(f"/queries/{query_id}/close", {"note": ""},
                            page=f"/queries/{query_id}")  # fmt: skip
    assert closed.status_code == 303
    shown = html.unescape(site.client.get(f"/queries/{query_id}").text)
    assert [step in shown for step in ("Raised", "Answered", "Closed")] == [True] * 3


def test_refusals_are_shown_next_to_their_field(site: Any) -> None:
    woman = site.db.participant(state="standard")
    site.login("data_manager")
    page = f"/participants/{woman}/query"
    refused = site.post_form(page, {"query_instance": "allocation:", "query_item": "birads",
                                    "question": "?"})  # fmt: skip
    assert refused.status_code == 422
    assert 'id="f-query_item-error"' in refused.text
    empty = site.post_form(page, {"query_instance": "allocation:", "query_item": "arm",
                                  "question": ""})  # fmt: skip
    assert (empty.status_code, 'id="f-question-error"' in empty.text) == (422, True)
    site.login("site_staff")
    assert site.client.get(page).status_code == 403


def test_another_sites_query_is_not_found(site: Any) -> None:
    french = site.db.participant("FR-PA", "standard")
    detail = raise_query(site.db.sessions, site.db.manager, french, form="allocation",
                         item="arm", question="?")  # fmt: skip
    site.login("site_staff")
    assert site.client.get(f"/queries/{detail.query.id}").status_code == 404
    site.login("monitor")
    assert site.client.get(f"/queries/{detail.query.id}").status_code == 200


@pytest.mark.parametrize("language", LANGUAGES)
def test_her_panel_names_the_field_and_its_value_now(site: Any, language: str) -> None:
    woman = site.db.participant(state="standard")
    raise_query(site.db.sessions, site.db.manager, woman, form="allocation", item="arm",
                question="?")  # fmt: skip
    site.login("site_staff")
    site.client.cookies.set("pebs_lang", language)
    page = html.unescape(site.client.get(f"/participants/{woman}").text)
    section = re.search(r'<section id="queries".*?</section>', page, re.S).group(0)
    words = catalogues()[language]
    assert words.text("query.panel_title") in section
    assert f"{words.text('crf.allocation')} — {words.text('crf.allocation.arm')}" in section
    assert "<code>standard</code>" in section
    site.client.cookies.clear()


def test_the_missing_forms_page_and_its_csv(site: Any) -> None:
    woman = site.db.participant(state="standard")  # randomised today: nothing due yet
    site.login("monitor")
    later = date(site.db.today().year + 1, 12, 31).isoformat()
    page = html.unescape(site.client.get(f"/missing-forms?site=IT-TO&on={later}").text)
    assert "Missing forms per site and time point" in page
    assert woman in page
    download = site.client.get(f"/missing-forms.csv?study=mypebs-demo&site=IT-TO&on={later}")
    assert download.status_code == 200
    rows = list(csv.DictReader(io.StringIO(download.text)))
    hers = sorted((r["form"], r["time_point"]) for r in rows if r["study_id"] == woman)
    # a year and more after her randomisation: both instruments at 0, 3 and 12 months
    assert hers == sorted([("questionnaire", f"month-{m}") for m in (0, 3, 12)] * 2)
