"""What the app holds while it runs: database sessions, keys and the authentication policy.

Built by the lifespan from the settings (nothing at import time), kept in ``app.state.pebs``.
This is the one place where the HTTP side wires the database engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from pebs.config import Settings
from pebs.services.auth import AuthPolicy
from pebs.services.keys import IdentityKeys
from pebs.services.trial import Database, open_database
from pebs.store.engine import session_factory
from pebs.store.group_commit import GroupCommit

__all__ = ["AppState", "build_state", "https_only", "policy_from_settings"]


@dataclass(frozen=True)
class AppState:
    database: Database
    writers: sessionmaker[Session]
    """Writing use cases. On SQLite a :class:`GroupCommit`: concurrent requests' use cases are
    savepoints of a shared transaction and share its durable commit (each answered after it);
    PostgreSQL groups concurrent commits itself (``commit_delay``)."""
    readers: sessionmaker[Session]
    """Read-only sessions (SQLite: no writer lock) for authentication lookups."""
    keys: IdentityKeys
    policy: AuthPolicy
    cookie_secure: bool
    """Cookies carry ``Secure`` (:func:`https_only`)."""
    data_dir: Path = Path("pebs-data")
    """``PEBS_DATA_DIR``: where the server writes files (a locked study's snapshot)."""

    def close(self) -> None:
        self.database.close()


def https_only(settings: Settings) -> bool:
    """Whether the site is served over HTTPS only: ``PEBS_COOKIE_SECURE`` if set, else whether
    ``PEBS_ENVIRONMENT`` is ``production``. Cookies are then ``Secure`` and responses carry HSTS.
    """
    if settings.cookie_secure is None:
        return settings.environment == "production"
    return settings.cookie_secure


def policy_from_settings(settings: Settings) -> AuthPolicy:
    """The :class:`AuthPolicy` of ``PEBS_SESSION_*``, ``PEBS_LOGIN_*`` and the secret key."""
    return AuthPolicy.from_settings_values(
        settings.secret_key.get_secret_value(),
        idle_minutes=settings.session_idle_minutes,
        absolute_hours=settings.session_absolute_hours,
        max_failures=settings.login_max_failures,
        window_minutes=settings.login_window_minutes,
    )


def build_state(settings: Settings, policy: AuthPolicy | None = None) -> AppState:
    """Open the database (:class:`DatabaseNotReady` if not migrated) and build the keys."""
    database = open_database(settings.database_url)
    writers: sessionmaker[Session] = database.sessions
    if database.engine.dialect.name == "sqlite":
        writers = GroupCommit(database.sessions)  # type: ignore[assignment]  # stands in for one
    return AppState(
        database=database,
        writers=writers,
        readers=session_factory(database.engine, read_only=True),
        keys=IdentityKeys.from_settings_values(settings.identity_keys(), settings.hmac_key_bytes()),
        policy=policy or policy_from_settings(settings),
        cookie_secure=https_only(settings),
        data_dir=settings.data_dir,
    )
