"""Streaming benchmark of ``pebs risk gail`` and ``pebs risk assess`` on a large file, against
pyarrow's CSV reader and writer on the same file.

Writes a synthetic BCRA-coded CSV (an ``id`` column, then the eight BCRA columns; half the rows
5-year windows, half lifetime) and the same women in the ``pebs risk assess`` columns, chunk by
chunk into a temporary directory. Then, in interleaved rounds (gail, peer, floor, assess, peer,
floor), runs each CLI, the peer (:data:`PEER_SCRIPT`: pyarrow's streaming CSV reader and its CSV
writer copying the same file) and the same-output floor (:data:`FLOOR_SCRIPT`: pyarrow reading
the same file and writing the command's own output) as child processes on one core, and reports
CPU seconds (``wait4`` resource usage of that child alone, started by :data:`LAUNCHER`), their
ratios (medians), wall
time, rows per second and the child's peak resident set, with the GOAL lines. The pebs modules
are compiled to bytecode first (:func:`precompile`), as a pip install of the wheel leaves them.
Checks that the outputs have one line per row plus the header, and recomputes the first gail
rows with :mod:`benchmarks.scalar_gail`. The temporary files are deleted afterwards.

Run alone (a smaller run than ``python -m benchmarks --only cli``; prints the comparison with
the peer and the GOAL lines)::

    python -m benchmarks.cli_stream --rows 1000000 --rounds 3
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import one_core

CHUNK_ROWS = 500_000
CPU_RATIO_GOAL = 2.0
"""A command's CPU seconds over the pyarrow read + write peer's, on the same file: at most."""
RSS_GOAL_MIB = 300.0
"""Peak resident set of a command, at any file size: below."""
N_SPOT_CHECK = 2_000
OUTPUT_COLUMNS = ("abs_risk_pct", "avg_risk_pct", "rr_under_50", "rr_50_plus", "error")


def pebs_executable() -> Path:
    """The ``pebs`` console script next to the running interpreter."""
    return Path(sys.executable).parent / "pebs"


def precompile(folder: Path | None = None) -> Path:
    """Compile the modules of ``folder`` (default: the ``pebs`` package that runs) to bytecode
    in their ``__pycache__``, as installing a wheel does, and return the folder.

    An editable install from the source tree has no bytecode, and where
    ``PYTHONDONTWRITEBYTECODE`` is set every run would compile each module it imports again
    (about a tenth of a second of ``pebs risk assess``): a cost of the development setup that
    an installed pebs does not pay. The peers' libraries come compiled.
    """
    import compileall
    import importlib.util

    if folder is None:
        spec = importlib.util.find_spec("pebs")
        folder = Path(next(iter(spec.submodule_search_locations or ())))
    compileall.compile_dir(folder, quiet=1, workers=1)
    return folder


def cli_available() -> tuple[bool, str]:
    """Whether ``pebs risk gail --help`` works, with the reason when it does not."""
    exe = pebs_executable()
    if not exe.exists():
        return False, f"{exe} not found"
    done = subprocess.run(
        [exe, "risk", "gail", "--help"], capture_output=True, text=True, check=False, timeout=120
    )
    if done.returncode != 0:
        return False, f"`pebs risk gail --help` exited with {done.returncode}"
    return True, ""


def write_input(path: Path, n_rows: int, seed: int, chunk_rows: int = CHUNK_ROWS) -> None:
    """Write ``n_rows`` synthetic women to ``path``, ``chunk_rows`` at a time."""
    import numpy as np
    import pandas as pd

    from benchmarks import cohort

    rng = np.random.default_rng(seed)
    for start in range(0, n_rows, chunk_rows):
        n = min(chunk_rows, n_rows - start)
        women = cohort.generate(n, rng)
        t1 = np.round(women["T1"], 2)
        is_lifetime = rng.random(n) < 0.5
        t2 = np.where(is_lifetime, 90.0, np.minimum(t1 + 5.0, 90.0))
        frame = pd.DataFrame({"id": np.arange(start + 1, start + n + 1)})
        for column in cohort.COLUMNS:
            frame[column] = women[column].astype(np.int64)
        frame["T1"] = t1
        frame["T2"] = t2
        frame.to_csv(path, mode="w" if start == 0 else "a", header=start == 0, index=False)


def write_assess_input(path: Path, n_rows: int, seed: int, chunk_rows: int = CHUNK_ROWS) -> None:
    """Write ``n_rows`` synthetic women in the ``pebs risk assess`` columns to ``path``.

    The women of :func:`write_input` in the friendly spellings: unknown BCRA codes as
    ``unknown`` or an empty field, ``nulliparous``, hyperplasia ``yes``/``no``, BI-RADS density
    a-d (10 % unknown) and a PRS z-score in full precision (5 % unknown).
    """
    import numpy as np
    import pandas as pd

    from benchmarks import cohort

    rng = np.random.default_rng(seed)
    for start in range(0, n_rows, chunk_rows):
        n = min(chunk_rows, n_rows - start)
        women = cohort.generate(n, rng)

        def spelled(column: str, unknown: str = "unknown", women=women) -> np.ndarray:
            values = women[column].astype(np.int64).astype(str).astype(object)
            return np.where(women[column] == 99, unknown, values)

        first_birth = spelled("Age1st", "")
        density = rng.choice(np.array(["a", "b", "c", "d", ""], dtype=object), n,
                             p=[0.1, 0.4, 0.3, 0.1, 0.1])  # fmt: skip
        prs = rng.standard_normal(n).astype(object)
        prs[rng.random(n) < 0.05] = ""
        frame = pd.DataFrame({
            "id": [f"W{i:08d}" for i in range(start + 1, start + n + 1)],
            "age": np.round(women["T1"], 2),
            "n_biopsies": spelled("N_Biop"),
            "atypical_hyperplasia": np.select(
                [women["HypPlas"] == 1, women["HypPlas"] == 0], ["yes", "no"], ""
            ),
            "age_menarche": spelled("AgeMen"),
            "age_first_birth": np.where(women["Age1st"] == 98, "nulliparous", first_birth),
            "n_first_degree_relatives": spelled("N_Rels"),
            "density": density,
            "prs_z": prs,
        })  # fmt: skip
        frame.to_csv(path, mode="w" if start == 0 else "a", header=start == 0, index=False)


def count_lines(path: Path) -> int:
    """Number of newline characters in ``path`` (read in 16 MiB blocks)."""
    lines = 0
    with open(path, "rb") as handle:
        while block := handle.read(1 << 24):
            lines += block.count(b"\n")
    return lines


def _spot_check(path: Path, n_rows: int) -> dict[str, object]:
    """Recompute the first rows with the scalar implementation; largest relative differences."""
    from benchmarks import scalar_gail
    from benchmarks.cohort import COLUMNS

    worst = {"abs_risk_pct": 0.0, "avg_risk_pct": 0.0}
    n_checked = n_mismatch = 0
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        for row, _ in zip(reader, range(n_rows), strict=False):
            expected = scalar_gail.risk_bcra(*(float(row[c]) for c in COLUMNS))
            if expected.error != bool(row["error"]):
                n_mismatch += 1
                continue
            if expected.error:
                continue
            n_checked += 1
            for column, value in (
                ("abs_risk_pct", expected.absolute_risk),
                ("avg_risk_pct", expected.average_risk),
            ):
                reference = 100.0 * value
                difference = abs(float(row[column]) - reference) / reference
                worst[column] = max(worst[column], difference)
    return {
        "header": header,
        "n_checked": n_checked,
        "n_decision_mismatch": n_mismatch,
        "max_rel_diff": worst,
    }


LAUNCHER = """
import json, os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump({"status": status, "cpu": usage.ru_utime + usage.ru_stime,
               "maxrss_kib": usage.ru_maxrss}, out)
