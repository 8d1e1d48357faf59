"""Fixtures: the authentication services on SQLite *and* PostgreSQL, with demo logins.

The database fixtures come from ``tests/conftest.py``. Passwords are hashed with
:data:`factories.FAST_HASHER` (cheap argon2id parameters, same algorithm and code path).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from factories import FAST_HASHER, STUDY
from pebs.services.actor import Actor
from pebs.services.auth import AuthPolicy, DemoLogin, provision_demo_accounts
from pebs.services.auth.totp import code_at
from pebs.services.trial import load_study_config
from pebs.store.crypto import IdentityCipher
from pebs.store.engine import session_factory
from pebs.store.models import AuditEvent

T0 = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)


@dataclass
class Auth:
    """A database with the demo study and its demo logins provisioned at ``T0``."""

    sessions: sessionmaker[Session]
    readers: sessionmaker[Session]
    cipher: IdentityCipher
    policy: AuthPolicy
    logins: dict[str, DemoLogin]

    def code(self, username: str, at: datetime) -> str:
        return code_at(self.logins[username].totp_secret, at)

    def events(self, action: str | None = None) -> list[AuditEvent]:
        with self.sessions() as session:
            query = select(AuditEvent).order_by(AuditEvent.id)
            if action is not None:
                query = query.where(AuditEvent.action == action)
            return list(session.scalars(query))


def make_policy(**overrides: Any) -> AuthPolicy:
    values: dict[str, Any] = {
        "secret": b"s" * 32,
        "idle": timedelta(minutes=30),
        "absolute": timedelta(hours=12),
        "max_failures": 3,
        "first_delay": timedelta(seconds=1),
        "max_delay": timedelta(minutes=15),
        "hasher": FAST_HASHER,
    }
    values.update(overrides)
    return AuthPolicy(**values)


@pytest.fixture
def auth(session_maker: sessionmaker[Session], engine) -> Auth:
    load_study_config(session_maker, Actor.system("test"), STUDY, demo_users=True)
    cipher = IdentityCipher([IdentityCipher.generate_key()])
    policy = make_policy()
    logins = provision_demo_accounts(
        session_maker, Actor.system("test"), cipher, policy, STUDY, at=T0 - timedelta(hours=1)
    )
    readers = session_factory(engine, read_only=True)
    return Auth(session_maker, readers, cipher, policy, {x.username: x for x in logins})
