"""Batch scoring of CSV files with the NCI BCRAT (Gail model)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pebs.io.csv_table import CsvChunk
from pebs.io.gail_csv import INPUT_COLUMNS, bcra_inputs
from pebs.risk import gail
from pebs.services.batch_scoring import RowCounts, map_csv

__all__ = ["INPUT_COLUMNS", "OUTPUT_COLUMNS", "ScoringSummary", "output_columns", "score_gail_csv"]

OUTPUT_COLUMNS = ("abs_risk_pct", "avg_risk_pct", "rr_under_50", "rr_50_plus", "error")
"""Columns added to the input: risks in percent, relative risks, reasons for rejection."""


@dataclass
class ScoringSummary(RowCounts):
    """What a scoring run did: every input row is either scored or counted as rejected."""

    @property
    def n_scored(self) -> int:
        return self.n_rows - self.n_rejected

    def add(self, errors: np.ndarray) -> None:
        """Count a chunk from its :class:`~pebs.risk.gail.GailError` flags (0 = scored)."""
        self.count(errors != 0, errors, gail.ERROR_REASONS)


def output_columns(result: gail.GailResult) -> dict[str, np.ndarray]:
    """The :data:`OUTPUT_COLUMNS` of a result (risks NaN, written empty, on rejected rows)."""
    return {
        "abs_risk_pct": result.absolute_risk_pct,
        "avg_risk_pct": result.average_risk_pct,
        "rr_under_50": result.relative_risk.under_50,
        "rr_50_plus": result.relative_risk.from_50,
        "error": result.reasons(),
    }


def score_gail_csv(
    input_path: Path,
    output_path: Path | None,
    *,
    chunk_rows: int = 100_000,
    on_progress: Callable[[int], None] | None = None,
) -> ScoringSummary:
    """Score every row of a BCRA-coded CSV file (:mod:`pebs.io.gail_csv`) and write it with the
    :data:`OUTPUT_COLUMNS`.

    The input is streamed in chunks of ``chunk_rows`` (memory stays bounded for any file size).
    ``output_path`` appears only when the whole file has been scored (``None``: standard output).
    ``on_progress`` receives the number of input bytes read so far after each chunk.

    Raises
    ------
    FileAccessError, InputFormatError
        From :mod:`pebs.io`; no output file is left behind.
    """
    summary = ScoringSummary()

    def score(chunk: CsvChunk) -> dict[str, np.ndarray]:
        result = gail.BCRAT.assess(bcra_inputs(chunk))
        summary.add(result.error)
        return output_columns(result)

    map_csv(
        input_path, output_path, score, output_columns=OUTPUT_COLUMNS,
        numeric_columns=INPUT_COLUMNS, chunk_rows=chunk_rows, on_progress=on_progress,
    )  # fmt: skip
    return summary
