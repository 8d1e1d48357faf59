"""The data manager's trial import page: a dry run shows the counts and every refused row (file,
line, column, reason) and stores nothing; the import stores; other roles may not open it; the
report is in the page's language."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import func, select

from pebs.store.models import AuditEvent, Participant

WOMEN = (
    "source_id,site,name,birth_date\n"
    "PAGE-1,IT-TO,First Woman,1972-05-10\n"
    "PAGE-2,IT-TO,Second Woman,1972-13-10\n"  # line 3: no month 13
)


def _counts(site: Any) -> tuple[int, int]:
    with site.db.sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(Participant)) or 0,
            session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )


def _submit(site: Any, *, dry_run: bool) -> Any:
    data = {"study": "mypebs-demo", "format": "csv", "csrf_token": site.csrf(
        site.client.get("/imports").text)} | ({"dry_run": "on"} if dry_run else {})  # fmt: skip
    files = {"file": ("women.csv", io.BytesIO(WOMEN.encode()), "text/csv")}
    return site.client.post("/imports", data=data, files=files, follow_redirects=False)


def test_a_dry_run_shows_the_refused_rows_and_stores_nothing(site: Any) -> None:
    site.login("data_manager")
    assert 'href="/imports"' in site.client.get("/").text
    before = _counts(site)
    page = _submit(site, dry_run=True)
    assert page.status_code == 200, page.text
    assert "Dry run: every row was checked, nothing was stored." in page.text
    assert "<td>3</td>" in page.text  # the line of the refused row
    assert "<code>birth_date</code>" in page.text
    assert "1972-13-10" in page.text
    assert _counts(site) == before


def test_the_import_stores_and_reports_in_the_page_language(site: Any) -> None:
    site.login("data_manager")
    site.client.cookies.set("pebs_lang", "fr")
    page = _submit(site, dry_run=False)
    site.client.cookies.clear()
    assert page.status_code == 200, page.text
    assert "Import terminé" in page.text
    assert "Femmes arrivées à : inscription" in page.text
    with site.db.sessions() as session:
        assert session.scalar(select(Participant.source_id).where(
            Participant.source_id == "PAGE-1")) == "PAGE-1"  # fmt: skip


def test_only_the_data_manager_opens_the_page(site: Any) -> None:
    site.login("site_staff")
    assert site.client.get("/imports").status_code == 403
    assert 'href="/imports"' not in site.client.get("/").text
