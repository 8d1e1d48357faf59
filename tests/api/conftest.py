"""Fixtures: the API on a real SQLite file with the demo study, demo logins, allocation lists
and one API token per role (made through the real login and token routes).

One database per test module (``api``): the authorisation matrix makes hundreds of requests,
each on fresh participants where it writes, so sharing the database costs nothing in isolation.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient  # Starlette 1.x: needs httpx2 (a test extra)
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pebs.api import create_app
from pebs.config import Settings
from pebs.services.auth import AuthPolicy, provision_demo_accounts
from pebs.services.auth.passwords import hash_password
from pebs.services.auth.totp import code_at, new_secret
from pebs.services.trial import (
    Actor,
    GeneratedList,
    IdentityKeys,
    NewParticipant,
    actor_for,
    assess_eligibility,
    generate_allocation_list,
    load_study_config,
    open_database,
    override_allocation,
    record_consent,
    register_participant,
)
from pebs.store import migrate
from pebs.store.models import AllocationSlot, Site, User

STUDY = "mypebs-demo"
ROLES = {
    "site_staff": "demo-site-staff",
    "site_investigator": "demo-site-investigator",
    "country_coordinator": "demo-country-coordinator",
    "data_manager": "demo-data-manager",
    "statistician": "demo-statistician",
    "monitor": "demo-monitor",
    "administrator": "demo-administrator",
}
SITES = {"own": "IT-TO", "same_country": "IT-MI", "other_country": "FR-PA"}
"""Objects of the matrix: the site roles' own site (IT-TO, the coordinator's country IT), another
site of the same country, a site of another country."""
LANGUAGE = {"IT": "it", "FR": "fr"}
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
ELIGIBLE = {
    "history_breast_cancer": False, "history_atypical_lesion": False, "history_lcis": False,
    "chest_irradiation": False, "high_penetrance_mutation": False,
    "bilateral_mastectomy": False, "abnormality_under_workup": False, "able_to_consent": True,
    "understands_study_language": True, "health_coverage": True,
}  # fmt: skip


def born_aged(years: int) -> date:
    today = date.today()
    return date(today.year - years, 1, 15) if today >= date(today.year, 1, 15) else date(
        today.year - years - 1, 1, 15)  # fmt: skip


@dataclass
class Api:
    client: TestClient
    settings: Settings
    sessions: sessionmaker[Session]
    keys: IdentityKeys
    policy: AuthPolicy
    passwords: dict[str, str]
    secrets: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)
    """Role -> bearer API token."""
    _numbers: Iterator[int] = field(default_factory=itertools.count)

    STUDY = STUDY
    ROLES = ROLES
    SITES = SITES

    def bearer(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    @property
    def manager(self) -> Actor:
        return actor_for(self.sessions, ROLES["data_manager"])

    def participant(self, obj: str, state: str = "registered") -> str:
        """A new participant at the object's site, taken to ``state`` through the services."""
        site = SITES[obj]
        manager = self.manager
        new = NewParticipant(site=site, name="Test Woman", birth_date=born_aged(55))
        study_id = register_participant(self.sessions, manager, self.keys, STUDY, new).study_id
        if state == "registered":
            return study_id
        assess_eligibility(self.sessions, manager, self.keys, study_id, ELIGIBLE)
        if state == "eligible":
            return study_id
        record_consent(self.sessions, manager, study_id, language=LANGUAGE[site[:2]])
        if state == "consented":
            return study_id
        arm = {"standard": "standard", "risk_based": "risk-based"}[state]
        override_allocation(self.sessions, manager, self.keys, study_id, arm=arm,
                            reason="test set-up", confirm=True)  # fmt: skip
        return study_id

    def training_list(self, obj: str, slots: int = 4) -> GeneratedList:
        """A new test/training list for the object's site (age band 50-59), as the statistician
        generates it through the service (its seed is in the result)."""
        statistician = actor_for(self.sessions, ROLES["statistician"])
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
        username = f"t-{role}-{next(self._numbers)}"
        password = f"pw-{username}-long"
        secret = new_secret() if totp else None
        with self.sessions.begin() as session:
            model = session.scalar(select(User).where(User.username == ROLES[role]))
            session.add(User(
                username=username, full_name=username, role=role, site_id=model.site_id,
                country_id=model.country_id, password_hash=hash_password(FAST_HASHER, password),
                totp_secret_enc=None if secret is None else self.keys.cipher.encrypt_text(secret),
            ))  # fmt: skip
        return username, password, secret

    def login(self, username: str, password: str, secret: str | None) -> dict[str, str]:
        """Log in through the API; the cookie stays in the client. Returns the CSRF header."""
        from datetime import UTC, datetime

        code = None if secret is None else code_at(secret, datetime.now(UTC))
        response = self.client.post("/api/v1/auth/login", json={
            "username": username, "password": password, "totp_code": code})  # fmt: skip
        assert response.status_code == 200, response.text
        return {"X-CSRF-Token": response.json()["csrf_token"]}


def make_api(url: str) -> Iterator[Api]:
    """The API on the empty database at ``url``, set up as the module docstring says."""
    migrate.upgrade(url)
    settings = Settings(database_url=url, secret_key="t" * 40, cookie_secure=False)
    keys = IdentityKeys.from_settings_values(settings.identity_keys(), settings.hmac_key_bytes())
    policy = AuthPolicy(secret=b"c" * 32, hasher=FAST_HASHER, max_failures=1000)
    database = open_database(url)
    sessions = database.sessions
    system = Actor.system("test")
    load_study_config(sessions, system, STUDY, demo_users=True)
    logins = provision_demo_accounts(sessions, system, keys.cipher, policy, STUDY)
    with sessions() as session:
        strata = [f"{code}:50-59" for code in session.scalars(select(Site.code))]
    generate_allocation_list(sessions, actor_for(sessions, ROLES["statistician"]), STUDY,
                             slots_per_stratum=200, seed=7, strata=strata)  # fmt: skip
    app = create_app(settings, auth_policy=policy)
    with TestClient(app) as client:
        api = Api(client, settings, sessions, keys, policy,
                  {x.username: x.password for x in logins},
                  {x.username: x.totp_secret for x in logins})  # fmt: skip
        for role, username in ROLES.items():
            csrf = api.login(username, api.passwords[username], api.secrets[username])
            response = client.post("/api/v1/auth/tokens", json={"name": "tests"}, headers=csrf)
            assert response.status_code == 201, response.text
            api.tokens[role] = response.json()["token"]
            client.cookies.clear()
        yield api
    database.close()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from make_api(f"sqlite:///{tmp_path_factory.mktemp('api') / 'pebs.db'}")


@pytest.fixture
def api_on_each_database(empty_url: str) -> Iterator[Api]:
    """The API on a new SQLite file and a new PostgreSQL schema (``backend`` parameter)."""
    yield from make_api(empty_url)
