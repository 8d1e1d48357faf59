"""Use case: run a simulation scenario and write its outputs (summary, records, plots).

:func:`run_simulation` loads a scenario (shipped name or path), simulates it serially in this
process or on a Dask cluster (``workers`` starts a local one for runs of at least
:data:`MIN_CLUSTER_WORK`, ``scheduler`` uses a running one), reports progress in women simulated
and times starting and closing a cluster apart from simulating, and writes into the output
directory:

- ``summary.csv``: one row per (strategy, outcome): mean, 2.5th/97.5th percentiles and standard
  error over replicates, of the total and per 1,000 women (:mod:`pebs.io.sim_outputs`);
- ``summary.json``: the run (scenario, seed, women, replicates, engine, time, pebs version), the
  same summaries per strategy, the exact integer totals of every replicate, and the trial
  analysis for scenarios with a ``[trial]`` table;
- ``trial.csv`` (trial scenarios): one row per replicate (endpoint per arm, non-inferiority);
- ``women/`` (``records=True``): per-woman Parquet, one file per chunk
  (``women/replicate=R/part-<first woman>.parquet``);
- ``outcomes``, ``benefit_harm`` and ``stages`` as PNG and SVG (:mod:`pebs.reports.sim_plots`).

Results depend only on the scenario, the parameters, ``n_women``, ``replicates`` and ``seed``:
not on the chunk size, the number of workers or the order in which chunks finish.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pebs import __version__
from pebs.io.errors import FileAccessError
from pebs.io.sim_outputs import RecordsWriter, write_json, write_rows_csv, write_summary_csv
from pebs.sim import (
    OUTCOMES,
    ChunkTask,
    ChunkTotals,
    Scenario,
    SimulationResult,
    TrialSummary,
    list_scenarios,
    load_scenario,
    run,
    trial_summary,
)

DEFAULT_WOMEN = 100_000
"""Women per replicate when not given (a trial scenario uses its ``trial.n_women``)."""
DEFAULT_SEED = 1
MAX_CHUNK = 100_000
"""Largest default chunk (women): about 60 MB above the ~110 MB of an idle process (measured:
4 strategies, lifetime from 40); memory grows with the chunk, not with the number of women."""
MIN_DISTRIBUTED_CHUNK = 5_000
MIN_CLUSTER_WORK = 10_000_000
"""Least work (women x replicates x strategies) for which ``workers`` starts a local cluster;
below it the run stays in this process. Starting and closing a local cluster of 2 workers takes
about 3 s of wall time and one core simulates about a million woman-strategies per second
(``benchmarks/sim_bench.py``): 2 workers break even at about 2 x 3 s of work, some 6 million,
and the threshold leaves a margin for the workers' own overhead."""
RECORDS_DIR = "women"


class SimulationOptionsError(ValueError):
    """Run options that cannot be used; the message names the option and the allowed values."""


@dataclass(frozen=True)
class SimulationOptions:
    """How to run a scenario. ``workers`` and ``scheduler`` are exclusive (neither: serial)."""

    n_women: int | None = None
    seed: int = DEFAULT_SEED
    replicates: int = 1
    chunk_size: int | None = None
    """Women per chunk; None: 100,000 serially, smaller on a cluster (4 chunks per thread)."""
    workers: int | None = None
    scheduler: str | None = None
    records: bool = False
    plots: bool = True


@dataclass(frozen=True)
class ScenarioInfo:
    """One line of the scenario catalogue."""

    name: str
    title: str
    strategies: tuple[str, ...]
    is_trial: bool


@dataclass(frozen=True)
class SimulationRun:
    """What a run did: the result, the trial analysis (if any), files written, cost."""

    scenario: Scenario
    result: SimulationResult
    trial: TrialSummary | None
    files: tuple[Path, ...]
    engine: str
    n_threads: int
    wall_seconds: float
    """Simulating (and writing the records), without starting or closing a local cluster."""
    cluster_start_seconds: float = 0.0
    """Starting the local cluster or connecting to the scheduler (0 in this process)."""
    cluster_close_seconds: float = 0.0

    @property
    def women_per_second(self) -> float:
        """Women simulated per wall second of simulating (all replicates)."""
        return self.result.n_women * self.result.n_replicates / max(self.wall_seconds, 1e-9)


