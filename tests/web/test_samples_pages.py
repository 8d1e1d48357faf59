"""The site's saliva-kit pages: her kits on her page (collect, abandon, replace a failed kit,
assign a new one), the site's kit worklists with the shipping form, a shipment and its manifest;
the risk-pending worklist and the risk questionnaire. Scope (another site's kit or shipment is
not found), CSRF, and the new labels in every language."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from babel.dates import format_date
from sqlalchemy import select, update

from factories import STUDY
from pebs.services.laboratory import KEEP_CHOICES, Outcome
from pebs.services.samples import record_collection, samples_of, ship_samples
from pebs.services.trial.risk_completion import MISSING_KINDS
from pebs.store.models import Participant, RiskQuestionnaire, Sample
from pebs.trial.samples import SAMPLE_STATES
from pebs.web.i18n import LANGUAGES, catalogues

WEB = Path(__file__).resolve().parents[2] / "src" / "pebs" / "web"
NEW_TEMPLATES = ("_kit_macros.html", "_participant_kits.html", "kit.html", "samples.html",
                 "shipment.html", "lab_shipments.html", "lab_batches.html", "lab_batch.html",
                 "lab_conflicts.html", "risk_pending.html", "risk_questionnaire.html")  # fmt: skip
NEW_ROUTES = ("samples.py", "laboratory.py", "risk_pending.py")


def _shown(day: date) -> str:
    """A date as the English pages write it (CLDR's medium British form, ``7 Dec 2026``)."""
    return format_date(day, "medium", locale="en_GB")


def _kit_of(site: Any, study_id: str) -> str:
    """Her latest kit (the demo study assigns one at randomisation)."""
    return samples_of(site.db.sessions, site.db.manager, study_id).kits[-1].kit_id


def _state(site: Any, kit_id: str) -> str:
    with site.db.sessions() as session:
        return session.scalar(select(Sample.state).where(Sample.kit_id == kit_id))


def _collected(site: Any, where: str = "IT-TO") -> tuple[str, str]:
    study_id = site.db.participant(site=where, state="risk-based")
    kit_id = _kit_of(site, study_id)
    record_collection(site.db.sessions, site.db.manager, kit_id, site.db.today(where))
    return study_id, kit_id


def _field_error(text: str, field_id: str) -> str | None:
    found = re.search(rf'id="{field_id}-error">([^<]*)<', html.unescape(text))
    return None if found is None else found.group(1)


def test_her_page_lists_her_kit_and_what_can_be_done_with_it(site: Any) -> None:
    study_id = site.db.participant(state="risk-based")
    kit_id = _kit_of(site, study_id)
    assert re.fullmatch(r"MP-[0-9A-Z]{9}", kit_id)
    site.login("site_staff")
    page = site.client.get(f"/participants/{study_id}").text
    kits = re.search(r'<section id="kits".*?</section>', page, re.S)
    assert kits is not None
    assert f'<a href="/kits/{kit_id}">{kit_id}</a>' in kits.group(0)
    assert 'class="badge kit-assigned">assigned<' in kits.group(0)
    assert f'action="/kits/{kit_id}/collection"' in kits.group(0)
    assert f'action="/kits/{kit_id}/abandonment"' in kits.group(0)
    assert "/recollection" not in kits.group(0)  # only a kit that failed quality control
    assert "Give her a new kit" not in kits.group(0)  # her kit still counts
    assert f'href="/participants/{study_id}/risk-questionnaire"' in page

    standard = site.db.participant(state="standard")
    page = site.client.get(f"/participants/{standard}").text
    assert 'id="kits"' not in page
    assert "Give her a new kit" not in page
    assert "risk-questionnaire" not in page


def test_collection_is_recorded_from_her_page_and_a_future_day_refused(site: Any) -> None:
    study_id = site.db.participant(state="risk-based")
    kit_id = _kit_of(site, study_id)
    site.login("site_staff")
    her_page, today = f"/participants/{study_id}", site.db.today()
    tomorrow = (today + timedelta(days=1)).isoformat()
    refused = site.post_form(f"/kits/{kit_id}/collection", {"collected_on": tomorrow},
                             page=her_page)  # fmt: skip
    assert refused.status_code == 422
    assert _field_error(refused.text, "f-collected_on") == f"{tomorrow} is in the future"
    assert _state(site, kit_id) == "assigned"
    empty = site.post_form(f"/kits/{kit_id}/collection", {"collected_on": ""}, page=her_page)
    assert _field_error(empty.text, "f-collected_on") == "this field is required"

    done = site.post_form(f"/kits/{kit_id}/collection", {"collected_on": today.isoformat()},
                          page=her_page)  # fmt: skip
    assert done.status_code == 303
    assert done.headers["location"] == f"/participants/{study_id}?done=kit_collect#kits"
    assert _state(site, kit_id) == "collected"
    page = site.client.get(done.headers["location"]).text
    assert "Collection recorded." in page
    assert f"<td>{_shown(today)}</td>" in page


def test_an_abandoned_kit_is_followed_by_a_new_one(site: Any) -> None:
    study_id = site.db.participant(state="risk-based")
    kit_id = _kit_of(site, study_id)
    site.login("site_staff")
    no_reason = site.post_form(f"/kits/{kit_id}/abandonment", {"reason": " "},
                               page=f"/kits/{kit_id}")  # fmt: skip
    assert no_reason.status_code == 422
    assert _field_error(no_reason.text, "f-reason") == "this field is required"
    done = site.post_form(f"/kits/{kit_id}/abandonment", {"reason": "tube broken"},
                          page=f"/kits/{kit_id}")  # fmt: skip
    assert done.status_code == 303
    assert _state(site, kit_id) == "abandoned"
    page = site.client.get(f"/participants/{study_id}").text
    assert "tube broken" in page
    assert "Give her a new kit" in page
    her_page = f"/participants/{study_id}"
    assigned = site.post_form(f"{her_page}/kits", {}, page=her_page)
    assert assigned.status_code == 303
    assert assigned.headers["location"] == f"/participants/{study_id}?done=kit_assigned#kits"
    kits = samples_of(site.db.sessions, site.db.manager, study_id).kits
    assert [k.state for k in kits] == ["abandoned", "assigned"]
    again = site.post_form(f"{her_page}/kits", {}, page=her_page)  # her new kit counts
    assert again.status_code == 409


def test_a_kit_that_failed_quality_control_is_replaced(site: Any) -> None:
    study_id, kit_id = _collected(site)
    with site.db.sessions.begin() as session:  # as a failed genotyping leaves it
        session.execute(update(Sample).where(Sample.kit_id == kit_id).values(state="failed_qc"))
    site.login("site_staff")
    page = site.client.get(f"/participants/{study_id}").text
    assert "failed quality control" in page
    assert f'action="/kits/{kit_id}/recollection"' in page
    done = site.post_form(f"/kits/{kit_id}/recollection", {"reason": "call rate too low"},
                          page=f"/participants/{study_id}")  # fmt: skip
    assert done.status_code == 303
    assert done.headers["location"] == (
        f"/participants/{study_id}?done=kit_request_recollection#kits"
    )
    kits = samples_of(site.db.sessions, site.db.manager, study_id).kits
    assert [(k.state, k.replaces) for k in kits] == [
        ("recollection_requested", None), ("assigned", kit_id)]  # fmt: skip
    worklist = site.client.get("/samples?site=IT-TO").text
    due = re.search(r'id="recollections-h".*?</section>', worklist, re.S)
    assert due is not None
    assert kits[1].kit_id in due.group(0)


def test_the_site_ships_collected_kits_and_downloads_the_manifest(site: Any) -> None:
    study_id, kit_id = _collected(site)
    _, other_kit = _collected(site)
    site.login("site_staff")
    page = site.client.get("/samples?site=IT-TO")
    assert page.status_code == 200
    to_send = re.search(r'id="send-h".*?</section>', page.text, re.S)
    assert to_send is not None
    assert f'name="kit_ids" value="{kit_id}"' in to_send.group(0)
    assert f'href="/participants/{study_id}#kits"' in to_send.group(0)
    manifest = site.client.get(f"/samples/manifest?study={STUDY}&site=IT-TO")
    assert manifest.status_code == 200
    assert manifest.headers["content-type"].startswith("text/csv")
    waiting = {row["kit_id"] for row in csv.DictReader(io.StringIO(manifest.text))}
    assert {kit_id, other_kit} <= waiting

    shipped = site.post_form("/samples/shipments", {
        "study": STUDY, "site": "IT-TO", "kit_ids": kit_id,
        "shipped_on": site.db.today().isoformat()}, page="/samples?site=IT-TO")  # fmt: skip
    assert shipped.status_code == 303, shipped.text
    reference = shipped.headers["location"].split("/")[-1].split("?")[0]
    assert re.fullmatch(r"IT-TO-S\d{4}", reference)
    assert (_state(site, kit_id), _state(site, other_kit)) == ("shipped", "collected")
    page = site.client.get(shipped.headers["location"]).text
    assert "Shipment created" in page
    assert f'<a href="/kits/{kit_id}">{kit_id}</a>' in page
    assert other_kit not in page
    download = re.search(r'href="(/samples/manifest\?[^"]+)"', page)
    assert download is not None
    manifest = site.client.get(html.unescape(download.group(1)))
    rows = list(csv.DictReader(io.StringIO(manifest.text)))
    assert [(r["kit_id"], r["shipment"], r["site"]) for r in rows] == [
        (kit_id, reference, "IT-TO")]  # fmt: skip
    assert study_id not in manifest.text
    listed = site.client.get("/samples?site=IT-TO").text
    row = re.search(rf'<a href="/samples/shipments/{reference}">.*?</tr>', listed, re.S)
    assert row is not None  # the site's shipments link to each shipment and its manifest
    assert f"<td>{_shown(site.db.today())}</td>" in row.group(0)
    assert "<td>1</td>" in row.group(0)
    assert "not received yet" in row.group(0)
    manifest_link = re.search(r'href="(/samples/manifest\?[^"]+)"', row.group(0))
    assert manifest_link is not None
    assert html.unescape(manifest_link.group(1)) == (
        f"/samples/manifest?study={STUDY}&site=IT-TO&shipment={reference}")  # fmt: skip


def test_shipping_needs_a_ticked_kit_and_a_day(site: Any) -> None:
    _collected(site)
    site.login("site_staff")
    refused = site.post_form("/samples/shipments", {"study": STUDY, "site": "IT-TO",
                                                    "shipped_on": ""},
                             page="/samples?site=IT-TO")  # fmt: skip
    assert refused.status_code == 422
    text = html.unescape(refused.text)
    assert "tick at least one kit" in text
    assert _field_error(refused.text, "f-shipped_on") == "this field is required"


def test_another_sites_kits_and_shipments_are_not_found(site: Any) -> None:
    _, paris_kit = _collected(site, "FR-PA")
    reference = ship_samples(site.db.sessions, site.db.manager, STUDY, "FR-PA", [paris_kit],
                             site.db.today("FR-PA")).reference  # fmt: skip
    _, turin_kit = _collected(site)
    site.login("site_staff")  # at IT-TO
    assert site.client.get(f"/kits/{paris_kit}").status_code == 404
    assert site.client.get(f"/samples/shipments/{reference}").status_code == 404
    assert site.client.get("/samples?site=FR-PA").status_code == 404
    manifest = site.client.get(f"/samples/manifest?study={STUDY}&site=FR-PA")
    assert manifest.status_code == 404
    refused = site.post_form(f"/kits/{paris_kit}/abandonment", {"reason": "x"},
                             page=f"/kits/{turin_kit}")  # fmt: skip
    assert refused.status_code == 404
    assert _state(site, paris_kit) == "shipped"


def test_forms_without_the_csrf_token_are_refused(site: Any) -> None:
    study_id = site.db.participant(state="risk-based")
    kit_id = _kit_of(site, study_id)
    site.login("site_staff")
    today = site.db.today().isoformat()
    for path, data in ((f"/kits/{kit_id}/collection", {"collected_on": today}),
                       (f"/kits/{kit_id}/abandonment", {"reason": "lost"}),
                       (f"/participants/{study_id}/kits", {}),
                       ("/samples/shipments", {"study": STUDY, "site": "IT-TO",
                                               "kit_ids": kit_id}),
                       (f"/participants/{study_id}/risk-questionnaire",
                        {"answered_on": today})):  # fmt: skip
        assert site.client.post(path, data=data).status_code == 403, path
    assert _state(site, kit_id) == "assigned"


def test_a_monitor_reads_kits_without_buttons(site: Any) -> None:
    study_id, kit_id = _collected(site)
    site.login("monitor")
    page = site.client.get(f"/participants/{study_id}").text
    assert kit_id in page
    assert "/collection" not in page
    assert "/abandonment" not in page
    samples = site.client.get("/samples?site=IT-TO").text
    assert kit_id in samples
    assert 'method="post" action="/samples/shipments"' not in samples


def test_the_questionnaire_is_stored_and_the_risk_pending_list_follows(site: Any) -> None:
    study_id = site.db.participant(state="risk-based")
    site.login("site_staff")
    pending = site.client.get("/risk-pending?site=IT-TO").text
    row = re.search(rf'<th scope="row"><a href="/participants/{study_id}">.*?</tr>', pending,
                    re.S)  # fmt: skip
    assert row is not None
    for missing in ("questionnaire", "baseline density", "polygenic score"):
        assert missing in row.group(0)
    assert _kit_of(site, study_id) in row.group(0)

    path = f"/participants/{study_id}/risk-questionnaire"
    empty = site.post_form(path, {"answered_on": site.db.today().isoformat()})
    assert empty.status_code == 422
    for name in ("age_at_menarche", "n_relatives", "n_biopsies"):  # required by the demo study
        assert _field_error(empty.text, f"f-{name}") == (
            "not answered: give a value, or choose 'She does not know'"
        )
    done = site.post_form(path, {
        "age_at_menarche": "13", "age_at_first_birth": "", "nulliparous": "on",
        "n_relatives": "1", "n_biopsies": "", "n_biopsies_unknown": "on",
        "atypical_hyperplasia": "no", "answered_on": site.db.today().isoformat()})  # fmt: skip
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/participants/{study_id}?done=questionnaire#risk"
    with site.db.sessions() as session:
        answers = session.scalar(select(RiskQuestionnaire.answers).join(Participant).where(
            Participant.study_id == study_id))  # fmt: skip
    assert answers == {"age_at_menarche": 13, "age_at_first_birth": "nulliparous",
                       "n_relatives": 1, "n_biopsies": "unknown",
                       "atypical_hyperplasia": False}  # fmt: skip
    pending = site.client.get("/risk-pending?site=IT-TO").text
    row = re.search(rf'<th scope="row"><a href="/participants/{study_id}">.*?</tr>', pending,
                    re.S)  # fmt: skip
    assert row is not None
    assert "questionnaire" not in row.group(0)
    assert "baseline density" in row.group(0)


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("site_staff", True), ("site_investigator", True), ("country_coordinator", True),
     ("data_manager", True), ("monitor", True), ("statistician", False),
     ("administrator", False)],
)  # fmt: skip
def test_the_site_pages_per_role(site: Any, role: str, allowed: bool) -> None:
    site.login(role)
    home = site.client.get("/").text
    for path in ("/samples", "/risk-pending"):
        assert (f'href="{path}"' in home) is allowed, (role, path)
        assert site.client.get(f"{path}?site=IT-TO").status_code == (200 if allowed else 403)


