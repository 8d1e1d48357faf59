"""The declarative table of the deep verification is consistent: every rule names a known table
and only fields that table compares, and every table's query gives the key and those fields."""

from __future__ import annotations

import pytest

from pebs.services.operations._audited_tables import RULES, TABLES

_TABLES = {table.name: table for table in TABLES}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.entity}/{r.actions}->{r.table}")
def test_each_rule_sets_fields_its_table_compares(rule) -> None:
    assert rule.table in _TABLES
    compared = set(_TABLES[rule.table].fields)
    assert set(rule.sets) <= compared
    assert set(rule.sets_on_create) <= compared


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_each_table_reads_its_key_and_fields(table) -> None:
    columns = set(table.rows().selected_columns.keys())
    assert "key" in columns
    derived = {"identity_sha256", "has_national_id"} if table.derive is not None else set()
    assert set(table.fields) <= columns | derived
    assert set(table.initial) <= set(table.fields)
    if table.implicit:  # rows made in bulk are compared on their initial values
        assert table.initial
