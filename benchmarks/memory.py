"""Peak memory of one call: resident-set high-water mark and tracemalloc peak (Linux).

The kernel's high-water mark (``VmHWM``) is reset through ``/proc/self/clear_refs`` just before
the call, so the peak belongs to the call and not to whatever ran earlier in the process (such as
drawing the cohort). Where the reset is not allowed the process-lifetime peak is used and the
result says so.
"""

from __future__ import annotations

import gc
import re
import resource
import tracemalloc
from collections.abc import Callable

MIB = 1024 * 1024


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="utf-8") as handle:
            match = re.search(rf"^{field}:\s+(\d+) kB", handle.read(), re.MULTILINE)
    except OSError:
        return None
    return int(match.group(1)) if match else None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def peak_rss_increase(call: Callable[[], object]) -> dict[str, float | bool]:
    """Run ``call()`` once; return its peak RSS above the RSS before it, in MiB."""
    gc.collect()
    was_reset = _reset_peak()
    before = _status_kib("VmRSS")
    if before is None:  # not Linux: fall back to the process-lifetime peak
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = call()
    peak = _status_kib("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    del result
    return {
        "rss_before_mib": before / 1024,
        "peak_rss_mib": peak / 1024,
        "peak_rss_increase_mib": max(peak - before, 0) / 1024,
        "peak_was_reset": was_reset,
    }


def tracemalloc_peak(call: Callable[[], object]) -> float:
    """Peak Python/numpy heap allocated during ``call()`` (MiB), result included."""
    gc.collect()
    tracemalloc.start()
    try:
        result = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak / MIB
