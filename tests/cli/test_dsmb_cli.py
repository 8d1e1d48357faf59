"""`pebs dsmb` on a seeded demo database: both reports written, the open one for the data
manager, the closed one refused to her in one line, and reproducible tables from a snapshot."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pebs.cli import main


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "demo.db"
    monkeypatch.setenv("PEBS_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("PEBS_ENVIRONMENT", "development")
    return path


@pytest.mark.slow
def test_dsmb_reports_from_the_command_line(database: Path, tmp_path: Path, capsys) -> None:
    assert main(["db", "upgrade"]) == 0
    assert main(["demo", "seed", "-n", "80", "--today", "2026-06-30"]) == 0
    capsys.readouterr()
    common = ["--study", "mypebs-demo", "--data-cut", "2026-06-30"]
    assert main(["dsmb", "--kind", "open", *common, "-o", str(tmp_path / "open"),
                 "-u", "demo-data-manager"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "DSMB open report of mypebs-demo" in out
    assert "source: live sqlite" in out
    assert (tmp_path / "open" / "report.pdf").read_bytes().startswith(b"%PDF")
    assert main(["dsmb", "--kind", "closed", *common, "-o", str(tmp_path / "refused"),
                 "-u", "demo-data-manager"]) != 0  # fmt: skip
    error = capsys.readouterr().err.strip()
    assert error.startswith("pebs: error: demo-data-manager (data_manager) may not produce")
    assert "\n" not in error
    assert "Traceback" not in error
    assert not (tmp_path / "refused").exists()
    assert main(["study", "lock", "--study", "mypebs-demo", "--user", "demo-data-manager",
                 "-o", str(tmp_path / "locked.sqlite")]) == 0  # fmt: skip
    capsys.readouterr()
    sha256 = hashlib.sha256((tmp_path / "locked.sqlite").read_bytes()).hexdigest()
    for run in ("one", "two"):
        assert main(["dsmb", "--kind", "closed", "--study", "mypebs-demo", "--snapshot",
                     str(tmp_path / "locked.sqlite"), "-o", str(tmp_path / run),
                     "-u", "demo-statistician"]) == 0  # fmt: skip
        out = capsys.readouterr().out
        assert f"sha256 {sha256}" in out
        assert "boundary was" in out or "monitoring not computed: no woman of the" in out
    for path in sorted((tmp_path / "one").iterdir()):
        if path.suffix in (".csv", ".json"):
            assert path.read_bytes() == (tmp_path / "two" / path.name).read_bytes(), path.name
    assert main(["dsmb", "--kind", "closed", "--study", "mypebs-demo", "--snapshot",
                 str(tmp_path / "locked.sqlite"), "--data-cut", "2026-06-30",
                 "-o", str(tmp_path / "x"), "-u", "demo-statistician"]) != 0  # fmt: skip
    assert "give no --data-cut" in capsys.readouterr().err


def test_a_kind_that_does_not_exist_is_a_usage_error(database: Path, capsys) -> None:
    code = main(["dsmb", "--kind", "secret", "--study", "mypebs-demo", "-o", "x", "-u", "u"])
    assert code == 2
    assert "'secret' is not one of 'open', 'closed'" in capsys.readouterr().err
