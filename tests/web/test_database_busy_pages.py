"""A busy database on a page: status 503 with ``Retry-After``, one line in the page's language
("nothing was saved, try again in a moment"), and indeed nothing saved; the same form sent again
once the database is free registers her. Any other database error is still the unexpected-error
page (500)."""

from __future__ import annotations

import html
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from factories import lock_held_elsewhere
from pebs.i18n import LANGUAGES
from pebs.i18n.catalogue import catalogues
from pebs.server import create_site
from pebs.store import engine as store_engine
from pebs.store.models import Participant

ENGLISH = "The database is busy; nothing was saved. Try again in a moment."
FORM = {"site": "mypebs-demo/IT-TO", "name": "Busy Page", "birth_date": "1969-05-02"}


@pytest.fixture
def impatient_site(site: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The same database served by a site whose SQLite busy timeout is 0.3 s, logged in."""
    monkeypatch.setattr(store_engine, "_SQLITE_BUSY_TIMEOUT_S", 0.3)
    with TestClient(create_site(site.db.settings, auth_policy=site.db.policy)) as client:
        impatient = type(site)(client, site.db)
        impatient.login("site_staff")
        yield impatient


def _participants(site: Any) -> int:
    with site.db.sessions() as session:
        return session.scalar(select(func.count()).select_from(Participant))


def test_a_busy_database_is_a_503_page_in_every_language(impatient_site: Any) -> None:
    site = impatient_site
    csrf = site.csrf(site.client.get("/participants/new").text)
    before = _participants(site)
    messages = {code: catalogues()[code].text("error.database_busy_retry") for code in LANGUAGES}
    assert messages["en"] == ENGLISH
    assert len(set(messages.values())) == len(LANGUAGES)  # each language says it its own way
    with lock_held_elsewhere(site.db.settings.database_url):
        for code, message in messages.items():
            page = site.client.post(
                "/participants/new", data={"csrf_token": csrf, **FORM},
                headers={"Accept-Language": code}, follow_redirects=False,
            )  # fmt: skip
            assert page.status_code == 503, (code, page.text)
            assert page.headers["Retry-After"] == "1"
            assert page.headers["content-type"].startswith("text/html")
            assert message in html.unescape(page.text), code
            assert f'lang="{code}"' in page.text
    assert _participants(site) == before
    again = site.client.post("/participants/new", data={"csrf_token": csrf, **FORM},
                             follow_redirects=False)  # fmt: skip
    assert again.status_code == 303, again.text
    assert _participants(site) == before + 1


def test_another_database_error_is_still_the_unexpected_error_page(
    site: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TestClient(create_site(site.db.settings, auth_policy=site.db.policy),
                    raise_server_exceptions=False) as client:  # fmt: skip
        other = type(site)(client, site.db)
        other.login("site_staff")
        csrf = other.csrf(client.get("/participants/new").text)
        before = _participants(other)
        dialect = client.app.state.pebs.database.engine.dialect
        execute = dialect.do_execute

        def do_execute(cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
            if statement.lstrip().upper().startswith("INSERT INTO AUDIT_EVENTS"):
                raise sqlite3.OperationalError("no such table: audit_events")
            execute(cursor, statement, parameters, context)

        monkeypatch.setattr(dialect, "do_execute", do_execute)
        page = client.post("/participants/new", data={"csrf_token": csrf, **FORM},
                           follow_redirects=False)  # fmt: skip
        monkeypatch.undo()
    assert page.status_code == 500, page.text
    assert "Retry-After" not in page.headers
    assert "an unexpected error; it was logged" in page.text
    assert _participants(other) == before
