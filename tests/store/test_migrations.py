"""Migrations: upgrade -> downgrade -> upgrade on an empty database, and schema == models."""

from __future__ import annotations

import re

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import CheckConstraint, Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from pebs.store import migrate
from pebs.store.engine import create_engine_for
from pebs.store.models import Base

MODEL_TABLES = set(Base.metadata.tables)


def _tables(url: str) -> set[str]:
    engine = create_engine_for(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_url: str) -> None:
    assert migrate.current(empty_url) is None
    assert _tables(empty_url) == set()

    migrate.upgrade(empty_url)
    assert migrate.current(empty_url) == migrate.head()
    assert migrate.is_current(empty_url)
    assert _tables(empty_url) == MODEL_TABLES | {"alembic_version"}

    migrate.downgrade(empty_url, "base")
    assert migrate.current(empty_url) is None
    assert _tables(empty_url) == {"alembic_version"}

    migrate.upgrade(empty_url)
    assert migrate.current(empty_url) == migrate.head()
    assert _tables(empty_url) == MODEL_TABLES | {"alembic_version"}


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def _literals(sql: str) -> tuple[set[str], set[str]]:
    """Quoted strings and whole numbers of a CHECK expression (dialect-independent parts)."""
    strings = set(re.findall(r"'((?:[^']|'')*)'", sql))
    numbers = set(re.findall(r"(?<![\w'])\d+(?![\w'])", re.sub(r"'(?:[^']|'')*'", "", sql)))
    return strings, numbers


def test_check_constraints_match_the_models(engine: Engine) -> None:
    """Autogenerate does not compare CHECK constraints: compare names and allowed values.

    The models take enumerations from the core (pathway states, stage groups, ...), the migration
    holds literal copies: this catches a core change that needs a new migration.
    """
    inspector = inspect(engine)
    for table in Base.metadata.sorted_tables:
        expected = {
            c.name: _literals(str(c.sqltext))
            for c in table.constraints
            if isinstance(c, CheckConstraint)
        }
        found = {
            c["name"]: _literals(c["sqltext"]) for c in inspector.get_check_constraints(table.name)
        }
        assert found == expected, table.name


def test_audit_events_are_append_only_in_the_database(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_events (id, at, actor, action, entity, prev_hash, hash) "
                "VALUES (1, :at, 'a', 'b', 'c', :prev, :hash)"
            ),
            {"at": "2025-01-01 00:00:00", "prev": "0" * 64, "hash": "1" * 64},
        )
    for statement in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text("TRUNCATE audit_events"))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT actor FROM audit_events")).scalar_one() == "a"


_INSERT_EVENT = text(
    "INSERT INTO audit_events (id, at, actor, action, entity, prev_hash, hash) "
    "VALUES (:id, '2025-01-01 00:00:00', 'a', 'b', 'c', :prev, :hash)"
)


def _event_refused(engine: Engine, event_id: int, prev: str, hash_: str) -> bool:
    try:
        with engine.begin() as connection:
            connection.execute(_INSERT_EVENT, {"id": event_id, "prev": prev, "hash": hash_})
    except DBAPIError:
        return True
    return False


def test_the_database_refuses_an_audit_event_not_linked_to_the_one_before(engine: Engine) -> None:
    """Without the application's lock: a fork, a gap or a wrong first link is refused."""
    genesis, first, second = "0" * 64, "1" * 64, "2" * 64
    assert _event_refused(engine, 1, "9" * 64, first)  # event 1 follows the genesis hash
    assert not _event_refused(engine, 1, genesis, first)
    assert _event_refused(engine, 3, first, second)  # event 2 is missing
    assert _event_refused(engine, 2, genesis, second)  # not the hash of event 1
    assert not _event_refused(engine, 2, first, second)
    assert _event_refused(engine, 2, first, "3" * 64)  # a second event after event 1
    assert _event_refused(engine, 3, first, "3" * 64)  # event 3 following event 1: a fork
    with engine.begin() as connection:  # several rows of one statement, each linked in turn
        connection.execute(_INSERT_EVENT, [
            {"id": 3, "prev": second, "hash": "3" * 64},
            {"id": 4, "prev": "3" * 64, "hash": "4" * 64},
        ])  # fmt: skip
    assert _event_refused(engine, 5, "3" * 64, "5" * 64)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, prev_hash FROM audit_events ORDER BY id"))
        assert [(row.id, row.prev_hash[0]) for row in rows] == [
            (1, "0"), (2, "1"), (3, "2"), (4, "3")
        ]  # fmt: skip


def test_sqlite_migration_checks_foreign_keys(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'pebs.db'}"
    migrate.upgrade(url)
    engine = create_engine_for(url, sqlite_foreign_keys=False)
    with engine.begin() as connection:  # a dangling reference, as a bad data fix might leave
        connection.execute(
            text(
                "INSERT INTO sites (id, country_id, code, name, recruitment_target, "
                "last_sequence, is_active) VALUES (1, 99, 'GR', 'x', 0, 0, 1)"
            )
        )
    engine.dispose()
    with pytest.raises(migrate.MigrationError, match="foreign-key violation"):
        migrate.upgrade(url)  # nothing to migrate, but the check still runs
