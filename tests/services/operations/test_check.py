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

from pebs.services.actor import actor_for
from pebs.services.operations import run_checks
from pebs.services.trial import generate_allocation_list
from pebs.store import migrate
from pebs.store.engine import create_engine_for, session_factory

REQUIRED_DATABASE_CHECKS = (
    "settings",
    "database reachable",
    "migrations current",
    "audit chain intact",
)


def _check(database_url: str | None, **extra):
    return run_checks(database_url=database_url, environment="development", **extra)


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
        database_url=None, environment=None, settings_problem="PEBS_HMAC_KEY is required"
    )
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