"""
"""Runs a command as its own child and writes that child's resource usage to a file: a child
forked straight from this process would count this process's pages (the generated data) in its
peak resident set until it execs."""


def run_child(command: list[str], log_path: Path) -> dict[str, float | int]:
    """Run ``command`` on one core; wall seconds, CPU seconds, peak RSS (MiB) and exit code (of
    the command alone: started by :data:`LAUNCHER`, a small interpreter)."""
    usage_path = log_path.with_suffix(".usage.json")
    with open(log_path, "wb") as log:
        start = time.perf_counter()
        launcher = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, str(usage_path), *command],
            env=one_core.child_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=one_core.pin_to_one_core,  # this process runs no threads
        )
        launcher.wait()
        wall = time.perf_counter() - start
    usage = json.loads(usage_path.read_text(encoding="utf-8"))
    usage_path.unlink()
    return {
        "command": " ".join(command),
        "exit_code": os.waitstatus_to_exitcode(usage["status"]),
        "wall_seconds": wall,
        "cpu_seconds": usage["cpu"],
        "peak_rss_mib": usage["maxrss_kib"] / 1024,  # Linux reports KiB
    }


def run_cli(input_path: Path, output_path: Path, log_path: Path) -> dict[str, float | int]:
    """``pebs risk gail`` on one core (:func:`run_child`)."""
    command = [str(pebs_executable()), "risk", "gail", str(input_path), "-o", str(output_path)]
    return run_child(command, log_path)


PEER_SCRIPT = """
import sys
import pyarrow.csv as pa_csv
reader = pa_csv.open_csv(sys.argv[1], read_options=pa_csv.ReadOptions(use_threads=False))
with pa_csv.CSVWriter(sys.argv[2], reader.schema) as writer:
    for batch in reader:
        writer.write_batch(batch)
