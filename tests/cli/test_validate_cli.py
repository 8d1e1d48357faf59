"""`pebs validate`: tables, output files, --json, and one-line errors with exit codes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from pebs.cli import main

HEADER = (
    "id,age,n_biopsies,atypical_hyperplasia,age_menarche,age_first_birth,"
    "n_first_degree_relatives,density,follow_up_years,event"
)
ROWS = (
    "A,45,0,,13,25,0,b,5,0\n"
    "B,52,1,no,12,nulliparous,1,c,2.5,1\n"
    "C,61,0,,14,31,2,d,6,1\n"
    "D,70,2,yes,11,,0,a,3,0\n"
    "E,66,0,,13,22,1,,5,1\n"
    "F,38,0,,13,25,0,b,5,0\n"
)


def write(tmp_path: Path, text: str, name: str = "cohort.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_tables_and_files_with_compare(tmp_path, capsys):
    source = write(tmp_path, f"{HEADER}\n{ROWS}")
    out = tmp_path / "validation"
    code = main(["validate", str(source), "--country", "FR", "--compare", "gail", "-o", str(out)])
    assert code == 0
    captured = capsys.readouterr()
    assert "E/O by age band" in captured.out
    assert "E/O by decile of 5-year risk" in captured.out
    assert "Reclassification" in captured.out
    assert "NRI of personalised over gail" in captured.out
    assert "6 rows: 5 scored by personalised, 1 rejected" in captured.err
    assert "6 rows: 6 scored by gail, 0 rejected" in captured.err
    assert "3 events, 1 of them after 5 years (not counted)" in captured.err
    assert sorted(p.name for p in out.iterdir()) == [
        "calibration.png", "calibration.svg", "eo_by_age.csv", "eo_by_decile.csv",
        "reclassification.csv", "summary.json",
    ]  # fmt: skip
    with (out / "reclassification.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 16  # 4 x 4 MyPeBS levels
    assert list(rows[0])[:2] == ["level_gail", "level_personalised"]
    assert sum(int(r["n_women"]) for r in rows) == 5  # the women both models scored
    assert sum(int(r["n_events"]) for r in rows) == 2  # B and E (C's event is after 5 years)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["models"]["personalised"]["observed"] == 2
    assert summary["comparison"]["reference"] == "gail"


def test_a_progress_bar_only_on_a_terminal(tmp_path, capsys, monkeypatch):
    source = write(tmp_path, f"{HEADER}\n{ROWS}")
    assert main(["validate", str(source), "--country", "FR"]) == 0
    assert "validating" not in capsys.readouterr().err  # not a terminal: no bar
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich: behave as on a terminal
    assert main(["validate", str(source), "--country", "FR", "--chunk-rows", "2"]) == 0
    err = capsys.readouterr().err
    assert "validating" in err
    size = source.stat().st_size
    assert f"{size}/{size} bytes" in err  # the bar reached the whole file


def test_json_on_standard_output_without_files(tmp_path, capsys):
    source = write(tmp_path, f"{HEADER}\n{ROWS}")
    assert main(["validate", str(source), "-c", "FR", "--model", "gail", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert list(document["models"]) == ["gail"]
    assert document["models"]["gail"]["n_scored"] == 6
    assert "comparison" not in document
    assert not (tmp_path / "validation").exists()


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        (HEADER.replace(",event", "") + "\nA,45,0,,13,25,0,b,5\n", 65, "missing column(s) event"),
        (f"{HEADER}\nA,45,0,,13,25,0,b,-1,0\n", 65, "line 2: column 'follow_up_years' has '-1'"),
        (f"{HEADER}\nA,45,0,,13,25,0,b,5,2\n", 65, "line 2: column 'event' has '2'"),
        (f"{HEADER}\nA,45,0,,13,25,0,z,5,0\n", 65, "column 'density' has 'z'"),
        (f"{HEADER}\nA,30,0,,13,25,0,b,5,0\n", 65, "no row could be scored by personalised"),
    ],
)
def test_unusable_input_is_one_line_with_its_exit_code(tmp_path, capsys, text, code, message):
    source = write(tmp_path, text)
    out = tmp_path / "validation"
    assert main(["validate", str(source), "--country", "FR", "-o", str(out)]) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("pebs: error: ")
    assert message in err[0]
    assert not out.exists()


def test_missing_file_and_unknown_country(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "none.csv"), "--country", "FR"]) == 74
    source = write(tmp_path, f"{HEADER}\n{ROWS}")
    assert main(["validate", str(source), "--country", "XX"]) == 65
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("pebs: error: ")
    assert "none.csv" in err[0]
    assert err[1].startswith("pebs: error: country: unknown code 'XX'")


@pytest.mark.parametrize(
    "options", [["--model", "gail", "--compare", "gail"], ["--model", "tyrer-cuzick"]]
)
def test_bad_options_are_usage_errors(tmp_path, options):
    source = write(tmp_path, f"{HEADER}\n{ROWS}")
    assert main(["validate", str(source), "--country", "FR", *options]) == 2
