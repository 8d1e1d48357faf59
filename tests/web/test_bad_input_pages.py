"""Bad input through the pages: the same refusals as the API, shown as form messages or pages.

Text that no database can store (here the NUL character, which a form can carry as ``%00``) is
refused by the use case with the field named; a body over ``PEBS_MAX_BODY_BYTES`` is a 413 page;
identifying data that the configured identity key cannot open is a 503 page saying so.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyotp
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from factories import SECRET_KEY
from pebs.config import Settings
from pebs.server import create_site
from pebs.store.models import AuditEvent, Participant


def _count(site: Any, model: Any) -> int:
    with site.db.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_text_that_cannot_be_stored_is_named_next_to_its_field(site: Any) -> None:
    site.login("site_staff")
    before = (_count(site, Participant), _count(site, AuditEvent))
    for field, value in (("contact", "anna\x00@example.invalid"), ("name", "Anna\x00 Rossi")):
        data = {"site": "mypebs-demo/IT-TO", "name": "Anna Rossi", "birth_date": "1969-05-02",
                field: value}  # fmt: skip
        response = site.post_form("/participants/new", data)
        assert response.status_code == 422, response.text
        message = "must not contain the NUL character (U+0000)"
        assert f'id="f-{field}-error">{message}<' in response.text
    assert (_count(site, Participant), _count(site, AuditEvent)) == before


def test_a_form_over_the_body_limit_is_refused_with_a_page(site: Any) -> None:
    site.login("site_staff")
    before = _count(site, Participant)
    data = {"site": "mypebs-demo/IT-TO", "name": "x" * (1024 * 1024 + 1),
            "birth_date": "1969-05-02"}  # fmt: skip
    response = site.post_form("/participants/new", data)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "larger than the limit of 1,048,576 bytes" in response.text
    assert _count(site, Participant) == before


def test_a_wrong_identity_key_is_a_page_that_says_so(site: Any) -> None:
    username, password, secret = site.db.new_user("site_staff")  # TOTP secret under the real key
    other_key = Fernet.generate_key().decode()
    settings = Settings(database_url=site.db.settings.database_url, secret_key=SECRET_KEY,
                        identity_key=other_key, cookie_secure=False)  # fmt: skip
    with TestClient(create_site(settings, auth_policy=site.db.policy)) as client:
        page = client.get("/login")
        csrf = site.csrf(page.text)
        response = client.post("/login", data={
            "csrf_token": csrf, "username": username, "password": password,
            "totp_code": pyotp.TOTP(secret).at(datetime.now(UTC)), "next": "/"},
            follow_redirects=False)  # fmt: skip
    assert response.status_code == 503
    assert "identity key (PEBS_IDENTITY_KEY) does not match" in response.text
    assert other_key not in response.text