"""
"""The peer: pyarrow's streaming CSV reader (its own type inference) and CSV writer copying a
file, in a fresh interpreter that imports nothing else."""


def run_peer(input_path: Path, output_path: Path, log_path: Path) -> dict[str, float | int]:
    """The pyarrow read + write peer on one core (:func:`run_child`)."""
    return run_child([sys.executable, "-c", PEER_SCRIPT, str(input_path), str(output_path)],
                     log_path)  # fmt: skip


FLOOR_SCRIPT = """
import sys
import pyarrow.csv as pa_csv
import pyarrow.feather as feather
output = feather.read_table(sys.argv[3], memory_map=True)
reader = pa_csv.open_csv(sys.argv[1], read_options=pa_csv.ReadOptions(use_threads=False))
options = pa_csv.WriteOptions(quoting_style="needed")
done = 0
with pa_csv.CSVWriter(sys.argv[2], output.schema, write_options=options) as writer:
    for batch in reader:
        writer.write_table(output.slice(done, batch.num_rows))
        done += batch.num_rows
"""
"""The same-output floor: pyarrow's streaming CSV reader reading the command's input and its CSV
writer writing the command's output (its columns and rows, prepared beforehand as an Arrow file
and memory-mapped), with no model and nothing else imported: the least a file-to-file command
with those outputs can cost in this stack."""


def output_as_arrow(csv_path: Path, arrow_path: Path) -> None:
    """A command's output CSV as an uncompressed Arrow file (pyarrow's own types)."""
    import pyarrow.csv as pa_csv
    import pyarrow.feather as feather

    feather.write_feather(pa_csv.read_csv(csv_path), arrow_path, compression="uncompressed")


def run_floor(input_path: Path, output_arrow: Path, output_path: Path,
              log_path: Path) -> dict[str, float | int]:  # fmt: skip
    """The same-output floor on one core (:func:`run_child`)."""
    command = [sys.executable, "-c", FLOOR_SCRIPT, str(input_path), str(output_path),
               str(output_arrow)]  # fmt: skip
    return run_child(command, log_path)


def run_assess(input_path: Path, output_path: Path, log_path: Path) -> dict[str, float | int]:
    """``pebs risk assess --country FR`` on one core (:func:`run_child`)."""
    command = [str(pebs_executable()), "risk", "assess", str(input_path), "--country", "FR",
               "-o", str(output_path)]  # fmt: skip
    return run_child(command, log_path)


def _display(command: str, workdir: Path) -> str:
    """The command as it reads from the repository root, with the temporary folder elided."""
    command = command.replace(str(workdir), "$TMP")
    root = str(Path.cwd())
    return command.replace(root + os.sep, "") if command.startswith(root) else command


def versus_peer(runs: dict[str, list[dict]], n_rows: int) -> list[str]:
    """Markdown lines: each command's CPU seconds against the pyarrow peer on the same file
    (medians of interleaved rounds), its peak RSS, and the GOAL lines."""
    from benchmarks.report import goal_line

    lines = [
        f"Against a peer, interleaved ({len(runs['gail'])} rounds of gail, peer, floor, assess, "
        "peer, floor; medians of CPU seconds of each child, one core): the peer reads and writes "
        f"the same {n_rows:,}-row file with pyarrow's CSV reader and writer (`PEER_SCRIPT`); the "
        "same-output floor reads the same file with pyarrow and writes the command's own output "
        "(its columns and rows, prepared beforehand) with pyarrow's writer, and runs no model "
        "(`FLOOR_SCRIPT`). The goal is the ratio to the peer; the floor shows how much of it the "
        "command's outputs alone take.",
        "",
        "| command | CPU (s) | peer CPU (s) | ratio | same-output floor CPU (s) | floor / peer | "
        "command / floor | peak RSS (max) | every round (command/peer) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    goals = []
    for name in ("gail", "assess"):
        mine = [r["cpu_seconds"] for r in runs[name] if r["exit_code"] == 0]
        peer = [r["cpu_seconds"] for r in runs[f"{name}_peer"] if r["exit_code"] == 0]
        rss = max(r["peak_rss_mib"] for r in runs[name])
        pairs = zip(runs[name], runs[f"{name}_peer"], strict=True)
        rounds = ", ".join(f"{r['cpu_seconds']:.2f}/{p['cpu_seconds']:.2f}" for r, p in pairs)
        floor = [r["cpu_seconds"] for r in runs[f"{name}_floor"] if r["exit_code"] == 0]
        if not mine or not peer:
            lines.append(f"| `pebs risk {name}` | not run (a child failed) | | | | | | | |")
            continue
        ratio = statistics.median(mine) / statistics.median(peer)
        if floor:
            at_floor = statistics.median(floor)
            floor_cells = (f"{at_floor:.2f} | {at_floor / statistics.median(peer):.2f} | "
                           f"{statistics.median(mine) / at_floor:.2f}")  # fmt: skip
        else:
            floor_cells = "not run (a child failed) | | "
        lines.append(
            f"| `pebs risk {name}` | {statistics.median(mine):.2f} | "
            f"{statistics.median(peer):.2f} | {ratio:.2f} | {floor_cells} | {rss:.0f} MiB | "
            f"{rounds} |"
        )
        goals += [
            goal_line(f"cli-{name}-cpu-over-pyarrow-csv-cpu", ratio, CPU_RATIO_GOAL, at_most=True),
            goal_line(f"cli-{name}-peak-rss-mib", rss, RSS_GOAL_MIB, at_most=True),
        ]
    return [*lines, "", *goals]


def measure(n_rows: int, seed: int, tmp_root: str | None = None, rounds: int = 3) -> dict:
    """Generate, run (``rounds`` interleaved rounds against the peer), check and clean up;
    return a JSON-ready dict (the gail figures of the round with the median CPU time)."""
    precompile()
    workdir = Path(tempfile.mkdtemp(prefix="pebs-bench-", dir=tmp_root))
    try:
        input_path, output_path = workdir / "in.csv", workdir / "out.csv"
        assess_path = workdir / "assess.csv"
        log_path = workdir / "cli.log"
        start = time.perf_counter()
        write_input(input_path, n_rows, seed)
        write_assess_input(assess_path, n_rows, seed)
        report: dict[str, object] = {
            "n_rows": n_rows,
            "input_mib": input_path.stat().st_size / 2**20,
            "generate_seconds": time.perf_counter() - start,
            "load_average": os.getloadavg(),
        }
        kinds = ("gail", "gail_peer", "gail_floor", "assess", "assess_peer", "assess_floor")
        runs: dict[str, list[dict]] = {name: [] for name in kinds}
        peer_out, peer_log = workdir / "peer.csv", workdir / "peer.log"
        gail_arrow, assess_arrow = workdir / "gail.arrow", workdir / "assess.arrow"
        run_cli(input_path, output_path, log_path)  # the outputs the floors write (not timed)
        output_as_arrow(output_path, gail_arrow)
        run_assess(assess_path, workdir / "assessed.csv", peer_log)
        output_as_arrow(workdir / "assessed.csv", assess_arrow)
        for _ in range(rounds):
            runs["gail"].append(run_cli(input_path, output_path, log_path))
            runs["gail"][-1]["log"] = log_path.read_text(encoding="utf-8", errors="replace")
            runs["gail_peer"].append(run_peer(input_path, peer_out, peer_log))
            runs["gail_floor"].append(run_floor(input_path, gail_arrow, peer_out, peer_log))
            runs["assess"].append(run_assess(assess_path, workdir / "assessed.csv", peer_log))
            runs["assess_peer"].append(run_peer(assess_path, peer_out, peer_log))
            runs["assess_floor"].append(run_floor(assess_path, assess_arrow, peer_out, peer_log))
        report["load_average_after"] = os.getloadavg()
        by_cpu = sorted(runs["gail"], key=lambda r: r["cpu_seconds"])
        report.update(by_cpu[len(by_cpu) // 2])
        report["command"] = _display(report["command"], workdir)
        report["log"] = report["log"].strip()
        report["rows_per_s"] = n_rows / report["wall_seconds"]
        report["assess_lines"] = (
            count_lines(workdir / "assessed.csv") if (workdir / "assessed.csv").exists() else None
        )
        report["versus_peer"] = [
            *versus_peer(runs, n_rows),
            "",
            f"`pebs risk assess` output lines: {report['assess_lines'] or 0:,} (expected "
            f"{n_rows + 1:,}). Load average (1, 5, 15 min) before: "
            + ", ".join(f"{x:.2f}" for x in report["load_average"])
            + "; after: "
            + ", ".join(f"{x:.2f}" for x in report["load_average_after"])
            + ".",
        ]
        if report["exit_code"] == 0 and output_path.exists():
            report["output_mib"] = output_path.stat().st_size / 2**20
            report["output_lines"] = count_lines(output_path)
            report["spot_check"] = _spot_check(output_path, N_SPOT_CHECK)
        else:
            report["output_lines"] = None
        return report
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Measure ``--rows`` rows in ``--rounds`` interleaved rounds; print the comparison with the
    peer. Exit code 1 if a command failed or wrote the wrong number of lines."""
    one_core.limit_threads()  # before numpy is imported in this process
    from benchmarks.cohort import DEFAULT_SEED

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.cli_stream",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of each input file")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--tmpdir", help="where to put the temporary files (default: system)")
    args = parser.parse_args(argv)
    available, reason = cli_available()
    if not available:
        print(f"pebs CLI not available: {reason}", file=sys.stderr)
        return 1
    report = measure(args.rows, args.seed, args.tmpdir, rounds=args.rounds)
    print("\n".join(report["versus_peer"]))
    expected = args.rows + 1
    return 0 if report["output_lines"] == expected and report["assess_lines"] == expected else 1


if __name__ == "__main__":
    sys.exit(main())
