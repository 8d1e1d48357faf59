"""SiMRiSC, the peer screening simulator: run it on one core and read its outcome figures.

SiMRiSC (Debian package ``simrisc``, version 15.00.00 in Debian 12; C++, GPL; University
Medical Center Groningen) simulates women ("cases") one by one from birth to death (ages 0-100):
natural death age from a cumulative death table, an invasive breast tumour with a lifetime risk of
22.6 % (onset age normal, mean 72.9, s.d. 21.1), exponential growth with an age-dependent doubling
time, self-detection at a random diameter, death from the tumour by a survival function of
diameter, and mammography rounds at fixed ages with attendance 0.8 and a sensitivity that depends
on BI-RADS density and diameter.

What this module runs (the peer in its default configuration, with the same number of women and a
comparable screening schedule):

- the **configuration file shipped by the installed package**
  (``/usr/share/doc/simrisc/simrisc.gz``, decompressed into the work directory; its SHA-256 is
  reported), unchanged except for an analysis file that sets ``Scenario: cases`` (the number of
  women), ``Scenario: seed`` (``generator: fixed``, the default) and the ``Screening:`` rounds;
- the schedule ``biennial-50-74`` = mammography at ages 50, 52, ..., 74 (13 rounds), which is
  *exactly* the default configuration's own schedule; attendance stays at the default 0.8 unless
  ``attendance`` is given. Other schedules: ``annual-A-B``, ``biennial-A-B``, ``triennial-A-B``
  (rounds at A, A + step, ... up to and including B) and ``none``;
- summary files only (``--data !``) unless ``write_data=True``: SiMRiSC then also writes one CSV
  line per woman (about 170 bytes each), which costs about 25 % more time. The per-woman file is
  the only place SiMRiSC reports deaths, so tumour deaths are ``None`` without it. Parsing that
  file (in Python, afterwards) is not timed.

How it differs from a pebs ``lifetime from 40`` run: SiMRiSC starts every woman at birth (about
2 % die before 40 in its death table, and tumours before 40 are simulated), has one tumour per
woman at most, no DCIS, no stage (diameter only), no risk factors but density, and no country
tables. The work per woman (one life, 13 rounds) is comparable; the outcomes are not expected to
match pebs's except in order of magnitude.

**Like for like against pebs** (:func:`compare`, used by ``benchmarks/sim_bench.py``): the same
number of women, the same schedule, and the **same attendance** in both (default 0.8, SiMRiSC's
configured value: written explicitly as ``attendanceRate`` in SiMRiSC's analysis file and as the
strategy's ``attendance`` in pebs's ``us-benchmark`` scenario, whose own value is 1.0); rounds
interleaved (pebs, SiMRiSC, pebs, SiMRiSC, ...), each a fresh child process pinned to the same
CPU; cost = the child's CPU seconds (user + system from ``os.wait4``, start-up included for both);
ratio = pebs women per CPU-second / SiMRiSC's, medians of the rounds. pebs's realised attendance
(visits / invitations) is reported as a check that the setting took.

Throughput is measured on one core: the child is pinned to the lowest CPU this process may use
(``os.sched_setaffinity`` before ``exec``), SiMRiSC is single-threaded, and wall and CPU seconds
and peak RSS are the child's own (``os.wait4``).

Usage::

    python -m benchmarks.simrisc_peer                       # 100,000 and 1,000,000 women
    python -m benchmarks.simrisc_peer --sizes 100000 --with-data
    python -m benchmarks.simrisc_peer --repeats 3            # best of 3 per size
    python -m benchmarks.simrisc_peer --compare --sizes 1000000 --repeats 3   # vs pebs
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import one_core

PACKAGE = "simrisc"
DEFAULT_CONFIG = Path("/usr/share/doc/simrisc/simrisc.gz")
"""The default configuration shipped by the Debian package (gzip)."""
DEFAULT_SCHEDULE = "biennial-50-74"
MATCHED_ATTENDANCE = 0.8
"""Attendance set in both simulators for the comparison (SiMRiSC's configured value)."""
GOAL_RATIO = 5.0
"""pebs women per CPU-second over SiMRiSC's, same women, schedule and attendance (project goal)."""
STEPS = {"annual": 1, "biennial": 2, "triennial": 3}
SCHEDULE_PATTERN = re.compile(r"^(annual|biennial|triennial)-(\d{1,3})-(\d{1,3})$")


class SimriscUnavailableError(RuntimeError):
    """SiMRiSC is not installed and cannot be installed here."""


@dataclass(frozen=True)
class PeerResult:
    """One SiMRiSC run: cost (one core) and the outcome totals its output files report.

    Counts are totals over all ``n_women`` women (not per 1,000; see :meth:`per_1000`).
    """

    n_women: int
    seed: int
    schedule: str
    round_ages: tuple[int, ...]
    attendance: float | None
    """Attendance proportion written into the analysis; None = the configuration's (0.8)."""
    wall_seconds: float
    cpu_seconds: float
    """User + system CPU seconds of the SiMRiSC child process."""
    peak_rss_mib: float
    cpu: int | None
    """The CPU the child was pinned to (None if affinity is unsupported)."""
    wrote_data: bool
    screens: int
    """Mammograms performed (sum over rounds)."""
    false_positives: int
    false_negatives: int
    screen_detected: int
    """Tumours detected at a screening round."""
    interval_cancers: int
    """Tumours self-detected between rounds (SiMRiSC's "interval" column)."""
    women_years: float
    tumours: int | None
    """Women with a tumour before death (per-woman file only)."""
    tumour_deaths: int | None
    """Women who died of breast cancer (per-woman file only)."""
    version: str
    config_sha256: str
    command: tuple[str, ...]

    @property
    def women_per_second(self) -> float:
        """Women simulated per wall second (one core)."""
        return self.n_women / self.wall_seconds

    @property
    def women_per_cpu_second(self) -> float:
        """Women simulated per CPU second."""
        return self.n_women / self.cpu_seconds if self.cpu_seconds > 0 else float("nan")

    def per_1000(self, count: int | None) -> float | None:
        """A total expressed per 1,000 simulated women."""
        return None if count is None else 1000.0 * count / self.n_women


def ensure_simrisc() -> Path:
    """Path of the ``simrisc`` executable, installing the Debian package if needed.

    Installs with ``apt-get install -y simrisc`` only when running as root with ``apt-get``
    available; otherwise raises :class:`SimriscUnavailableError` saying what to do.
    """
    found = shutil.which(PACKAGE)
    if found:
        return Path(found)
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        reason = "apt-get is not available" if apt is None else "not running as root"
        raise SimriscUnavailableError(
            f"simrisc is not on PATH and cannot be installed automatically ({reason}); "
            "install the Debian package: sudo apt-get install simrisc"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt, "update"], [apt, "install", "-y", PACKAGE]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SimriscUnavailableError(
                f"{' '.join(command)} failed (exit {done.returncode}):\n{done.stderr[-2000:]}"
            )
    found = shutil.which(PACKAGE)
    if not found:
        raise SimriscUnavailableError("apt-get installed simrisc but it is not on PATH")
    return Path(found)


def round_ages(schedule: str) -> tuple[int, ...]:
    """Screening ages of a schedule name such as ``"biennial-50-74"`` (or ``"none"``).

    >>> round_ages("biennial-50-74")
    (50, 52, 54, 56, 58, 60, 62, 64, 66, 68, 70, 72, 74)
    >>> round_ages("triennial-50-70")
    (50, 53, 56, 59, 62, 65, 68)
    """
    if schedule == "none":
        return ()
    match = SCHEDULE_PATTERN.match(schedule)
    if match is None:
        raise ValueError(
            f"schedule must be 'none' or '<annual|biennial|triennial>-<first age>-<last age>', "
            f"got {schedule!r}"
        )
    step = STEPS[match.group(1)]
    first, last = int(match.group(2)), int(match.group(3))
    if not 0 <= first <= last <= 100:
        raise ValueError(f"schedule ages must satisfy 0 <= first <= last <= 100, got {schedule!r}")
    return tuple(range(first, last + 1, step))


def analysis_text(
    n_women: int, seed: int, ages: tuple[int, ...], attendance: float | None = None
) -> str:
    """The SiMRiSC analysis file overriding cases, seed and screening rounds."""
    lines = [
        "Analysis:",
        f"    label: pebs benchmark peer: {n_women} cases, seed {seed}",
        "    Scenario:",
        "        generator: fixed",
        f"        seed: {seed}",
        f"        cases: {n_women}",
        "    Screening:",
    ]
    lines += [f"        round: {age} Mammo" for age in ages] or ["        round: none"]
    if attendance is not None:
        lines.append(f"        attendanceRate: {attendance}")
    return "\n".join(lines) + "\n"


def run_simrisc(
    n_women: int,
    *,
    seed: int,
    schedule: str = DEFAULT_SCHEDULE,
    workdir: Path,
    attendance: float | None = None,
    write_data: bool = False,
    config: Path | None = None,
) -> PeerResult:
    """Run SiMRiSC on ``n_women`` women on one core and read its summary files.

    Parameters
    ----------
    n_women : int
        Number of simulated women (SiMRiSC ``cases``).
    seed : int
        Positive seed (``generator: fixed``).
    schedule : str
        ``"biennial-50-74"`` (the default configuration's schedule), ``"annual-A-B"``,
        ``"triennial-A-B"`` or ``"none"``.
    workdir : Path
        Directory for the configuration, analysis and output files (created if needed).
    attendance : float, optional
        Attendance proportion per round; None keeps the configuration's 0.8.
    write_data : bool
        Also write SiMRiSC's per-woman file (needed for tumour counts and deaths).
    config : Path, optional
        Configuration file (plain or ``.gz``); default: the one shipped by the package.
    """
    if n_women < 1 or seed < 1:
        raise ValueError(f"n_women and seed must be positive, got {n_women} and {seed}")
    if attendance is not None and not 0.0 <= attendance <= 1.0:
        raise ValueError(f"attendance must be a proportion in [0, 1], got {attendance}")
    executable = ensure_simrisc()
    ages = round_ages(schedule)
    workdir = Path(workdir)
    out = workdir / "out"
    if out.exists():
        shutil.rmtree(out)
    workdir.mkdir(parents=True, exist_ok=True)
    config_file, config_sha = _install_config(config or DEFAULT_CONFIG, workdir / "simrisc.conf")
    analysis = workdir / "analysis.txt"
    analysis.write_text(analysis_text(n_women, seed, ages, attendance), encoding="ascii")
    data = str(out / "data.txt") if write_data else "!"
    command = (
        str(executable),
        "-C",
        str(config_file),
        "-B",
        str(out),
        "-D",
        data,
        "-R",
        str(out / "rounds.txt"),
        "-S",
        str(out / "sensitivity.txt"),
        "-s",
        "!",
        str(analysis),
    )
    wall, cpu_seconds, peak_kib, cpu = _run_one_core(command, workdir / "simrisc.log")
    totals = parse_rounds((out / "rounds.txt").read_text(encoding="utf-8"), len(ages))
    women_years = parse_women_years((out / "sensitivity.txt").read_text(encoding="utf-8"))
    tumours = deaths = None
    if write_data:
        tumours, deaths, n_read = count_data(out / "data.txt")
        if n_read != n_women:
            raise RuntimeError(f"simrisc data file has {n_read} women, expected {n_women}")
    return PeerResult(
        n_women=n_women,
        seed=seed,
        schedule=schedule,
        round_ages=ages,
        attendance=attendance,
        wall_seconds=wall,
        cpu_seconds=cpu_seconds,
        peak_rss_mib=peak_kib / 1024,
        cpu=cpu,
        wrote_data=write_data,
        **totals,
        women_years=women_years,
        tumours=tumours,
        tumour_deaths=deaths,
        version=_version(executable),
        config_sha256=config_sha,
        command=command,
    )


def _install_config(source: Path, target: Path) -> tuple[Path, str]:
    """Copy (decompressing) the configuration into the work directory; return it and its hash."""
    if not source.is_file():
        raise SimriscUnavailableError(
            f"SiMRiSC configuration {source} not found (is /usr/share/doc excluded by dpkg?); "
            "pass config= a copy of simrisc's stdconfig/simrisc"
        )
    raw = source.read_bytes()
    text = gzip.decompress(raw) if source.suffix == ".gz" else raw
    target.write_bytes(text)
    return target, hashlib.sha256(text).hexdigest()


def _run_one_core(command: tuple[str, ...], log: Path) -> tuple[float, float, int, int | None]:
    """Run ``command`` pinned to one CPU; wall s, CPU s, peak RSS KiB of the child, the CPU."""
    cpu = min(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    with log.open("w", encoding="utf-8") as handle:
        start = time.perf_counter()
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            preexec_fn=one_core.pin_to_one_core,  # this process runs no threads here
        )
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(
            f"simrisc exited with {child.returncode}:\n{log.read_text(encoding='utf-8')[-2000:]}"
        )
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, cpu


ROUND_ROW = re.compile(r"^\s*(\d+),(.*)$")


def parse_rounds(text: str, n_rounds: int) -> dict[str, int]:
    """Sum SiMRiSC's rounds file (one CSV row per screening round) over the rounds.

    Columns: round, false positives, false negatives, screen-detected tumours, interval tumours,
    costs, then screens per modality (Mammo, Tomo, MRI).
    """
    totals = dict.fromkeys(
        ("screens", "false_positives", "false_negatives", "screen_detected", "interval_cancers"), 0
    )
    rows = 0
    for line in text.splitlines():
        match = ROUND_ROW.match(line)
        if match is None:
            continue
        fields = [int(value) for value in match.group(2).split(",")]
        if len(fields) != 8:
            raise ValueError(f"unexpected simrisc rounds row: {line!r}")
        positives, negatives, tumours, interval, _costs, mammo, tomo, mri = fields
        totals["false_positives"] += positives
        totals["false_negatives"] += negatives
        totals["screen_detected"] += tumours
        totals["interval_cancers"] += interval
        totals["screens"] += mammo + tomo + mri
        rows += 1
    if rows != n_rounds:
        raise ValueError(f"simrisc rounds file has {rows} rounds, expected {n_rounds}")
    return totals


def parse_women_years(text: str) -> float:
    """Women-years simulated, from SiMRiSC's sensitivity file (iteration 0)."""
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[0] == "0":
            return float(fields[1])
    raise ValueError("no iteration row in simrisc's sensitivity file")


def count_data(path: Path) -> tuple[int, int, int]:
    """Women with a tumour, tumour deaths and women read, from SiMRiSC's per-woman file."""
    tumours = deaths = women = 0
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            fields = line.split(",")
            if len(fields) < 18 or not fields[0].strip().isdigit():
                continue
            women += 1
            deaths += fields[1].strip() == "Tumor"
            tumours += fields[5].strip() == "Yes"
    return tumours, deaths, women


def _version(executable: Path) -> str:
    done = subprocess.run(
        [str(executable), "--version"], capture_output=True, text=True, check=False, timeout=30
    )
    return done.stdout.strip() or "unknown"


def pebs_part(n_women: int, seed: int, attendance: float) -> dict:
    """In a child: ``pebs.sim.run`` on the ``biennial-50-74`` strategy at ``attendance``."""
    import dataclasses

    from benchmarks.sim_bench import CHUNK, _scenario
    from pebs.sim import run
    from pebs.sim.outcomes import OUTCOMES

    scenario = _scenario(False)
    strategies = tuple(dataclasses.replace(s, attendance=attendance) for s in scenario.strategies)
    scenario = dataclasses.replace(scenario, strategies=strategies)
    cpu = time.process_time()
    result = run(scenario, n_women=n_women, seed=seed, chunk_size=min(CHUNK, n_women))
    cpu = time.process_time() - cpu
    totals = dict(zip(OUTCOMES, result.values.sum(axis=(0, 1)).tolist(), strict=True))
    return {"run_cpu_seconds": cpu, "visits": totals["visits"],
            "invitations": totals["invitations"]}  # fmt: skip


def _pebs_child(n_women: int, seed: int, attendance: float) -> dict:
    """One pebs round in a fresh child pinned to one CPU: its JSON, wall and CPU (rusage)."""
    command = [sys.executable, "-m", "benchmarks.simrisc_peer", "--pebs-part", "--sizes",
               str(n_women), "--seed", str(seed), "--attendance", str(attendance)]  # fmt: skip
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        child = subprocess.Popen(
            command, cwd=Path(__file__).resolve().parent.parent, env=one_core.child_env(),
            stdin=subprocess.DEVNULL, stdout=out, stderr=err, preexec_fn=one_core.pin_to_one_core,
        )  # fmt: skip
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"pebs round failed:\n{err.read()[-2000:]}")
        measured = json.loads(out.read().strip().splitlines()[-1])
    return {**measured, "wall_seconds": wall, "cpu_seconds": usage.ru_utime + usage.ru_stime}


