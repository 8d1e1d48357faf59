"""Screening microsimulation: women per second per core, 2 Dask workers, memory, vs SiMRiSC.

``python -m benchmarks.sim_bench [--quick]`` prints a markdown section.

Workload ("lifetime from 40, biennial 50-74"): the ``us-benchmark`` scenario (US women entering
at 40, followed to death or 100, full attendance, digital mammography) restricted to its
``biennial-50-74`` strategy (policy ``us-biennial-50-74``: 13 rounds at 50, 52, ..., 74). The
headline figure simulates that one strategy; a second row adds the no-screening reference that
``pebs simulate`` always runs (two strategies per woman, same women).

1. **One core**: a child process pinned to one CPU (``benchmarks/one_core.py``, thread
   variables = 1) runs :func:`pebs.sim.run` serially (chunks of 100,000) on 100,000 and
   1,000,000 women (best of ``--repeats``); wall and CPU seconds and the child's peak RSS
   (``os.wait4``). Peak RSS at 100,000 and 1,000,000 women shows whether memory is flat.
2. **Two workers against one core**: :func:`pebs.services.simulation.run_simulation` (what
   ``pebs simulate`` calls; the CLI's scenario file, so with the no-screening reference; no
   plots) in fresh child processes, without workers and with ``workers=2``, interleaved
   (one core, 2 workers, one core, ...; ``--rounds``), on 10,000,000 women and on 1,000,000.
   The time is the simulating only, as the service measures it; starting and closing the local
   cluster are reported apart. Goal: the median one-core time over the median 2-worker time
   >= 1.6 at 10,000,000 women (``GOAL sim-2-workers-10m``). At 1,000,000 women the work is
   below :data:`~pebs.services.simulation.MIN_CLUSTER_WORK`, so ``workers=2`` stays in the
   process and must say so. Every run's totals must be bit-identical to the first one-core
   run's (checked).
3. **SiMRiSC** (``benchmarks/simrisc_peer.py``, :func:`~benchmarks.simrisc_peer.compare`): the
   packaged default configuration, the same number of women, schedule ``biennial-50-74`` (its
   own default 13 rounds), attendance 0.8 in both simulators, rounds (at least 3) interleaved
   with pebs rounds, each child pinned to the same core; ratio of women per CPU-second (the
   children's rusage), medians (goal: >= 5x, ``GOAL sim-vs-simrisc-women-per-cpu-s``).
4. **The CLI at 1,000,000 and 10,000,000 women** (10M not with ``--quick``): ``pebs simulate``
   (``--workers 2``, no plots) on a scenario file with the same population and strategy (so with
   the no-screening reference); wall time, exit code, and peak RSS of the CLI process, of the
   largest worker, and of all of them together (sampled from ``/proc`` every 0.2 s).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks import one_core

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261128
STRATEGY = "biennial-50-74"
CHUNK = 100_000
BIG_N = 10_000_000
GOAL_TWO_WORKERS = 1.6
"""Two workers against one core, simulating 10,000,000 women (CPU-bound work, 2 cores)."""
SCENARIO_TOML = f"""# pebs benchmark: lifetime from 40, biennial 50-74 (as us-benchmark)
name = "bench-biennial-50-74"
[population]
countries = {{ US = 1.0 }}
entry_age = [40, 40]
follow_up_years = "lifetime"
max_age = 100
[[strategy]]
name = "{STRATEGY}"
policy = "us-biennial-50-74"
"""


def _scenario(with_reference: bool):
    import dataclasses

    from pebs.sim import load_scenario

    scenario = load_scenario("us-benchmark")
    keep = [
        s
        for s in scenario.strategies
        if s.name == STRATEGY or (with_reference and not s.is_screening)
    ]
    return dataclasses.replace(scenario, strategies=tuple(keep))


def _worker_peak_rss_mib() -> float:
    """Peak RSS of the calling process (run on each Dask worker), MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- child parts (each prints one JSON line) ------------------------------------------------------


def part_serial(n: int, with_reference: bool) -> dict:
    from pebs.sim import run

    scenario = _scenario(with_reference)
    wall, cpu = time.perf_counter(), time.process_time()
    result = run(scenario, n_women=n, seed=SEED, chunk_size=min(CHUNK, n))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "n": n,
        "strategies": list(result.strategies),
        "wall": wall,
        "cpu": cpu,
        "values": result.values.tolist(),
    }


