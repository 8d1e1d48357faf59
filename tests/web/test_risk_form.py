"""The risk-factor form: an empty field is an error next to it (in each language), "she does not
know" is an explicit answer shown as "unknown" on her page, and a lower level needs a reason and
a confirmation.

Expectations come from the demo study file (every input required), the catalogues' texts and the
level order low < average < high < very_high (MyPeBS, NCT03672331).
"""

from __future__ import annotations

import html
import re
from typing import Any

from sqlalchemy import select

from pebs.store.models import AuditEvent, Participant, RiskAssessment

INPUTS = ["age_at_menarche", "age_at_first_birth", "n_relatives", "n_biopsies",
          "atypical_hyperplasia", "density", "prs_z"]  # fmt: skip
HIGH = {"n_biopsies": "1", "atypical_hyperplasia": "no", "age_at_menarche": "11",
        "age_at_first_birth": "32", "n_relatives": "1", "density": "c", "prs_z": "1.0"}  # fmt: skip
LOW = {"n_biopsies": "0", "age_at_menarche": "15", "age_at_first_birth": "20",
       "n_relatives": "0", "density": "a", "prs_z": "-2.0"}  # fmt: skip
REQUIRED = {
    "en": "not answered: give a value, or choose 'She does not know'",
    "fr": "sans réponse : donnez une valeur, ou choisissez « Elle ne sait pas »",
    "he": "אין תשובה: יש לתת ערך, או לבחור 'היא לא יודעת'",
}


def _assessments(site: Any, study_id: str) -> list[RiskAssessment]:
    with site.db.sessions() as session:
        return list(session.scalars(
            select(RiskAssessment).join(Participant).where(Participant.study_id == study_id)
            .order_by(RiskAssessment.id)))  # fmt: skip


def _field_error(text: str, name: str) -> str | None:
    found = re.search(rf'id="f-{name}-error">([^<]*)<', html.unescape(text))
    return None if found is None else found.group(1)


def test_empty_fields_are_errors_next_to_each_field_in_every_language(site: Any) -> None:
    study_id = site.db.participant(state="risk-based")
    site.login("site_staff")
    for language, message in REQUIRED.items():
        site.client.cookies.set("pebs_lang", language)
        response = site.post_form(f"/participants/{study_id}/risk", {})
        assert response.status_code == 422, language
        for name in INPUTS:
            assert _field_error(response.text, name) == message, (language, name)
    site.client.cookies.delete("pebs_lang")
    # Only some fields empty: only those are refused; hyperplasia is not asked after no biopsy.
    response = site.post_form(f"/participants/{study_id}/risk",
                              {**LOW, "age_at_menarche": "", "prs_z": ""})  # fmt: skip
    assert response.status_code == 422
    refused = set(re.findall(r'id="f-([a-z_]+)-error"', response.text))
    assert refused == {"age_at_menarche", "prs_z"}
    assert _assessments(site, study_id) == []


NO_CLASSICAL = {
    "en": "no classical risk factor is known: give a value for at least one of the four",
    "fr": "aucun facteur de risque classique n'est connu : donnez une valeur à au moins une des",
}


def test_no_classical_factor_known_is_refused_next_to_the_four_in_her_language(site: Any) -> None:
    study_id = site.db.participant(state="risk-based")
    site.login("site_staff")
    form = {"n_biopsies_unknown": "on", "age_at_menarche_unknown": "on",
            "age_at_first_birth_unknown": "on", "n_relatives_unknown": "on",
            "atypical_hyperplasia": "unknown", "density": "b", "prs_z": "0.2"}  # fmt: skip
    for language, message in NO_CLASSICAL.items():
        site.client.cookies.set("pebs_lang", language)
        response = site.post_form(f"/participants/{study_id}/risk", form)
        assert response.status_code == 422, language
        refused = dict(re.findall(r'id="f-([a-z_]+)-error">([^<]*)<', html.unescape(response.text)))
        assert set(refused) == {"n_biopsies", "age_at_menarche", "age_at_first_birth",
                                "n_relatives"}, language  # fmt: skip
        assert all(text.startswith(message) for text in refused.values()), (language, refused)
    site.client.cookies.delete("pebs_lang")
    # One factor known is enough (nulliparous is an answer).
    answered = {k: v for k, v in form.items() if k != "age_at_first_birth_unknown"}
    response = site.post_form(f"/participants/{study_id}/risk",
                              {**answered, "nulliparous": "on"})  # fmt: skip
    assert response.status_code == 303, html.unescape(response.text)[:3000]
    [stored] = _assessments(site, study_id)
    assert stored.inputs["age_at_first_birth"] == "nulliparous"


