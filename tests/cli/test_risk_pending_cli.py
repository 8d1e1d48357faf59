"""``pebs risk pending`` on a SQLite file with the demo study and 40 demo women. The use case is
tested on SQLite and PostgreSQL in tests/services/trial/test_risk_completion.py."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pebs.cli import main

MANAGER = "demo-data-manager"
STAFF = "demo-site-staff"  # IT-TO


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Path:
    path = tmp_path / "pending.db"
    monkeypatch.setenv("PEBS_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("PEBS_ENVIRONMENT", "development")
    assert main(["db", "upgrade"]) == 0
    assert main(["demo", "seed", "-n", "40", "--today", "2025-03-03"]) == 0
    capsys.readouterr()
    return path


def _unassessed(path: Path, site: str | None = None) -> set[str]:
    """Risk-based women with no risk assessment, read from the tables."""
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT p.study_id, s.code FROM participants p JOIN sites s ON s.id = p.site_id "
            "WHERE p.status = 'randomised_risk_based' AND NOT EXISTS (SELECT 1 FROM "
            "risk_assessments r WHERE r.participant_id = p.id)"
        ).fetchall()
    return {study_id for study_id, code in rows if site is None or code == site}


def _missing(path: Path) -> dict[str, str]:
    """What each risk-based woman without an assessment misses, read from the tables."""
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT p.study_id, "
            "EXISTS (SELECT 1 FROM risk_questionnaires q WHERE q.participant_id = p.id), "
            "EXISTS (SELECT 1 FROM visits v WHERE v.participant_id = p.id AND v.visit_type = "
            "'screening' AND v.performed_date IS NOT NULL AND v.density IS NOT NULL), "
            "EXISTS (SELECT 1 FROM genotype_results g JOIN samples k ON k.id = g.sample_id "
            "WHERE k.participant_id = p.id AND g.status = 'accepted') "
            "FROM participants p WHERE p.status = 'randomised_risk_based' AND NOT EXISTS "
            "(SELECT 1 FROM risk_assessments r WHERE r.participant_id = p.id)"
        ).fetchall()
    names = ("questionnaire", "baseline density", "PRS")
    return {study_id: "; ".join(name for name, has in zip(names, found, strict=True) if not has)
            for study_id, *found in rows}  # fmt: skip


def test_the_pending_women_are_listed_with_what_they_wait_for(database: Path, capsys) -> None:
    expected = _unassessed(database)
    assert expected, "the demo seed has risk-based women not assessed yet"
    assert main(["risk", "pending", "-u", MANAGER, "--on", "2025-03-03"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"pebs: {len(expected)} women with their risk pending on 2025-03-03"
    listed = {line.split()[0] for line in lines[1:]}
    assert listed == expected
    missing = _missing(database)
    for line in lines[1:]:  # the PRS is followed by where her kit is
        assert f"missing: {missing[line.split()[0]]}" in line
    kinds = {kind for text in missing.values() for kind in text.split("; ")}
    assert kinds == {"questionnaire", "baseline density", "PRS"}  # the demo misses each input

    assert main(["risk", "pending", "-u", STAFF, "--site", "IT-TO", "--on", "2025-03-03"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert {line.split()[0] for line in lines[1:]} == _unassessed(database, "IT-TO")


def test_a_bad_day_is_refused(database: Path, capsys) -> None:
    assert main(["risk", "pending", "-u", MANAGER, "--on", "3 March"]) != 0
    assert "--on" in capsys.readouterr().err
