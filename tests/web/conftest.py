"""Fixtures: the whole site (API + pages) on a real SQLite file with the demo study, demo
accounts, allocation lists, and helpers that log in through the login *form*.

One database per test module (:func:`factories.demo_database`, also the browser tests'). Every
login uses a new account (with its own TOTP secret), since a TOTP code is accepted once per
account and 30-second step.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp
import pytest
from fastapi.testclient import TestClient

from factories import DemoDatabase, demo_database
from pebs.server import create_site

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = _CSRF.search(html)
    assert match is not None, "no csrf_token field on the page"
    return match.group(1)


@dataclass
class WebSite:
    client: TestClient
    db: DemoDatabase
    csrf = staticmethod(csrf_of)

    def login(self, role: str, *, with_code: bool = True) -> str:
        """Log a new account of ``role`` in through the login form (cookies stay in the
        client); returns the username."""
        username, password, secret = self.db.new_user(role)
        assert secret is not None
        self.client.cookies.clear()
        page = self.client.get("/login")
        assert page.status_code == 200
        code = pyotp.TOTP(secret).at(datetime.now(UTC)) if with_code else ""
        response = self.client.post("/login", data={
            "csrf_token": csrf_of(page.text), "username": username, "password": password,
            "totp_code": code, "next": "/"}, follow_redirects=False)  # fmt: skip
        assert response.status_code == 303, response.text
        self.secret = secret
        return username

    def post_form(self, path: str, data: dict[str, str], *, page: str | None = None):
        """GET ``page`` (default ``path``) for its CSRF token, then POST ``data`` to ``path``."""
        form_page = self.client.get(page or path)
        assert form_page.status_code == 200, form_page.text
        return self.client.post(path, data={"csrf_token": csrf_of(form_page.text), **data},
                                follow_redirects=False)  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebSite]:
    db = demo_database(f"sqlite:///{tmp_path_factory.mktemp('web') / 'pebs.db'}")
    app = create_site(db.settings, auth_policy=db.policy)
    with TestClient(app) as client:
        yield WebSite(client, db)
    db.close()
