"""Keep a measurement on one CPU core: thread-count variables and CPU affinity.

Import this module before numpy (the variables are read when numpy's BLAS loads). Child
processes get the same settings from :func:`child_env` and :func:`pin_to_one_core`.
"""

from __future__ import annotations

import os
import re

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def child_env() -> dict[str, str]:
    """This process's environment with every thread-count variable set to 1."""
    return {**os.environ, **dict.fromkeys(THREAD_VARIABLES, "1")}


def limit_threads() -> None:
    """Set the thread-count variables to 1 in this process (before numpy is imported)."""
    os.environ.update(dict.fromkeys(THREAD_VARIABLES, "1"))


def pin_to_one_core() -> int | None:
    """Restrict this process to one CPU (the lowest it may use); return it, or None if unsupported.

    Safe as ``subprocess.Popen(preexec_fn=...)``.
    """
    if not hasattr(os, "sched_setaffinity"):
        return None
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return core


def cpu_model() -> str:
    """CPU model name (Linux), or ``"unknown"``."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            match = re.search(r"^model name\s*:\s*(.+)$", handle.read(), re.MULTILINE)
    except OSError:
        return "unknown"
    return match.group(1).strip() if match else "unknown"
