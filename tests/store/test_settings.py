"""Settings (``pebs.config``): defaults, environment variables, refusals outside development."""

from __future__ import annotations

import base64

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from pebs.config import Settings

SECRET = "s" * 48
KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
HMAC = "h" * 40


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "ENVIRONMENT",
        "DATABASE_URL",
        "SECRET_KEY",
        "IDENTITY_KEY",
        "HMAC_KEY",
        "DATA_DIR",
    ):
        monkeypatch.delenv(f"PEBS_{name}", raising=False)


def test_defaults_work_in_development() -> None:
    settings = Settings()
    assert settings.environment == "development"
    assert settings.database_url == "sqlite:///./pebs.db"
    (key,) = settings.identity_keys()
    assert len(base64.urlsafe_b64decode(key)) == 32
    Fernet(key)  # usable
    assert settings.hmac_key_bytes() != base64.urlsafe_b64decode(key)  # distinct derived keys


def test_derived_keys_are_stable_and_follow_the_secret() -> None:
    a, b = Settings(secret_key=SECRET), Settings(secret_key=SECRET)
    other = Settings(secret_key=SECRET + "x")
    assert a.identity_keys() == b.identity_keys() != other.identity_keys()
    assert a.hmac_key_bytes() == b.hmac_key_bytes() != other.hmac_key_bytes()


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("PEBS_ENVIRONMENT", "production")
    monkeypatch.setenv("PEBS_DATABASE_URL", "postgresql+psycopg://pebs@db/pebs")
    monkeypatch.setenv("PEBS_SECRET_KEY", SECRET)
    monkeypatch.setenv("PEBS_IDENTITY_KEY", f"{KEY_A}, {KEY_B}")
    monkeypatch.setenv("PEBS_HMAC_KEY", HMAC)
    monkeypatch.setenv("PEBS_DATA_DIR", str(tmp_path))
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://pebs@db/pebs"
    assert settings.identity_keys() == (KEY_A, KEY_B)
    assert settings.hmac_key_bytes() == HMAC.encode()
    assert settings.data_dir == tmp_path
    assert SECRET not in repr(settings)  # secrets never printed


@pytest.mark.parametrize("secret", ["change-me", "", "secret", "short"])
def test_production_refuses_placeholder_secrets(secret: str) -> None:
    with pytest.raises(ValidationError, match="PEBS_SECRET_KEY"):
        Settings(environment="production", secret_key=secret, identity_key=KEY_A, hmac_key=HMAC)


@pytest.mark.parametrize("missing", ["identity_key", "hmac_key"])
def test_production_requires_explicit_keys(missing: str) -> None:
    values = {"identity_key": KEY_A, "hmac_key": HMAC}
    del values[missing]
    with pytest.raises(ValidationError, match=f"PEBS_{missing.upper()}"):
        Settings(environment="production", secret_key=SECRET, **values)


@pytest.mark.parametrize("bad", ["not-a-key", KEY_A[:-4], f"{KEY_A},xyz", ","])
def test_malformed_identity_keys_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError, match="PEBS_IDENTITY_KEY"):
        Settings(identity_key=bad)


def test_short_hmac_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="PEBS_HMAC_KEY"):
        Settings(hmac_key="short")


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(ValidationError, match="environment"):
        Settings(environment="staging")
