"""Start-up of the ``pebs`` command against the start-up of ``python -c "import numpy"``.

Usage (from the repository root)::

    python -m benchmarks.startup_bench                    # 20 rounds
    python -m benchmarks.startup_bench --repeats 50
    python -m benchmarks.startup_bench --before /tmp/old/src   # also another source tree

Each round runs, as child processes, ``python -c "import numpy"``, ``pebs --version``, ``pebs
risk gail --help`` (the console script next to this interpreter) and, for reference, the help of
a Typer application of one command with the same parameters (what Typer and Rich alone cost),
once each, in an order that rotates from round to round, so that a change in the machine's load
falls on every command alike. Per run: wall seconds around the child, and the child's CPU
seconds (user + system) from ``resource.getrusage(RUSAGE_CHILDREN)`` before and after. One round
first is not counted (file cache). Reported: medians, and each median over numpy's. Goal:
**``pebs --version`` and ``pebs risk gail --help`` within 2x numpy's start-up** (wall time; CPU
shown beside it). With ``--before DIR`` the two pebs commands also run with ``DIR`` (a ``src``
directory) first on ``PYTHONPATH``, in the same rounds: a before/after comparison. The pebs
modules are compiled to bytecode before the rounds, as installing the wheel leaves them (an
editable install has none). Prints a markdown section; exit code 1 if a command fails.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import one_core
from benchmarks.cli_stream import precompile

GOAL_RATIO = 2.0
"""``pebs --version`` and ``pebs risk gail --help`` in at most twice numpy's start-up."""
REFERENCE = "python -c 'import numpy'"
FLOOR = "Typer alone: a one-command app's --help"
FLOOR_APP = """
from pathlib import Path
from typing import Annotated
import typer
app = typer.Typer(add_completion=False)
@app.callback()
def root() -> None:
    "A group."
@app.command("gail")
def gail(
    input_csv: Annotated[Path, typer.Argument(help="Input CSV.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Output CSV.")] = None,
    chunk_rows: Annotated[int, typer.Option(min=1, help="Rows per chunk.")] = 200_000,
) -> None:
    "A command."
typer.main.get_command(app).main(["gail", "--help"], prog_name="app", standalone_mode=False)
"""
"""The parameters of ``pebs risk gail`` in an app of its own: what Typer and Rich cost for a help
screen, whatever the application (shown for reference, no goal)."""


def _commands(before: Path | None) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Label -> (argv, environment) of every timed command."""
    pebs = str(Path(sys.executable).parent / "pebs")
    env = one_core.child_env()
    commands = {
        REFERENCE: ([sys.executable, "-c", "import numpy"], env),
        FLOOR: ([sys.executable, "-c", FLOOR_APP], env),
        "pebs --version": ([pebs, "--version"], env),
        "pebs risk gail --help": ([pebs, "risk", "gail", "--help"], env),
    }
    if before is not None:
        path = [str(before), *filter(None, [env.get("PYTHONPATH")])]
        old = {**env, "PYTHONPATH": os.pathsep.join(path)}
        commands["pebs --version (before)"] = ([pebs, "--version"], old)
        commands["pebs risk gail --help (before)"] = ([pebs, "risk", "gail", "--help"], old)
    return commands


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run; a failed run raises."""
    cpu, wall = _child_cpu(), time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, timeout=300)
    wall, cpu = time.perf_counter() - wall, _child_cpu() - cpu
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {done.returncode}: {done.stderr[-500:]}")
    return wall, cpu


def measure(repeats: int, before: Path | None) -> dict[str, dict[str, list[float]]]:
    """Label -> {"wall": [...], "cpu": [...]} over ``repeats`` interleaved rounds, the pebs
    modules (and ``before``'s) compiled to bytecode first, as an installed pebs has them
    (:func:`benchmarks.cli_stream.precompile`)."""
    precompile()
    if before is not None:
        precompile(before)
    commands = _commands(before)
    labels = list(commands)
    for label in labels:  # warm-up round, not counted
        _time(*commands[label])
    runs: dict[str, dict[str, list[float]]] = {label: {"wall": [], "cpu": []} for label in labels}
    for round_ in range(repeats):
        shift = round_ % len(labels)
        for label in labels[shift:] + labels[:shift]:
            wall, cpu = _time(*commands[label])
            runs[label]["wall"].append(wall)
            runs[label]["cpu"].append(cpu)
    return runs


def report(runs: dict[str, dict[str, list[float]]], repeats: int, before: Path | None) -> str:
    medians = {
        label: (statistics.median(r["wall"]), statistics.median(r["cpu"]))
        for label, r in runs.items()
    }
    wall_ref, cpu_ref = medians[REFERENCE]
    also = f" Rows marked (before): the same commands with `{before}` first on PYTHONPATH."
    lines = [
        "## CLI start-up",
        "",
        f"Child processes, {repeats} interleaved rounds (order rotated each round; one warm-up "
        "round not counted): wall seconds around each child and its CPU seconds (user + system, "
        "`getrusage(RUSAGE_CHILDREN)`); medians, and their ratio to numpy's start-up. Goal: "
        f"`pebs --version` and `pebs risk gail --help` within {GOAL_RATIO:g}x "
        f"`{REFERENCE}` (wall)." + (also if before else ""),
        "",
        "| command | wall (ms) | CPU (ms) | wall / numpy | CPU / numpy | goal |",
        "|---|---:|---:|---:|---:|---|",
    ]
    verdicts = []  # (label, met) of the commands with a goal, this tree's
    for label, (wall, cpu) in medians.items():
        if label in (REFERENCE, FLOOR):
            goal = ""
        else:
            met = wall / wall_ref <= GOAL_RATIO
            goal = "PASS" if met else "FAIL"
            if "(before)" not in label:
                verdicts.append((label, met))
        lines.append(
            f"| `{label}` | {1000 * wall:.0f} | {1000 * cpu:.0f} | {wall / wall_ref:.2f} | "
            f"{cpu / cpu_ref:.2f} | {goal} |"
        )
    met = ", ".join(f"`{label}` **{'PASS' if ok else 'FAIL'}**" for label, ok in verdicts)
    lines += ["", f"Goal (<= {GOAL_RATIO:g}x numpy's start-up, wall): {met}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.startup_bench")
    parser.add_argument("--repeats", type=int, default=20, help="timed rounds")
    parser.add_argument("--before", type=Path, help="also time this pebs src/ directory")
    args = parser.parse_args(argv)
    try:
        runs = measure(args.repeats, args.before)
    except RuntimeError as error:
        print(f"startup_bench: {error}", file=sys.stderr)
        return 1
    print(report(runs, args.repeats, args.before), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
