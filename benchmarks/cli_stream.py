"""Streaming benchmark of ``pebs risk gail INPUT.csv -o OUTPUT.csv`` on a large file.

Writes a synthetic BCRA-coded CSV (an ``id`` column, then the eight BCRA columns; half the rows
5-year windows, half lifetime) chunk by chunk into a temporary directory, runs the CLI as a child
process on one core, and reports wall time, rows per second and the child's peak resident set
(``wait4`` resource usage of that child alone). Checks that the output has one line per row plus
the header, and recomputes the first rows with :mod:`benchmarks.scalar_gail`. The temporary files
are deleted afterwards.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import one_core

CHUNK_ROWS = 500_000
N_SPOT_CHECK = 2_000
OUTPUT_COLUMNS = ("abs_risk_pct", "avg_risk_pct", "rr_under_50", "rr_50_plus", "error")


def pebs_executable() -> Path:
    """The ``pebs`` console script next to the running interpreter."""
    return Path(sys.executable).parent / "pebs"


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


def run_cli(input_path: Path, output_path: Path, log_path: Path) -> dict[str, float | int]:
    """Run the CLI on one core; wall seconds, CPU seconds, peak RSS (MiB) and exit code."""
    command = [str(pebs_executable()), "risk", "gail", str(input_path), "-o", str(output_path)]
    with open(log_path, "wb") as log:
        start = time.perf_counter()
        child = subprocess.Popen(
            command,
            env=one_core.child_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=one_core.pin_to_one_core,  # this process runs no threads
        )
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    return {
        "command": " ".join(command),
        "exit_code": child.returncode,
        "wall_seconds": wall,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_mib": usage.ru_maxrss / 1024,  # Linux reports KiB
    }


def _display(command: str, workdir: Path) -> str:
    """The command as it reads from the repository root, with the temporary folder elided."""
    command = command.replace(str(workdir), "$TMP")
    root = str(Path.cwd())
    return command.replace(root + os.sep, "") if command.startswith(root) else command


def measure(n_rows: int, seed: int, tmp_root: str | None = None) -> dict[str, object]:
    """Generate, run, check and clean up; return a JSON-ready dict."""
    workdir = Path(tempfile.mkdtemp(prefix="pebs-bench-", dir=tmp_root))
    try:
        input_path, output_path = workdir / "in.csv", workdir / "out.csv"
        log_path = workdir / "cli.log"
        start = time.perf_counter()
        write_input(input_path, n_rows, seed)
        report: dict[str, object] = {
            "n_rows": n_rows,
            "input_mib": input_path.stat().st_size / 2**20,
            "generate_seconds": time.perf_counter() - start,
        }
        report.update(run_cli(input_path, output_path, log_path))
        report["command"] = _display(report["command"], workdir)
        report["log"] = log_path.read_text(encoding="utf-8", errors="replace").strip()
        report["rows_per_s"] = n_rows / report["wall_seconds"]
        if report["exit_code"] == 0 and output_path.exists():
            report["output_mib"] = output_path.stat().st_size / 2**20
            report["output_lines"] = count_lines(output_path)
            report["spot_check"] = _spot_check(output_path, N_SPOT_CHECK)
        else:
            report["output_lines"] = None
        return report
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