def scenario_catalogue() -> tuple[ScenarioInfo, ...]:
    """The shipped scenarios, with their titles and strategies."""
    infos = []
    for name in list_scenarios():
        scenario = load_scenario(name)
        infos.append(
            ScenarioInfo(name, scenario.title, scenario.strategy_names, scenario.trial is not None)
        )
    return tuple(infos)


def _check(options: SimulationOptions) -> None:
    for name, low in (("n_women", 1), ("seed", 0), ("replicates", 1), ("chunk_size", 1),
                      ("workers", 1)):  # fmt: skip
        value = getattr(options, name)
        if value is None and name in ("n_women", "chunk_size", "workers"):
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise SimulationOptionsError(f"{name}: expected a whole number >= {low}, got {value!r}")
    if options.workers is not None and options.scheduler is not None:
        raise SimulationOptionsError("workers, scheduler: give one of them, not both")
    if options.scheduler is not None and not options.scheduler.strip():
        raise SimulationOptionsError("scheduler: expected an address such as tcp://host:8786")


def _chunk_size(options: SimulationOptions, n_women: int, n_threads: int, serial: bool) -> int:
    if options.chunk_size is not None:
        return options.chunk_size
    if serial:
        return min(MAX_CHUNK, n_women)
    wanted = math.ceil(n_women / (4 * n_threads))
    return max(1, min(MAX_CHUNK, n_women, max(MIN_DISTRIBUTED_CHUNK, wanted)))


def _serial_map(on_done: Callable[[ChunkTask], None]):
    def map_chunks(function, tasks: Iterable[ChunkTask]) -> Iterator[ChunkTotals]:
        for task in tasks:
            totals = function(task)
            on_done(task)
            yield totals

    return map_chunks


def _with_records(map_chunks, directory: Path):
    def wrapped(function, tasks):
        return map_chunks(RecordsWriter(function, str(directory)), tasks)

    return wrapped


@dataclass(frozen=True)
class _Engine:
    result: SimulationResult
    description: str
    threads: int
    simulate_seconds: float
    start_seconds: float = 0.0
    close_seconds: float = 0.0


def _run_chunks(scenario, options, n_women, chunk, mapper, records_dir) -> SimulationResult:
    if records_dir is not None:
        mapper = _with_records(mapper, records_dir)
    return run(scenario, n_women=n_women, seed=options.seed, replicates=options.replicates,
               chunk_size=chunk, map_chunks=mapper)  # fmt: skip


def _in_process(scenario, options, n_women, records_dir, on_done, description) -> _Engine:
    chunk = _chunk_size(options, n_women, 1, serial=True)
    start = time.perf_counter()
    result = _run_chunks(scenario, options, n_women, chunk, _serial_map(on_done), records_dir)
    return _Engine(result, description, 1, time.perf_counter() - start)


def _simulate(scenario, options, n_women, records_dir, on_done) -> _Engine:
    """Serially in this process, or on a Dask cluster; cluster start and close timed apart."""
    if options.workers is None and options.scheduler is None:
        return _in_process(scenario, options, n_women, records_dir, on_done,
                           "serial (this process)")  # fmt: skip
    work = n_women * options.replicates * len(scenario.strategies)
    if options.workers is not None and work < MIN_CLUSTER_WORK:
        description = (
            f"serial (this process): {work:,} women x replicates x strategies, below the "
            f"{MIN_CLUSTER_WORK:,} from which --workers starts a cluster"
        )
        return _in_process(scenario, options, n_women, records_dir, on_done, description)
    from pebs.sim.distributed import DaskChunkMap, dask_client, n_worker_threads

    begin = time.perf_counter()
    with dask_client(workers=options.workers, scheduler=options.scheduler) as client:
        started = time.perf_counter()
        threads = n_worker_threads(client)
        chunk = _chunk_size(options, n_women, threads, serial=False)
        mapper = DaskChunkMap(client, on_done=on_done)
        result = _run_chunks(scenario, options, n_women, chunk, mapper, records_dir)
        simulated = time.perf_counter()
    closed = time.perf_counter()
    where = (f"Dask LocalCluster ({options.workers} worker processes)" if options.workers
             else f"Dask scheduler {options.scheduler}")  # fmt: skip
    return _Engine(result, f"{where}, {threads} thread(s)", threads, simulated - started,
                   started - begin, closed - simulated)  # fmt: skip