def test_a_laboratory_user_has_no_site_pages(site: Any) -> None:
    study_id = site.db.participant(state="risk-based")
    site.login("laboratory")
    for path in ("/samples", "/risk-pending", f"/participants/{study_id}/risk-questionnaire"):
        assert site.client.get(path).status_code in (403, 404), path


def _keys_of_new_pages() -> set[str]:
    """Message keys the new templates and routes name literally, and those they build from a
    vocabulary (kit states, batch outcomes, what a risk waits for, ...)."""
    keys: set[str] = set()
    literal = re.compile(r"""["']((?:[a-z]+)\.[a-z_]+)["']""")
    for name in NEW_TEMPLATES:
        keys |= set(literal.findall((WEB / "templates" / name).read_text(encoding="utf-8")))
    for name in NEW_ROUTES:
        text = (WEB / "routes" / name).read_text(encoding="utf-8")
        keys |= set(re.findall(r"""["']((?:error|field|hint|done)\.[a-z_]+)["']""", text))
    keys = {k for k in keys if not k.endswith(("_", ".html"))}
    keys |= {f"kit.state_{s}" for s in SAMPLE_STATES}
    keys |= {f"lab.outcome_{o.value}" for o in Outcome} | {f"lab.keep_{k}" for k in KEEP_CHOICES}
    keys |= {f"pending.missing_{m}" for m in MISSING_KINDS}
    keys |= {f"pending.held_{h}" for h in ("lowered", "rejected")}
    keys |= {f"samples.{n}" for n in ("recollections", "not_collected")}
    keys |= {f"done.kit_{e}" for e in ("assigned", "collect", "abandon",
                                       "request_recollection")}  # fmt: skip
    keys |= {f"done.{d}" for d in ("shipped", "received", "imported", "resolved",
                                   "questionnaire", "questionnaire_risk")}  # fmt: skip
    keys |= {f"field.{f}" for f in ("kit_ids", "collected_on", "reason", "shipped_on",
                                    "answered_on", "file_name", "keep")}  # fmt: skip
    keys |= {f"nav.{n}" for n in ("samples", "risk_pending", "shipments", "batches",
                                  "conflicts")} | {"role.laboratory"}  # fmt: skip
    return keys


def test_the_key_scan_finds_the_new_pages_keys() -> None:
    keys = _keys_of_new_pages()
    assert {"samples.ship", "lab.upload", "pending.title", "questionnaire.submit",
            "error.tick_a_kit", "kit.state_genotyped", "lab.outcome_conflict"} <= keys  # fmt: skip
    assert len(keys) > 120


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_new_label_is_translated(language: str) -> None:
    messages = catalogues()[language].messages  # its own messages, not the English fallback
    missing = sorted(k for k in _keys_of_new_pages() if k not in messages)
    assert not missing, f"{language}: missing {missing}"
    english = catalogues()["en"].messages
    for key in _keys_of_new_pages():
        fields = set(re.findall(r"{(\w+)}", english[key]))
        assert set(re.findall(r"{(\w+)}", messages[key])) == fields, (language, key)
