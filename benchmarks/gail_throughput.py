"""Gail (BCRAT) throughput on one core: vectorised ``pebs.risk.gail`` vs the scalar peer.

Run by ``python -m benchmarks`` in a child process whose thread-count variables are 1 and which
pins itself to one CPU; it prints one JSON document on stdout. On its own::

    OMP_NUM_THREADS=1 python -m benchmarks.gail_throughput speed --n 1000000
    MALLOC_MMAP_THRESHOLD_=65536 python -m benchmarks.gail_throughput memory --n 1000000

``speed``: for each horizon (5-year: T2 = min(T1 + 5, 90); lifetime: T2 = 90) it times
``gail.risk_bcra`` (absolute and average-woman risk) on the whole cohort ``repeats`` times, then
times :mod:`benchmarks.scalar_gail` on the first ``scalar_n`` women and compares the two
implementations on the rows both accept. ``memory`` (a separate, fresh process): peak resident
set increase and tracemalloc peak of one call per horizon.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

from benchmarks import one_core

HORIZONS = ("5y", "lifetime")
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536"}
"""For the memory part: every array of 64 KiB or more gets its own mapping."""


def _timings(seconds: list[float], n: int) -> dict[str, object]:
    return {
        "seconds": seconds,
        "best_per_s": n / min(seconds),
        "median_per_s": n / statistics.median(seconds),
    }


def _time_vectorised(gail, arrays, repeats: int) -> dict[str, object]:
    wall, cpu = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        gail.risk_bcra(**arrays)
        t1, c1 = time.perf_counter(), time.process_time()
        wall.append(t1 - t0)
        cpu.append(c1 - c0)
    return {**_timings(wall, len(arrays["T1"])), "cpu_seconds": cpu}


def _time_scalar(scalar_gail, rows, repeats: int):
    seconds, results = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        results = scalar_gail.risk_many(rows)
        seconds.append(time.perf_counter() - t0)
    return _timings(seconds, len(rows)), results


def _agreement(np, vectorised, scalar_results, n: int) -> dict[str, object]:
    """Largest relative differences on rows both implementations accept."""
    scalar_error = np.array([r.error for r in scalar_results])
    vector_valid = vectorised.error[:n] == 0
    both = vector_valid & ~scalar_error

    def column(name: str) -> np.ndarray:
        return np.array([getattr(r, name) for r in scalar_results], dtype=np.float64)[both]

    def max_rel(got: np.ndarray, reference: np.ndarray) -> float:
        return float(np.max(np.abs(got - reference) / np.abs(reference), initial=0.0))

    return {
        "n_compared": int(both.sum()),
        "n_decision_mismatch": int(np.sum(vector_valid == scalar_error)),
        "absolute_risk": max_rel(vectorised.absolute_risk[:n][both], column("absolute_risk")),
        "average_risk": max_rel(vectorised.average_risk[:n][both], column("average_risk")),
        "rr_under_50": max_rel(vectorised.relative_risk.under_50[:n][both], column("rr_under_50")),
        "rr_from_50": max_rel(vectorised.relative_risk.from_50[:n][both], column("rr_from_50")),
    }


def _setup(n: int, seed: int):
    one_core.limit_threads()
    core = one_core.pin_to_one_core()
    import numpy as np  # imported only now: after the thread limits are in place

    from benchmarks import cohort
    from pebs.risk import gail

    women = cohort.generate(n, np.random.default_rng(seed))
    gail.risk_bcra(**{k: v[:1000] for k, v in women.items()})  # warm-up: load and cache tables
    header = {"n": n, "seed": seed, "core": core, "numpy": np.__version__}
    return np, cohort, gail, women, {**header, "python": sys.version.split()[0]}


def measure_speed(n: int, repeats: int, scalar_n: int, scalar_repeats: int, seed: int) -> dict:
    """Time both implementations and compare them; return a JSON-ready dict."""
    np, cohort, gail, women, report = _setup(n, seed)
    from benchmarks import scalar_gail

    report["repeats"] = repeats
    for horizon in HORIZONS:
        arrays = cohort.with_horizon(women, horizon)
        timing = _time_vectorised(gail, arrays, repeats)
        result = gail.risk_bcra(**arrays)
        subsample = [arrays[c][:scalar_n].tolist() for c in cohort.COLUMNS]
        rows = list(zip(*subsample, strict=True))
        scalar_timing, scalar_results = _time_scalar(scalar_gail, rows, scalar_repeats)
        report[horizon] = {
            "n_invalid": int(np.sum(result.error != 0)),
            "mean_absolute_risk_pct": float(np.nanmean(result.absolute_risk_pct)),
            "vectorised": timing,
            "scalar": {"n": scalar_n, **scalar_timing},
            "agreement": _agreement(np, result, scalar_results, scalar_n),
        }
    return report


def measure_memory(n: int, seed: int) -> dict:
    """Peak memory of one ``risk_bcra`` call per horizon; return a JSON-ready dict.

    Run it with ``MALLOC_MMAP_THRESHOLD_`` set (as ``python -m benchmarks`` does) so that freed
    arrays go back to the system and the resident set follows the live arrays.
    """
    _, cohort, gail, women, report = _setup(n, seed)
    from benchmarks import memory

    report["malloc_mmap_threshold"] = os.environ.get("MALLOC_MMAP_THRESHOLD_")
    report["input_mib"] = sum(a.nbytes for a in women.values()) / memory.MIB
    for horizon in HORIZONS:
        arrays = cohort.with_horizon(women, horizon)
        report[horizon] = {
            **memory.peak_rss_increase(lambda arrays=arrays: gail.risk_bcra(**arrays)),
            "tracemalloc_peak_mib": memory.tracemalloc_peak(
                lambda arrays=arrays: gail.risk_bcra(**arrays)
            ),
        }
    return report


def main(argv: list[str] | None = None) -> int:
    one_core.limit_threads()  # before anything imports numpy
    from benchmarks.cohort import DEFAULT_SEED

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=("speed", "memory"))
    parser.add_argument("--n", type=int, default=1_000_000, help="women in the cohort")
    parser.add_argument("--repeats", type=int, default=7, help="timed calls per horizon")
    parser.add_argument("--scalar-n", type=int, default=20_000, help="women for the scalar peer")
    parser.add_argument("--scalar-repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    if args.part == "speed":
        report = measure_speed(args.n, args.repeats, args.scalar_n, args.scalar_repeats, args.seed)
    else:
        report = measure_memory(args.n, args.seed)
    json.dump(report, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
