"""Files of a simulation run: summary CSV and JSON, and per-woman records as Parquet.

- :func:`write_summary_csv`: one row per (strategy, outcome) from
  :meth:`pebs.sim.SimulationResult.rows` (mean, 2.5th and 97.5th percentiles and standard error
  over replicates, of the total and per 1,000 women);
- :func:`write_json`: any JSON-ready document (the run settings and summaries);
- :class:`RecordsWriter`: a picklable chunk function that writes the per-woman records of each
  chunk to its own Parquet file (``replicate=R/part-<first woman>.parquet``, a Hive-partitioned
  dataset) on whichever machine simulates the chunk, and returns the chunk's totals. Memory stays
  that of one chunk however many women are simulated. Read the dataset with
  ``pyarrow.dataset.dataset(directory, partitioning="hive")`` (or pandas/polars/duckdb).

Every file is written through a temporary name and renamed at the end, so an interrupted run
leaves no file that looks complete.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pebs.io.atomic import write_atomically
from pebs.io.csv_writer import write_csv_rows
from pebs.io.errors import FileAccessError
from pebs.sim import ChunkTask, ChunkTotals, chunk_records

SUMMARY_COLUMNS = (
    "scenario", "strategy", "outcome", "n_replicates",
    "total_mean", "total_low", "total_high", "total_se",
    "per_1000_mean", "per_1000_low", "per_1000_high", "per_1000_se",
)  # fmt: skip
"""Columns of the summary CSV (``low``/``high``: 2.5th/97.5th percentiles over replicates)."""


def write_rows_csv(
    path: Path, rows: Sequence[Mapping[str, object]], columns: Sequence[str] | None = None
) -> Path:
    """Write dict rows as CSV (columns: ``columns``, default the first row's keys); return it.

    Every row must have every column (other keys are ignored). Written by
    :func:`pebs.io.csv_writer.write_csv_rows`: floats with ``repr`` precision (exact round trip),
    NaN as ``nan``, text that a spreadsheet would run as a formula neutralised.
    """
    if columns is None:
        if not rows:
            raise ValueError("rows: nothing to write and no columns given")
        columns = list(rows[0])
    for i, row in enumerate(rows):
        missing = [c for c in columns if c not in row]
        if missing:
            raise ValueError(f"rows[{i}]: missing columns {missing}; expected {list(columns)}")

    def write(handle):
        write_csv_rows(handle, ([row[c] for c in columns] for row in rows), header=columns)

    return write_atomically(path, write)


def write_summary_csv(path: Path, rows: Sequence[Mapping[str, object]]) -> Path:
    """Write :meth:`pebs.sim.SimulationResult.rows` as CSV with :data:`SUMMARY_COLUMNS`."""
    return write_rows_csv(path, rows, SUMMARY_COLUMNS)


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_json(path: Path, document: Mapping) -> Path:
    """Write ``document`` as indented JSON (NaN as ``NaN``, as Python's json does); return it."""
    return write_atomically(
        path, lambda handle: json.dump(document, handle, indent=2, default=_json_default)
    )


def part_path(directory: Path, task: ChunkTask) -> Path:
    """Parquet file of one chunk: ``directory/replicate=R/part-<start, 12 digits>.parquet``."""
    return Path(directory) / f"replicate={task.replicate}" / f"part-{task.start:012d}.parquet"


def records_table(records: Mapping[str, np.ndarray], countries: Sequence[str]):
    """A ``pyarrow.Table`` of per-woman records; ``country`` becomes its code (dictionary)."""
    import pyarrow as pa

    columns = {}
    sizes = {name: np.shape(values) for name, values in records.items()}
    lengths = {shape[0] if len(shape) == 1 else -1 for shape in sizes.values()}
    if len(lengths) != 1 or -1 in lengths:
        raise ValueError(f"records: expected equal-length 1-d arrays, got shapes {sizes}")
    for name, values in records.items():
        if name == "country":
            codes = pa.array(list(countries), pa.string())
            columns[name] = pa.DictionaryArray.from_arrays(pa.array(values, pa.int8()), codes)
        else:
            columns[name] = pa.array(values)
    return pa.table(columns)


def write_records(path: Path, records: Mapping[str, np.ndarray], countries: Sequence[str]) -> Path:
    """Write one chunk's per-woman records to ``path`` (Parquet, zstd); return the path."""
    import pyarrow.parquet as pq

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FileAccessError(f"{path}: cannot be written ({error.strerror})") from None
    table = records_table(records, countries)
    return write_atomically(
        path, lambda stream: pq.write_table(table, stream, compression="zstd"), binary=True
    )


@dataclass(frozen=True)
class RecordsWriter:
    """Chunk function that also writes the chunk's per-woman records (picklable, for workers).

    ``RecordsWriter(simulate, directory)(task)`` writes :func:`part_path` and returns
    ``simulate(task)``. The records come from :func:`pebs.sim.chunk_records`, which simulates the
    chunk a second time: a run with records costs about twice as much. ``directory`` must be
    reachable from every worker (a shared file system on a cluster).
    """

    simulate: Callable[[ChunkTask], ChunkTotals]
    directory: str

    def __call__(self, task: ChunkTask) -> ChunkTotals:
        records = chunk_records(
            task.scenario, task.seed, task.start, task.stop, task.replicate, task.parameters
        )
        write_records(part_path(Path(self.directory), task), records, task.scenario.countries)
        return self.simulate(task)
