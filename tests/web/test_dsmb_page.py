"""The DSMB reports page: in every language, the data manager produces the open report (and is
offered no closed one), the statistician the closed one on the live database and on the lock
snapshot, the files download as a ZIP; other roles are refused, and the closed report is
refused to the data manager even when asked for by hand."""

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
    page = html.unescape(site.client.get("/dsmb").text)
    words = catalogues()[language]
    for key in ("dsmb.title", "dsmb.intro", "dsmb.kind.open", "dsmb.kind.closed",
                "dsmb.action.produce", "nav.dsmb"):  # fmt: skip
        assert words.text(key) in page
    site.client.cookies.clear()


def test_the_data_manager_gets_the_open_report_only(site: Any) -> None:
    site.db.participant(state="standard")
    site.login("data_manager")
    page = html.unescape(site.client.get("/dsmb").text)
    assert catalogues()["en"].text("dsmb.closed_refused") in page
    assert 'value="closed"' not in page
    refused = site.post_form("/dsmb", {"study": "mypebs-demo", "kind": "closed"})
    assert refused.status_code == 403
    done = site.post_form("/dsmb", {"study": "mypebs-demo", "kind": "open"})
    assert done.status_code == 303
    run = re.search(r"run=([^&]+)$", done.headers["location"]).group(1)
    assert run.startswith("open-mypebs-demo-")
    shown = html.unescape(site.client.get(done.headers["location"]).text)
    assert f"Open report {run}" in shown
    download = site.client.get(f"/dsmb/files.zip?study=mypebs-demo&run={run}")
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        assert json.loads(archive.read("tables.json"))["kind"] == "open"
        assert archive.read("report.pdf").startswith(b"%PDF")


def test_the_statistician_gets_the_closed_report_live_and_locked(site: Any) -> None:
    site.db.participant(state="standard")
    site.db.participant(state="risk-based")
    site.login("data_manager")
    locked = site.post_form("/study-lock", {"study": "mypebs-demo", "action": "lock",
                                            "reason": "DSMB meeting"})  # fmt: skip
    assert locked.status_code == 303
    site.login("statistician")
    for source in ("live", "snapshot"):
        done = site.post_form("/dsmb", {"study": "mypebs-demo", "kind": "closed",
                                        "source": source})  # fmt: skip
        assert done.status_code == 303
        run = re.search(r"run=([^&]+)$", done.headers["location"]).group(1)
        shown = html.unescape(site.client.get(done.headers["location"]).text)
        assert f"Closed report {run}" in shown
        assert "Group-sequential monitoring" in shown
    assert re.search(r"<code>[0-9a-f]{64}</code>", shown)  # the snapshot's SHA-256
    # the data manager's list shows no closed report, and its files are refused to her
    site.login("data_manager")
    assert "closed-mypebs-demo" not in site.client.get("/dsmb").text
    assert site.client.get(f"/dsmb/files.zip?study=mypebs-demo&run={run}").status_code == 403
    unlocked = site.post_form("/study-lock", {"study": "mypebs-demo", "action": "unlock",
                                              "reason": "reported"})  # fmt: skip
    assert unlocked.status_code == 303


@pytest.mark.parametrize("role", ["monitor", "site_staff", "country_coordinator"])
def test_other_roles_are_refused(site: Any, role: str) -> None:
    site.login(role)
    assert site.client.get("/dsmb").status_code == 403
