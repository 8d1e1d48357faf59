"""The one rule for HTTPS-only sites and the session cookie both sides set.

Expected attributes are those ``docs/security.md`` promises: ``HttpOnly``, ``SameSite=Lax``,
``Path=/``, ``Secure`` in production or with ``PEBS_COOKIE_SECURE=true``, and the session's
absolute lifetime (``PEBS_SESSION_ABSOLUTE_HOURS``) as ``Max-Age``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from cryptography.fernet import Fernet
from starlette.responses import Response

from pebs.config import Settings
from pebs.http.session_cookie import clear_session_cookie, set_session_cookie
from pebs.http.state import https_only, policy_from_settings


def _settings(environment: str, cookie_secure: bool | None) -> Settings:
    return Settings(
        environment=environment, secret_key="s" * 40, identity_key=Fernet.generate_key().decode(),
        hmac_key="h" * 40, cookie_secure=cookie_secure, session_absolute_hours=8,
    )  # fmt: skip


@pytest.mark.parametrize(("environment", "cookie_secure", "expected"), [
    ("development", None, False),
    ("production", None, True),
    ("development", True, True),  # a development site behind HTTPS
    ("production", False, False),  # explicitly turned off
])  # fmt: skip
def test_https_only_follows_the_setting_else_the_environment(environment, cookie_secure, expected):
    assert https_only(_settings(environment, cookie_secure)) is expected


@dataclass(frozen=True)
class _State:
    """The two values of the app state the cookie reads."""

    policy: object
    cookie_secure: bool


def _set_cookie(environment: str, cookie_secure: bool | None) -> str:
    settings = _settings(environment, cookie_secure)
    response = Response()
    state = _State(policy_from_settings(settings), https_only(settings))
    set_session_cookie(response, state, "pebs_s_token")  # type: ignore[arg-type]
    return response.headers["set-cookie"]


def test_the_session_cookie_in_production():
    attributes = [part.strip().lower() for part in _set_cookie("production", None).split(";")]
    assert attributes[0] == "pebs_session=pebs_s_token"
    assert set(attributes[1:]) == {"httponly", "max-age=28800", "path=/", "samesite=lax", "secure"}


def test_the_session_cookie_of_a_development_site_over_http():
    attributes = [part.strip().lower() for part in _set_cookie("development", None).split(";")]
    assert "secure" not in attributes
    assert {"httponly", "samesite=lax", "path=/"} <= set(attributes)


def test_clearing_the_session_cookie_expires_it_for_the_whole_site():
    response = Response()
    clear_session_cookie(response)
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("pebs_session=")
    assert "max-age=0" in cookie
    assert "path=/" in cookie
