"""Fixtures: the API on a real SQLite file with the demo study, demo logins, allocation lists
and one API token per role (made through the real login and token routes).

One database per test module (``api``): the authorisation matrix makes hundreds of requests,
each on fresh participants where it writes, so sharing the database costs nothing in isolation.
The database itself is :func:`factories.demo_database`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient  # Starlette 1.x: needs httpx2 (a test extra)
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from factories import DEMO_ACCOUNTS, STUDY, DemoDatabase, demo_database
from pebs.api import create_app
from pebs.config import Settings
from pebs.services.actor import actor_for
from pebs.services.auth import AuthPolicy
from pebs.services.auth.totp import code_at
from pebs.services.trial import GeneratedList, generate_allocation_list
from pebs.store.models import AllocationSlot

SITES = {"own": "IT-TO", "same_country": "IT-MI", "other_country": "FR-PA"}
"""Objects of the matrix: the site roles' own site (IT-TO, the coordinator's country IT), another
site of the same country, a site of another country."""
ARMS = {"standard": "standard", "risk_based": "risk-based"}
"""Participant state of the matrix -> the arm she is allocated to."""


@dataclass
class Api:
    client: TestClient
    db: DemoDatabase
    tokens: dict[str, str] = field(default_factory=dict)
    """Role -> bearer API token."""

    STUDY = STUDY
    ROLES = DEMO_ACCOUNTS
    SITES = SITES

    @property
    def settings(self) -> Settings:
        return self.db.settings

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self.db.sessions

    @property
    def policy(self) -> AuthPolicy:
        return self.db.policy

    def client_with_identity_key(self, key: str) -> TestClient:
        """A client of the same database served with identity key ``key`` (a new one opens none
        of the stored identities); use it as a context manager."""
        settings = self.settings.model_copy(update={"identity_key": SecretStr(key)})
        return TestClient(create_app(settings, auth_policy=self.policy))

    def bearer(self, role: str) -> dict[str, str]:
        """The header of the demo account of ``role`` (every role has one)."""
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def participant(self, obj: str, state: str = "registered") -> str:
        """A new participant at the object's site, taken to ``state`` through the services."""
        return self.db.participant(SITES[obj], ARMS.get(state, state))

    def training_list(self, obj: str, slots: int = 4) -> GeneratedList:
        """A new test/training list for the object's site (age band 50-59), as the statistician
        generates it through the service (its seed is in the result)."""
        statistician = actor_for(self.sessions, DEMO_ACCOUNTS["statistician"])
        return generate_allocation_list(self.sessions, statistician, STUDY, slots_per_stratum=slots,
                                        strata=[f"{SITES[obj]}:50-59"], is_test=True)  # fmt: skip

    def slot_ids(self, list_id: int) -> list[int]:
        """The ids of a list's slots, in position order (read from the database)."""
        with self.sessions() as session:
            return list(session.scalars(
                select(AllocationSlot.id).where(AllocationSlot.allocation_list_id == list_id)
                .order_by(AllocationSlot.position)))  # fmt: skip

    def new_user(self, role: str, *, totp: bool = True) -> tuple[str, str, str | None]:
        """A new account of ``role`` (scope as the demo user's): (username, password, secret)."""
        return self.db.new_user(role, totp=totp)

    def login(self, username: str, password: str, secret: str | None) -> dict[str, str]:
        """Log in through the API; the cookie stays in the client. Returns the CSRF header."""
        code = None if secret is None else code_at(secret, datetime.now(UTC))
        response = self.client.post("/api/v1/auth/login", json={
            "username": username, "password": password, "totp_code": code})  # fmt: skip
        assert response.status_code == 200, response.text
        return {"X-CSRF-Token": response.json()["csrf_token"]}


def make_api(url: str) -> Iterator[Api]:
    """The API on the empty database at ``url``, set up as the module docstring says."""
    db = demo_database(url, slots_per_stratum=200, seed=7)
    app = create_app(db.settings, auth_policy=db.policy)
    with TestClient(app) as client:
        api = Api(client, db)
        for role, username in DEMO_ACCOUNTS.items():
            csrf = api.login(username, *db.logins[username])
            response = client.post("/api/v1/auth/tokens", json={"name": "tests"}, headers=csrf)
            assert response.status_code == 201, response.text
            api.tokens[role] = response.json()["token"]
            client.cookies.clear()
        yield api
    db.close()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from make_api(f"sqlite:///{tmp_path_factory.mktemp('api') / 'pebs.db'}")


@pytest.fixture
def api_on_each_database(empty_url: str) -> Iterator[Api]:
    """The API on a new SQLite file and a new PostgreSQL schema (``backend`` parameter)."""
    yield from make_api(empty_url)
