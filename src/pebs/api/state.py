"""What the app holds while it runs: database sessions, keys and the authentication policy.

Built by the lifespan from the settings (nothing at import time), kept in ``app.state.pebs``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from pebs.config import Settings
from pebs.services.auth import AuthPolicy
from pebs.services.trial import Database, IdentityKeys, open_database
from pebs.store.engine import session_factory

__all__ = ["SESSION_COOKIE", "ApiState", "build_state", "policy_from_settings"]

SESSION_COOKIE = "pebs_session"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class ApiState:
    database: Database
    writers: sessionmaker[Session]
    readers: sessionmaker[Session]
    """Read-only sessions (SQLite: no writer lock) for authentication lookups."""
    keys: IdentityKeys
    policy: AuthPolicy
    cookie_secure: bool

    def close(self) -> None:
        self.database.close()


def policy_from_settings(settings: Settings) -> AuthPolicy:
    """The :class:`AuthPolicy` of ``PEBS_SESSION_*``, ``PEBS_LOGIN_*`` and the secret key."""
    return AuthPolicy.from_settings_values(
        settings.secret_key.get_secret_value(),
        idle_minutes=settings.session_idle_minutes,
        absolute_hours=settings.session_absolute_hours,
        max_failures=settings.login_max_failures,
        window_minutes=settings.login_window_minutes,
    )


def build_state(settings: Settings, policy: AuthPolicy | None = None) -> ApiState:
    """Open the database (:class:`DatabaseNotReady` if not migrated) and build the keys."""
    database = open_database(settings.database_url)
    secure = settings.cookie_secure
    if secure is None:
        secure = settings.environment == "production"
    return ApiState(
        database=database,
        writers=database.sessions,
        readers=session_factory(database.engine, read_only=True),
        keys=IdentityKeys.from_settings_values(settings.identity_keys(), settings.hmac_key_bytes()),
        policy=policy or policy_from_settings(settings),
        cookie_secure=secure,
    )
