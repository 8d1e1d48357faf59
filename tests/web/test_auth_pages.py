"""Login (password + TOTP), second-factor page, logout, CSRF on forms, cookie flags, security
headers, redirects to the login page, languages, and the API beside the pages."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp

from pebs.i18n import catalogues


def _login_form(site: Any) -> str:
    return site.csrf(site.client.get("/login").text)


def test_pages_need_a_login_and_remember_where_she_was_going(site: Any) -> None:
    site.client.cookies.clear()
    for path in ("/", "/participants?q=IT", "/dashboards", "/worklists", "/participants/X-1"):
        response = site.client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        location = response.headers["location"]
        assert location.startswith("/login"), path
        if path != "/":
            assert "next=" in location
    page = site.client.get("/participants?q=IT")  # followed to the login form
    assert page.status_code == 200
    assert 'name="next" value="/participants?q=IT"' in page.text


def test_login_with_password_and_code_then_logout(site: Any) -> None:
    username = site.login("site_staff")
    home = site.client.get("/")
    assert home.status_code == 200
    assert username in home.text
    assert 'href="/participants"' in home.text
    response = site.client.post("/logout", data={"csrf_token": site.csrf(home.text)},
                                follow_redirects=False)  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert site.client.get("/", follow_redirects=False).status_code == 303


def test_a_revoked_session_cookie_no_longer_opens_pages(site: Any) -> None:
    site.login("site_staff")
    cookie = site.client.cookies.get("pebs_session")
    home = site.client.get("/")
    site.client.post("/logout", data={"csrf_token": site.csrf(home.text)})
    site.client.cookies.set("pebs_session", cookie)
    assert site.client.get("/", follow_redirects=False).status_code == 303


def test_login_in_two_steps_with_the_totp_page(site: Any) -> None:
    username, password, secret = site.db.new_user("site_staff")
    site.client.cookies.clear()
    response = site.client.post("/login", data={
        "csrf_token": _login_form(site), "username": username, "password": password,
        "next": "/participants"}, follow_redirects=False)  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login/totp")
    # the password alone opens no page
    assert site.client.get("/participants", follow_redirects=False).headers["location"] == (
        "/login/totp"
    )
    page = site.client.get(response.headers["location"])
    wrong = site.client.post("/login/totp", data={
        "csrf_token": site.csrf(page.text), "code": "000000", "next": "/participants"})  # fmt: skip
    assert wrong.status_code == 401
    assert "does not match" in wrong.text
    right = site.client.post("/login/totp", data={
        "csrf_token": site.csrf(page.text), "code": pyotp.TOTP(secret).now(),
        "next": "/participants"}, follow_redirects=False)  # fmt: skip
    assert right.status_code == 303
    assert right.headers["location"] == "/participants"
    assert site.client.get("/participants").status_code == 200


def test_wrong_password_shows_one_message_for_every_cause(site: Any) -> None:
    username, _, _ = site.db.new_user("monitor")
    site.client.cookies.clear()
    for name, password in ((username, "wrong-password"), ("nobody-here", "whatever")):
        response = site.client.post("/login", data={
            "csrf_token": _login_form(site), "username": name, "password": password})  # fmt: skip
        assert response.status_code == 401
        assert "Wrong username, password or code" in response.text
        assert "pebs_session" not in response.cookies
    empty = site.client.post("/login", data={"csrf_token": _login_form(site), "username": ""})
    assert empty.status_code == 422
    assert "Give your username and password" in empty.text


def test_login_form_without_its_token_is_refused(site: Any) -> None:
    username, password, secret = site.db.new_user("site_staff")
    site.client.cookies.clear()
    response = site.client.post("/login", data={"username": username, "password": password,
                                                "totp_code": pyotp.TOTP(secret).now()})  # fmt: skip
    assert response.status_code == 403
    assert "security token" in response.text
    assert "pebs_session" not in response.cookies


def test_forms_without_the_session_csrf_token_are_refused(site: Any) -> None:
    site.login("site_staff")
    before = site.client.get("/participants").text.count("Test Woman")
    data = {"site": "mypebs-demo/IT-TO", "name": "No Token", "birth_date": "1970-01-15"}
    for token in (None, "forged-token"):
        payload = data if token is None else {**data, "csrf_token": token}
        response = site.client.post("/participants/new", data=payload, follow_redirects=False)
        assert response.status_code == 403
        assert "security token" in response.text
    # a valid token of another session does not work either
    other_page = site.client.get("/participants/new").text
    token = site.csrf(other_page)
    site.login("site_staff")
    response = site.client.post("/participants/new", data={**data, "csrf_token": token})
    assert response.status_code == 403
    assert site.client.get("/participants").text.count("Test Woman") == before
    assert site.client.post("/logout", data={}).status_code == 403


def test_session_cookie_flags(site: Any) -> None:
    username, password, secret = site.db.new_user("site_staff")
    site.client.cookies.clear()
    response = site.client.post("/login", data={
        "csrf_token": _login_form(site), "username": username, "password": password,
        "totp_code": pyotp.TOTP(secret).now()}, follow_redirects=False)  # fmt: skip
    cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    session = next(c for c in cookies if c.startswith("pebs_session="))
    assert "HttpOnly" in session
    assert "samesite=lax" in session.lower()
    assert "Path=/" in session
    login_cookie = site.client.get("/login").headers["set-cookie"]
    assert "HttpOnly" in login_cookie
    assert "samesite=strict" in login_cookie.lower()


def test_security_headers_and_no_external_resources(site: Any) -> None:
    site.login("site_staff")
    for path in ("/login", "/", "/participants", "/dashboards"):
        response = site.client.get(path)
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"
        assert not re.search(r"""(src|href)=["']https?://""", response.text), path
        assert "<script" not in response.text
        assert " style=" not in response.text  # the CSP forbids inline styles
    css = site.client.get("/static/pebs.css")
    assert css.status_code == 200
    assert "text/css" in css.headers["content-type"]


