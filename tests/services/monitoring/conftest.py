"""Fixtures: the demo study on SQLite and PostgreSQL, with accounts of the monitoring roles."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from factories import DEMO_ACCOUNTS, DemoDatabase, demo_database
from pebs.services.actor import Actor, actor_for
from pebs.services.auth.totp import code_at


@dataclass
class Signer:
    actor: Actor
    password: str
    secret: str

    def code(self) -> str:
        return code_at(self.secret, datetime.now(UTC))


@pytest.fixture
def db(empty_url: str) -> Iterator[DemoDatabase]:
    database = demo_database(empty_url, slots_per_stratum=4)
    yield database
    database.close()


@pytest.fixture
def monitor(db: DemoDatabase) -> Actor:
    return actor_for(db.sessions, DEMO_ACCOUNTS["monitor"])


@pytest.fixture
def investigator(db: DemoDatabase) -> Signer:
    """A site investigator of IT-TO (the demo site roles' site), with her password and TOTP."""
    username, password, secret = db.new_user("site_investigator")
    assert secret is not None
    return Signer(actor_for(db.sessions, username), password, secret)
