"""Her withdrawal, her death and her questionnaires, from her page: each form renders, records
what it should (audited), shows bad input next to its field and stores nothing then, and is
refused to a role that may not use it (403) and for a woman outside the user's scope (404)."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from pebs.store.models import AuditEvent, Consent, Death, Participant, QuestionnaireResponse


def _status(site: Any, study_id: str) -> str:
    with site.db.sessions() as session:
        return session.scalar(select(Participant.status).where(Participant.study_id == study_id))


def _events(site: Any, entity: str, action: str) -> int:
    with site.db.sessions() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.entity == entity, AuditEvent.action == action))  # fmt: skip


def _field_error(page: str, name: str) -> str:
    match = re.search(rf'<p class="field-error" id="f-{re.escape(name)}-error">(.*?)</p>', page)
    assert match is not None, f"no message next to {name}"
    return html.unescape(match.group(1))


# --- withdrawal --------------------------------------------------------------------------------


def test_withdrawal_explains_each_level_confirms_then_records_and_audits(site: Any) -> None:
    study_id = site.db.participant(state="standard")
    site.login("site_staff")
    page = site.client.get(f"/participants/{study_id}").text
    assert f'href="/participants/{study_id}/withdrawal"' in page
    form = html.unescape(site.client.get(f"/participants/{study_id}/withdrawal").text)
    # each of the three levels with its meaning in words (pebs.trial.pathway's docstring)
    assert "We no longer contact her" in form
    assert "We collect nothing new about her" in form
    assert "Her data is no longer used in any analysis" in form
    before = _events(site, "participant", "withdraw")
    step = site.post_form(f"/participants/{study_id}/withdrawal",
                          {"level": "no_further_contact", "reason": "moved abroad"})  # fmt: skip
    assert step.status_code == 200
    assert "Please check before recording" in step.text
    assert _status(site, study_id) == "randomised_standard"  # nothing yet
    unticked = site.post_form(f"/participants/{study_id}/withdrawal", {
        "level": "no_further_contact", "reason": "moved abroad", "confirm_step": "1"},
        page=f"/participants/{study_id}/withdrawal")  # fmt: skip
    assert unticked.status_code == 422
    assert _field_error(unticked.text, "confirm") == "tick to confirm"
    assert _status(site, study_id) == "randomised_standard"
    done = site.post_form(f"/participants/{study_id}/withdrawal", {
        "level": "no_further_contact", "reason": "moved abroad", "confirm_step": "1",
        "confirm": "on"}, page=f"/participants/{study_id}/withdrawal")  # fmt: skip
    assert done.status_code == 303
    assert done.headers["location"] == f"/participants/{study_id}?done=withdrawn"
    assert _status(site, study_id) == "withdrawn_no_contact"
    assert _events(site, "participant", "withdraw") == before + 1
    with site.db.sessions() as session:
        consent = session.scalar(select(Consent).join(Participant).where(
            Participant.study_id == study_id))  # fmt: skip
        assert (consent.withdrawal_level, consent.withdrawal_reason) == (
            "no_further_contact", "moved abroad")  # fmt: skip
    trail = html.unescape(site.client.get(done.headers["location"]).text)
    assert "withdrawal recorded" in trail


def test_withdrawal_without_level_or_reason_shows_both_and_stores_nothing(site: Any) -> None:
    study_id = site.db.participant(state="consented")
    site.login("site_investigator")
    before = _events(site, "participant", "withdraw")
    response = site.post_form(f"/participants/{study_id}/withdrawal", {"level": "", "reason": ""})
    assert response.status_code == 422
    assert _field_error(response.text, "level") == "this field is required"
    assert _field_error(response.text, "reason") == "this field is required"
    unknown = site.post_form(f"/participants/{study_id}/withdrawal",
                             {"level": "everything", "reason": "x"})  # fmt: skip
    assert unknown.status_code == 422
    assert "choose one of: no_further_contact" in _field_error(unknown.text, "level")
    assert _events(site, "participant", "withdraw") == before
    assert _status(site, study_id) == "consented"


def test_withdrawal_to_a_milder_level_is_refused_on_the_page(site: Any) -> None:
    study_id = site.db.participant(state="standard")
    site.login("data_manager")
    path = f"/participants/{study_id}/withdrawal"
    for level in ("no_further_data_collection", "no_further_contact"):
        response = site.post_form(path, {"level": level, "reason": "asked", "confirm_step": "1",
                                         "confirm": "on"})  # fmt: skip
    assert response.status_code == 409
    assert _status(site, study_id) == "withdrawn_no_data_collection"


def test_withdrawal_is_refused_to_a_monitor_and_outside_the_site(site: Any) -> None:
    own, other = site.db.participant(state="consented"), site.db.participant("FR-PA", "consented")
    site.login("monitor")
    assert site.client.get(f"/participants/{own}/withdrawal").status_code == 403
    site.login("site_staff")
    assert site.client.get(f"/participants/{other}/withdrawal").status_code == 404
    page = site.client.get(f"/participants/{own}/withdrawal")
    refused = site.client.post(f"/participants/{other}/withdrawal", data={
        "csrf_token": site.csrf(page.text), "level": "no_further_contact", "reason": "x",
        "confirm_step": "1", "confirm": "on"})  # fmt: skip
    assert refused.status_code == 404
    assert _status(site, other) == "consented"


# --- death -----------------------------------------------------------------------------------


def test_death_is_recorded_audited_and_ends_her_pathway(site: Any) -> None:
    study_id = site.db.participant(state="standard")
    site.login("site_staff")
    form = site.client.get(f"/participants/{study_id}/death").text
    assert "another cancer" in form  # the causes in words
    before = _events(site, "death", "record")
    day = (site.db.today() - timedelta(days=3)).isoformat()
    response = site.post_form(f"/participants/{study_id}/death", {
        "date_of_death": day, "cause": "other_cancer", "cause_icd10": "C25.9"})  # fmt: skip
    assert response.status_code == 303
    assert _status(site, study_id) == "died"
    assert _events(site, "death", "record") == before + 1
    with site.db.sessions() as session:
        death = session.scalar(select(Death).join(Participant).where(
            Participant.study_id == study_id))  # fmt: skip
        assert (death.date_of_death.isoformat(), death.cause, death.cause_icd10) == (
            day, "other_cancer", "C25.9")  # fmt: skip
    page = html.unescape(site.client.get(response.headers["location"]).text)
    assert "death recorded" in page
    assert f'/participants/{study_id}/death"' not in page  # no second death


def test_death_bad_input_is_shown_next_to_each_field_and_nothing_is_stored(site: Any) -> None:
    study_id = site.db.participant(state="standard")
    site.login("site_staff")
    future = (site.db.today() + timedelta(days=30)).isoformat()
    missing = site.post_form(f"/participants/{study_id}/death",
                             {"date_of_death": "", "cause": "old age"})  # fmt: skip
    assert missing.status_code == 422
    assert _field_error(missing.text, "date_of_death") == "this field is required"
    assert _field_error(missing.text, "cause").startswith("choose one of: breast_cancer")
    ahead = site.post_form(f"/participants/{study_id}/death",
                           {"date_of_death": future, "cause": "other"})  # fmt: skip
    assert ahead.status_code == 422
    assert _field_error(ahead.text, "date_of_death") == f"{future} is in the future"
    code = site.post_form(f"/participants/{study_id}/death", {
        "date_of_death": site.db.today().isoformat(), "cause": "other",
        "cause_icd10": "C5"})  # fmt: skip
    assert code.status_code == 422
    assert "is not an ICD-10 code" in _field_error(code.text, "cause_icd10")
    assert _status(site, study_id) == "randomised_standard"


def test_death_is_refused_to_a_statistician_and_outside_the_country(site: Any) -> None:
    other = site.db.participant("FR-PA", "standard")
    site.login("statistician")
    assert site.client.get(f"/participants/{other}/death").status_code == 403
    site.login("country_coordinator")  # Italy
    assert site.client.get(f"/participants/{other}/death").status_code == 404
    italian = site.db.participant("IT-MI", "standard")
    assert site.client.get(f"/participants/{italian}/death").status_code == 200


# --- questionnaires --------------------------------------------------------------------------


def test_questionnaire_forms_come_from_the_study_file(site: Any) -> None:
    study_id = site.db.participant(state="standard")
    site.login("site_staff")
    overview = html.unescape(site.client.get(f"/participants/{study_id}/questionnaires").text)
    # the demo study file's two instruments, at the four time points (0, 3, 12, 48 months)
    assert "EQ-5D-5L" in overview
    assert "STAI-6 demo" in overview
    assert overview.count("Fill in") == 2 * 4
    stai = html.unescape(site.client.get(f"/participants/{study_id}/questionnaires",
                         params={"instrument": "STAI-6 demo", "timepoint": 3}).text)  # fmt: skip
    # no translated label for item_1 .. item_6: the name in words; each scored 1 to 4
    assert all(f">Item {n}</label>" in stai for n in range(1, 7))
    assert stai.count("From 1 to 4") == 6
    eq5d = html.unescape(site.client.get(f"/participants/{study_id}/questionnaires",
                         params={"instrument": "EQ-5D-5L", "timepoint": 0}).text)  # fmt: skip
    assert "Her health today, from 0 (the worst she can imagine) to 100 (the best)" in eq5d
    assert "From 0 to 100" in eq5d
    assert eq5d.count("From 1 to 5") == 5


def test_a_questionnaire_is_recorded_once_and_bad_answers_are_shown_at_their_item(site: Any):
    study_id = site.db.participant(state="standard")
    site.login("site_staff")
    path = f"/participants/{study_id}/questionnaires?instrument=EQ-5D-5L&timepoint=12"
    before = _events(site, "questionnaire_response", "record")
    bad = site.post_form(path, {"completed_on": site.db.today().isoformat(),
                                "answers.mobility": "6", "answers.vas": "ninety"})  # fmt: skip
    assert bad.status_code == 422
    assert _field_error(bad.text, "answers.mobility") == "must be from 1 to 5"
    assert _field_error(bad.text, "answers.vas") == "give a whole number from 0 to 100"
    empty = site.post_form(path, {"completed_on": site.db.today().isoformat()})
    assert empty.status_code == 422
    assert "Give at least one answer." in empty.text
    assert _events(site, "questionnaire_response", "record") == before
    done = site.post_form(path, {"completed_on": site.db.today().isoformat(),
                                 "answers.mobility": "2", "answers.vas": "85"})  # fmt: skip
    assert done.status_code == 303
    assert _events(site, "questionnaire_response", "record") == before + 1
    with site.db.sessions() as session:
        stored = session.scalar(select(QuestionnaireResponse).join(Participant).where(
            Participant.study_id == study_id))  # fmt: skip
        # the items left empty are stored as not answered
        assert stored.answers == {"mobility": 2, "self_care": None, "usual_activities": None,
                                  "pain_discomfort": None, "anxiety_depression": None,
                                  "vas": 85}  # fmt: skip
        assert stored.timepoint_months == 12
    again = site.post_form(path, {"completed_on": site.db.today().isoformat(),
                                  "answers.mobility": "1"})  # fmt: skip
    assert again.status_code == 409
    assert _events(site, "questionnaire_response", "record") == before + 1
    overview = html.unescape(site.client.get(f"/participants/{study_id}/questionnaires").text)
    assert overview.count("Recorded") == 1


def test_questionnaires_are_refused_to_a_monitor_and_unknown_ones_are_not_found(site: Any):
    study_id = site.db.participant(state="standard")
    site.login("monitor")
    assert site.client.get(f"/participants/{study_id}/questionnaires").status_code == 403
    site.login("site_staff")
    unknown = site.client.get(f"/participants/{study_id}/questionnaires",
                              params={"instrument": "SF-36", "timepoint": 0})  # fmt: skip
    assert unknown.status_code == 404
    odd_month = site.client.get(f"/participants/{study_id}/questionnaires",
                                params={"instrument": "EQ-5D-5L", "timepoint": 6})  # fmt: skip
    assert odd_month.status_code == 404
    other = site.db.participant("FR-PA", "standard")
    assert site.client.get(f"/participants/{other}/questionnaires").status_code == 404


def test_the_participant_list_gives_the_total_of_every_page(site: Any) -> None:
    site.login("country_coordinator")  # Italy: IT-TO and IT-MI
    with site.db.sessions() as session:
        expected = session.scalar(select(func.count()).select_from(Participant).where(
            Participant.study_id.like("IT-%")))  # fmt: skip
    page = html.unescape(site.client.get("/participants").text)
    assert f"— {expected} in all</caption>" in page