def test_a_value_and_unknown_together_is_an_error(site: Any) -> None:
    study_id = site.db.participant(state="risk-based")
    site.login("site_staff")
    response = site.post_form(f"/participants/{study_id}/risk",
                              {**HIGH, "n_relatives_unknown": "on"})  # fmt: skip
    assert response.status_code == 422
    assert _field_error(response.text, "n_relatives") == (
        "give a value or tick 'She does not know', not both"
    )
    response = site.post_form(f"/participants/{study_id}/risk", {**HIGH, "nulliparous": "on"})
    assert _field_error(response.text, "age_at_first_birth") == (
        "give an age or tick 'No live birth', not both"
    )
    assert _assessments(site, study_id) == []


def test_unknown_answers_are_stored_and_shown_as_unknown(site: Any) -> None:
    study_id = site.db.participant(state="risk-based")
    site.login("site_staff")
    form = {**HIGH, "age_at_menarche": "", "age_at_menarche_unknown": "on",
            "density": "unknown", "atypical_hyperplasia": "unknown"}  # fmt: skip
    response = site.post_form(f"/participants/{study_id}/risk", form)
    assert response.status_code == 303, html.unescape(response.text)[:3000]
    [stored] = _assessments(site, study_id)
    assert stored.inputs["age_at_menarche"] == "unknown"
    assert stored.inputs["density"] == "unknown"
    assert stored.inputs["atypical_hyperplasia"] == "unknown"
    page = html.unescape(site.client.get(response.headers["location"]).text)
    assert re.search(r"Questionnaire factors</th><td>unknown</td>", page)
    assert re.search(r"Breast density</th><td>unknown</td>", page)
    assert "1.000" not in page
    listed = re.search(r'<dd class="unknown-inputs">([^<]*)</dd>', page)
    assert listed is not None
    assert listed.group(1) == (
        "atypical hyperplasia on a biopsy, age at first period, breast density"
    )
    assert 'href="/models/personalised-IT"' in page


def test_a_lower_level_asks_for_a_reason_and_a_confirmation(site: Any) -> None:
    study_id = site.db.participant(state="risk-based")
    site.login("site_staff")
    path = f"/participants/{study_id}/risk"
    assert site.post_form(path, HIGH).status_code == 303
    [first] = _assessments(site, study_id)
    assert first.level == "high"

    step = site.post_form(path, LOW)
    assert step.status_code == 409
    text = html.unescape(step.text)
    assert "This assessment lowers her risk level" in text
    assert "Her current level is high risk; this assessment gives low risk" in text
    assert 'name="reason"' in text
    assert 'name="confirm_lower"' in text
    assert 'value="15"' in text  # her answers are kept for the confirmation
    assert len(_assessments(site, study_id)) == 1

    no_reason = site.post_form(path, {**LOW, "confirm_lower": "on"})
    assert no_reason.status_code == 409
    assert _field_error(no_reason.text, "reason") == "this field is required"
    assert len(_assessments(site, study_id)) == 1

    done = site.post_form(
        path, {**LOW, "confirm_lower": "on", "reason": "density re-read by a second radiologist"}
    )
    assert done.status_code == 303
    assert [a.level for a in _assessments(site, study_id)] == ["high", "low"]
    with site.db.sessions() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.entity == "risk_assessment")
                                .order_by(AuditEvent.id.desc())).first()  # fmt: skip
        assert event.reason == "density re-read by a second radiologist"
        assert event.new["lowered_from"] == "high"
