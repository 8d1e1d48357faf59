"""The statistician's analysis page: in every language, runs the analysis on the live database
and on the study's lock snapshot (a conflict before the study is locked), shows the primary
counts, downloads the ZIP; other roles are refused."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from typing import Any

import pytest

from pebs.i18n import LANGUAGES, catalogues


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_page_is_in_the_page_language(site: Any, language: str) -> None:
    site.login("statistician")
    site.client.cookies.set("pebs_lang", language)
    page = html.unescape(site.client.get("/analysis").text)
    words = catalogues()[language]
    for key in ("analysis.title", "analysis.action.run", "analysis.source.live",
                "analysis.no_snapshot", "nav.analysis"):  # fmt: skip
        assert words.text(key) in page
    site.client.cookies.clear()


def test_a_statistician_runs_and_downloads_on_live_and_snapshot(site: Any) -> None:
    standard = site.db.participant(state="standard")
    site.db.participant(state="risk-based")
    site.login("statistician")
    refused = site.post_form("/analysis", {"study": "mypebs-demo", "source": "snapshot"})
    assert refused.status_code == 409  # not locked yet: no snapshot
    assert "has no lock snapshot on this server" in html.unescape(refused.text)
    site.login("data_manager")
    locked = site.post_form("/study-lock", {"study": "mypebs-demo", "action": "lock",
                                            "reason": "final analysis"})  # fmt: skip
    assert locked.status_code == 303
    site.login("statistician")
    for source in ("live", "snapshot"):
        done = site.post_form("/analysis", {"study": "mypebs-demo", "source": source})
        assert done.status_code == 303
        run = re.search(r"run=([^&]+)$", done.headers["location"]).group(1)
        shown = html.unescape(site.client.get(done.headers["location"]).text)
        assert f"Run {run}" in shown
        download = site.client.get(f"/analysis/outputs.zip?study=mypebs-demo&run={run}")
        assert download.status_code == 200
        assert download.headers["content-type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
            results = json.loads(archive.read("results.json"))
            rows = archive.read("analysis_data.csv").decode()
        assert results["source"]["kind"] == source
        assert results["counts"]["per_arm"] == {"risk-based": 1, "standard": 1}
        assert standard in rows
    assert re.search(r"SHA-256 <code>[0-9a-f]{64}</code>", shown)  # the snapshot's
    site.login("data_manager")
    unlocked = site.post_form("/study-lock", {"study": "mypebs-demo", "action": "unlock",
                                              "reason": "analysed"})  # fmt: skip
    assert unlocked.status_code == 303


@pytest.mark.parametrize("role", ["data_manager", "monitor", "site_staff"])
def test_other_roles_are_refused(site: Any, role: str) -> None:
    site.login(role)
    assert site.client.get("/analysis").status_code == 403
