"""The Dask runner: a 2-process LocalCluster gives bit-identical totals to the serial run.

One cluster (2 worker processes, one thread each) is shared by the module; it is closed at the
end and its log messages below ERROR are silenced. No warning filter is needed: the scheduler's
HTTP server binds an ephemeral port (``127.0.0.1:0``), so a cluster already running on this
machine cannot trigger distributed's "Port 8787 is already in use" warning.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from pebs.cli import main
from pebs.services import simulation
from pebs.services.simulation import SimulationOptions, run_simulation
from pebs.sim import ChunkTask, load_scenario, run, run_task
from pebs.sim.distributed import ClusterError, DaskChunkMap, dask_client

pytestmark = pytest.mark.slow

N_WOMEN = 700
REPLICATES = 2
SEED = 11


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2) as dask:
        yield dask


@pytest.fixture(scope="module")
def serial():
    """Reference: the serial built-in map, one chunk per replicate."""
    return run(load_scenario("us-benchmark"), n_women=N_WOMEN, seed=SEED, replicates=REPLICATES,
               chunk_size=N_WOMEN)  # fmt: skip


@pytest.mark.parametrize("chunk_size", [97, 350])
def test_two_workers_bit_identical_to_serial(client, serial, chunk_size):
    done = []
    result = run(load_scenario("us-benchmark"), n_women=N_WOMEN, seed=SEED,
                 replicates=REPLICATES, chunk_size=chunk_size,
                 map_chunks=DaskChunkMap(client, on_done=done.append, max_in_flight=3))  # fmt: skip
    assert result.values.dtype == np.int64
    assert np.array_equal(result.values, serial.values)
    assert result.strategies == serial.strategies
    # every chunk was reported once, whatever order they completed in
    expected = {(r, s) for r in range(REPLICATES) for s in range(0, N_WOMEN, chunk_size)}
    assert sorted((t.replicate, t.start) for t in done) == sorted(expected)
    # both workers took part (97-woman chunks: 16 tasks)
    if chunk_size == 97:
        assert len(client.nthreads()) == 2


def test_a_different_seed_changes_the_totals(client, serial):
    other = run(load_scenario("us-benchmark"), n_women=N_WOMEN, seed=SEED + 1,
                replicates=REPLICATES, chunk_size=200, map_chunks=DaskChunkMap(client))  # fmt: skip
    assert not np.array_equal(other.values, serial.values)


def test_worker_error_reaches_the_caller(client):
    scenario = load_scenario("us-benchmark")
    tasks = [ChunkTask(scenario, 1, 0, 10), ChunkTask(scenario, 1, 10, 5)]  # stop < start
    with pytest.raises(ValueError, match="start, stop"):
        list(DaskChunkMap(client)(run_task, tasks))


def test_service_on_an_existing_scheduler_with_records(client, serial, tmp_path, sim_files):
    progress = []
    address = client.scheduler.address
    options = SimulationOptions(n_women=N_WOMEN, seed=SEED, replicates=REPLICATES,
                                chunk_size=250, scheduler=address, records=True,
                                plots=False)  # fmt: skip
    done = run_simulation("us-benchmark", tmp_path, options,
                          on_progress=lambda n, total: progress.append((n, total)))  # fmt: skip
    assert np.array_equal(done.result.values, serial.values)
    assert done.engine.startswith(f"Dask scheduler {address}")  # used whatever the work
    assert done.n_threads == 2
    assert done.cluster_start_seconds > 0  # connecting (and importing on the workers)
    assert progress[-1] == (N_WOMEN * REPLICATES, N_WOMEN * REPLICATES)
    assert [n for n, _ in progress] == sorted(n for n, _ in progress)
    assert progress[0] == (0, N_WOMEN * REPLICATES)
    assert len(progress) == 1 + REPLICATES * 3  # the start, then chunks 0, 250, 500
    parts = sorted((tmp_path / "women").rglob("*.parquet"))
    assert len(parts) == REPLICATES * 3  # written by the workers, one file per chunk
    _, document = sim_files.read_summary(tmp_path)
    assert document["run"]["engine"] == done.engine


def test_cli_workers_starts_a_local_cluster(tmp_path, serial, sim_files, capsys, monkeypatch):
    # 700 women x 2 replicates x 4 strategies = 5,600: a cluster only once the threshold is lower
    monkeypatch.setattr(simulation, "MIN_CLUSTER_WORK", 5_600)
    args = ["simulate", "us-benchmark", "-o", str(tmp_path), "--women", str(N_WOMEN),
            "--replicates", str(REPLICATES), "--seed", str(SEED), "--workers", "2",
            "--no-plots"]  # fmt: skip
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "Dask LocalCluster (2 worker processes)" in err
    started = re.search(r"cluster started in (\d+\.\d) s and closed in (\d+\.\d) s", err)
    assert started is not None, err
    _, document = sim_files.read_summary(tmp_path)
    assert document["run"]["cluster_start_seconds"] > 0  # the workers' processes were started
    assert f"{document['run']['cluster_start_seconds']:.1f}" == started.group(1)
    assert f"{document['run']['cluster_close_seconds']:.1f}" == started.group(2)
    totals = document["replicate_totals"]
    for s, strategy in enumerate(serial.strategies):
        for k, outcome in enumerate(totals[strategy]):
            assert totals[strategy][outcome] == serial.values[:, s, k].tolist()


def test_unreachable_scheduler_is_a_cluster_error():
    with (
        pytest.raises(ClusterError, match=re.escape("tcp://127.0.0.1:9")),
        dask_client(scheduler="tcp://127.0.0.1:9", connect_timeout=1.0),
    ):
        pass  # pragma: no cover - not reached


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({}, "exactly one"), ({"workers": 2, "scheduler": "tcp://x:1"}, "exactly one"),
     ({"workers": 0}, "workers")],
)  # fmt: skip
def test_client_options_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message), dask_client(**kwargs):
        pass  # pragma: no cover - not reached
