"""Output writers of a simulation run: CSV/JSON round trips, Parquet records, plots, errors."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pyarrow.parquet as pq
import pytest

from pebs.io.errors import FileAccessError
from pebs.io.sim_outputs import (
    SUMMARY_COLUMNS,
    RecordsWriter,
    part_path,
    records_table,
    write_json,
    write_rows_csv,
    write_summary_csv,
)
from pebs.reports.sim_plots import write_plots
from pebs.services.simulation import SimulationOptions, SimulationOptionsError, run_simulation
from pebs.sim import ChunkTask, load_scenario, run, run_task


def test_summary_csv_round_trips_floats_exactly(tmp_path):
    row = dict.fromkeys(SUMMARY_COLUMNS, 0.1 + 0.2)
    row |= {"scenario": "s", "strategy": "a", "outcome": "o", "n_replicates": 1}
    row["total_se"] = math.nan
    write_summary_csv(tmp_path / "s.csv", [row])
    with (tmp_path / "s.csv").open(encoding="utf-8", newline="") as handle:
        (back,) = list(csv.DictReader(handle))
    assert float(back["total_mean"]) == 0.1 + 0.2  # repr precision, not rounded
    assert math.isnan(float(back["total_se"]))
    assert not (tmp_path / "s.csv.part").exists()


def test_missing_column_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"rows\[1\]: missing columns \['b'\]"):
        write_rows_csv(tmp_path / "x.csv", [{"a": 1, "b": 2}, {"a": 3}])
    assert not (tmp_path / "x.csv").exists()


def test_unwritable_output_is_a_file_access_error(tmp_path):
    target = tmp_path / "no-such-dir" / "x.json"
    with pytest.raises(FileAccessError, match="no-such-dir"):
        write_json(target, {"a": 1})


def test_json_converts_numpy_values(tmp_path):
    write_json(tmp_path / "d.json", {"n": np.int64(3), "x": np.float64(0.5), "a": np.arange(2)})
    assert json.loads((tmp_path / "d.json").read_text()) == {"n": 3, "x": 0.5, "a": [0, 1]}


def test_records_table_checks_lengths_and_codes_countries():
    with pytest.raises(ValueError, match="equal-length"):
        records_table({"a": np.zeros(3), "b": np.zeros(2)}, ["US"])
    table = records_table({"country": np.array([1, 0, 1], np.int8), "x": np.arange(3.0)},
                          ["FR", "IT"])  # fmt: skip
    assert table.column("country").to_pylist() == ["IT", "FR", "IT"]


def test_records_writer_returns_the_totals_and_writes_the_chunk(tmp_path):
    scenario = load_scenario("us-benchmark")
    task = ChunkTask(scenario, 5, 30, 90, replicate=1)
    totals = RecordsWriter(run_task, str(tmp_path))(task)
    assert np.array_equal(totals.values, run_task(task).values)
    path = part_path(tmp_path, task)
    assert path == tmp_path / "replicate=1" / "part-000000000030.parquet"
    table = pq.read_table(path)
    assert table.column("women").to_pylist() == list(range(30, 90))
    # attended visits, counted per woman in the records and in total in the chunk's counts
    n_screens = int(np.sum(table.column("annual-40-74.n_screens").to_numpy()))
    assert n_screens == totals.get("annual-40-74", "visits")
    assert n_screens > 0


def test_plots_with_one_replicate_and_a_trial_scenario(tmp_path, sim_files):
    result = run(load_scenario("mypebs-trial"), n_women=200, seed=2, chunk_size=200)
    paths = write_plots(result, tmp_path)
    assert sorted(p.name for p in paths) == sorted(
        f"{name}.{fmt}" for name in ("outcomes", "benefit_harm", "stages") for fmt in ("png", "svg")
    )
    for path in paths:
        if path.suffix == ".png":
            assert sim_files.png_size(path)[0] > 0
        else:
            assert "risk-based" in path.read_text(encoding="utf-8")
            sim_files.svg_root(path)


def test_svg_is_reproducible(tmp_path):
    result = run(load_scenario("us-benchmark"), n_women=100, seed=2, chunk_size=100)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write_plots(result, tmp_path / "a", figures=["benefit_harm"], formats=["svg"])
    second = write_plots(result, tmp_path / "b", figures=["benefit_harm"], formats=["svg"])
    assert [p.name for p in first] == ["benefit_harm.svg"]
    assert first[0].read_bytes() == second[0].read_bytes()
    with pytest.raises(ValueError, match="formats: unknown"):
        write_plots(result, tmp_path, formats=["pdf"])


@pytest.mark.parametrize(
    ("options", "message"),
    [(SimulationOptions(n_women=0), "n_women"), (SimulationOptions(replicates=0), "replicates"),
     (SimulationOptions(seed=-1), "seed"), (SimulationOptions(workers=0), "workers"),
     (SimulationOptions(workers=2, scheduler="tcp://x:1"), "not both"),
     (SimulationOptions(scheduler=" "), "scheduler")],
)  # fmt: skip
def test_service_checks_options_before_running(options, message, tmp_path):
    with pytest.raises(SimulationOptionsError, match=message):
        run_simulation("us-benchmark", tmp_path, options)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_run_leaves_no_partial_output(tmp_path):
    seen = []

    def interrupt(done, total):
        seen.append(done)
        if 0 < done < total:  # after the first chunk's records were written
            assert (tmp_path / "women.partial" / "replicate=0").is_dir()
            raise KeyboardInterrupt

    options = SimulationOptions(n_women=300, chunk_size=100, records=True, plots=False)
    with pytest.raises(KeyboardInterrupt):
        run_simulation("us-benchmark", tmp_path, options, on_progress=interrupt)
    assert seen == [0, 100]
    assert list(tmp_path.iterdir()) == []  # no women.partial/, no summary
