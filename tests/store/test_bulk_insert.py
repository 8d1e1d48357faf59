"""Many rows in one go (PostgreSQL: COPY), stored as an INSERT of each would store them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Boolean, Column, Date, Engine, MetaData, Table, insert, select

from pebs.store.bulk_insert import insert_rows
from pebs.store.models import AuditEvent

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)

PROBE = Table(
    "bulk_probe",
    MetaData(),
    *(Column(c.name, c.type, primary_key=c.primary_key) for c in AuditEvent.__table__.columns),
    Column("flag", Boolean),
    Column("day", Date),
)
"""The audit table's columns and types (text, JSON, an instant), a boolean and a date; without
the audit table's chain check."""


@pytest.fixture
def probe(engine: Engine) -> Engine:
    PROBE.create(engine)
    return engine


def _rows(first_id: int, n: int) -> list[dict]:
    """Rows with every kind of value: text with tabs, backslashes, quotes and new lines (COPY's
    own escapes), JSON with nested values and COPY's null marker in a string, nulls, instants,
    booleans and dates."""
    return [
        {
            "id": first_id + k, "at": AT + timedelta(minutes=k), "actor": "dm",
            "action": "create", "entity": "visit", "entity_id": f"{k}",
            "reason": None if k % 2 else "a\ttab, a \\backslash\\, \"quotes\",\nand a new line",
            "old": None if k % 3 else {"n": k, "nested": {"list": [1, "two", None]}},
            "new": {"on": date(2025, 1, 1 + k % 28).isoformat(), "text": "é \\N \\."},
            "prev_hash": f"{k:064x}", "hash": f"{k + 1:064x}",
            "flag": None if k % 5 == 0 else k % 2 == 0, "day": date(2026, 1, 1 + k % 28),
        }
        for k in range(n)
    ]  # fmt: skip


def _stored(engine: Engine, ids: range) -> list[tuple]:
    with engine.connect() as connection:
        query = select(PROBE).where(PROBE.c.id.in_(list(ids))).order_by(PROBE.c.id)
        return [tuple(row) for row in connection.execute(query)]


@pytest.mark.parametrize("n", [3, 40])  # below and above the rows worth a COPY
def test_rows_are_stored_as_an_insert_stores_them(probe: Engine, n: int) -> None:
    with probe.begin() as connection:
        insert_rows(connection, PROBE, _rows(1, n))
        connection.execute(insert(PROBE), _rows(1001, n))  # the reference
    bulk, plain = _stored(probe, range(1, 1 + n)), _stored(probe, range(1001, 1001 + n))
    assert len(bulk) == n
    assert [row[1:] for row in bulk] == [row[1:] for row in plain]  # all but the id
    assert bulk[1][6] is None
    assert bulk[0][6] == 'a\ttab, a \\backslash\\, "quotes",\nand a new line'
    assert bulk[0][7] == {"n": 0, "nested": {"list": [1, "two", None]}}
    assert bulk[0][8]["text"] == "é \\N \\."
    assert bulk[0][1] == AT
    assert [row[11] for row in bulk[:3]] == [None, False, True]


@pytest.mark.parametrize("n", [3, 40])
def test_rows_that_give_different_columns_are_refused_and_nothing_is_stored(
    probe: Engine, n: int
) -> None:
    missing, extra = _rows(1, n), _rows(1, n)
    del missing[-1]["reason"]
    extra[-1]["unknown"] = 1  # an INSERT of the first row's columns would drop it unseen
    for rows in (missing, extra):
        with probe.begin() as connection, pytest.raises(ValueError, match="same columns"):
            insert_rows(connection, PROBE, rows)
    assert _stored(probe, range(1, n + 1)) == []


def test_no_rows_is_nothing(probe: Engine) -> None:
    with probe.begin() as connection:
        insert_rows(connection, PROBE, [])
    assert _stored(probe, range(1, 10)) == []
