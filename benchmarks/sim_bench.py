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
2. **Two Dask workers**: a ``LocalCluster`` of 2 single-threaded worker processes, the same
   1,000,000 women in chunks of 100,000; wall time of the run (cluster start reported apart),
   speed-up over the one-core wall time, the largest worker peak RSS; the totals must be
   bit-identical to the one-core run (checked).
3. **SiMRiSC** (``benchmarks/simrisc_peer.py``): the packaged default configuration, the same
   number of women, schedule ``biennial-50-74`` (its own default 13 rounds), attendance 0.8 as
   configured, pinned to the same core; ratio of pebs's one-core throughput to SiMRiSC's
   (goal: >= 5x).
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
GOAL_RATIO = 5.0
BIG_N = 10_000_000
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


def part_dask(n: int, workers: int) -> dict:
    from pebs.sim import run
    from pebs.sim.distributed import DaskChunkMap, dask_client

    scenario = _scenario(False)
    start = time.perf_counter()
    with dask_client(workers=workers) as client:
        started = time.perf_counter() - start
        client.run(_warm_up)  # import and cache the model on every worker (not timed)
        wall = time.perf_counter()
        result = run(
            scenario, n_women=n, seed=SEED, chunk_size=CHUNK, map_chunks=DaskChunkMap(client)
        )
        wall = time.perf_counter() - wall
        peaks = client.run(_worker_peak_rss_mib)
    return {
        "n": n,
        "workers": workers,
        "start": started,
        "wall": wall,
        "worker_peak_rss_mib": max(peaks.values()),
        "values": result.values.tolist(),
    }


def _warm_up() -> None:
    from pebs.sim import simulate_chunk

    simulate_chunk(_scenario(False), SEED, 0, 1000)


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
        result["n_women_simulated"] = summary["replicate_totals"][STRATEGY]["n_women"][0]
    return result


def _best(args: list[str], repeats: int) -> tuple[dict, float]:
    runs = [_child(args, pin=True) for _ in range(repeats)]
    return min(runs, key=lambda r: r[0]["wall"])