def test_language_choice_and_right_to_left(site: Any) -> None:
    site.client.cookies.clear()
    assert '<html lang="en" dir="ltr">' in site.client.get("/login").text
    french = site.client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert '<html lang="fr" dir="ltr">' in french.text
    assert "Se connecter" in french.text
    response = site.client.get("/language?lang=he&next=/login", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    hebrew = site.client.get("/login")
    assert '<html lang="he" dir="rtl">' in hebrew.text
    assert "כניסה" in hebrew.text
    totp_label = catalogues()["he"].messages["field.totp_code"]  # Hebrew's own, no fallback
    assert totp_label != catalogues()["en"].messages["field.totp_code"]
    assert totp_label in html.unescape(hebrew.text)
    assert "Authenticator code" not in hebrew.text
    away = site.client.get("/language?lang=fr&next=//evil.example/", follow_redirects=False)
    assert away.headers["location"] == "/"
    site.client.cookies.delete("pebs_lang")


def test_login_next_never_leaves_the_site(site: Any) -> None:
    username, password, secret = site.db.new_user("site_staff")
    site.client.cookies.clear()
    response = site.client.post("/login", data={
        "csrf_token": _login_form(site), "username": username, "password": password,
        "totp_code": pyotp.TOTP(secret).now(), "next": "https://evil.example/"},
        follow_redirects=False)  # fmt: skip
    assert response.headers["location"] == "/"


def test_the_api_keeps_its_json_errors(site: Any) -> None:
    site.client.cookies.clear()
    response = site.client.get("/api/v1/participants")
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"
    assert site.client.get("/api/v1/nothing-here").json()["error"] == "not_found"
    page = site.client.get("/nothing-here")
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]


def test_expired_session_goes_back_to_login(site: Any) -> None:
    from sqlalchemy import update

    from pebs.store.models import AuthSession

    site.login("site_staff")
    assert site.client.get("/", follow_redirects=False).status_code == 200
    with site.db.sessions.begin() as session:  # idle for longer than the idle timeout
        idle_since = datetime.now(UTC) - site.db.policy.idle - timedelta(minutes=1)
        session.execute(update(AuthSession).values(last_seen_at=idle_since))
    response = site.client.get("/participants", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_the_site_factory_reads_the_environment(site: Any, monkeypatch: Any) -> None:
    from fastapi.testclient import TestClient

    from pebs.server import from_environment

    monkeypatch.setenv("PEBS_DATABASE_URL", site.db.settings.database_url)
    monkeypatch.setenv("PEBS_SECRET_KEY", "e" * 40)
    with TestClient(from_environment()) as client:
        page = client.get("/login")
        assert page.status_code == 200
        assert client.get("/api/v1/participants").status_code == 401
