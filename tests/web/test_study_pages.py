"""The statistician's allocation lists and the exports page: what they show, what they never
show, the services they call (generation and exports audited), and who may open them."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

from sqlalchemy import func, select

from factories import DEMO_ACCOUNTS, STUDY
from pebs.services.actor import actor_for
from pebs.services.trial import generate_allocation_list
from pebs.store.models import AllocationList, AllocationSlot, AuditEvent


def _events(site: Any, entity: str, action: str) -> int:
    with site.db.sessions() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.entity == entity, AuditEvent.action == action))  # fmt: skip


LONG_SEED = 7364019582736451029
"""A seed of 19 digits: no time, date, count or hash prefix on the page can spell it by chance."""

_TIMES_AND_DATES = re.compile(r"\d{1,2}:\d{2}|\d{4}-\d{2}-\d{2}|\d{1,2} [^\W\d]+\.? \d{4}")


def _numbers_shown(page: str) -> set[str]:
    """The whole numbers of a page (text and attributes), times and dates left out."""
    return set(re.findall(r"(?<![\w.,])\d+(?![\w.,])", _TIMES_AND_DATES.sub(" ", page)))


def test_lists_show_what_their_generation_recorded_never_a_slot(site: Any) -> None:
    statistician = actor_for(site.db.sessions, DEMO_ACCOUNTS["statistician"])
    generate_allocation_list(site.db.sessions, statistician, STUDY, slots_per_stratum=4,
                             seed=LONG_SEED, strata=["IT-TO:50-59"], is_test=True)  # fmt: skip
    site.login("statistician")
    page = html.unescape(site.client.get("/allocation-lists").text)
    with site.db.sessions() as session:
        lists = session.scalars(select(AllocationList).order_by(AllocationList.id)).all()
        arms = set(session.scalars(select(AllocationSlot.arm).distinct()))
        seeds = [row.seed for row in lists]
    assert f"{len(lists)} in all" in page
    for row in lists:
        assert row.sha256[:12] in page
    assert str(LONG_SEED) in seeds
    assert str(LONG_SEED) not in page
    assert _numbers_shown(page).isdisjoint(seeds)  # the demo's short seed (11) too
    assert not any(f">{arm}<" in page for arm in arms)  # no arm of any slot


def test_the_seed_check_sees_a_seed_but_not_a_time_or_a_date() -> None:
    assert "11" in _numbers_shown('<td data-seed="11">list</td>')
    assert "11" in _numbers_shown("<td>seed 11</td>")
    assert "11" not in _numbers_shown("<td>7 Dec 2026, 11:05 (Europe/Rome)</td><td>2026-11-30</td>")
    assert "11" not in _numbers_shown("<td>11 déc. 2026</td><td>a11b</td><td>1.11</td>")


def test_a_new_list_shows_its_seed_once_and_verifies_against_it(site: Any) -> None:
    site.login("statistician")
    before = _events(site, "allocation_list", "generate")
    created = site.post_form("/allocation-lists?study=mypebs-demo", {
        "slots_per_stratum": "4", "strata": "IT-TO:50-59", "is_test": "on"},
        page="/allocation-lists")  # fmt: skip
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    seed = re.search(r'<code class="secret">([0-9]+)</code>', created.text).group(1)
    assert _events(site, "allocation_list", "generate") == before + 1
    with site.db.sessions() as session:
        newest = session.scalars(select(AllocationList).order_by(AllocationList.id.desc())).first()
    assert newest.seed == seed
    assert newest.is_test
    assert seed not in site.client.get("/allocation-lists").text  # once
    path = f"/allocation-lists/{newest.id}/verification?study=mypebs-demo"
    right = site.post_form(path, {"seed": seed}, page="/allocation-lists")
    assert "the seed gives exactly the stored list" in html.unescape(right.text)
    wrong = site.post_form(path, {"seed": str(int(seed) + 1)}, page="/allocation-lists")
    assert "the seed does NOT give the stored list" in html.unescape(wrong.text)
    letters = site.post_form(path, {"seed": "12ab"}, page="/allocation-lists")
    assert letters.status_code == 422
    assert "give the seed as digits only" in letters.text


def test_a_refused_generation_names_its_field_and_stores_nothing(site: Any) -> None:
    site.login("statistician")
    before = _events(site, "allocation_list", "generate")
    response = site.post_form("/allocation-lists?study=mypebs-demo",
                              {"slots_per_stratum": "0"}, page="/allocation-lists")  # fmt: skip
    assert response.status_code == 422
    assert re.search(r'id="f-slots_per_stratum-error">must be from 1 to 10000<', response.text)
    assert _events(site, "allocation_list", "generate") == before


def test_allocation_lists_are_the_statisticians_only(site: Any) -> None:
    for role in ("site_staff", "data_manager", "monitor", "administrator"):
        site.login(role)
        assert site.client.get("/allocation-lists").status_code == 403
        assert 'href="/allocation-lists"' not in site.client.get("/").text


def test_exports_stream_the_csv_and_audit_it(site: Any) -> None:
    site.db.participant("IT-TO", "consented")
    site.login("site_staff")
    page = html.unescape(site.client.get("/exports").text)
    assert "Include identifying data" in page
    before = (_events(site, "participant_export", "export"),
              _events(site, "participant_export", "export_end"))  # fmt: skip
    download = site.client.get("/exports/participants.csv", params={"study": "mypebs-demo"})
    assert download.status_code == 200
    assert download.headers["content-disposition"] == (
        'attachment; filename="mypebs-demo-participants.csv"')  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert rows
    assert {r["site"] for r in rows} == {"IT-TO"}
    assert "name" not in rows[0]  # pseudonymised by default
    assert (
        _events(site, "participant_export", "export"),
        _events(site, "participant_export", "export_end"),
    ) == (before[0] + 1, before[1] + 1)
    dictionary = site.client.get("/exports/dictionary.csv", params={"study": "mypebs-demo"})
    assert dictionary.text.splitlines()[0] == "column,type,unit,identifying,description"


def test_the_exports_page_offers_every_format_and_serves_parquet(site: Any) -> None:
    import pyarrow.parquet as pq

    site.db.participant("IT-TO", "consented")
    site.login("statistician")
    page = html.unescape(site.client.get("/exports").text)
    assert 'formaction="/exports/participants.csv"' in page
    assert 'formaction="/exports/participants.parquet"' in page
    assert 'formaction="/exports/participants.fhir"' in page
    assert "/exports/dictionary.fhir" not in page  # a casebook file has no dictionary
    assert "Download the participants as Parquet (analysis software)" in page
    assert "/exports/dictionary.parquet?study=mypebs-demo" in page
    download = site.client.get("/exports/participants.parquet", params={"study": "mypebs-demo"})
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/vnd.apache.parquet"
    assert download.headers["content-disposition"] == (
        'attachment; filename="mypebs-demo-participants.parquet"')  # fmt: skip
    table = pq.read_table(io.BytesIO(download.content), use_threads=False)
    assert set(table.column("site").to_pylist()) == {"IT-TO"}
    dictionary = site.client.get("/exports/dictionary.parquet", params={"study": "mypebs-demo"})
    columns = pq.read_table(io.BytesIO(dictionary.content), use_threads=False).column_names
    assert columns == ["column", "type", "unit", "identifying", "description"]
    unknown = site.client.get("/exports/participants.xlsx", params={"study": "mypebs-demo"})
    assert unknown.status_code == 422
    assert "csv, parquet" in html.unescape(unknown.text)


def test_exports_respect_the_roles(site: Any) -> None:
    site.login("statistician")
    assert "Include identifying data" not in site.client.get("/exports").text
    refused = site.client.get("/exports/participants.csv", params={
        "study": "mypebs-demo", "include_identity": "true"})  # fmt: skip
    assert refused.status_code == 403
    for role in ("administrator", "laboratory"):
        site.login(role)
        assert site.client.get("/exports").status_code == 403
        assert site.client.get("/exports/participants.csv",
                               params={"study": "mypebs-demo"}).status_code == 403  # fmt: skip