def measure(quick: bool, n: int, repeats: int) -> dict:
    from benchmarks import simrisc_peer

    _log(f"pebs one core: {n:,} women, best of {repeats}")
    small, small_rss = _best(["--part", "serial", "--n", str(n // 10)], repeats)
    one, one_rss = _best(["--part", "serial", "--n", str(n)], repeats)
    both, both_rss = _best(["--part", "serial", "--n", str(n), "--with-reference"], 1)
    _log("pebs, 2 Dask workers")
    load = os.getloadavg()[0]
    dask, _ = _child(["--part", "dask", "--n", str(n), "--workers", "2"], pin=False)
    result = {
        "n": n,
        "one": one,
        "one_rss": one_rss,
        "small": small,
        "small_rss": small_rss,
        "both": both,
        "both_rss": both_rss,
        "dask": dask,
        "load": load,
        "cpu": one_core.cpu_model(),
    }
    _log(f"SiMRiSC: {n:,} women")
    with tempfile.TemporaryDirectory(prefix="sim-bench-") as tmp:
        try:
            peers = [
                simrisc_peer.run_simrisc(
                    n, seed=SEED, schedule=STRATEGY, workdir=Path(tmp) / f"simrisc{i}"
                )
                for i in range(repeats)
            ]
            result["simrisc"] = min(peers, key=lambda p: p.wall_seconds)
        except (simrisc_peer.SimriscUnavailableError, RuntimeError) as error:
            result["simrisc_error"] = str(error)
        _log(f"pebs simulate --workers 2: {n:,} women")
        result["cli"] = [cli_run(n, Path(tmp))]
        if not quick:
            _log(f"pebs simulate --workers 2: {BIG_N:,} women")
            result["cli"].append(cli_run(BIG_N, Path(tmp)))
    return result


def _log(message: str) -> None:
    print(f"[sim_bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def markdown(r: dict) -> str:
    n = r["n"]
    one, small, both, dask = r["one"], r["small"], r["both"], r["dask"]
    rate = n / one["wall"]
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
    identical = dask["values"] == one["values"]
    speedup = one["wall"] / dask["wall"]
    lines.append(
        f"| pebs, 2 Dask workers (LocalCluster) | {n:,} | 1 | {dask['wall']:.2f} | - "
        f"| {n / dask['wall']:,.0f} | {dask['worker_peak_rss_mib']:.0f} MiB per worker |"
    )
    peer = r.get("simrisc")
    if peer is not None:
        lines.append(
            f"| SiMRiSC {peer.version}, one core | {peer.n_women:,} | 1 "
            f"| {peer.wall_seconds:.2f} | {peer.cpu_seconds:.2f} | {peer.women_per_second:,.0f} "
            f"| {peer.peak_rss_mib:.0f} MiB |"
        )
    lines += [
        "",
        f"- **2 workers**: speed-up {speedup:.2f}x over one core (cluster start "
        f"{dask['start']:.1f} s, not included; the 2 CPUs are shared with other work: load "
        f"average {r['load']:.1f} just before); totals "
        f"bit-identical to the one-core run: {'yes' if identical else '**NO**'}.",
        f"- **Memory**: one-core peak RSS {r['small_rss']:.0f} MiB at {small['n']:,} women and "
        f"{r['one_rss']:.0f} MiB at {n:,} (chunks of at most {CHUNK:,}): "
        + (
            "flat in the number of women."
            if r["one_rss"] <= 1.1 * r["small_rss"]
            else "**grows** with the number of women."
        ),
    ]
    if peer is not None:
        ratio = rate / peer.women_per_second
        cpu_ratio = (n / one["cpu"]) / peer.women_per_cpu_second
        lines.append(
            f"- **vs SiMRiSC** (packaged default configuration, attendance 0.8, women from birth; "
            f"see `benchmarks/simrisc/README.md`): {ratio:.1f}x per core (wall; {cpu_ratio:.1f}x "
            f"per CPU-second); goal >= {GOAL_RATIO:.0f}x: "
            f"{'met' if ratio >= GOAL_RATIO else '**not met**'}."
        )
    else:
        lines.append(f"- SiMRiSC not run: {r.get('simrisc_error')}")
    lines += [
        "",
        "`pebs simulate` (the CLI; scenario file with the same population and strategy, so "
        "the no-screening reference is simulated too; `--workers 2`, no plots). Wall time "
        "includes starting and closing the local cluster; RSS sampled from /proc every 0.2 s:",
        "",
        "| women | exit | wall s | simulating s | women/s | peak RSS: CLI | largest worker "
        "| all together | check |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for c in r["cli"]:
        ok = c["exit_code"] == 0 and c.get("n_women_simulated") == c["n"]
        run_wall = c.get("run_wall", float("nan"))
        lines.append(
            f"| {c['n']:,} | {c['exit_code']} | {c['wall']:.1f} | {run_wall:.1f} "
            f"| {c['n'] / run_wall:,.0f} | {c['peak_cli_mib']:.0f} MiB "
            f"| {c['peak_worker_mib']:.0f} MiB | {c['peak_total_mib']:.0f} MiB "
            f"| {'completed' if ok else '**FAILED**: ' + c['stderr']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    one_core.limit_threads()
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sim_bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="skip the 10,000,000-woman run")
    parser.add_argument("--n", type=int, default=1_000_000, help="women for the throughput runs")
    parser.add_argument("--repeats", type=int, default=2, help="one-core runs; the best is shown")
    parser.add_argument("--part", choices=("serial", "dask"), help=argparse.SUPPRESS)
    parser.add_argument("--with-reference", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.part == "serial":
        print(json.dumps(part_serial(args.n, args.with_reference)))
        return 0
    if args.part == "dask":
        print(json.dumps(part_dask(args.n, args.workers)))
        return 0
    result = measure(args.quick, args.n, args.repeats)
    print(markdown(result))
    failed = result["dask"]["values"] != result["one"]["values"]
    for c in result["cli"]:
        failed |= c["exit_code"] != 0 or c.get("n_women_simulated") != c["n"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
