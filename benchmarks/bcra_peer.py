"""R's BCRA 2.1.2, the reference Gail implementation, timed in the same run as ``pebs.risk.gail``.

``python -m benchmarks.bcra_peer [--bcra-source DIR] [--n N] [--rounds R]`` prints a markdown
section. BCRA is not part of this repository: its source (a checkout of the public GitHub mirror
of CRAN, github.com/cran/BCRA, version 2.1.2) is given with ``--bcra-source DIR`` or the
environment variable ``PEBS_BENCH_BCRA_SOURCE``, and installed at benchmark time with
``R CMD INSTALL`` into a temporary R library that is deleted afterwards. Without ``Rscript`` on
``PATH`` or without the source, the section says "not run" and why (no figure is quoted instead).

What is timed, on the same women and for the same outputs:

- **Women**: the first ``--n`` women (default 10,000) of the benchmark cohort
  (:mod:`benchmarks.cohort`, fixed seed), 5-year horizon (T2 = min(T1 + 5, 90)), written once to a
  CSV file with an ``ID`` column, as BCRA expects (``help(exampledata)``).
- **R**: one ``Rscript`` child per round. Inside R, ``proc.time()`` (user + system CPU of the R
  process) around ``absolute.risk(data, Raw_Ind=1, Avg_White=0)`` (absolute risk; ``Raw_Ind=1``:
  covariates in their raw codes, as the cohort has them) and ``absolute.risk(data, Raw_Ind=1,
  Avg_White=1)`` (average-woman risk), each timed on its own. R's start-up (CPU used before the
  first line of the script) and loading BCRA + reading the CSV are reported apart, not in the
  ratio; so is the child's total CPU from ``getrusage(RUSAGE_CHILDREN)``.
- **pebs**: ``pebs.risk.gail.risk_bcra`` (absolute and average-woman risk in one call) on the same
  arrays, called repeatedly within a round until 0.5 CPU-seconds have passed (one call on 10,000
  women takes a few milliseconds, below a reliable reading), ``time.process_time``.
- **Interleaved**: R, pebs, R, pebs... (``--rounds``, default 3), the whole process and its R
  children pinned to one CPU with thread variables = 1 (``one_core.py``). Medians of the rounds.
- **Ratio**: women per CPU-second of pebs (both outputs) / women per CPU-second of R (both calls).
- **Agreement**: on rows both accept, the largest relative difference of the absolute and the
  average risk (percent), and the rows one rejects and the other accepts (R returns ``NA``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import one_core

SOURCE_ENV = "PEBS_BENCH_BCRA_SOURCE"
EXPECTED_VERSION = "2.1.2"
AGREEMENT_TOLERANCE = 1e-10
PEBS_ROUND_CPU_S = 0.5
R_SCRIPT = r"""
p0 <- proc.time()
args <- commandArgs(trailingOnly = TRUE)
suppressPackageStartupMessages(library(BCRA, lib.loc = args[1]))
data <- read.csv(args[2])
p1 <- proc.time()
absolute <- absolute.risk(data, Raw_Ind = 1, Avg_White = 0)
p2 <- proc.time()
average <- absolute.risk(data, Raw_Ind = 1, Avg_White = 1)
p3 <- proc.time()
cpu <- function(p) unname(p[["user.self"]] + p[["sys.self"]])
cat(sprintf("startup %.6f\nload_read %.6f\nabsolute %.6f\naverage %.6f\n",
            cpu(p0), cpu(p1) - cpu(p0), cpu(p2) - cpu(p1), cpu(p3) - cpu(p2)))