def _document(run_info: dict, result: SimulationResult, trial: TrialSummary | None) -> dict:
    totals = {
        strategy: {outcome: result.values[:, s, k].tolist() for k, outcome in enumerate(OUTCOMES)}
        for s, strategy in enumerate(result.strategies)
    }
    document = {"run": run_info, **result.as_dict(), "replicate_totals": totals}
    if trial is not None:
        document["trial"] = {
            "arms": list(trial.arms), "margin_ratio": trial.margin, "alpha": trial.alpha,
            "method": trial.method, "power": trial.power, "replicates": trial.rows(),
        }  # fmt: skip
    return document


def _prepare_dir(output_dir: Path) -> Path:
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FileAccessError(f"{output_dir}: cannot create ({error.strerror})") from None
    return output_dir.resolve()


def _publish_records(partial: Path, final: Path) -> None:
    if final.exists():
        shutil.rmtree(final)
    os.replace(partial, final)


def run_simulation(
    scenario: str | Path,
    output_dir: Path,
    options: SimulationOptions = SimulationOptions(),
    *,
    on_progress: Callable[[int, int], None] | None = None,
) -> SimulationRun:
    """Run ``scenario`` with ``options`` and write the outputs into ``output_dir``.

    Parameters
    ----------
    scenario : str or Path
        A shipped scenario name (:func:`scenario_catalogue`) or a scenario file.
    output_dir : Path
        Created if needed; existing outputs of the same names are replaced.
    options : SimulationOptions
        Women, seed, replicates, chunking, engine, records and plots.
    on_progress : callable, optional
        ``on_progress(women_done, women_total)`` once at the start (0 done) and after each chunk
        (all replicates counted).

    Raises
    ------
    pebs.sim.ScenarioError
        Unknown or invalid scenario.
    SimulationOptionsError
        Invalid options.
    pebs.sim.distributed.ClusterError
        The Dask cluster cannot be started or reached.
    pebs.io.errors.FileAccessError
        An output cannot be written.
    """
    _check(options)
    loaded = load_scenario(scenario)
    n_women = options.n_women or (loaded.trial.n_women if loaded.trial else DEFAULT_WOMEN)
    total = n_women * options.replicates
    done = 0

    def on_done(task: ChunkTask) -> None:
        nonlocal done
        done += task.stop - task.start
        if on_progress is not None:
            on_progress(done, total)

    directory = _prepare_dir(Path(output_dir))
    records_dir = directory / (RECORDS_DIR + ".partial") if options.records else None
    if records_dir is not None and records_dir.exists():  # left by a run that was killed
        shutil.rmtree(records_dir)
    if on_progress is not None:
        on_progress(0, total)
    try:
        engine = _simulate(loaded, options, n_women, records_dir, on_done)
        if records_dir is not None:
            _publish_records(records_dir, directory / RECORDS_DIR)
    except BaseException:
        if records_dir is not None and records_dir.exists():
            shutil.rmtree(records_dir, ignore_errors=True)
        raise
    result, seconds = engine.result, engine.simulate_seconds
    trial = trial_summary(result, loaded) if loaded.trial is not None else None
    run_info = {
        "scenario": loaded.name, "title": loaded.title, "source": loaded.source,
        "pebs_version": __version__, "engine": engine.description, "threads": engine.threads,
        "wall_seconds": seconds, "women_per_second": total / max(seconds, 1e-9),
        "cluster_start_seconds": engine.start_seconds,
        "cluster_close_seconds": engine.close_seconds,
        "records": RECORDS_DIR if options.records else None,
    }  # fmt: skip
    files = [
        write_summary_csv(directory / "summary.csv", result.rows()),
        write_json(directory / "summary.json", _document(run_info, result, trial)),
    ]
    if trial is not None:
        files.append(write_rows_csv(directory / "trial.csv", trial.rows()))
    if options.records:
        files.append(directory / RECORDS_DIR)
    if options.plots:
        from pebs.reports.sim_plots import write_plots

        try:
            files.extend(write_plots(result, directory))
        except OSError as error:
            raise FileAccessError(f"{directory}: cannot write the plots ({error})") from None
    return SimulationRun(loaded, result, trial, tuple(files), engine.description, engine.threads,
                         seconds, engine.start_seconds, engine.close_seconds)  # fmt: skip
