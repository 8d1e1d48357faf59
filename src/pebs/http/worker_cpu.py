"""One CPU per server process: the threads of a ``pebs serve`` worker share a core.

A request's blocking work (the database, hashing) runs in a worker thread (:mod:`pebs.http.threads`)
while the event loop runs in another, and the two hand Python's interpreter lock to each other
several times per request. When the kernel places the two threads on different CPUs, each hand-over
wakes a thread on another CPU, and that costs more than the work of a short request. Measured with
``python -m benchmarks.web_bench --ceiling-only`` on 2 idle CPUs, 8 clients: a page of 50
participants took 2.2-2.8 ms of server CPU with the server free to use both CPUs and 1.3 ms with it
on one (registering a woman: 3.3-3.9 ms and 2.7 ms); routes that never leave the event loop cost
the same either way.

:func:`pin_to_one_cpu` keeps a server process on one of the CPUs it may use: a worker started by
uvicorn's supervisor takes the CPUs in turn (its process name ends with its number), a single
server process keeps the CPU it runs on. Other processes (the database server, a second worker)
stay free to use the others. Only on Linux (``os.sched_setaffinity``); elsewhere, and when the
process may use a single CPU anyway, nothing changes.

>>> chosen_cpu([0, 1, 2, 3], "SpawnProcess-6", current=1)
1
>>> chosen_cpu([2, 3], "MainProcess", current=3)
3
>>> chosen_cpu([2, 3], "MainProcess", current=None)
2
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Sequence
from pathlib import Path

__all__ = ["PIN_CPU_VARIABLE", "chosen_cpu", "pin_to_one_cpu"]

PIN_CPU_VARIABLE = "PEBS_SERVE_PIN_CPU"
"""Environment variable: ``0`` leaves the server's processes free to use every CPU
(``pebs serve --no-pin-cpu`` sets it for its workers)."""

_WORKER_NUMBER = re.compile(r"-(\d+)$")


def chosen_cpu(allowed: Sequence[int], process_name: str, current: int | None) -> int:
    """The CPU a server process keeps, among ``allowed`` (sorted): the worker numbered ``n`` by
    its supervisor (``SpawnProcess-n``) takes the ``n``-th in turn; another process keeps the
    CPU it runs on (``current``), or the first allowed one."""
    cpus = sorted(allowed)
    numbered = _WORKER_NUMBER.search(process_name)
    if numbered is not None:
        return cpus[(int(numbered.group(1)) - 1) % len(cpus)]
    return current if current in cpus else cpus[0]


def pin_to_one_cpu() -> int | None:
    """Keep this process on one CPU (:func:`chosen_cpu`); return it, or ``None`` when nothing was
    changed (not Linux, a single CPU allowed already, or :data:`PIN_CPU_VARIABLE` is ``0``)."""
    if os.environ.get(PIN_CPU_VARIABLE) == "0" or not hasattr(os, "sched_setaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        return None
    cpu = chosen_cpu(allowed, multiprocessing.current_process().name, _current_cpu())
    os.sched_setaffinity(0, {cpu})
    return cpu


def _current_cpu() -> int | None:
    """The CPU this process last ran on (``/proc/self/stat``, field 39), if Linux says."""
    try:
        stat = Path("/proc/self/stat").read_text(encoding="ascii")
        return int(stat.rsplit(")", 1)[1].split()[36])
    except (OSError, ValueError, IndexError):
        return None