if (length(args) >= 3) {
  write.csv(data.frame(ID = data$ID, AbsRisk = absolute, AbsRisk_Avg = average), args[3],
            row.names = FALSE)
}
"""


class PeerUnavailableError(RuntimeError):
    """R or the BCRA source is missing: the section reports "not run" with this message."""


def bcra_source(option: str | None) -> Path:
    """The BCRA source directory from the option or :data:`SOURCE_ENV`; checked, not copied."""
    given = option or os.environ.get(SOURCE_ENV)
    if not given:
        raise PeerUnavailableError(
            f"BCRA source not given (--bcra-source DIR or {SOURCE_ENV}=DIR: a checkout of the "
            "public GitHub mirror of CRAN, github.com/cran/BCRA, version 2.1.2)"
        )
    source = Path(given)
    description = source / "DESCRIPTION"
    if not description.is_file():
        raise PeerUnavailableError(f"BCRA source {source} has no DESCRIPTION file")
    return source


def package_version(source: Path) -> str:
    """``Version:`` of the package's DESCRIPTION file."""
    for line in (source / "DESCRIPTION").read_text(encoding="utf-8").splitlines():
        if line.startswith("Version:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def rscript() -> str:
    """Path of ``Rscript``, or :class:`PeerUnavailableError`."""
    found = shutil.which("Rscript")
    if found is None:
        raise PeerUnavailableError("R not found (apt-get install r-base-core)")
    return found


def install(source: Path, library: Path) -> float:
    """``R CMD INSTALL -l library source``; its wall seconds."""
    r = shutil.which("R")
    if r is None:
        raise PeerUnavailableError("R not found (apt-get install r-base-core)")
    library.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    done = subprocess.run(
        [r, "CMD", "INSTALL", "--no-test-load", "-l", str(library), str(source)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise PeerUnavailableError(f"R CMD INSTALL of BCRA failed:\n{done.stderr[-1500:]}")
    return time.perf_counter() - start


def write_women(path: Path, arrays: dict, columns: tuple[str, ...]) -> None:
    """The women as BCRA's input CSV: ``ID`` then the eight covariates (full float precision)."""
    with path.open("w", newline="", encoding="ascii") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ID", *columns])
        values = [arrays[c].tolist() for c in columns]
        for i, row in enumerate(zip(*values, strict=True), start=1):
            writer.writerow([i, *(repr(v) for v in row)])


def r_round(executable: str, script: Path, library: Path, women: Path, out: Path | None) -> dict:
    """One R child: CPU seconds by stage (from ``proc.time()``) and the child's total CPU."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    command = [executable, "--vanilla", str(script), str(library), str(women)]
    done = subprocess.run(
        [*command, *([str(out)] if out else [])], capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"Rscript failed (exit {done.returncode}):\n{done.stderr[-1500:]}")
    stages = {
        key: float(value) for key, value in (line.split() for line in done.stdout.splitlines())
    }
    child_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {**stages, "process_cpu": child_cpu, "process_wall": wall}


def pebs_round(gail, arrays: dict) -> dict:
    """Calls of ``risk_bcra`` on the women until :data:`PEBS_ROUND_CPU_S`; CPU per call."""
    calls = 0
    start = time.process_time()
    while True:
        gail.risk_bcra(**arrays)
        calls += 1
        used = time.process_time() - start
        if used >= PEBS_ROUND_CPU_S:
            return {"calls": calls, "cpu": used, "cpu_per_call": used / calls}


def agreement(np, result, r_output: Path) -> dict:
    """Largest relative differences (percent risks) and decision mismatches against R."""
    with r_output.open(newline="", encoding="ascii") as handle:
        rows = list(csv.DictReader(handle))

    def column(name: str):
        return np.array([np.nan if r[name] == "NA" else float(r[name]) for r in rows])

    r_absolute, r_average = column("AbsRisk"), column("AbsRisk_Avg")
    r_valid = ~np.isnan(r_absolute)
    pebs_valid = result.error == 0
    both = r_valid & pebs_valid

    def max_rel(ours, theirs) -> float:
        return float(np.max(np.abs(ours[both] - theirs[both]) / np.abs(theirs[both]), initial=0.0))

    return {
        "n_compared": int(both.sum()),
        "n_decision_mismatch": int(np.sum(r_valid != pebs_valid)),
        "absolute_risk_pct": max_rel(result.absolute_risk_pct, r_absolute),
        "average_risk_pct": max_rel(result.average_risk_pct, r_average),
    }


def measure(source: Path, n: int, rounds: int, seed: int) -> dict:
    """Install BCRA in a temporary library and time R and pebs, interleaved, on one core."""
    if n < 1 or rounds < 1:
        raise ValueError(f"n and rounds must be positive, got {n} and {rounds}")
    executable = rscript()
    one_core.limit_threads()
    core = one_core.pin_to_one_core()  # R children inherit the affinity
    import numpy as np  # after the thread limits

    from benchmarks import cohort
    from pebs.risk import gail

    arrays = cohort.with_horizon(cohort.generate(n, np.random.default_rng(seed)), "5y")
    result = gail.risk_bcra(**arrays)  # warm-up, and the outputs compared with R's
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="pebs-bcra-") as tmp:
        work = Path(tmp)
        install_s = install(source, work / "library")
        script = work / "time_bcra.R"
        script.write_text(R_SCRIPT, encoding="ascii")
        women = work / "women.csv"
        write_women(women, arrays, cohort.COLUMNS)
        r_rounds, pebs_rounds = [], []
        for i in range(rounds):
            out = work / "r_output.csv" if i == 0 else None
            r_rounds.append(r_round(executable, script, work / "library", women, out))
            pebs_rounds.append(pebs_round(gail, arrays))
            if out is not None:
                checked = agreement(np, result, out)
    return {
        "n": n,
        "seed": seed,
        "core": core,
        "rounds": rounds,
        "bcra_version": package_version(source),
        "install_wall_s": install_s,
        "r_version": _r_version(executable),
        "r": r_rounds,
        "pebs": pebs_rounds,
        "agreement": checked,
        "n_rejected_pebs": int(np.sum(result.error != 0)),
        "load_before": load_before,
        "load_after": os.getloadavg(),
    }


def _r_version(executable: str) -> str:
    done = subprocess.run(
        [executable, "--version"], capture_output=True, text=True, check=False, timeout=60
    )
    text = (done.stdout or done.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def _median(rows: list[dict], key: str) -> float:
    return statistics.median(row[key] for row in rows)


def markdown(m: dict) -> tuple[str, list[str]]:
    """The report section and the failed checks."""
    n = m["n"]
    r_compute = [row["absolute"] + row["average"] for row in m["r"]]
    r_per_cpu_s = n / statistics.median(r_compute)
    pebs_per_cpu_s = n / _median(m["pebs"], "cpu_per_call")
    ratio = pebs_per_cpu_s / r_per_cpu_s
    a = m["agreement"]
    worst = max(a["absolute_risk_pct"], a["average_risk_pct"])
    ok = a["n_decision_mismatch"] == 0 and worst <= AGREEMENT_TOLERANCE
    failures = [] if ok else ["pebs vs R BCRA agreement"]
    load = "/".join(f"{v:.2f}" for v in m["load_before"])
    lines = [
        "## Gail (BCRAT): pebs vs R BCRA, same women, same run, one core",
        "",
        f"R BCRA {m['bcra_version']} ({m['r_version']}; installed from its source into a "
        f"temporary library in {m['install_wall_s']:.0f} s, not timed) against "
        f"`pebs.risk.gail.risk_bcra`, on the first {n:,} women of the benchmark cohort (seed "
        f"{m['seed']}), 5-year horizon; {m['rounds']} interleaved rounds (R, pebs, ...) on CPU "
        f"{m['core']}; load average before {load}. CPU seconds; medians of the rounds.",
        "",
        "| what is timed | CPU s per round (median) | women per CPU-second |",
        "|---|---:|---:|",
        f"| R `absolute.risk(data, Raw_Ind=1, Avg_White=0)` (absolute risk) "
        f"| {_median(m['r'], 'absolute'):.3f} | {n / _median(m['r'], 'absolute'):,.0f} |",
        f"| R `absolute.risk(data, Raw_Ind=1, Avg_White=1)` (average-woman risk) "
        f"| {_median(m['r'], 'average'):.3f} | {n / _median(m['r'], 'average'):,.0f} |",
        f"| R, both calls | {statistics.median(r_compute):.3f} | {r_per_cpu_s:,.0f} |",
        f"| pebs `risk_bcra` (both risks, one call; {_median(m['pebs'], 'calls'):.0f} calls a "
        f"round) | {_median(m['pebs'], 'cpu_per_call'):.5f} per call | {pebs_per_cpu_s:,.0f} |",
        "",
        f"Not in the ratio: R start-up {_median(m['r'], 'startup'):.2f} CPU s, loading BCRA and "
        f"reading the CSV {_median(m['r'], 'load_read'):.2f} CPU s; the whole R process "
        f"{_median(m['r'], 'process_cpu'):.2f} CPU s ({_median(m['r'], 'process_wall'):.2f} s "
        "wall) per round.",
        "",
        f"**pebs / R BCRA, women per CPU-second (5-year absolute + average-woman risk): "
        f"{ratio:,.0f}x** (no goal is set for this ratio).",
        "",
        f"Agreement with R on the {a['n_compared']:,} rows both accept: max relative difference "
        f"{a['absolute_risk_pct']:.1e} (absolute risk), {a['average_risk_pct']:.1e} (average "
        f"risk); rows one accepts and the other rejects: {a['n_decision_mismatch']} "
        f"({'ok' if ok else '**FAILED**'}; tolerance {AGREEMENT_TOLERANCE:.0e}; pebs rejects "
        f"{m['n_rejected_pebs']:,}).",
    ]
    return "\n".join(lines) + "\n", failures


def not_run(reason: str) -> str:
    """The section when R or the source is missing."""
    return f"## Gail (BCRAT): pebs vs R BCRA\n\nNot run: {reason}.\n"


def main(argv: list[str] | None = None) -> int:
    one_core.limit_threads()  # before numpy is imported
    from benchmarks.cohort import DEFAULT_SEED

    parser = argparse.ArgumentParser(prog="python -m benchmarks.bcra_peer", description=__doc__)
    parser.add_argument("--bcra-source", help=f"BCRA source directory (or ${SOURCE_ENV})")
    parser.add_argument("--n", type=int, default=10_000, help="women (R: about 2 CPU s a round)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
    args = parser.parse_args(argv)
    try:
        measured = measure(bcra_source(args.bcra_source), args.n, args.rounds, args.seed)
    except PeerUnavailableError as error:
        print(not_run(str(error)))
        return 0
    if args.json:
        print(json.dumps(measured, indent=1))
        return 0
    text, failures = markdown(measured)
    print(text)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
