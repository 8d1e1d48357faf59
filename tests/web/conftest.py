"""Fixtures: the whole site (API + pages) on a real SQLite file with the demo study, demo
accounts, allocation lists, and helpers that log in through the login *form*.

One database per test module. Every login uses a new account (with its own TOTP secret), since a
TOTP code is accepted once per account and 30-second step. ``prepare_database`` is reused by the
browser tests (``tests/e2e``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pyotp
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pebs.config import Settings
from pebs.services.auth import AuthPolicy, provision_demo_accounts
from pebs.services.auth.passwords import hash_password
from pebs.services.trial import (
    Actor,
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
from pebs.store.models import Site, User
from pebs.web import create_site

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
"""Role -> the demo account whose role and scope new test accounts copy (site roles: IT-TO)."""
OWN_SITE, OTHER_SITE = "IT-TO", "FR-PA"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
ELIGIBLE = {
    "history_breast_cancer": False, "history_atypical_lesion": False, "history_lcis": False,
    "chest_irradiation": False, "high_penetrance_mutation": False,
    "bilateral_mastectomy": False, "abnormality_under_workup": False, "able_to_consent": True,
    "understands_study_language": True, "health_coverage": True,
}  # fmt: skip
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def born_aged(years: int) -> date:
    """A date of birth giving ``years`` completed years today (15 January)."""
    today = date.today()
    if today >= date(today.year, 1, 15):
        return date(today.year - years, 1, 15)
    return date(today.year - years - 1, 1, 15)


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = _CSRF.search(html)
    assert match is not None, "no csrf_token field on the page"
    return match.group(1)


@dataclass
class Prepared:
    """A migrated database with the demo study, demo accounts and allocation lists."""

    settings: Settings
    keys: IdentityKeys
    policy: AuthPolicy
    sessions: sessionmaker[Session]
    close: object
    logins: dict[str, tuple[str, str]]
    """Username -> (password, TOTP secret) of the demo accounts."""
    _numbers: Iterator[int] = field(default_factory=itertools.count)

    @property
    def manager(self) -> Actor:
        return actor_for(self.sessions, ROLES["data_manager"])

    def new_user(self, role: str) -> tuple[str, str, str]:
        """A new account of ``role`` with the demo account's scope: (username, password, secret)."""
        username = f"w-{role}-{next(self._numbers)}"
        password = f"pw-{username}-long"
        secret = pyotp.random_base32()
        with self.sessions.begin() as session:
            model = session.scalar(select(User).where(User.username == ROLES[role]))
            assert model is not None
            session.add(User(
                username=username, full_name=username, role=role, site_id=model.site_id,
                country_id=model.country_id, password_hash=hash_password(FAST_HASHER, password),
                totp_secret_enc=self.keys.cipher.encrypt_text(secret),
            ))  # fmt: skip
        return username, password, secret

    def participant(self, site: str = OWN_SITE, state: str = "registered") -> str:
        """A new participant at ``site`` taken to ``state`` through the services."""
        manager = self.manager
        new = NewParticipant(site=site, name="Web Test Woman", birth_date=born_aged(55),
                             national_id=None)  # fmt: skip
        study_id = register_participant(self.sessions, manager, self.keys, STUDY, new).study_id
        if state == "registered":
            return study_id
        assess_eligibility(self.sessions, manager, self.keys, study_id, ELIGIBLE)
        if state == "eligible":
            return study_id
        record_consent(self.sessions, manager, study_id,
                       language={"IT": "it", "FR": "fr"}[site[:2]])  # fmt: skip
        if state == "consented":
            return study_id
        override_allocation(self.sessions, manager, self.keys, study_id, arm=state,
                            reason="test set-up", confirm=True)  # fmt: skip
        return study_id


def prepare_database(url: str, *, slots_per_stratum: int = 40) -> Prepared:
    """Migrate ``url``, load the demo study with its accounts and generate allocation lists for
    the 50-59 age band of every site."""
    migrate.upgrade(url)
    settings = Settings(database_url=url, secret_key="w" * 40, cookie_secure=False)
    keys = IdentityKeys.from_settings_values(settings.identity_keys(), settings.hmac_key_bytes())
    policy = AuthPolicy(secret=b"c" * 32, hasher=FAST_HASHER, max_failures=1000)
    database = open_database(url)
    sessions = database.sessions
    system = Actor.system("web-tests")
    load_study_config(sessions, system, STUDY, demo_users=True)
    logins = provision_demo_accounts(sessions, system, keys.cipher, policy, STUDY)
    with sessions() as session:
        strata = [f"{code}:50-59" for code in session.scalars(select(Site.code))]
    generate_allocation_list(sessions, actor_for(sessions, ROLES["statistician"]), STUDY,
                             slots_per_stratum=slots_per_stratum, seed=11,
                             strata=strata)  # fmt: skip
    return Prepared(settings, keys, policy, sessions, database.close,
                    {x.username: (x.password, x.totp_secret) for x in logins})  # fmt: skip


@dataclass
class WebSite:
    client: TestClient
    db: Prepared
    csrf = staticmethod(csrf_of)

    def login(self, role: str, *, with_code: bool = True) -> str:
        """Log a new account of ``role`` in through the login form (cookies stay in the
        client); returns the username."""
        username, password, secret = self.db.new_user(role)
        self.client.cookies.clear()
        page = self.client.get("/login")
        assert page.status_code == 200
        code = pyotp.TOTP(secret).at(datetime.now(UTC)) if with_code else ""
        response = self.client.post("/login", data={
            "csrf_token": csrf_of(page.text), "username": username, "password": password,
            "totp_code": code, "next": "/"}, follow_redirects=False)  # fmt: skip
        assert response.status_code == 303, response.text
        self.secret = secret
        return username

    def post_form(self, path: str, data: dict[str, str], *, page: str | None = None):
        """GET ``page`` (default ``path``) for its CSRF token, then POST ``data`` to ``path``."""
        form_page = self.client.get(page or path)
        assert form_page.status_code == 200, form_page.text
        return self.client.post(path, data={"csrf_token": csrf_of(form_page.text), **data},
                                follow_redirects=False)  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebSite]:
    db = prepare_database(f"sqlite:///{tmp_path_factory.mktemp('web') / 'pebs.db'}")
    app = create_site(db.settings, auth_policy=db.policy)
    with TestClient(app) as client:
        yield WebSite(client, db)
    db.close()  # type: ignore[operator]
