"""Batch scoring service: progress reporting, interruption, counting rejected rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from pebs.cli import main
from pebs.services import gail_scoring

REFERENCE = Path(__file__).parents[1] / "data" / "bcra_reference_sample.csv"


def test_progress_reaches_the_file_size(tmp_path):
    seen: list[int] = []
    gail_scoring.score_gail_csv(
        REFERENCE, tmp_path / "out.csv", chunk_rows=1000, on_progress=seen.append
    )
    assert len(seen) == 7  # 6,688 rows in chunks of 1,000
    assert seen == sorted(seen)
    assert seen[-1] == REFERENCE.stat().st_size


def test_interrupt_during_a_chunk_removes_the_partial_file(tmp_path):
    def stop(_done: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        gail_scoring.score_gail_csv(
            REFERENCE, tmp_path / "out.csv", chunk_rows=500, on_progress=stop
        )
    assert list(tmp_path.iterdir()) == []


def test_every_row_is_scored_or_counted(tmp_path):
    summary = gail_scoring.score_gail_csv(REFERENCE, tmp_path / "out.csv", chunk_rows=700)
    assert summary.n_rows == 6688
    # R rejects 212 rows (Error_Ind = 1); pebs also rejects the two documented N_Biop cases
    # (-1 and 1.5).
    assert summary.n_rejected == 212 + 2
    assert summary.n_scored == 6688 - 214
    assert sum(summary.rejected_by_reason.values()) >= summary.n_rejected


def test_progress_bar_on_a_terminal(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("TTY_INTERACTIVE", "1")
    assert main(["risk", "gail", str(REFERENCE), "-o", str(tmp_path / "out.csv")]) == 0
    err = capsys.readouterr().err
    assert "scoring" in err  # the bar's label, drawn on the terminal (stderr)
    assert "6,688 rows" in err
