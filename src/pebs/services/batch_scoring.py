"""One runner for scoring a CSV file chunk by chunk (``pebs risk gail``, ``pebs risk assess``).

:func:`map_csv` streams the input in chunks (memory stays bounded for any file size), adds the
columns that a scoring function computes for each chunk to the input's columns, and writes the
output so that it appears only when every row has been scored. :class:`RowCounts` counts every
row as kept or rejected, by reason: no row is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pebs.io.atomic import atomic_output
from pebs.io.csv_columns import write_columns
from pebs.io.csv_table import CsvChunk, read_csv_chunks, returned_memory
from pebs.io.errors import FileAccessError, InputFormatError


@dataclass
class RowCounts:
    """Rows seen and rejected, and how many rows carry each reason (a row can carry several)."""

    n_rows: int = 0
    n_rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)

    def count(self, rejected: np.ndarray, error: np.ndarray, reasons: Mapping[int, str]) -> None:
        """Count a chunk: ``rejected`` (n,) True for rows without a result; ``error`` (n,) the
        model's flags, each set flag counted under its sentence in ``reasons``."""
        self.n_rows += rejected.size
        self.n_rejected += int(np.count_nonzero(rejected))
        for flag, reason in reasons.items():
            self.add_reason(reason, int(np.count_nonzero(error & flag)))

    def add_reason(self, reason: str, count: int) -> None:
        """Count ``count`` more rows rejected for ``reason`` (nothing when 0)."""
        if count:
            self.rejected_by_reason[reason] = self.rejected_by_reason.get(reason, 0) + count


def refuse_overwrite(input_path: Path, output_path: Path | None) -> None:
    """:class:`~pebs.io.errors.FileAccessError` if ``output_path`` is the input file."""
    if output_path is not None and Path(output_path).resolve() == Path(input_path).resolve():
        raise FileAccessError(f"{output_path}: the output would overwrite the input file")


def map_csv(
    input_path: Path,
    output_path: Path | None,
    score: Callable[[CsvChunk], Mapping[str, np.ndarray]],
    *,
    output_columns: Sequence[str],
    numeric_columns: Sequence[str] = (),
    text_columns: Sequence[str] = (),
    chunk_rows: int,
    check_columns: Callable[[Sequence[str]], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> None:
    """Write ``input_path`` with the ``output_columns`` that ``score(chunk)`` returns.

    ``numeric_columns`` and ``text_columns`` must exist (:func:`~pebs.io.csv_table.
    read_csv_chunks`); ``check_columns`` may refuse the header (its column names) further. The
    input's columns are written back as they came, the added ones after them
    (:func:`~pebs.io.csv_columns.write_columns`: floats in shortest round-trip form).
    ``output_path`` appears only when the whole file has been scored (``None``: standard
    output). ``on_progress`` receives the number of input bytes read so far after each chunk.

    Raises
    ------
    FileAccessError, InputFormatError
        From :mod:`pebs.io`; also when the output would overwrite the input or the input already
        has one of the output columns. No output file is left behind.
    """
    input_path = Path(input_path)
    refuse_overwrite(input_path, output_path)
    chunks = read_csv_chunks(input_path, numeric_columns, chunk_rows, text_columns=text_columns)
    with returned_memory(), atomic_output(output_path) as stream:
        for i, chunk in enumerate(chunks):
            names = chunk.text.column_names
            if i == 0:
                clashing = [c for c in output_columns if c in names]
                if clashing:
                    raise InputFormatError(
                        f"{input_path}: already has output column(s) {', '.join(clashing)}; "
                        "rename or remove them first"
                    )
                if check_columns is not None:
                    check_columns(names)
            write_columns(stream, score(chunk), header=i == 0, carried=chunk)
            if on_progress is not None:
                on_progress(chunk.bytes_read)
