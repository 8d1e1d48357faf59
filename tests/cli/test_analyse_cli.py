"""`pebs analyse` on a seeded demo database: the outputs, the counts in results.json against a
direct SQL count, a lock snapshot's SHA-256, and one-line refusals."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from pebs.cli import main

STAGE_II_PLUS = "('IIA', 'IIB', 'IIIA', 'IIIB', 'IIIC', 'IV')"  # AJCC 8th anatomic groups


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "demo.db"
    monkeypatch.setenv("PEBS_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("PEBS_ENVIRONMENT", "development")
    return path


@pytest.mark.slow
def test_analyse_the_demo_live_and_locked(database: Path, tmp_path: Path, capsys) -> None:
    assert main(["db", "upgrade"]) == 0
    assert main(["demo", "seed", "-n", "200", "--today", "2026-06-30"]) == 0
    capsys.readouterr()
    out = tmp_path / "live"
    assert main(["analyse", "--study", "mypebs-demo", "-o", str(out), "--user",
                 "demo-statistician", "--data-cut", "2026-06-30"]) == 0  # fmt: skip
    assert "source: live sqlite" in capsys.readouterr().out
    for name in ("results.json", "primary.csv", "tests.csv", "secondary.csv", "cancers.csv",
                 "time_to_event.csv", "cumulative_incidence.png", "cumulative_incidence.svg",
                 "consort.svg", "report.html"):  # fmt: skip
        assert (out / name).stat().st_size > 0, name
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    with sqlite3.connect(database) as connection:
        expected = dict(connection.execute(f"""
            SELECT a.arm, COUNT(DISTINCT o.participant_id) FROM outcomes o
            JOIN allocations a ON a.participant_id = o.participant_id
            WHERE o.behaviour = 'invasive' AND o.stage_group IN {STAGE_II_PLUS}
              AND o.participant_id NOT IN (SELECT participant_id FROM consents
                                           WHERE withdrawal_level = 'withdraw_data_use')
            GROUP BY a.arm""").fetchall())  # fmt: skip
        n_cancers = connection.execute("""
            SELECT COUNT(*) FROM outcomes WHERE participant_id NOT IN (
                SELECT participant_id FROM consents WHERE withdrawal_level = 'withdraw_data_use')
        """).fetchone()[0]  # fmt: skip
    itt = results["primary"]["intention_to_treat"]["arms"]
    assert {arm: a["events"] for arm, a in itt.items() if a["events"]} == expected
    assert sum(r["n"] for r in results["cancers"]) == n_cancers
    assert results["time_to_event"]["arms"]["standard"]["times"]  # curves are not empty
    assert main(["study", "lock", "--study", "mypebs-demo", "--user", "demo-data-manager",
                 "-o", str(tmp_path / "locked.sqlite")]) == 0  # fmt: skip
    capsys.readouterr()
    sha256 = hashlib.sha256((tmp_path / "locked.sqlite").read_bytes()).hexdigest()
    locked = ["--snapshot", str(tmp_path / "locked.sqlite")]
    assert main(["analyse", "--study", "mypebs-demo", "-o", str(tmp_path / "locked"), "--user",
                 "demo-statistician", *locked]) == 0  # fmt: skip
    assert f"sha256 {sha256}" in capsys.readouterr().out
    report = (tmp_path / "locked" / "report.html").read_text(encoding="utf-8")
    assert sha256 in report


def test_refusals_are_one_line(database: Path, tmp_path: Path, capsys) -> None:
    assert main(["db", "upgrade"]) == 0
    assert main(["study", "load", "mypebs-demo", "--demo-users"]) == 0
    capsys.readouterr()
    base = ["analyse", "--study", "mypebs-demo", "-o", str(tmp_path / "out")]
    assert main([*base, "--user", "demo-data-manager"]) == 77  # EX_NOPERM
    err = capsys.readouterr().err
    assert "may not run the trial's statistical analysis; allowed roles: statistician" in err
    assert err.count("\n") == 1
    assert main([*base, "--user", "demo-statistician", "--data-cut", "30/06/2026"]) == 65
    assert "--data-cut: '30/06/2026' is not a date YYYY-MM-DD" in capsys.readouterr().err
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello", encoding="utf-8")
    assert main([*base, "--user", "demo-statistician", "--snapshot", str(not_sqlite)]) == 65
    assert "snapshot: notes.txt is not a SQLite snapshot" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
