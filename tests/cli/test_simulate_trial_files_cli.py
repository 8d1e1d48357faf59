"""``pebs simulate SCENARIO --trial-files -o DIR``: the files, the counts beside the simulator's,
and one-line refusals."""

from __future__ import annotations

import json
from pathlib import Path

from pebs.cli import main


def test_a_trial_scenario_written_as_import_files(tmp_path: Path, capsys) -> None:
    out = tmp_path / "files"
    assert main(["simulate", "mypebs-trial", "--trial-files", "-o", str(out),
                 "--women", "300", "--seed", "4"]) == 0  # fmt: skip
    printed = capsys.readouterr()
    assert "records agree with the simulator's totals" in printed.err
    assert "not written: screens without a cancer found" in printed.out
    for name in ("women.csv", "visits.csv", "diagnoses.csv", "trial_files.json"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "trial_files.json").read_text(encoding="utf-8"))
    assert summary["study"] == "mypebs-demo"
    assert summary["records_agree_with_simulator"] is True
    lines = (out / "women.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + 300


def test_refusals_are_one_line(tmp_path: Path, capsys) -> None:
    out = ["-o", str(tmp_path / "x")]
    assert main(["simulate", "us-benchmark", "--trial-files", *out]) == 65
    assert "us-benchmark has no [trial] table" in capsys.readouterr().err
    assert main(["simulate", "mypebs-trial", "--trial-files", "--study", "nosuch", *out]) == 65
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["simulate", "mypebs-trial", "--trial-files", "--replicates", "2", *out]) == 2
    assert "not with --trial-files" in capsys.readouterr().err
    assert main(["simulate", "mypebs-trial", "--trial-files"]) == 2
    assert not (tmp_path / "x").exists()
