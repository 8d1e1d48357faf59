"""Settings, read from ``PEBS_*`` environment variables by the entry points only.

Only ``pebs.cli``, ``pebs.api`` and ``pebs.web`` build a :class:`Settings`; everything below them
receives plain values (a database URL, key bytes). Nothing here runs at import time.

Keys
----
``PEBS_SECRET_KEY``
    Signs sessions and tokens. Refused outside development if empty, a placeholder or shorter than
    32 characters.
``PEBS_IDENTITY_KEY``
    Fernet key(s) that encrypt identifying data at rest (name, date of birth, contact, national ID).
    Several keys may be given separated by commas: the first encrypts, all decrypt, which is how a
    key is rotated. Generate one with ``python -c "from cryptography.fernet import Fernet;
    print(Fernet.generate_key().decode())"``. **Required in production**: losing it makes the
    identifying data unreadable, so it must be backed up apart from the database.
``PEBS_HMAC_KEY``
    Key of the HMAC-SHA256 of the national ID used to detect duplicate registrations (at least 32
    characters). **Required in production**; changing it means recomputing every stored HMAC.

In development (the default ``PEBS_ENVIRONMENT``) the identity and HMAC keys, when not set, are
derived from the secret key with HMAC-SHA256 and distinct labels, so a developer's database works
without configuration. Derivation is refused in production so that rotating the secret key can never
make identifying data unreadable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me"
_PLACEHOLDERS = frozenset({"", PLACEHOLDER_SECRET, "changeme", "secret", "dev", "development"})
_MIN_KEY_CHARS = 32


class SettingsError(ValueError):
    """A setting is missing or unsafe; the message names the environment variable."""


class Settings(BaseSettings):
    """Configuration of one pebs installation (environment variables ``PEBS_*``).

    >>> s = Settings(environment="development", secret_key="x" * 40)
    >>> s.database_url
    'sqlite:///./pebs.db'
    >>> len(s.identity_keys()), len(s.hmac_key_bytes())
    (1, 32)
    """

    model_config = SettingsConfigDict(env_prefix="PEBS_", extra="ignore", frozen=True)

    environment: Literal["development", "production"] = "development"
    database_url: str = "sqlite:///./pebs.db"
    secret_key: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    identity_key: SecretStr | None = None
    hmac_key: SecretStr | None = None
    data_dir: Path = Path("./pebs-data")
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    """``PEBS_SESSION_IDLE_MINUTES``: a login session ends after this many idle minutes."""
    session_absolute_hours: int = Field(default=12, ge=1, le=24 * 30)
    """``PEBS_SESSION_ABSOLUTE_HOURS``: a login session ends this many hours after login."""
    login_max_failures: int = Field(default=5, ge=1, le=1000)
    """``PEBS_LOGIN_MAX_FAILURES``: failed logins of one username from one client address before
    each further attempt must wait (1 s, doubling at each failure); an address waits for every
    username after 4 times as many."""
    login_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    """``PEBS_LOGIN_WINDOW_MINUTES``: the longest wait between two login attempts, in minutes."""
    cookie_secure: bool | None = None
    """``PEBS_COOKIE_SECURE``: send the session cookie over HTTPS only (default: in production)."""
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    """``PEBS_MAX_BODY_BYTES``: larger request bodies are refused (413); default 1 MiB."""
    max_json_depth: int = Field(default=32, ge=4, le=200)
    """``PEBS_MAX_JSON_DEPTH``: JSON bodies nesting arrays and objects deeper are refused (422)."""

    @model_validator(mode="after")
    def _check_keys(self) -> Settings:
        secret = self.secret_key.get_secret_value()
        production = self.environment == "production"
        if production and (secret.strip().lower() in _PLACEHOLDERS or len(secret) < _MIN_KEY_CHARS):
            raise SettingsError(
                "PEBS_SECRET_KEY is a placeholder or shorter than "
                f"{_MIN_KEY_CHARS} characters; set a random secret in production"
            )
        if self.identity_key is not None:
            for key in _split_keys(self.identity_key.get_secret_value()):
                _check_fernet_key(key)
        elif production:
            raise SettingsError("PEBS_IDENTITY_KEY is required in production (a Fernet key)")
        if self.hmac_key is not None:
            if len(self.hmac_key.get_secret_value()) < _MIN_KEY_CHARS:
                raise SettingsError(f"PEBS_HMAC_KEY must have at least {_MIN_KEY_CHARS} characters")
        elif production:
            raise SettingsError("PEBS_HMAC_KEY is required in production")
        return self

    def identity_keys(self) -> tuple[str, ...]:
        """Fernet keys for identifying data: the first encrypts, all decrypt."""
        if self.identity_key is not None:
            return _split_keys(self.identity_key.get_secret_value())
        derived = self._derive(b"pebs identity encryption key v1")
        return (base64.urlsafe_b64encode(derived).decode("ascii"),)

    def hmac_key_bytes(self) -> bytes:
        """Key of the national-ID HMAC."""
        if self.hmac_key is not None:
            return self.hmac_key.get_secret_value().encode("utf-8")
        return self._derive(b"pebs national id hmac key v1")

    def _derive(self, label: bytes) -> bytes:
        secret = self.secret_key.get_secret_value().encode("utf-8")
        return hmac.new(secret, label, hashlib.sha256).digest()


def _split_keys(value: str) -> tuple[str, ...]:
    keys = tuple(part.strip() for part in value.split(",") if part.strip())
    if not keys:
        raise SettingsError("PEBS_IDENTITY_KEY is empty")
    return keys


def _check_fernet_key(key: str) -> None:
    try:
        raw = base64.urlsafe_b64decode(key.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raw = b""
    if len(raw) != 32:
        raise SettingsError(
            "PEBS_IDENTITY_KEY must be Fernet keys (32 bytes, url-safe base64), separated by commas"
        )
