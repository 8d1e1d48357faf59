"""The model-card pages (``/models``, ``/models/{card_id}``): every logged-in role, labels in the
page language (Hebrew right to left), the cards' English text marked as such, 404 page for an
unknown id, login first."""

from __future__ import annotations

import html
import re
from typing import Any

from pebs.risk import cards, personalised

IDS = ["gail", "icare", *(f"personalised-{c}" for c in
                          ("BE", "ES", "FR", "IL", "IT", "UK", "UK_ENG", "US"))]  # fmt: skip


def test_index_and_card_pages(site: Any) -> None:
    site.login("administrator")  # no participant pages, but the model cards
    home = site.client.get("/")
    assert '<a href="/models">Risk models</a>' in home.text
    index = site.client.get("/models")
    assert index.status_code == 200
    assert re.findall(r'<a href="/models/([^"]+)">', index.text) == IDS
    assert "The text of the cards is in English." in index.text
    page = site.client.get("/models/personalised-FR")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "<h1>Model card: personalised-FR</h1>" in text
    assert personalised.MODEL_NAME in text
    for heading in ("Intended use", "Not for", "Inputs", "Calibration", "Discrimination",
                    "Provenance", "References"):  # fmt: skip
        assert f">{heading}</h2>" in text, heading
    bands = re.findall(r'<tr><th scope="row">(\d\d-\d\d)</th><td>', page.text)
    assert bands == [f"{a}-{a + 4}" for a in range(40, 75, 5)]
    first = cards.card("personalised-FR").calibration.table[0]
    assert (f"<td>{first.expected:.5f}</td><td>{first.observed:.5f}</td>"
            f"<td>{first.e_over_o:.3f}</td><td>50,000</td>") in page.text  # fmt: skip
    assert 'lang="en" dir="ltr"' in page.text
    assert "Not yet validated externally" in text


def test_labels_follow_the_page_language(site: Any) -> None:
    site.login("site_staff")
    french = site.client.get("/models/gail", headers={"Accept-Language": "fr"})
    assert french.status_code == 200
    text = html.unescape(french.text)
    assert '<html lang="fr" dir="ltr">' in text
    assert "<h1>Fiche du modèle : gail</h1>" in text
    assert "Le texte des fiches est en anglais." in text
    assert "0.58 (95% CI 0.56-0.60)" in text  # the card's own text stays English
    hebrew = site.client.get("/models", headers={"Accept-Language": "he"})
    assert '<html lang="he" dir="rtl">' in hebrew.text
    assert "<h1>מודלי סיכון</h1>" in hebrew.text
    assert '<td lang="en" dir="ltr">NCI BCRAT (Gail model)</td>' in hebrew.text


def test_unknown_card_is_a_404_page(site: Any) -> None:
    site.login("monitor")
    response = site.client.get("/models/tyrer-cuzick")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "no model card &#39;tyrer-cuzick&#39;; allowed: gail, icare" in response.text


def test_pages_need_a_login(site: Any) -> None:
    site.client.cookies.clear()
    response = site.client.get("/models/gail", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/models/gail"