def part_service(n: int, workers: int) -> dict:
    """``run_simulation`` of the CLI's scenario file (``workers`` 0: without workers)."""
    from pebs.services.simulation import SimulationOptions, run_simulation

    with tempfile.TemporaryDirectory(prefix="sim-bench-") as tmp:
        scenario = Path(tmp) / "bench.toml"
        scenario.write_text(SCENARIO_TOML, encoding="utf-8")
        options = SimulationOptions(n_women=n, seed=SEED, workers=workers or None, plots=False)
        done = run_simulation(scenario, Path(tmp) / "out", options)
    return {
        "n": n,
        "workers": workers,
        "simulating": done.wall_seconds,
        "start": done.cluster_start_seconds,
        "close": done.cluster_close_seconds,
        "engine": done.engine,
        "threads": done.n_threads,
        "values": done.result.values.tolist(),
    }


# -- parent ---------------------------------------------------------------------------------------


def _child(args: list[str], pin: bool) -> tuple[dict, float]:
    """Run a part in a child process; (its JSON, its own peak RSS in MiB from ``os.wait4``)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.sim_bench", *args],
            cwd=ROOT,
            env=one_core.child_env(),
            stdout=out,
            stderr=err,
            preexec_fn=one_core.pin_to_one_core if pin else None,
        )
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            raise RuntimeError(f"sim_bench {' '.join(args)} failed:\n{err.read()[-3000:]}")
        return json.loads(out.read().strip().splitlines()[-1]), usage.ru_maxrss / 1024


def _tree_rss_kib(root: int) -> dict[int, int]:
    """RSS in KiB of ``root`` and each of its descendants, from /proc."""
    parents, rss = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="utf-8") as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
        except OSError:
            continue
        parents[int(entry)] = int(fields.get("PPid", "0").strip())
        rss[int(entry)] = int(fields.get("VmRSS", "0 kB").split()[0])
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [p for p, parent in parents.items() if parent == pid and p not in tree]
        tree.update(children)
        frontier.extend(children)
    return {pid: rss.get(pid, 0) for pid in tree}


def cli_run(n: int, workdir: Path) -> dict:
    """``pebs simulate`` on ``n`` women with ``--workers 2``; wall time and sampled peak RSS."""
    scenario = workdir / "bench.toml"
    scenario.write_text(SCENARIO_TOML, encoding="utf-8")
    pebs = Path(sys.executable).with_name("pebs")
    out = workdir / f"out-{n}"
    options = ["--women", str(n), "--seed", str(SEED), "--workers", "2", "--no-plots"]
    command = [str(pebs), "simulate", str(scenario), "-o", str(out), *options]
    peaks = {"total": 0, "cli": 0, "worker": 0}
    start = time.perf_counter()
    child = subprocess.Popen(
        command, cwd=workdir, env=one_core.child_env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            tree = _tree_rss_kib(child.pid)
            peaks["total"] = max(peaks["total"], sum(tree.values()))
            peaks["cli"] = max(peaks["cli"], tree.get(child.pid, 0))
            others = [v for pid, v in tree.items() if pid != child.pid]
            peaks["worker"] = max(peaks["worker"], max(others, default=0))
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = child.communicate()
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    result = {"n": n, "wall": wall, "exit_code": child.returncode, "stderr": err.strip()[-600:],
              "peak_total_mib": peaks["total"] / 1024, "peak_cli_mib": peaks["cli"] / 1024,
              "peak_worker_mib": peaks["worker"] / 1024,
              "command": " ".join(["pebs simulate bench.toml -o OUT", *options])}  # fmt: skip
    if child.returncode == 0:
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        result["run_wall"] = summary["run"]["wall_seconds"]
        result["cluster"] = (
            summary["run"]["cluster_start_seconds"],
            summary["run"]["cluster_close_seconds"],
        )
        result["engine"] = summary["run"]["engine"]
        result["n_women_simulated"] = summary["replicate_totals"][STRATEGY]["n_women"][0]
    return result


def _best(args: list[str], repeats: int) -> tuple[dict, float]:
    runs = [_child(args, pin=True) for _ in range(repeats)]
    return min(runs, key=lambda r: r[0]["wall"])


def measure(quick: bool, n: int, repeats: int, rounds: int) -> dict:
    from benchmarks import simrisc_peer

    _log(f"pebs one core: {n:,} women, best of {repeats}")
    small, small_rss = _best(["--part", "serial", "--n", str(n // 10)], repeats)
    one, one_rss = _best(["--part", "serial", "--n", str(n)], repeats)
    both, both_rss = _best(["--part", "serial", "--n", str(n), "--with-reference"], 1)
    result = {
        "n": n,
        "one": one,
        "one_rss": one_rss,
        "small": small,
        "small_rss": small_rss,
        "both": both,
        "both_rss": both_rss,
        "cpu": one_core.cpu_model(),
        "scale": {size: _interleaved(size, rounds) for size in (BIG_N, n)},
    }
    _log(f"SiMRiSC and pebs, interleaved, same attendance: {n:,} women")
    with tempfile.TemporaryDirectory(prefix="sim-bench-") as tmp:
        result["simrisc"] = simrisc_peer.compare(
            n, rounds=max(repeats, 3), seed=SEED, workdir=Path(tmp) / "simrisc"
        )
        _log(f"pebs simulate --workers 2: {n:,} women")
        result["cli"] = [cli_run(n, Path(tmp))]
        if not quick:
            _log(f"pebs simulate --workers 2: {BIG_N:,} women")
            result["cli"].append(cli_run(BIG_N, Path(tmp)))
    return result


def _interleaved(n: int, rounds: int) -> dict:
    """One core and 2 workers on ``n`` women, alternating, ``rounds`` times each."""
    runs = {0: [], 2: []}
    loads = [os.getloadavg()]
    for r in range(rounds):
        for workers in (0, 2):
            _log(f"run_simulation, {n:,} women, workers={workers}, round {r + 1}/{rounds}")
            args = ["--part", "service", "--n", str(n), "--workers", str(workers)]
            runs[workers].append(_child(args, pin=False)[0])
    loads.append(os.getloadavg())
    return {"n": n, "one": runs[0], "two": runs[2], "loads": loads}


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _log(message: str) -> None:
    print(f"[sim_bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def markdown(r: dict) -> str:
    from benchmarks import simrisc_peer

    n = r["n"]
    one, small, both = r["one"], r["small"], r["both"]
    lines = [
        "## Screening microsimulation: throughput, scale-out, memory, vs SiMRiSC",
        "",
        f"Workload: lifetime from 40, biennial 50-74 (`us-benchmark` population, strategy "
        f"`{STRATEGY}`, full attendance), seed {SEED}, chunks of {CHUNK:,} women. One core = a "
        f"child pinned to one CPU ({r['cpu']}), thread variables = 1. Best of the repeats.",
        "",
        "| run | women | strategies per woman | wall s | CPU s | women/s | peak RSS |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, row, rss in (
        ("pebs, one core", small, r["small_rss"]),
        ("pebs, one core", one, r["one_rss"]),
        ("pebs, one core, + no-screening reference", both, r["both_rss"]),
    ):
        lines.append(
            f"| {label} | {row['n']:,} | {len(row['strategies'])} | {row['wall']:.2f} "
            f"| {row['cpu']:.2f} | {row['n'] / row['wall']:,.0f} | {rss:.0f} MiB |"
        )
    lines += [
        "",
        f"- **Memory**: one-core peak RSS {r['small_rss']:.0f} MiB at {small['n']:,} women and "
        f"{r['one_rss']:.0f} MiB at {n:,} (chunks of at most {CHUNK:,}): "
        + (
            "flat in the number of women."
            if r["one_rss"] <= 1.1 * r["small_rss"]
            else "**grows** with the number of women."
        ),
    ]
    lines += simrisc_peer.comparison_markdown(r["simrisc"])
    lines += _scale_lines(r["scale"])
    lines += [
        "",
        "`pebs simulate` (the CLI; scenario file with the same population and strategy, so "
        "the no-screening reference is simulated too; `--workers 2`, no plots). Wall time "
        "is the whole command; simulating, cluster start and close as the CLI reports them; RSS "
        "sampled from /proc every 0.2 s:",
        "",
        "| women | exit | wall s | simulating s | women/s | cluster start / close s "
        "| peak RSS: CLI | largest worker | all together | check |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for c in r["cli"]:
        ok = c["exit_code"] == 0 and c.get("n_women_simulated") == c["n"]
        run_wall = c.get("run_wall", float("nan"))
        start, close = c.get("cluster", (float("nan"), float("nan")))
        lines.append(
            f"| {c['n']:,} | {c['exit_code']} | {c['wall']:.1f} | {run_wall:.1f} "
            f"| {c['n'] / run_wall:,.0f} | {start:.1f} / {close:.1f} | {c['peak_cli_mib']:.0f} MiB "
            f"| {c['peak_worker_mib']:.0f} MiB | {c['peak_total_mib']:.0f} MiB "
            f"| {'completed' if ok else '**FAILED**: ' + c['stderr']} |"
        )
    return "\n".join(lines) + "\n"


def _scale_lines(scale: dict) -> list[str]:
    from benchmarks.report import goal_line

    lines = [
        "",
        "Two workers against one core: `run_simulation` (what `pebs simulate` runs; the CLI's "
        "scenario file, 2 strategies per woman, no plots), fresh child processes, interleaved; "
        "simulating time only (median; starting and closing the local cluster apart):",
        "",
        "| women | run | rounds | simulating s (median) | each round | cluster start s "
        "| close s | engine | load average before / after |",
        "|---:|---|---:|---:|---|---:|---:|---|---|",
    ]
    for case in scale.values():
        loads = " / ".join(f"{load[0]:.1f}" for load in case["loads"])
        for label, runs in (("one core", case["one"]), ("--workers 2", case["two"])):
            times = [run["simulating"] for run in runs]
            lines.append(
                f"| {case['n']:,} | {label} | {len(runs)} | {_median(times):.2f} "
                f"| {', '.join(f'{t:.2f}' for t in times)} "
                f"| {_median([run['start'] for run in runs]):.2f} "
                f"| {_median([run['close'] for run in runs]):.2f} | {runs[-1]['engine']} "
                f"| {loads} |"
            )
    big = scale[BIG_N]
    ratio = _median([x["simulating"] for x in big["one"]]) / _median(
        [x["simulating"] for x in big["two"]]
    )
    small = min(scale)
    in_process = all(x["threads"] == 1 and x["start"] == 0 for x in scale[small]["two"])
    lines += [
        "",
        goal_line("sim-2-workers-10m", ratio, GOAL_TWO_WORKERS),
        "",
        f"- At {small:,} women `--workers 2` ran "
        + (
            "in this process (below the threshold), as it said."
            if in_process
            else "**on a cluster** (expected: in this process)."
        )
        + " Totals of every run bit-identical to the one-core run of the same size: "
        + ("yes." if all(_same_totals(case) for case in scale.values()) else "**NO**."),
    ]
    return lines


def _same_totals(case: dict) -> bool:
    first = case["one"][0]["values"]
    return all(run["values"] == first for run in (*case["one"], *case["two"]))


def main(argv: list[str] | None = None) -> int:
    one_core.limit_threads()
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sim_bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="skip the 10,000,000-woman run")
    parser.add_argument("--n", type=int, default=1_000_000, help="women for the throughput runs")
    parser.add_argument("--repeats", type=int, default=2, help="one-core runs; the best is shown")
    parser.add_argument(
        "--rounds", type=int, help="one core / 2 workers rounds (default 3; 1 with --quick)"
    )
    parser.add_argument("--part", choices=("serial", "service"), help=argparse.SUPPRESS)
    parser.add_argument("--with-reference", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.part == "serial":
        print(json.dumps(part_serial(args.n, args.with_reference)))
        return 0
    if args.part == "service":
        print(json.dumps(part_service(args.n, args.workers)))
        return 0
    rounds = args.rounds or (1 if args.quick else 3)
    result = measure(args.quick, args.n, args.repeats, rounds)
    print(markdown(result))
    failed = not all(_same_totals(case) for case in result["scale"].values())
    for c in result["cli"]:
        failed |= c["exit_code"] != 0 or c.get("n_women_simulated") != c["n"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
