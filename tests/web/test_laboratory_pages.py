"""The laboratory's pages: receive a shipment, upload a genotype batch (dry run or import) and
read its report; the data manager's conflicts. The laboratory never sees a study ID, an arm or
identifying data on any page it can open."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from babel.dates import format_date
from sqlalchemy import func, select

from factories import STUDY
from lab_factories import QUESTIONNAIRE, dosages, write_vcf
from pebs.services.samples import record_collection, samples_of, ship_samples
from pebs.services.trial import VisitRecord, record_risk_questionnaire, record_visit
from pebs.store.models import GenotypeResult, LabBatch, Sample

STUDY_ID = re.compile(r"\b[A-Z]{2}-[A-Z]{2}-\d{6}\b")
"""A pseudonymous study ID (``IT-TO-000001``)."""
ARMS = re.compile(r"\bstandard\b|risk-based", re.IGNORECASE)


def _shipped(site: Any, n: int = 1, *, complete: bool = False) -> tuple[list[str], str, list[str]]:
    """``n`` new risk-based women at IT-TO whose kits were collected and shipped together
    today: (study IDs, shipment reference, kit IDs). ``complete``: each has her questionnaire
    and baseline density, so that her PRS completes her risk."""
    db, today = site.db, site.db.today("IT-TO")
    women, kits = [], []
    for _ in range(n):
        study_id = db.participant(state="risk-based")
        if complete:
            record_risk_questionnaire(db.sessions, db.manager, db.keys, study_id, QUESTIONNAIRE,
                                      answered_on=today)  # fmt: skip
            record_visit(db.sessions, db.manager, study_id, VisitRecord(
                performed_date=today, modality="mammography", visit_type="screening",
                birads=1, density="b", density_reader="Dr Radiologist"), keys=db.keys)  # fmt: skip
        kit_id = samples_of(db.sessions, db.manager, study_id).kits[-1].kit_id
        record_collection(db.sessions, db.manager, kit_id, today)
        women.append(study_id)
        kits.append(kit_id)
    reference = ship_samples(db.sessions, db.manager, STUDY, "IT-TO", kits, today).reference
    return women, reference, kits


def _state(site: Any, kit_id: str) -> str:
    with site.db.sessions() as session:
        return session.scalar(select(Sample.state).where(Sample.kit_id == kit_id))


def _upload(site: Any, path: Path, *, dry_run: bool = False, study: str = STUDY,
            csrf: bool = True) -> Any:  # fmt: skip
    data = {"study": study} | ({"dry_run": "on"} if dry_run else {})
    if csrf:
        data["csrf_token"] = site.csrf(site.client.get("/lab/batches").text)
    with path.open("rb") as file:
        return site.client.post("/lab/batches", data=data, follow_redirects=False,
                                files={"file": (path.name, file, "text/plain")})  # fmt: skip


def _n_batches(site: Any) -> int:
    with site.db.sessions() as session:
        return session.scalar(select(func.count(LabBatch.id))) or 0


def test_the_laboratory_receives_a_shipment(site: Any) -> None:
    _, reference, kits = _shipped(site, 2)
    site.login("laboratory")
    home = site.client.get("/").text
    assert 'href="/lab/shipments"' in home
    assert 'href="/lab/batches"' in home
    assert 'href="/participants"' not in home
    assert 'href="/lab/conflicts"' not in home
    page = site.client.get(f"/lab/shipments?reference={reference}")
    assert page.status_code == 200
    for kit_id in kits:
        assert f'<th scope="row">{kit_id}</th>' in page.text
    assert "not received yet" in page.text
    path = f"/lab/shipments/{reference}/receipt"
    done = site.post_form(path, {}, page=f"/lab/shipments?reference={reference}")
    assert done.status_code == 303
    assert done.headers["location"] == f"/lab/shipments?reference={reference}&done=received"
    assert [_state(site, k) for k in kits] == ["received", "received"]
    page = site.client.get(done.headers["location"]).text
    assert "Shipment received." in page
    assert "not received yet" not in page
    assert path not in page  # no second receipt button
    again = site.client.post(path, data={"csrf_token": site.csrf(page)}, follow_redirects=False)
    assert again.status_code == 409
    assert "already received" in again.text


def test_a_dry_run_reports_and_stores_nothing(site: Any, tmp_path: Path) -> None:
    _, _, (kit_id,) = _shipped(site)
    vcf = write_vcf(tmp_path / "batch.vcf", {kit_id: dosages(1), "MP-NOTAKIT0": dosages(2)})
    site.login("laboratory")
    before = _n_batches(site)
    response = _upload(site, vcf, dry_run=True)
    assert response.status_code == 200, response.text
    text = html.unescape(response.text)
    assert "Dry run: nothing was stored." in text
    accepted = re.search(r'class="outcome-accepted">.*?</tr>', text, re.S)
    unknown = re.search(r'class="outcome-unknown_kit">.*?</tr>', text, re.S)
    assert accepted is not None
    assert unknown is not None
    assert "<td>1</td>" in accepted.group(0)
    assert kit_id in accepted.group(0)
    assert "MP-NOTAKIT0" in unknown.group(0)
    assert _n_batches(site) == before
    assert _state(site, kit_id) == "shipped"


def test_an_imported_batch_completes_her_risk_and_plan(site: Any, tmp_path: Path) -> None:
    (study_id,), _, (kit_id,) = _shipped(site, complete=True)
    vcf = write_vcf(tmp_path / "batch.vcf", {kit_id: dosages(4)})
    site.login("laboratory")
    response = _upload(site, vcf)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    reference = re.fullmatch(r"/lab/batches/(LB-[0-9]{8}-[0-9A-Z]{6})\?done=imported", location)
    assert reference is not None
    assert _state(site, kit_id) == "genotyped"
    report = html.unescape(site.client.get(location).text)
    assert "Batch imported." in report
    row = re.search(r'class="outcome-accepted">.*?</tr>', report, re.S)
    assert row is not None
    assert kit_id in row.group(0)
    assert re.search(r"Risks and plans completed</dt><dd>1</dd>", report)
    listed = site.client.get("/lab/batches").text
    row = re.search(rf'<a href="/lab/batches/{reference.group(1)}">.*?</tr>', listed, re.S)
    assert row is not None  # the list links to the report
    assert "batch.vcf" in row.group(0)
    assert "accepted: 1" in row.group(0)

    site.login("site_staff")
    her_page = site.client.get(f"/participants/{study_id}").text
    assert re.search(r"5-year risk of breast cancer: \d+\.\d\d%", her_page)
    assert "Planned exams and the reason for each" in her_page
    assert 'class="badge kit-genotyped"' in her_page


def test_upload_problems_are_shown_next_to_their_fields(site: Any, tmp_path: Path) -> None:
    site.login("laboratory")
    page = site.client.get("/lab/batches").text
    no_file = site.client.post("/lab/batches", data={"study": STUDY, "csrf_token":
                                                     site.csrf(page)},
                               files={"file": ("", b"", "application/octet-stream")})  # fmt: skip
    assert no_file.status_code == 422
    assert "choose a file to upload" in html.unescape(no_file.text)
    not_vcf = tmp_path / "notes.vcf"
    not_vcf.write_text("this is not a VCF\n", encoding="utf-8")
    refused = _upload(site, not_vcf)
    assert refused.status_code == 422
    assert 'class="error-summary"' in refused.text
    unknown_study = _upload(site, write_vcf(tmp_path / "b.vcf", {"MP-NOTAKIT0": dosages(1)}),
                            study="no-such-study")  # fmt: skip
    assert unknown_study.status_code == 422
    assert "no-such-study" in html.unescape(unknown_study.text)


def test_uploads_and_receipts_need_the_csrf_token(site: Any, tmp_path: Path) -> None:
    _, reference, (kit_id,) = _shipped(site)
    site.login("laboratory")
    before = _n_batches(site)
    refused = _upload(site, write_vcf(tmp_path / "b.vcf", {kit_id: dosages(1)}), csrf=False)
    assert refused.status_code == 403
    assert _n_batches(site) == before
    receipt = site.client.post(f"/lab/shipments/{reference}/receipt", data={})
    assert receipt.status_code == 403
    assert _state(site, kit_id) == "shipped"


def test_the_data_manager_resolves_a_conflict(site: Any, tmp_path: Path) -> None:
    (study_id,), _, (kit_id,) = _shipped(site, complete=True)
    site.login("laboratory")
    assert _upload(site, write_vcf(tmp_path / "a.vcf", {kit_id: dosages(1)})).status_code == 303
    second = _upload(site, write_vcf(tmp_path / "b.vcf", {kit_id: dosages(2)}))
    assert second.status_code == 303
    report = html.unescape(site.client.get(second.headers["location"]).text)
    conflict = re.search(r'class="outcome-conflict">.*?</tr>', report, re.S)
    assert conflict is not None
    assert kit_id in conflict.group(0)
    assert site.client.get("/lab/conflicts").status_code == 403  # the data manager's

    site.login("data_manager")
    page = site.client.get("/lab/conflicts")
    assert page.status_code == 200
    assert 'href="/lab/conflicts"' in page.text  # in her navigation
    assert kit_id in page.text
    assert study_id in page.text  # she may see who it is
    path = f"/lab/conflicts/{kit_id}/resolution"
    no_reason = site.post_form(path, {"keep": "new", "reason": ""}, page="/lab/conflicts")
    assert no_reason.status_code == 422
    assert re.search(r'id="f-reason-error">this field is required<', no_reason.text)
    done = site.post_form(path, {"keep": "new", "reason": "re-genotyped"}, page="/lab/conflicts")
    assert done.status_code == 303
    assert done.headers["location"] == "/lab/conflicts?done=resolved"
    with site.db.sessions() as session:
        statuses = sorted(session.scalars(
            select(GenotypeResult.status).join(Sample).where(Sample.kit_id == kit_id)))  # fmt: skip
    assert statuses == ["accepted", "superseded"]
    after = site.client.get(done.headers["location"]).text
    assert "Conflict resolved." in after
    assert path not in after


def test_the_laboratory_never_sees_a_participant(site: Any, tmp_path: Path) -> None:
    women, reference, kits = _shipped(site, 2, complete=True)
    site.login("laboratory")
    receipt = site.post_form(f"/lab/shipments/{reference}/receipt", {},
                             page=f"/lab/shipments?reference={reference}")  # fmt: skip
    imported = _upload(
        site,
        write_vcf(tmp_path / "b.vcf", {kits[0]: dosages(3), kits[1]: dosages(5, no_calls=100)}),
    )
    dry_run = _upload(site, write_vcf(tmp_path / "c.vcf", {kits[0]: dosages(3)}), dry_run=True)
    pages = ["/", "/lab/shipments", f"/lab/shipments?reference={reference}",
             receipt.headers["location"], "/lab/batches", imported.headers["location"],
             *(f"/kits/{k}" for k in kits), "/models"]  # fmt: skip
    seen = {path: site.client.get(path) for path in pages}
    for path, page in seen.items():
        assert page.status_code == 200, path
    for path, text in [*((p, r.text) for p, r in seen.items()), ("dry run", dry_run.text)]:
        assert not STUDY_ID.search(text), (path, STUDY_ID.search(text))
        assert not ARMS.search(text), (path, ARMS.search(text))
        assert not any(woman in text for woman in women), path
    assert any(kits[1] in r.text for r in seen.values())  # the pages do show kits
    for forbidden in (f"/participants/{women[0]}", "/participants", "/samples", "/risk-pending",
                      "/lab/conflicts", f"/samples/shipments/{reference}",
                      f"/participants/{women[0]}/identity"):  # fmt: skip
        assert site.client.get(forbidden).status_code in (403, 404), forbidden


@pytest.mark.parametrize("role", ["site_staff", "monitor", "statistician"])
def test_other_roles_have_no_laboratory_pages(site: Any, role: str) -> None:
    site.login(role)
    for path in ("/lab/shipments", "/lab/batches", "/lab/conflicts"):
        assert site.client.get(path).status_code == 403, (role, path)


def test_the_shipments_awaiting_receipt_are_listed_until_received(site: Any) -> None:
    _, first, _ = _shipped(site, 2)
    _, second, _ = _shipped(site, 1)
    site.login("laboratory")
    page = site.client.get("/lab/shipments").text
    waiting = re.search(r'id="open-h".*?</section>', page, re.S)
    assert waiting is not None
    rows = re.findall(r'<tr>\s*<th scope="row"><a href="([^"]+)">([^<]+)</a></th>(.*?)</tr>',
                      waiting.group(0), re.S)  # fmt: skip
    listed = {reference: (html.unescape(link), cells) for link, reference, cells in rows}
    assert [reference for _, reference, _ in rows][:2] == [second, first]  # newest first
    link, cells = listed[first]
    assert link == f"/lab/shipments?study={STUDY}&reference={first}#shipment-h"
    shown_day = format_date(site.db.today(), "medium", locale="en_GB")  # CLDR, as pages write it
    assert re.findall(r"<td>([^<]*)</td>", cells) == ["IT-TO", shown_day, "2"]
    opened = site.client.get(link)
    assert opened.status_code == 200
    assert f'action="/lab/shipments/{first}/receipt"' in opened.text
    received = site.post_form(f"/lab/shipments/{first}/receipt", {}, page=link)
    assert received.status_code == 303
    after = site.client.get("/lab/shipments").text
    waiting = re.search(r'id="open-h".*?</section>', after, re.S)
    assert waiting is not None
    assert f">{first}</a>" not in waiting.group(0)
    assert f">{second}</a>" in waiting.group(0)
    assert 'name="reference"' in after  # the form that opens a box by its reference stays


@pytest.mark.parametrize("role", ["laboratory", "data_manager"])
def test_the_upload_form_offers_the_loaded_studies(site: Any, role: str) -> None:
    site.login(role)
    page = site.client.get("/lab/batches").text
    choice = re.search(r'<select id="f-study" name="study" required>(.*?)</select>', page, re.S)
    assert choice is not None
    assert re.findall(r'<option value="([^"]*)"', choice.group(0)) == [STUDY]  # no blank: one
    assert f'<option value="{STUDY}" selected>' in choice.group(0)
    assert site.client.get("/lab/batches?study=no-such-study").status_code == 404
    refused = site.client.get("/lab/batches?after=LB-20250101-AAAAAA")
    assert refused.status_code == 422
    assert "is not a batch of study" in html.unescape(refused.text)


def test_the_upload_page_takes_a_file_over_the_general_body_limit(
    site: Any, tmp_path: Path
) -> None:
    _, reference, (kit_id,) = _shipped(site)
    vcf = write_vcf(tmp_path / "b.vcf", {kit_id: dosages(1)})
    padded = tmp_path / "padded.vcf"
    padding = f"##comment={'x' * 1013}\n" * 2048  # 2048 header lines of 1 KiB
    padded.write_text(padding + vcf.read_text(encoding="utf-8"), encoding="utf-8")
    assert padded.stat().st_size > 2 * 1024 * 1024 > site.db.settings.max_body_bytes
    site.login("laboratory")
    accepted = _upload(site, padded, dry_run=True)
    assert accepted.status_code == 200, accepted.text[:500]
    assert "Dry run: nothing was stored." in html.unescape(accepted.text)
    assert kit_id in accepted.text
    # every other page keeps the general limit: the same body to another form is refused
    form = site.client.get(f"/lab/shipments?reference={reference}").text
    with padded.open("rb") as file:
        refused = site.client.post(f"/lab/shipments/{reference}/receipt",
                                   data={"csrf_token": site.csrf(form)},
                                   files={"file": (padded.name, file, "text/plain")})  # fmt: skip
    assert refused.status_code == 413
    assert refused.headers["content-type"].startswith("text/html")
    assert _state(site, kit_id) == "shipped"
