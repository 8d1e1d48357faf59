"""Set-ups shared by the test suites: the demo study's constants, a cheap password hasher, and
a demo database with accounts, allocation lists and participants made through the services.

Imported by name (``from factories import ELIGIBLE``): pytest puts ``tests/`` on ``sys.path``
(``pythonpath`` in ``pyproject.toml``), and child processes started with ``spawn`` inherit it.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from pebs.config import Settings
from pebs.services.actor import Actor, actor_for
from pebs.services.auth import AuthPolicy, provision_demo_accounts
from pebs.services.auth.passwords import hash_password
from pebs.services.auth.totp import new_secret
from pebs.services.keys import IdentityKeys
from pebs.services.transaction import local_date
from pebs.services.trial import (
    NewParticipant,
    assess_eligibility,
    generate_allocation_list,
    load_study_config,
    open_database,
    override_allocation,
    record_consent,
    register_participant,
)
from pebs.store import migrate
from pebs.store.audit import ADVISORY_LOCK_KEY
from pebs.store.models import Site, User
from pebs.trial.study import load_study

STUDY = "mypebs-demo"
"""The demo study shipped with pebs."""
AT = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
"""An instant at which the demo study's protocol 2.0 and every consent document are in force."""

ELIGIBLE: dict[str, bool] = {
    "history_breast_cancer": False,
    "history_atypical_lesion": False,
    "history_lcis": False,
    "chest_irradiation": False,
    "high_penetrance_mutation": False,
    "bilateral_mastectomy": False,
    "abnormality_under_workup": False,
    "able_to_consent": True,
    "understands_study_language": True,
    "health_coverage": True,
}
"""MyPeBS eligibility (ClinicalTrials.gov NCT03672331): every criterion of the questionnaire with
the answer that keeps a woman in the study."""

CONSENT_LANGUAGE = {"IT": "it", "FR": "fr", "IL": "he", "BE": "nl", "UK": "en", "ES": "es"}
"""Country -> the first language of its consent documents in the demo study."""

DEMO_ACCOUNTS = {
    "site_staff": "demo-site-staff",
    "site_investigator": "demo-site-investigator",
    "country_coordinator": "demo-country-coordinator",
    "data_manager": "demo-data-manager",
    "statistician": "demo-statistician",
    "monitor": "demo-monitor",
    "administrator": "demo-administrator",
    "laboratory": "demo-laboratory",
}
"""Role -> the demo account of that role (site roles work at IT-TO, the coordinator for IT, the
laboratory with no site and no country)."""

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
"""argon2id with cheap parameters (the production ones take ~0.3 s per hash): same algorithm and
code path."""
SECRET_KEY = "t" * 40
"""``PEBS_SECRET_KEY`` of the demo databases' settings."""


def born_aged(years: int) -> date:
    """A date of birth giving ``years`` completed years today (15 January)."""
    today = date.today()
    if today >= date(today.year, 1, 15):
        return date(today.year - years, 1, 15)
    return date(today.year - years - 1, 1, 15)


@functools.cache
def _demo_time_zones() -> dict[str, str]:
    """Site code -> her country's IANA time zone, as the demo study file gives them."""
    study = load_study(STUDY)
    zones = {country.code: country.time_zone for country in study.countries}
    return {site.code: zones[site.country] for site in study.sites}


def site_today(site: str = "IT-TO") -> date:
    """Today's date at a site of the demo study (its country's time zone), as the services judge
    a woman's dates; also for tests with no demo database at hand (command-line tests on their
    own files, request tables built before a database exists)."""
    return local_date(datetime.now(UTC), _demo_time_zones()[site])


