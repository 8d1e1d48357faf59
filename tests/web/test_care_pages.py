"""After randomisation: risk-factor form (risk and plan at once), the standard plan, visits,
outcomes, worklists, and the dashboards."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from pebs.risk.personalised import MODEL_VERSION
from pebs.store.models import Participant, RiskAssessment, Visit


def _latest_risk(site: Any, study_id: str) -> RiskAssessment:
    with site.db.sessions() as session:
        return session.scalars(
            select(RiskAssessment)
            .join(Participant, RiskAssessment.participant_id == Participant.id)
            .where(Participant.study_id == study_id).order_by(RiskAssessment.id.desc())
        ).first()  # fmt: skip


def test_risk_form_shows_risk_components_and_plan_at_once(site: Any) -> None:
    study_id = site.db.participant(state="risk-based")
    site.login("site_staff")
    page = site.client.get(f"/participants/{study_id}")
    assert "Enter risk factors" in page.text
    response = site.post_form(f"/participants/{study_id}/risk", {
        "age_at_menarche": "12", "age_at_first_birth": "31", "n_relatives": "1",
        "n_biopsies": "0", "atypical_hyperplasia": "unknown", "density": "c", "prs_z": "0.4",
    })  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"] == f"/participants/{study_id}?done=risk#risk"
    page = site.client.get(response.headers["location"]).text
    stored = _latest_risk(site, study_id)
    assert stored.inputs["age_at_first_birth"] == 31
    assert stored.inputs["density"] == "c"
    assert f"5-year risk of breast cancer: {stored.outputs['risk_5y'] * 100:.2f}%" in page
    assert f"version {MODEL_VERSION}" in page
    for label, key in (("Questionnaire factors", "rr_classical"), ("Polygenic risk score",
                       "rr_prs"), ("Breast density", "rr_density")):  # fmt: skip
        assert re.search(rf"{label}</th><td>{stored.outputs[key]:.3f}</td>", page), label
    assert f'class="level level-{stored.level}"' in page
    exams = re.search(r"Planned exams and the reason for each</caption>(.*?)</table>", page, re.S)
    assert exams is not None
    assert exams.group(1).count("<tr>") >= 2  # header and at least one planned exam
    assert "plan given" in page


def test_risk_form_messages(site: Any) -> None:
    study_id = site.db.participant(state="risk-based")
    site.login("site_staff")
    response = site.post_form(f"/participants/{study_id}/risk", {
        "age_at_menarche": "3", "n_relatives": "two", "prs_z": "99", "density": "e",
        "last_screen": "yesterday"})  # fmt: skip
    assert response.status_code == 422
    text = html.unescape(response.text)
    assert "Age at first period (years): must be from 5 to 30" in text
    assert "give a whole number from 0 to 20" in text
    assert "Polygenic risk score (PRS313, standardised): must be from -10.0 to 10.0" in text
    assert "choose one of: a, b, c, d" in text
    assert "give a date as YYYY-MM-DD" in text
    assert 'value="two"' in text
    assert _latest_risk(site, study_id) is None
    # a rule of the model (first birth before menarche), reported by the service next to the
    # field it is about, naming the inputs as the platform does
    response = site.post_form(f"/participants/{study_id}/risk", {
        "age_at_menarche": "14", "age_at_first_birth": "12", "n_relatives": "0",
        "n_biopsies": "0", "density": "b", "prs_z": "0.1"})  # fmt: skip
    assert response.status_code == 422
    error = re.search(r'id="f-age_at_first_birth-error">([^<]*)<', html.unescape(response.text))
    assert error is not None
    assert error.group(1).startswith("age_at_first_birth must be between age_at_menarche and age")
    assert _latest_risk(site, study_id) is None


def test_risk_form_refused_in_the_standard_arm(site: Any) -> None:
    study_id = site.db.participant(state="standard")
    site.login("site_staff")
    response = site.post_form(f"/participants/{study_id}/risk", {"age_at_menarche": "12"})
    assert response.status_code == 422
    assert "possible when she is: randomised: risk-based" in html.unescape(response.text)


def test_standard_plan_visit_outcome_and_worklist(site: Any) -> None:
    study_id = site.db.participant(state="standard")
    site.login("site_staff")
    response = site.post_form(f"/participants/{study_id}/plan", {},
                              page=f"/participants/{study_id}")  # fmt: skip
    assert response.status_code == 303
    page = site.client.get(response.headers["location"]).text
    assert "Screening plan given." in page
    assert "Policy it," in page  # Italy's programme
    with site.db.sessions() as session:
        visits = session.scalars(select(Visit).join(Participant).where(
            Participant.study_id == study_id).order_by(Visit.due_date)).all()  # fmt: skip
    assert visits
    first = visits[0]
    # the worklist on the first visit's due date lists it as due
    worklist = site.client.get(f"/worklists?site=IT-TO&on={first.due_date.isoformat()}")
    assert worklist.status_code == 200
    assert f"/participants/{study_id}/visit?visit={first.id}" in worklist.text
    overdue = site.client.get(
        f"/worklists?site=IT-TO&overdue=true&on={first.window_end.isoformat()}"
    )
    assert f"visit={first.id}" in overdue.text
    assert site.client.get("/worklists?site=FR-PA").status_code == 404
    # record its results; a future date is refused next to the field
    path = f"/participants/{study_id}/visit?visit={first.id}"
    future = (site.db.today() + timedelta(days=2)).isoformat()
    response = site.post_form(path, {"performed_date": future, "birads": "1"})
    assert response.status_code == 422
    assert f"Date performed: {future} is in the future" in response.text
    response = site.post_form(path, {"performed_date": "", "histology": "invasive",
                                     "biopsy": "no"})  # fmt: skip
    assert response.status_code == 422
    assert "Date performed: this field is required" in response.text
    today = site.db.today().isoformat()
    response = site.post_form(path, {"performed_date": today, "birads": "2", "recall": "no"})
    assert response.status_code == 303
    page = site.client.get(response.headers["location"]).text
    assert "Visit results saved." in page
    assert "in follow-up" in page
    # an outcome: behaviour and T category must agree
    outcome = f"/participants/{study_id}/outcome"
    response = site.post_form(outcome, {"diagnosis_date": today, "detection_mode": "interval",
                                        "behaviour": "dcis", "t": "pT1c", "n": "pN0",
                                        "m": "cM0"})  # fmt: skip
    assert response.status_code == 422
    assert "does not match T category" in html.unescape(response.text)
    response = site.post_form(outcome, {"diagnosis_date": today, "detection_mode": "interval",
                                        "behaviour": "invasive", "t": "pT1c", "n": "pN0",
                                        "m": "cM0"})  # fmt: skip
    assert response.status_code == 303
    page = site.client.get(response.headers["location"]).text
    # AJCC 8th anatomic stage: T1 N0 M0 is stage IA (AJCC Cancer Staging Manual, 8th ed.)
    assert re.search(r"pT1c pN0 cM0</td><td>IA</td>", page)
    assert "interval cancer" in page


def test_dashboards_for_a_site_user_hide_the_balance(site: Any) -> None:
    site.db.participant(state="risk-based")
    site.db.participant(site="FR-PA", state="standard")
    site.login("site_staff")
    page = site.client.get("/dashboards")
    assert page.status_code == 200
    text = page.text
    assert text.count('<svg class="chart"') == 3
    assert "<title id=" in text
    assert "Only statisticians and monitors see the balance" in text
    assert "FR-PA" not in text
    assert "France" not in text
    by_site = site.client.get("/dashboards?by=site&period=quarter")
    assert "IT-TO — Turin" in by_site.text
    bad = site.client.get("/dashboards?by=planet")
    assert bad.status_code == 422


def test_dashboards_for_the_statistician_show_the_balance(site: Any) -> None:
    site.db.participant(state="standard")
    site.login("statistician")
    text = site.client.get("/dashboards").text
    assert text.count('<svg class="chart"') == 4
    assert "IT-TO:50-59" in text
    assert "never the list, its blocks or the next allocation" in text
    assert "block" not in re.sub(r"<p class=\"hint\">.*?</p>", "", text).lower().replace(
        "blocks", "")  # fmt: skip
