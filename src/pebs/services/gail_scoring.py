"""Batch scoring of CSV files with the NCI BCRAT (Gail model)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pebs.io.csv_table import atomic_text_output, read_csv_chunks, write_csv_chunk
from pebs.io.errors import FileAccessError, InputFormatError
from pebs.risk import gail

INPUT_COLUMNS = ("T1", "T2", "N_Biop", "HypPlas", "AgeMen", "Age1st", "N_Rels", "Race")
"""BCRA's column names; files prepared for the R package work unchanged."""

OUTPUT_COLUMNS = ("abs_risk_pct", "avg_risk_pct", "rr_under_50", "rr_50_plus", "error")
"""Columns added to the input: risks in percent, relative risks, reasons for rejection."""


@dataclass
class ScoringSummary:
    """What a scoring run did: every input row is either scored or counted as rejected."""

    n_rows: int = 0
    n_rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    """Rows carrying each reason (a row can carry several)."""

    @property
    def n_scored(self) -> int:
        return self.n_rows - self.n_rejected

    def add(self, errors: np.ndarray) -> None:
        self.n_rows += errors.size
        self.n_rejected += int(np.count_nonzero(errors))
        for flag, reason in gail.ERROR_REASONS.items():
            count = int(np.count_nonzero(errors & flag))
            if count:
                self.rejected_by_reason[reason] = self.rejected_by_reason.get(reason, 0) + count


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
    chunk_rows: int = 200_000,
    on_progress: Callable[[int], None] | None = None,
) -> ScoringSummary:
    """Score every row of a BCRA-coded CSV file and write it with the :data:`OUTPUT_COLUMNS`.

    The input is streamed in chunks of ``chunk_rows`` (memory stays bounded for any file size).
    ``output_path`` appears only when the whole file has been scored (``None``: standard output).
    ``on_progress`` receives the number of input bytes read so far after each chunk.

    Raises
    ------
    FileAccessError, InputFormatError
        From :mod:`pebs.io`; no output file is left behind.
    """
    input_path = Path(input_path)
    if output_path is not None and Path(output_path).resolve() == input_path.resolve():
        raise FileAccessError(f"{output_path}: the output would overwrite the input file")
    summary = ScoringSummary()
    chunks = read_csv_chunks(input_path, INPUT_COLUMNS, chunk_rows=chunk_rows)
    with atomic_text_output(output_path) as stream:
        for i, chunk in enumerate(chunks):
            if i == 0:
                clashing = [c for c in OUTPUT_COLUMNS if c in chunk.table.columns]
                if clashing:
                    raise InputFormatError(
                        f"{input_path}: already has output column(s) {', '.join(clashing)}; "
                        "rename or remove them first"
                    )
            result = gail.risk_bcra(**{name: chunk.numbers[name] for name in INPUT_COLUMNS})
            summary.add(result.error)
            write_csv_chunk(chunk.table.assign(**output_columns(result)), stream, header=i == 0)
            if on_progress is not None:
                on_progress(chunk.bytes_read)
    return summary