@dataclass
class DemoDatabase:
    """A migrated database with the demo study, its demo accounts and allocation lists."""

    settings: Settings
    keys: IdentityKeys
    policy: AuthPolicy
    sessions: sessionmaker[Session]
    close: Callable[[], None]
    logins: dict[str, tuple[str, str]]
    """Username -> (password, TOTP secret) of the demo accounts."""
    _numbers: Iterator[int] = field(default_factory=itertools.count)

    @property
    def manager(self) -> Actor:
        return actor_for(self.sessions, DEMO_ACCOUNTS["data_manager"])

    def new_user(self, role: str, *, totp: bool = True) -> tuple[str, str, str | None]:
        """A new account of ``role`` with the demo account's scope (a role without a demo
        account: no site, no country): (username, password, TOTP secret, ``None`` without
        ``totp``)."""
        username = f"t-{role}-{next(self._numbers)}"
        password = f"pw-{username}-long"
        secret = new_secret() if totp else None
        with self.sessions.begin() as session:
            site_id = country_id = None
            if role in DEMO_ACCOUNTS:
                model = session.scalar(select(User).where(User.username == DEMO_ACCOUNTS[role]))
                assert model is not None
                site_id, country_id = model.site_id, model.country_id
            session.add(User(
                username=username, full_name=username, role=role, site_id=site_id,
                country_id=country_id, password_hash=hash_password(FAST_HASHER, password),
                totp_secret_enc=None if secret is None else self.keys.cipher.encrypt_text(secret),
            ))  # fmt: skip
        return username, password, secret

    def today(self, site: str = "IT-TO") -> date:
        """Today's date at ``site``: the services judge a woman's dates in her country's time
        zone, which is a day ahead of UTC's date late in the UTC evening (:func:`site_today`:
        this database holds the demo study)."""
        return site_today(site)

    def participant(self, site: str = "IT-TO", state: str = "registered") -> str:
        """A new woman aged 55 at ``site`` taken through the services to ``state``: registered,
        eligible, consented, or an arm (standard, risk-based: allocated by an override)."""
        manager = self.manager
        new = NewParticipant(site=site, name="Test Woman", birth_date=born_aged(55))
        study_id = register_participant(self.sessions, manager, self.keys, STUDY, new).study_id
        if state == "registered":
            return study_id
        assess_eligibility(self.sessions, manager, self.keys, study_id, ELIGIBLE)
        if state == "eligible":
            return study_id
        record_consent(self.sessions, manager, study_id, language=CONSENT_LANGUAGE[site[:2]])
        if state == "consented":
            return study_id
        override_allocation(self.sessions, manager, self.keys, study_id, arm=state,
                            reason="test set-up", confirm=True)  # fmt: skip
        return study_id


def demo_database(url: str, *, slots_per_stratum: int = 40, seed: int = 11) -> DemoDatabase:
    """Migrate the database at ``url``, load the demo study with its demo accounts, and generate
    allocation lists (``slots_per_stratum``, ``seed``) for the 50-59 age band of every site."""
    migrate.upgrade(url)
    settings = Settings(database_url=url, secret_key=SECRET_KEY, cookie_secure=False,
                        data_dir=Path(tempfile.mkdtemp(prefix="pebs-data-")))  # fmt: skip
    keys = IdentityKeys.from_settings_values(settings.identity_keys(), settings.hmac_key_bytes())
    policy = AuthPolicy(secret=b"c" * 32, hasher=FAST_HASHER, max_failures=1000)
    database = open_database(url)
    sessions = database.sessions
    system = Actor.system("test")
    load_study_config(sessions, system, STUDY, demo_users=True)
    logins = provision_demo_accounts(sessions, system, keys.cipher, policy, STUDY)
    with sessions() as session:
        strata = [f"{code}:50-59" for code in session.scalars(select(Site.code))]
    generate_allocation_list(sessions, actor_for(sessions, DEMO_ACCOUNTS["statistician"]), STUDY,
                             slots_per_stratum=slots_per_stratum, seed=seed,
                             strata=strata)  # fmt: skip
    return DemoDatabase(settings, keys, policy, sessions, database.close,
                        {x.username: (x.password, x.totp_secret) for x in logins})  # fmt: skip


ODM_SCHEMA = Path(__file__).parent / "data" / "odm" / "ODM1-3-2.xsd"
"""The official CDISC ODM 1.3.2 schema (``tests/data/odm/PROVENANCE.md``)."""


def odm_schema() -> Any:
    """The ODM 1.3.2 schema as an ``lxml.etree.XMLSchema`` (no network: every import is local)."""
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(ODM_SCHEMA)))


@contextlib.contextmanager
def lock_held_elsewhere(url: str) -> Iterator[None]:
    """Another process holds what a write needs while the block runs: SQLite's writer lock
    (``BEGIN IMMEDIATE`` on its own connection), or PostgreSQL's audit chain lock (every use case
    takes it before its audit event, after its own rows)."""
    if make_url(url).get_backend_name() == "sqlite":
        holder = sqlite3.connect(make_url(url).database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.rollback()
            holder.close()
        return
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    try:
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": ADVISORY_LOCK_KEY})  # fmt: skip
            yield
    finally:
        engine.dispose()
