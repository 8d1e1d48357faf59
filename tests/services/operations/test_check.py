"""``run_checks``: passes on a fresh installation, names the check that fails."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from factories import born_aged
from pebs.services.actor import actor_for
from pebs.services.keys import IdentityKeys
from pebs.services.operations import run_checks
from pebs.services.trial import NewParticipant, generate_allocation_list, register_participant
from pebs.store import IdentityCipher, migrate
from pebs.store.engine import create_engine_for, session_factory

IDENTITY_KEY = IdentityCipher.generate_key()
HMAC_KEY = b"national id hmac key of the tests"
KEYS = IdentityKeys.from_settings_values([IDENTITY_KEY], HMAC_KEY)
IDENTITY_KEYS = "identity keys open stored data"

REQUIRED_DATABASE_CHECKS = (
    "settings",
    "database reachable",
    "migrations current",
    "audit chain intact",
)


def _check(database_url: str | None, keys: IdentityKeys = KEYS):
    return run_checks(database_url=database_url, environment="development", keys=keys)


def _detail(report, name: str) -> str:
    return next(check.detail for check in report.checks if check.name == name)


def test_a_fresh_upgraded_database_qualifies(url: str, backend: str) -> None:
    if backend == "sqlite":
        os.chmod(make_url(url).database, 0o600)
    report = _check(url)
    assert report.ok, report.failed
    statuses = {check.name: check.status for check in report.checks}
    for name in REQUIRED_DATABASE_CHECKS:
        assert statuses[name] == "pass"
    assert statuses["python"] == "pass"
    assert statuses["dependency sqlalchemy"] == "pass"
    assert statuses["study loaded"] == "info"  # none yet: a fact, not a failure
    assert statuses[IDENTITY_KEYS] == "pass"
    assert _detail(report, IDENTITY_KEYS) == "no identities stored yet"
    if backend == "sqlite":
        assert statuses["database file permissions"] == "pass"
    payload = report.as_dict()
    assert payload["ok"] is True
    assert payload["failed"] == []
    assert {"name", "status", "detail", "required"} <= set(payload["checks"][0])


def _break_chain(database_url: str, admin: Engine | None) -> None:
    if admin is None:
        with closing(sqlite3.connect(make_url(database_url).database)) as connection, connection:
            connection.execute("DROP TRIGGER audit_events_no_update")
            connection.execute("UPDATE audit_events SET actor = 'mallory' WHERE id = 5")
        return
    schema = make_url(database_url).query["options"].removeprefix("-csearch_path=")
    with admin.begin() as connection:
        table = f'"{schema}".audit_events'
        connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        connection.execute(text(f"UPDATE {table} SET actor = 'mallory' WHERE id = 5"))


def test_a_broken_audit_chain_fails_the_check(
    loaded_url: str, backend: str, request: pytest.FixtureRequest
) -> None:
    admin = request.getfixturevalue("postgres_admin") if backend == "postgresql" else None
    _break_chain(loaded_url, admin)
    report = _check(loaded_url)
    assert not report.ok
    assert report.failed == ("audit chain intact",)
    detail = next(c.detail for c in report.checks if c.name == "audit chain intact")
    assert "BROKEN at event 5" in detail


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_missing_migration_fails_the_check(url: str) -> None:
    os.chmod(make_url(url).database, 0o600)
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS_DIR))
    previous = ScriptDirectory.from_config(config).get_revision(migrate.head()).down_revision
    assert isinstance(previous, str)
    migrate.downgrade(url, previous)
    report = _check(url)
    assert not report.ok
    assert report.failed == ("migrations current",)
    detail = next(c.detail for c in report.checks if c.name == "migrations current")
    assert f"at {previous}" in detail
    assert "pebs db upgrade" in detail


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_world_readable_database_file_fails(url: str) -> None:
    os.chmod(make_url(url).database, 0o644)
    report = _check(url)
    assert report.failed == ("database file permissions",)


def test_refused_settings_and_a_missing_database_fail_without_creating_it(tmp_path: Path) -> None:
    report = run_checks(
        database_url=None, environment=None, keys=None,
        settings_problem="PEBS_HMAC_KEY is required",
    )  # fmt: skip
    assert report.failed == ("settings", "database reachable")
    missing = tmp_path / "missing.db"
    report = _check(f"sqlite:///{missing}")
    assert "database reachable" in report.failed
    assert not missing.exists()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_altered_allocation_list_fails_the_check(url: str, demo_loader) -> None:
    os.chmod(make_url(url).database, 0o600)
    demo_loader(url, demo_users=True)
    engine = create_engine_for(url)
    try:
        sessions = session_factory(engine)
        statistician = actor_for(sessions, "demo-statistician")
        generate_allocation_list(sessions, statistician, "mypebs-demo", slots_per_stratum=4,
                                 strata=["BE-AN:40-49"])  # fmt: skip
    finally:
        engine.dispose()
    assert _check(url).ok
    with closing(sqlite3.connect(make_url(url).database)) as connection, connection:
        first = connection.execute(
            "SELECT id, arm FROM allocation_slots ORDER BY position LIMIT 1"
        ).fetchone()
        other = connection.execute(
            "SELECT arm FROM allocation_slots WHERE arm != ? LIMIT 1", (first[1],)
        ).fetchone()[0]
        connection.execute("UPDATE allocation_slots SET arm = ? WHERE id = ?", (other, first[0]))
    report = _check(url)
    # Both the list's own check (regenerated from its seed) and the deep verification (its
    # slots against the SHA-256 audited at generation) see it.
    assert report.failed == ("tables match the audit trail", "allocation lists verify")


def _register(database_url: str, keys: IdentityKeys, numbers: range) -> None:
    """Women registered with ``keys``, each with a national ID (the demo's data manager)."""
    engine = create_engine_for(database_url)
    try:
        sessions = session_factory(engine)
        manager = actor_for(sessions, "demo-data-manager")
        for number in numbers:
            new = NewParticipant(site="IT-TO", name=f"Woman {number}", birth_date=born_aged(55),
                                 national_id=f"RSSMRA70A41L219{number}")  # fmt: skip
            register_participant(sessions, manager, keys, "mypebs-demo", new)
    finally:
        engine.dispose()


def test_identities_the_configured_keys_do_not_open_fail_the_check(
    url: str, backend: str, demo_loader
) -> None:
    if backend == "sqlite":
        os.chmod(make_url(url).database, 0o600)
    demo_loader(url, demo_users=True)
    _register(url, KEYS, range(4))
    report = _check(url)
    assert report.ok, report.failed
    assert _detail(report, IDENTITY_KEYS) == (
        "the identity key opens the 4 identities tried (every one stored); "
        "the HMAC key reproduces the 4 national-ID hashes tried"
    )

    other_key = IdentityCipher.generate_key()
    report = _check(url, IdentityKeys.from_settings_values([other_key], HMAC_KEY))
    assert report.failed == (IDENTITY_KEYS,)
    detail = _detail(report, IDENTITY_KEYS)
    assert detail.startswith("the identity key does not open the stored identities: 4 of 4 tried")
    assert "\n" not in detail
    assert other_key not in detail

    report = _check(url, IdentityKeys.from_settings_values([IDENTITY_KEY], b"x" * 32))
    assert report.failed == (IDENTITY_KEYS,)
    assert _detail(report, IDENTITY_KEYS).startswith(
        "the HMAC key does not reproduce the stored national-ID hashes: 4 of 4 tried"
    )

    # A key changed once: the newest are under the new key, the oldest under the old one.
    new_keys = IdentityKeys.from_settings_values([other_key], HMAC_KEY)
    _register(url, new_keys, range(4, 8))
    for keys in (KEYS, new_keys):  # the 3 newest, then the 3 oldest, are not opened
        report = _check(url, keys)
        assert report.failed == (IDENTITY_KEYS,)
        assert _detail(report, IDENTITY_KEYS).startswith(
            "the identity key does not open the stored identities: 3 of 6 tried"
        )
    rotated = IdentityKeys.from_settings_values([other_key, IDENTITY_KEY], HMAC_KEY)
    report = _check(url, rotated)  # both keys configured (a rotation under way) open all
    assert report.ok, report.failed
    assert _detail(report, IDENTITY_KEYS).startswith(
        "the identity key opens the 6 identities tried (the 3 oldest and the 3 newest)"
    )
