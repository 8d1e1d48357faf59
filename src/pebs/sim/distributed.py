"""Dask distributed runner: chunks of women mapped over the workers of a Dask cluster.

Imported only when a run asks for workers or a scheduler (dask is an optional dependency, and
this module imports it inside its functions). The runner is a ``map_chunks`` for
:func:`pebs.sim.run`: it submits :class:`~pebs.sim.ChunkTask` objects to the cluster, keeps at
most ``max_in_flight`` of them pending (so the client's and the scheduler's memory stay flat
however many women are simulated), and yields each :class:`~pebs.sim.ChunkTotals` as soon as it
completes. The totals are whole numbers added in any order, so the result is bit-identical to a
serial run with the same seed, whatever the number of workers or the chunk size.

- ``dask_client(workers=N)`` starts a ``LocalCluster`` of ``N`` single-threaded worker processes
  on this machine (each worker imports the simulator before the client is handed out, so that
  starting is not counted as simulating); ``dask_client(scheduler="tcp://host:8786")``
  connects to a running cluster (for example one started with dask-jobqueue on SLURM or PBS;
  see ``docs/simulation-running.md``).
- ``DaskChunkMap(client, on_done=...)`` is the ``map_chunks`` callable.

Local workers are started without Dask's default ``MALLOC_TRIM_THRESHOLD_`` (see
:data:`WORKER_CONFIG`).

Example (not run as a doctest: it starts processes)::

    from pebs.sim import load_scenario, run
    from pebs.sim.distributed import DaskChunkMap, dask_client

    with dask_client(workers=2) as client:
        result = run(load_scenario("us-benchmark"), n_women=100_000, seed=1,
                     chunk_size=25_000, map_chunks=DaskChunkMap(client))
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pebs.sim.chunk import ChunkTask, ChunkTotals

CONNECT_TIMEOUT_S = 30.0
"""Seconds to wait for an existing scheduler to answer."""
WORKER_CONFIG = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.tick.limit": "30s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
}
"""Dask configuration of the local cluster's worker processes. Dask's nanny sets
``MALLOC_TRIM_THRESHOLD_=65536`` in each worker by default, which turns off glibc's dynamic mmap
threshold: every large array is then mapped and unmapped afresh, and the simulator runs about 2.5
times slower (measured: 0.60 instead of 0.24 CPU seconds per 100,000-woman chunk). ``None``
leaves the variable unset. The other settings wake each worker's event-loop thread less often
(by default every 20 ms for its health tick, every 10 ms for the statistical profiler, every
100 ms for the memory monitor): every wake-up takes the GIL from the thread that simulates, and
on a busy machine that thread then waits for a core (measured on 3,000,000 women, 2 workers:
about a fifth less CPU in the workers and half as much in this process). Workers of an existing
cluster need the same settings in their Dask configuration (see ``docs/simulation-running.md``)."""


class ClusterError(RuntimeError):
    """A Dask cluster cannot be started or reached, or dask is not installed."""


def _distributed():
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - dask is installed with pebs's dev tools
        raise ClusterError(
            "running on workers needs Dask distributed: pip install 'dask[distributed]'"
        ) from exc
    return distributed


@contextlib.contextmanager
def dask_client(
    *, workers: int | None = None, scheduler: str | None = None,
    log_level: int = logging.ERROR, connect_timeout: float = CONNECT_TIMEOUT_S,
) -> Iterator[Any]:  # fmt: skip
    """A ``distributed.Client`` for a new local cluster or an existing scheduler; closed on exit.

    Parameters
    ----------
    workers : int, optional
        Start a ``LocalCluster`` with this many worker processes, one thread each.
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``). Exactly one of ``workers`` and
        ``scheduler`` must be given.
    log_level : int
        Level of the local cluster's log messages that are shown (default: errors only).
    connect_timeout : float
        Seconds to wait for ``scheduler`` to answer.

    Raises
    ------
    ValueError
        Neither or both of ``workers`` and ``scheduler``, or ``workers < 1``.
    ClusterError
        The scheduler cannot be reached or the local cluster cannot start.
    """
    if (workers is None) == (scheduler is None):
        raise ValueError("workers, scheduler: give exactly one of them")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):  # fmt: skip
        raise ValueError(f"workers: expected a whole number >= 1, got {workers!r}")
    distributed = _distributed()
    import dask

    cluster = None
    try:
        if workers is not None:
            with dask.config.set(WORKER_CONFIG):
                cluster = distributed.LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True,
                    dashboard_address="127.0.0.1:0", silence_logs=log_level,
                )  # fmt: skip
            client = distributed.Client(cluster)
        else:
            client = distributed.Client(scheduler, timeout=connect_timeout)
    except OSError as exc:  # includes TimeoutError: no scheduler at that address
        if cluster is not None:
            cluster.close()
        where = f"scheduler {scheduler}" if scheduler else f"a local cluster of {workers} workers"
        raise ClusterError(f"cannot use {where}: {exc}") from exc
    try:
        client.run(_load_simulator)  # part of starting: each worker imports it once
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _load_simulator() -> None:
    """Import the simulator in a worker process (run on every worker as the client starts)."""
    import pebs.sim.chunk  # noqa: F401


def n_worker_threads(client) -> int:
    """Threads over all the workers the client's scheduler knows now (at least 1)."""
    return max(1, sum(client.nthreads().values()))


@dataclass(frozen=True)
class DaskChunkMap:
    """``map_chunks`` for :func:`pebs.sim.run` on a Dask client: results as they complete.

    Parameters
    ----------
    client : distributed.Client
        From :func:`dask_client` (or any client).
    on_done : callable, optional
        Called in this process as ``on_done(task)`` after each chunk completes (progress).
    max_in_flight : int, optional
        Most chunks submitted and not yet collected (default: 2 per worker thread, at least 2).
    """

    client: Any
    on_done: Callable[[ChunkTask], None] | None = None
    max_in_flight: int | None = None

    def __call__(
        self, function: Callable[[ChunkTask], ChunkTotals], tasks: Sequence[ChunkTask]
    ) -> Iterator[ChunkTotals]:
        distributed = _distributed()
        limit = self.max_in_flight or max(2, 2 * n_worker_threads(self.client))
        pending = iter(tasks)
        futures = {}
        completed = distributed.as_completed()
        try:
            for task in pending:
                self._submit(function, task, futures, completed)
                if len(futures) >= limit:
                    break
            for future in completed:
                task = futures.pop(future)
                totals = future.result()  # re-raises a worker's exception here
                future.release()
                next_task = next(pending, None)
                if next_task is not None:
                    self._submit(function, next_task, futures, completed)
                if self.on_done is not None:
                    self.on_done(task)
                yield totals
        finally:
            if futures:  # an error or an interruption: do not leave work on the cluster
                self.client.cancel(list(futures))

    def _submit(self, function, task, futures, completed) -> None:
        future = self.client.submit(function, task, pure=False)
        futures[future] = task
        completed.add(future)
