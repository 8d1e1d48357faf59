"""End-to-end in Debian's Chromium, the saliva-kit loop: a woman of the risk-based arm has a kit
on her page; site staff enter her risk questionnaire and her baseline mammogram's density,
record the collection and ship the kit (manifest downloaded); the central laboratory receives
the box and uploads a VCF for her kit (synthetic genotypes, :mod:`pebs.sim.genotypes`, written
by :mod:`pebs.io.vcf_writer`); her risk and screening plan then appear on her page. Forms are
found by their labels. Screenshots are saved to ``test-artifacts/e2e/``."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pyotp
import pytest

from factories import STUDY

pytestmark = pytest.mark.slow

STUDY_ID = re.compile(r"\b[A-Z]{2}-[A-Z]{2}-\d{6}\b")


def _login(browser: Any, server: Any, username: str) -> Any:
    """A new browser context logged in as the demo account ``username``, on its home page."""
    from playwright.sync_api import expect

    password, secret = server.db.logins[username]
    context = browser.new_context(viewport={"width": 1100, "height": 800}, locale="en-GB")
    page = context.new_page()
    page.goto(server.url + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Authenticator code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=f"Welcome, {username}")).to_be_visible()
    return page


def _nav(page: Any, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def _genotype_file(folder: Path, kit_id: str) -> Path:
    """A VCF of the study's score (PRS313) with one sample named by her kit ID."""
    from pebs.io.vcf_writer import write_vcf
    from pebs.services.prs_scoring import load_score
    from pebs.sim.genotypes import synthetic_genotypes

    score = load_score("PGS000004").score
    genotypes = synthetic_genotypes(score.effect_allele_frequencies, [kit_id], seed=20)
    return write_vcf(folder / "batch.vcf.gz", score, [kit_id], genotypes.dosages)


def test_kit_collected_shipped_genotyped_gives_her_risk_and_plan(
    browser: Any, server: Any, shots: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    today = server.db.today("IT-TO").isoformat()
    study_id = server.db.participant(site="IT-TO", state="risk-based")
    staff = _login(browser, server, "demo-site-staff")
    staff.goto(f"{server.url}/participants/{study_id}")
    kits = staff.locator("#kits")
    expect(kits.get_by_text("assigned", exact=True)).to_be_visible()
    kit_id = kits.locator("tbody th a").first.inner_text()
    assert re.fullmatch(r"MP-[0-9A-Z]{9}", kit_id)

    staff.get_by_role("link", name="Enter the risk questionnaire").click()
    staff.get_by_label("Age at first period (years)").fill("12")
    staff.get_by_label("Age at first live birth (years)").fill("29")
    staff.get_by_label("Mother, sisters or daughters with breast cancer").fill("1")
    staff.get_by_label("Number of breast biopsies").fill("0")
    staff.get_by_role("group", name="Atypical hyperplasia on a biopsy").get_by_label(
        "No", exact=True
    ).check()
    staff.get_by_label("Day she answered").fill(today)
    staff.get_by_role("button", name="Save the questionnaire").click()
    expect(staff.get_by_text("her risk waits for what is still missing")).to_be_visible()

    staff.get_by_role("link", name="Record an unplanned visit").click()
    staff.get_by_label("Type of visit").select_option("screening")
    staff.get_by_label("Exam", exact=True).select_option("mammography")
    staff.get_by_label("Date performed").fill(today)
    staff.get_by_label("Breast density (BI-RADS)").select_option("c")
    staff.get_by_label("Density read by").fill("Dr Demo Radiologist")
    staff.get_by_role("button", name="Save the results").click()
    expect(staff.get_by_text("Visit results saved.")).to_be_visible()

    staff.locator("#kits").get_by_label("Day she gave saliva").fill(today)
    staff.get_by_role("button", name="Record the collection").click()
    expect(staff.get_by_text("Collection recorded.")).to_be_visible()
    staff.screenshot(path=shots / "09-her-kit-collected.png", full_page=True)

    _nav(staff, "Saliva kits")
    expect(staff.get_by_role("heading", name="Saliva kits — IT-TO")).to_be_visible()
    staff.get_by_label(kit_id).check()
    staff.get_by_label("Day the box leaves").fill(today)
    staff.screenshot(path=shots / "10-site-kits-to-send.png", full_page=True)
    staff.get_by_role("button", name="Create the shipment").click()
    expect(staff.get_by_text("Shipment created")).to_be_visible()
    reference = re.search(r"/samples/shipments/([A-Z0-9-]+)", staff.url).group(1)
    with staff.expect_download() as download:
        staff.get_by_role("link", name="Download the manifest (CSV)").click()
    manifest = Path(download.value.path()).read_text(encoding="utf-8")
    assert [row["kit_id"] for row in csv.DictReader(io.StringIO(manifest))] == [kit_id]
    assert not STUDY_ID.search(manifest)

    lab = _login(browser, server, "demo-laboratory")
    _nav(lab, "Receive shipments")
    lab.get_by_label("Shipment reference").fill(reference)
    lab.get_by_role("button", name="Open").click()
    expect(lab.get_by_role("rowheader", name=kit_id)).to_be_visible()
    lab.get_by_role("button", name="Record the arrival now").click()
    expect(lab.get_by_text("Shipment received.")).to_be_visible()
    _nav(lab, "Genotype batches")
    lab.get_by_label("Study").select_option(STUDY)
    lab.get_by_label("Genotype file (VCF)").set_input_files(_genotype_file(tmp_path, kit_id))
    lab.get_by_role("button", name="Import the batch").click()
    expect(lab.get_by_text("Batch imported.")).to_be_visible()
    expect(lab.locator("tr.outcome-accepted")).to_contain_text(kit_id)
    lab.screenshot(path=shots / "11-lab-batch-report.png", full_page=True)
    assert not STUDY_ID.search(lab.content())
    lab.context.close()

    staff.goto(f"{server.url}/participants/{study_id}")
    expect(
        staff.get_by_text(re.compile(r"5-year risk of breast cancer: \d+\.\d\d%"))
    ).to_be_visible()
    expect(staff.get_by_text("Planned exams and the reason for each")).to_be_visible()
    expect(staff.locator("#kits").get_by_text("genotyped", exact=True)).to_be_visible()
    staff.screenshot(path=shots / "12-her-risk-from-the-lab.png", full_page=True)
    staff.context.close()
