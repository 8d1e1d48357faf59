"""The audit trail in words: every (entity, action) pair the services can write has a label
``audit.<entity>.<action>`` in each of the six languages, and her page shows it."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from pebs.i18n import LANGUAGES, catalogues
from web.audit_pairs import audit_pairs, literal_pairs, rule_pairs

PAIRS = sorted(audit_pairs())


def test_the_pairs_are_found_in_the_code() -> None:
    # a few pairs every trial writes, found independently of the catalogue
    assert {("consent", "consent"), ("participant", "register"), ("death", "record"),
            ("participant", "withdraw")} <= literal_pairs()  # fmt: skip
    assert ("user", "enable") in rule_pairs()
    assert len(PAIRS) >= 50


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_pair_has_a_label_in_each_language(language: str) -> None:
    own = catalogues()[language].messages  # not the English fallback
    missing = [f"audit.{e}.{a}" for e, a in PAIRS if f"audit.{e}.{a}" not in own]
    assert missing == [], f"{language}: {missing}"


def test_her_audit_trail_says_what_happened_in_words(site: Any) -> None:
    study_id = site.db.participant(state="consented")
    site.login("site_staff")
    page = html.unescape(site.client.get(f"/participants/{study_id}").text)
    trail = re.search(r'<section id="audit".*?</section>', page, re.S).group(0)
    assert "consent recorded" in trail
    assert "eligibility assessed" in trail
    assert "registered" in trail
    assert "consent consent" not in trail
    site.client.cookies.set("pebs_lang", "fr")
    french = html.unescape(site.client.get(f"/participants/{study_id}").text)
    assert catalogues()["fr"].text("audit.consent.consent") in french
