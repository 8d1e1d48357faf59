"""``pebs participants import`` on a SQLite file with the demo study: counts per step, the outcome
file, and one-line refusals (the import itself is tested on both databases in
tests/services/trial)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from factories import ELIGIBLE
from pebs.cli import main

MANAGER = "demo-data-manager"
HEADER = ["site", "name", "birth_date", "registered_at", *(f"eligibility.{c}" for c in ELIGIBLE),
          "consented_at"]  # fmt: skip
ANSWERS = ["yes" if ok else "no" for ok in ELIGIBLE.values()]


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "pebs.db"
    monkeypatch.setenv("PEBS_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("PEBS_ENVIRONMENT", "development")
    assert main(["db", "upgrade"]) == 0
    assert main(["study", "load", "mypebs-demo", "--demo-users"]) == 0
    return path


def test_import_prints_counts_and_writes_one_outcome_per_row(database, tmp_path, capsys) -> None:
    at = "2025-03-03T10:00:00+01:00"
    source = tmp_path / "women.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerow(["IT-TO", "Anna Example", "1970-01-15", at, *ANSWERS, at])
        writer.writerow(["FR-PA", "Claire Example", "1968-06-01", at, *ANSWERS, ""])
        writer.writerow(["IT-TO", "Paola Example", "15/01/1970", at, *ANSWERS, at])
    outcomes = tmp_path / "outcomes.csv"
    capsys.readouterr()
    code = main(["participants", "import", str(source), "--study", "mypebs-demo",
                 "--user", MANAGER, "-o", str(outcomes)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0
    assert "pebs: 3 rows" in err
    assert "reached consent" in err
    assert "refused at read: birth_date" in err
    with outcomes.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["line"], r["reached"], r["status"]) for r in rows] == [
        ("2", "consent", "consented"),
        ("3", "eligibility", "eligible"),
        ("4", "", ""),
    ]
    assert rows[0]["study_id"].startswith("IT-TO-")
    assert rows[2]["refused_field"] == "birth_date"


def test_an_unusable_file_is_one_line_and_exit_65(database, tmp_path, capsys) -> None:
    source = tmp_path / "women.csv"
    source.write_text("site,name,birth_date,shoe_size\n", encoding="utf-8")
    capsys.readouterr()
    code = main(["participants", "import", str(source), "--study", "mypebs-demo",
                 "--user", MANAGER])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 65
    assert "unknown columns shoe_size" in err
    assert "Traceback" not in err


def test_lists_from_the_command_line_let_the_import_allocate_and_plan(
    database, tmp_path, capsys
) -> None:
    assert main(["study", "lists", "mypebs-demo", "--slots", "4", "--stratum", "IT-TO:50-59",
                 "-u", "demo-statistician"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "allocation list 1 of mypebs-demo" in out
    assert "seed (for the sealed record only)" in out
    at = "2025-03-03T10:00:00+01:00"
    source = tmp_path / "women.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*HEADER, "allocated_at", "n_biopsies", "age_at_menarche",
                         "age_at_first_birth", "n_relatives", "density", "prs_z"])  # fmt: skip
        for _ in range(3):
            writer.writerow(["IT-TO", "Anna Example", "1972-05-10", at, *ANSWERS, at, at,
                             "0", "13", "nulliparous", "0", "b", "-0.2"])  # fmt: skip
    outcomes = tmp_path / "outcomes.csv"
    assert main(["participants", "import", str(source), "--study", "mypebs-demo",
                 "--user", MANAGER, "-o", str(outcomes)]) == 0  # fmt: skip
    with outcomes.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["reached"] for r in rows] == ["plan"] * 3
    for row in rows:
        assert (row["risk_level"] != "") == (row["arm"] == "risk-based")


def test_lists_need_a_statistician(database, capsys) -> None:
    code = main(["study", "lists", "mypebs-demo", "--slots", "4", "-u", MANAGER])
    assert code == 77
    assert "Traceback" not in capsys.readouterr().err


def test_pebs_import_dry_run_stores_nothing_and_a_second_import_skips(
    database, tmp_path, capsys
) -> None:
    source = tmp_path / "women.csv"
    source.write_text("source_id,site,name,birth_date\nX1,IT-TO,Anna Example,1970-01-15\n",
                      encoding="utf-8")  # fmt: skip
    command = ["import", "--format", "csv", str(source), "--study", "mypebs-demo", "-u", MANAGER]
    capsys.readouterr()
    assert main([*command, "--dry-run"]) == 0
    assert "dry run, nothing stored" in capsys.readouterr().err
    assert main(command) == 0
    assert "1  reached register" in capsys.readouterr().err
    assert main(command) == 0
    assert "1  already stored, skipped" in capsys.readouterr().err
    assert main(["import", "--format", "odm", str(source), "--study", "mypebs-demo",
                 "-u", MANAGER]) == 65  # fmt: skip
    assert "identities" in capsys.readouterr().err