def compare(
    n_women: int, *, rounds: int, seed: int, workdir: Path,
    attendance: float = MATCHED_ATTENDANCE, schedule: str = DEFAULT_SCHEDULE,
) -> dict:  # fmt: skip
    """pebs and SiMRiSC interleaved on the same women count, schedule and attendance.

    Returns the rounds of each (CPU seconds of each child from its rusage) or, when SiMRiSC is
    unavailable, ``{"error": reason}``.
    """
    pebs_rounds, peer_rounds = [], []
    try:
        for i in range(rounds):
            pebs_rounds.append(_pebs_child(n_women, seed, attendance))
            peer = run_simrisc(n_women, seed=seed, schedule=schedule, attendance=attendance,
                               workdir=workdir / f"round{i}")  # fmt: skip
            peer_rounds.append(peer)
    except (SimriscUnavailableError, RuntimeError) as error:
        return {"error": str(error)}
    return {"n": n_women, "attendance": attendance, "schedule": schedule, "pebs": pebs_rounds,
            "simrisc": peer_rounds, "load": os.getloadavg()}  # fmt: skip


def comparison_markdown(c: dict) -> list[str]:
    """Markdown lines for :func:`compare`: per-round table, medians, ratio and its GOAL line."""
    from benchmarks.report import goal_line

    if "error" in c:
        return [f"- SiMRiSC not run: {c['error']}"]
    n = c["n"]
    pebs_cpu = statistics.median(r["cpu_seconds"] for r in c["pebs"])
    peer_cpu = statistics.median(r.cpu_seconds for r in c["simrisc"])
    ratio = (n / pebs_cpu) / (n / peer_cpu)
    peer = c["simrisc"][0]
    realised = c["pebs"][0]["visits"] / c["pebs"][0]["invitations"]
    lines = [
        "",
        f"### pebs vs SiMRiSC, like for like: {n:,} women, schedule {c['schedule']}, attendance "
        f"{c['attendance']} in both",
        "",
        f"Rounds interleaved (pebs, SiMRiSC, ...), each a fresh child pinned to one CPU; CPU "
        f"seconds of the child (user + system from `os.wait4`, start-up included). {peer.version}"
        f", packaged default configuration, women from birth; pebs: `us-benchmark` population "
        f"from 40, realised attendance (visits / invitations) {realised:.3f}. Load average after "
        + "/".join(f"{v:.2f}" for v in c["load"])
        + ".",
        "",
        "| round | pebs child CPU s | pebs `run` CPU s | pebs wall s | SiMRiSC child CPU s "
        "| SiMRiSC wall s |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for i, (mine, theirs) in enumerate(zip(c["pebs"], c["simrisc"], strict=True), start=1):
        lines.append(
            f"| {i} | {mine['cpu_seconds']:.2f} | {mine['run_cpu_seconds']:.2f} "
            f"| {mine['wall_seconds']:.2f} | {theirs.cpu_seconds:.2f} | {theirs.wall_seconds:.2f} |"
        )
    lines += [
        "",
        f"Women per CPU-second (medians): pebs {n / pebs_cpu:,.0f}, SiMRiSC {n / peer_cpu:,.0f}; "
        f"SiMRiSC screens {peer.per_1000(peer.screens):,.0f} per 1,000 women.",
        "",
        goal_line("sim-vs-simrisc-women-per-cpu-s", ratio, GOAL_RATIO),
    ]
    return lines


def markdown_section(results: list[PeerResult]) -> str:
    """A markdown section for the benchmark report."""
    if not results:
        return "## SiMRiSC peer\n\nnot run\n"
    first = results[0]
    lines = [
        "## SiMRiSC peer (one core)",
        "",
        f"{first.version}, packaged default configuration (sha256 {first.config_sha256[:12]}), "
        f"schedule {first.schedule} ({len(first.round_ages)} mammography rounds, attendance "
        f"{'0.8 (default)' if first.attendance is None else first.attendance}), women simulated "
        f"from birth to death, CPU {first.cpu}.",
        "",
        "| women | per-woman file | wall s | CPU s | women/s (wall) | women/CPU-s | peak RSS MiB "
        "| screens /1000 | FP /1000 | screen-det. /1000 | interval /1000 | BC deaths /1000 |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        deaths = r.per_1000(r.tumour_deaths)
        lines.append(
            f"| {r.n_women:,} | {'yes' if r.wrote_data else 'no'} | {r.wall_seconds:.2f} "
            f"| {r.cpu_seconds:.2f} | {r.women_per_second:,.0f} | {r.women_per_cpu_second:,.0f} "
            f"| {r.peak_rss_mib:.1f} | {r.per_1000(r.screens):.0f} "
            f"| {r.per_1000(r.false_positives):.1f} | {r.per_1000(r.screen_detected):.2f} "
            f"| {r.per_1000(r.interval_cancers):.2f} "
            f"| {'-' if deaths is None else f'{deaths:.2f}'} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.simrisc_peer")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--schedule", default=DEFAULT_SCHEDULE)
    parser.add_argument("--attendance", type=float, default=None)
    parser.add_argument("--with-data", action="store_true", help="also write per-woman files")
    parser.add_argument("--repeats", type=int, default=1, help="runs per size; the best is shown")
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temporary dir")
    parser.add_argument(
        "--compare", action="store_true", help="pebs and SiMRiSC interleaved, same attendance"
    )
    parser.add_argument("--pebs-part", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    attendance = MATCHED_ATTENDANCE if args.attendance is None else args.attendance
    if args.pebs_part:
        one_core.limit_threads()
        print(json.dumps(pebs_part(args.sizes[0], args.seed, attendance)))
        return 0
    if args.compare:
        with tempfile.TemporaryDirectory(prefix="simrisc-") as tmp:
            for n in args.sizes:
                c = compare(n, rounds=max(1, args.repeats), seed=args.seed,
                            workdir=args.workdir or Path(tmp), attendance=attendance,
                            schedule=args.schedule)  # fmt: skip
                print("\n".join(comparison_markdown(c)))
        return 0
    results = []
    with tempfile.TemporaryDirectory(prefix="simrisc-") as tmp:
        base = args.workdir or Path(tmp)
        for n in args.sizes:
            runs = [
                run_simrisc(
                    n,
                    seed=args.seed,
                    schedule=args.schedule,
                    workdir=base / str(n),
                    attendance=args.attendance,
                    write_data=args.with_data,
                )
                for _ in range(max(1, args.repeats))
            ]
            results.append(min(runs, key=lambda run: run.cpu_seconds))
            walls = ", ".join(f"{run.wall_seconds:.2f}" for run in runs)
            print(f"[simrisc] {n:,} women: {walls} s (wall)", file=sys.stderr)
    print(markdown_section(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
