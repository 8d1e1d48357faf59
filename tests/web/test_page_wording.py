"""Words on the pages that are not message keys: the consent form names each language by its
own name, and the questionnaire page gives the study's title of the instrument in the page's
language (the study file's ``[translations.<code>]``)."""

from __future__ import annotations

import html
import re
from typing import Any

from factories import STUDY
from pebs.trial.study import load_study


def test_the_consent_form_names_her_language_in_that_language(site: Any) -> None:
    study_id = site.db.participant(state="eligible")  # a woman of IT-TO: Italy's study language
    site.login("site_staff")
    site.client.cookies.set("pebs_lang", "fr")
    page = html.unescape(site.client.get(f"/participants/{study_id}/consent").text)
    select = re.search(r'<select id="f-language".*?</select>', page, re.S).group(0)
    assert re.findall(r'<option value="(\w+)"[^>]*>([^<]*)</option>', select) == [
        ("it", "Italiano")
    ]


def test_the_questionnaire_title_is_in_the_page_language(site: Any) -> None:
    study_id = site.db.participant(state="standard")
    instrument = "EQ-5D-5L"
    study = load_study(STUDY)
    english = next(i.title for i in study.instruments if i.name == instrument)
    french = study.translations["fr"][f"instrument.{instrument}.title"]
    assert french != english
    site.login("site_staff")
    site.client.cookies.set("pebs_lang", "fr")
    path = f"/participants/{study_id}/questionnaires?instrument={instrument}&timepoint=0"
    page = html.unescape(site.client.get(path).text)
    assert french in page
    assert english not in page
