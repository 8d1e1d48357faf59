"""``python -m benchmarks`` (``make bench``): run every benchmark and write the report.

Usage (from the repository root)::

    python -m benchmarks            # full run: 1M-woman throughput, 10M-row CLI file
    python -m benchmarks --quick    # same, but a 1M-row CLI file and a 5,000-woman trial

Prints the markdown report and writes it to ``benchmarks/results/latest.md``. Exit code 1 if a
correctness check failed (scalar vs vectorised agreement, CLI output); missed speed goals are
reported, not failed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

# None of these import numpy at module level: main() limits threads first.
from benchmarks import cli_stream, gail_throughput, one_core, reference, report

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "benchmarks" / "results" / "latest.md"
CLI_ROWS = {"full": 10_000_000, "quick": 1_000_000}
SECTIONS = (
    "startup",
    "prs",
    "icare",
    "personalised",
    "screening",
    "trial",
    "import",
    "trial_analysis",
    "lab_import",
    "web",
    "sim",
    "letters",
)
"""Benchmarks that print their own markdown section (``python -m benchmarks.<name>_bench``)."""
QUICK_OPTIONS = {
    "startup": ["--repeats", "7"],
    "trial": ["--quick"],
    "import": ["--quick"],
    "trial_analysis": ["--quick"],
    "lab_import": ["--quick"],
    "web": ["--quick"],
    "sim": ["--quick"],
    "letters": ["--quick"],
}
"""Options passed to a section with ``--quick`` (start-up: 7 rounds instead of 20; the trial:
5,000 women instead of 85,000, and so the whole-trial import and the simulated trial's analysis;
the laboratory import: 1,000 samples instead of 10,000; the simulator: no 10-million-woman run;
the letters: 20 per language and a batch of 1,000)."""


def _progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=60
    )
    return done.stdout.strip() if done.returncode == 0 else "unknown"


def _run_worker(part: str, options: list[str], extra_env: dict[str, str]) -> dict:
    """Run ``benchmarks.gail_throughput <part>`` in a one-core child; return its JSON."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.gail_throughput", part, *options],
        cwd=ROOT,
        env={**one_core.child_env(), **extra_env},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"gail_throughput {part} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def _info(args: argparse.Namespace) -> dict[str, str]:
    import numpy as np

    import pebs

    dirty = " (uncommitted changes)" if _git("status", "--porcelain") else ""
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _git("rev-parse", "--short", "HEAD") + dirty,
        "command": "python -m benchmarks" + (" --quick" if args.quick else ""),
        "machine": f"{one_core.cpu_model()}, {len(os.sched_getaffinity(0))} CPUs usable",
        "software": f"Python {platform.python_version()}, numpy {np.__version__}, "
        f"pebs {pebs.__version__}",
    }


def main(argv: list[str] | None = None) -> int:
    one_core.limit_threads()  # before numpy is imported in this process
    from benchmarks.cohort import DEFAULT_SEED

    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000,000-row CLI file, not 10M")
    parser.add_argument(
        "--only", choices=("throughput", "cli", *SECTIONS), help="run one benchmark"
    )
    parser.add_argument("--n", type=int, default=1_000_000, help="women for throughput")
    parser.add_argument("--repeats", type=int, default=7, help="timed calls per horizon")
    parser.add_argument("--scalar-n", type=int, default=20_000, help="women for the scalar peer")
    parser.add_argument("--cli-rows", type=int, help="override the CLI file size")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--tmpdir", help="where to put the temporary CLI files (default: system)")
    parser.add_argument(
        "--bcra-source",
        help="R BCRA source directory to time R against (or $PEBS_BENCH_BCRA_SOURCE)",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="report file")
    args = parser.parse_args(argv)

    out = report.Report()
    report.header(out, _info(args))
    if args.only in (None, "throughput"):
        common = ["--n", str(args.n), "--seed", str(args.seed)]
        _progress(f"Gail throughput: {args.n:,} women x 2 horizons x {args.repeats} calls")
        speed = _run_worker(
            "speed", [*common, "--repeats", str(args.repeats), "--scalar-n", str(args.scalar_n)], {}
        )
        _progress("Gail peak memory (fresh process)")
        memory = _run_worker("memory", common, gail_throughput.MALLOC_ENV)
        report.throughput(out, speed, memory)
        report.reference_check(out, reference.compare())
        _progress("Gail: R BCRA on the same women, interleaved with pebs")
        source = ["--bcra-source", args.bcra_source] if args.bcra_source else []
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.bcra_peer", "--seed", str(args.seed), *source],
            cwd=ROOT, env=one_core.child_env(), capture_output=True, text=True, check=False,
        )  # fmt: skip
        out.add("", done.stdout.rstrip())
        if done.returncode != 0:
            out.failures.append(f"R BCRA peer (exit {done.returncode}): {done.stderr[-2000:]}")
    if args.only in (None, "cli"):
        n_rows = args.cli_rows or CLI_ROWS["quick" if args.quick else "full"]
        available, reason = cli_stream.cli_available()
        if available:
            _progress(f"CLI streaming: writing and scoring {n_rows:,} rows")
            report.cli(out, cli_stream.measure(n_rows, args.seed, args.tmpdir))
        else:
            report.cli(out, None, reason)
    for name in SECTIONS:
        if args.only in (None, name):
            _progress(f"{name} benchmark")
            options = QUICK_OPTIONS.get(name, []) if args.quick else []
            done = subprocess.run(
                [sys.executable, "-m", f"benchmarks.{name}_bench", *options],
                cwd=ROOT, env=one_core.child_env(), capture_output=True, text=True, check=False,
            )  # fmt: skip
            out.add("", done.stdout.rstrip())
            if done.returncode != 0:
                out.failures.append(f"{name} benchmark (exit {done.returncode}): {done.stderr}")
    if out.failures:
        out.add("", "**Failed checks:** " + "; ".join(out.failures))

    text = out.text()
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    _progress(f"report written to {args.output}")
    return 1 if out.failures else 0


if __name__ == "__main__":
    sys.exit(main())
