"""A simulated trial analysed from the database: simulate -> import files -> ``pebs import`` ->
``pebs audit verify`` -> study lock and snapshot -> ``pebs analyse``, on SQLite and PostgreSQL.

Every step is the ``pebs`` command a trial team runs, in its own process (wall and CPU time of
the process; the CPU of a PostgreSQL server is not counted):

1. ``pebs simulate mypebs-trial --trial-files -o DIR --women N``: the simulator's trial mode
   (women randomised 1:1 to risk-based vs standard screening, followed 4 years) written as the
   enrolment, visits and diagnoses files, with the records' and the simulator's counts per arm
   (``trial_files.json``);
2. SQLite, a new database file: ``pebs db upgrade``, ``pebs study load mypebs-demo
   --demo-users`` (not timed), ``pebs import`` (timed), ``pebs audit verify``, ``pebs study
   lock`` (the snapshot: a SQLite copy), ``pebs analyse --snapshot`` (timed);
3. PostgreSQL, a new database on the server of ``PEBS_BENCH_POSTGRES_URL`` (default
   ``postgresql+psycopg://postgres@127.0.0.1:5432/test``; the database is created and dropped):
   the same import, verification and lock (the snapshot: a ``pg_dump`` archive), then the
   snapshot restored into another new database (``pebs db restore``) and analysed there with
   the SQLite snapshot's data cut (``pebs analyse --data-cut``: ``--snapshot`` reads SQLite
   snapshots only).

Checks (exit 1 if one fails): nothing refused by the import; the audit chains verify; per arm,
the analysis's women randomised and women with an AJCC stage II+ cancer within 4 years equal
the counts read from the simulator's records and the simulator's own totals, and its ratio
estimate and upper bound equal the simulator's non-inferiority test of the same counts
(:func:`pebs.sim.trial_summary`); the PostgreSQL analysis equals the SQLite one (every result
but the source, run time and software).

    python -m benchmarks.trial_analysis_bench              # 85,000 women
    python -m benchmarks.trial_analysis_bench --quick      # 5,000 women
    python -m benchmarks.trial_analysis_bench --backends sqlite
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.trial_bench_data import POSTGRES_URL

SCENARIO = "mypebs-trial"
STUDY = "mypebs-demo"
DATA_MANAGER = "demo-data-manager"
STATISTICIAN = "demo-statistician"
PER_100K = 100_000.0
PEBS = (sys.executable, "-c", "import sys; from pebs.cli import run; sys.argv[0] = 'pebs'; run()")
"""The ``pebs`` command of this interpreter's installation."""
RUN_ONLY = ("source", "run_at", "run_by", "software")
"""Keys of results.json that describe the run, not the results."""


def _progress(message: str) -> None:
    print(f"[trial-analysis-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr,
          flush=True)  # fmt: skip


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Step:
    name: str
    wall_s: float
    cpu_s: float
    output: str


@dataclass
class Backend:
    name: str
    steps: list[Step] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def pebs(args: list[str], env: dict[str, str], *, cwd: Path, name: str = "") -> Step:
    """Run ``pebs ARGS``; the step (``name``, default the first two arguments) with its wall
    and CPU time and its output (``RuntimeError`` if it fails)."""
    cpu, wall = _children_cpu(), time.perf_counter()
    done = subprocess.run(
        [*PEBS, *args], env=env, cwd=cwd, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    step = Step(name or " ".join(args[:2]), time.perf_counter() - wall, _children_cpu() - cpu,
                done.stdout + done.stderr)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"pebs {' '.join(args)} (exit {done.returncode}):\n{step.output}")
    return step


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "PEBS_DATABASE_URL": url, "PEBS_ENVIRONMENT": "development",
            "PEBS_SECRET_KEY": "trial-analysis-benchmark-" + "k" * 32}  # fmt: skip


@contextmanager
def postgres_database(prefix: str):
    """A new PostgreSQL database's URL, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _import_and_lock(backend: Backend, url: str, files: Path, work: Path, snapshot: Path) -> None:
    env = _env(url)
    pebs(["db", "upgrade"], env, cwd=work)
    pebs(["study", "load", STUDY, "--demo-users"], env, cwd=work)
    _progress(f"{backend.name}: pebs import")
    step = pebs(["import", "--format", "csv", str(files / "women.csv"), "--visits",
                 str(files / "visits.csv"), "--diagnoses", str(files / "diagnoses.csv"),
                 "--study", STUDY, "-u", DATA_MANAGER, "-o", str(work / "outcomes.csv")],
                env, cwd=work, name="import")  # fmt: skip
    backend.steps.append(step)
    if "refused" in step.output:
        backend.notes.append("import refused rows: " + step.output.strip().replace("\n", "; "))
    _progress(f"{backend.name}: pebs audit verify")
    backend.steps.append(pebs(["audit", "verify"], env, cwd=work))
    _progress(f"{backend.name}: pebs study lock")
    lock = ["study", "lock", "--study", STUDY, "-u", DATA_MANAGER, "-o", str(snapshot)]
    backend.steps.append(pebs(lock, env, cwd=work, name="study lock (snapshot)"))


def _analyse(backend: Backend, url: str, work: Path, extra: list[str]) -> None:
    _progress(f"{backend.name}: pebs analyse")
    out = work / f"analysis-{backend.name}"
    backend.steps.append(pebs(["analyse", "--study", STUDY, "-u", STATISTICIAN, "-o", str(out),
                               *extra], _env(url), cwd=work, name="analyse"))  # fmt: skip
    backend.results = json.loads((out / "results.json").read_text(encoding="utf-8"))


def run_sqlite(files: Path, work: Path) -> Backend:
    backend = Backend("sqlite")
    url = f"sqlite:///{work / 'trial.db'}"
    snapshot = work / "locked.sqlite"
    _import_and_lock(backend, url, files, work, snapshot)
    _analyse(backend, url, work, ["--snapshot", str(snapshot)])
    return backend


def run_postgresql(files: Path, work: Path, data_cut: str) -> Backend:
    backend = Backend("postgresql")
    dump = work / "locked.dump"
    with postgres_database("pebs_analysis_bench") as url:
        _import_and_lock(backend, url, files, work, dump)
        with postgres_database("pebs_analysis_restored") as restored:
            _progress("postgresql: pebs db restore (the snapshot, into a new database)")
            backend.steps.append(
                pebs(
                    ["db", "restore", str(dump)],
                    _env(restored),
                    cwd=work,
                    name="db restore (the snapshot, a new database)",
                )
            )
            _analyse(backend, restored, work, ["--data-cut", data_cut])
    return backend


def _itt(results: dict[str, Any]) -> dict[str, Any]:
    return results["primary"]["intention_to_treat"]


def checks(expected: dict[str, Any], backends: list[Backend]) -> list[tuple[str, bool]]:
    """The checks of the module docstring, each with its outcome."""
    found = []
    for backend in backends:
        itt = _itt(backend.results)
        for arm, own in expected["simulator"].items():
            got = itt["arms"][arm]
            records = expected["records"][arm]
            found.append((
                f"{backend.name}, {arm}: analysis {got['events']:,} stage II+ / {got['n']:,} "
                f"randomised = records {records['stage_2_plus']:,} / {records['women']:,} = "
                f"simulator {own['stage2plus']:,} / {own['n_women']:,}",
                got["events"] == records["stage_2_plus"] == own["stage2plus"]
                and got["n"] == records["women"] == own["n_women"],
            ))  # fmt: skip
        trial = expected["simulator_trial"]
        same = all(
            abs(itt["ratio"][k] - trial[v]) <= 1e-12 * max(1.0, abs(trial[v]))
            for k, v in (("estimate", "ratio"), ("upper", "upper"))
        )
        found.append((f"{backend.name}: ratio and its upper bound = the simulator's test", same))
        found.append((f"{backend.name}: nothing refused by the import", not backend.notes))
        verify = next(s for s in backend.steps if s.name == "audit verify")
        found.append((f"{backend.name}: audit chain verifies", "audit chain ok" in verify.output))
    if len(backends) == 2:
        a, b = ({k: v for k, v in x.results.items() if k not in RUN_ONLY} for x in backends)
        found.append(("PostgreSQL analysis = SQLite analysis (all but source, run time, software)",
                      a == b))  # fmt: skip
    return found


def _per_100k(value: float | None) -> str:
    return "n/a" if value is None else f"{value * PER_100K:,.0f}"


def report(n: int, simulate: Step, expected: dict[str, Any], backends: list[Backend],
           found: list[tuple[str, bool]]) -> list[str]:  # fmt: skip
    lines = ["| step | " + " | ".join(f"{b.name} wall (s) | {b.name} CPU (s)" for b in backends)
             + " |", "|---|" + "---:|---:|" * len(backends)]  # fmt: skip
    lines.append(f"| pebs simulate --trial-files | {simulate.wall_s:,.1f} | {simulate.cpu_s:,.1f} |"
                 + " | |" * (len(backends) - 1))  # fmt: skip
    names = list(dict.fromkeys(s.name for b in backends for s in b.steps))
    for name in names:
        cells = []
        for b in backends:
            step = next((s for s in b.steps if s.name == name), None)
            cells.append("| |" if step is None else f"{step.wall_s:,.1f} | {step.cpu_s:,.1f} |")
        lines.append(f"| pebs {name} | " + " ".join(cells))
    results = backends[0].results
    itt = _itt(results)
    plan = results["plan"]
    tte = results["time_to_event"]["arms"]
    lines += ["", f"Primary result ({backends[0].name} snapshot, data cut {results['data_cut']}): "
              f"AJCC stage II+ within {plan['horizon_years']:g} years of randomisation, "
              "intention to treat, per 100,000 women (Wilson 95 % interval); Aalen-Johansen "
              "cumulative incidence at 4 years (deaths competing).", "",
              "| arm | women | stage II+ | per 100,000 (95 % CI) | Aalen-Johansen per 100,000 |",
              "|---|---:|---:|---|---:|"]  # fmt: skip
    for arm, a in itt["arms"].items():
        lines.append(
            f"| {arm} | {a['n']:,} | {a['events']:,} | {_per_100k(a['proportion'])} "
            f"({_per_100k(a['lower'])}-{_per_100k(a['upper'])}) | "
            f"{_per_100k(tte[arm]['aalen_johansen_at_horizon'])} |"
        )
    ratio, diff = itt["ratio"], itt["difference"]
    own = expected["simulator_trial"]
    lines += [
        "",
        f"- ratio risk-based / standard {ratio['estimate']:.3f} (two-sided "
        f"{1 - 2 * plan['alpha']:.0%} interval {ratio['lower']:.3f}-{ratio['upper']:.3f}), "
        f"margin {ratio['margin']:g}, one-sided p {ratio['p_value']:.3g} "
        f"({ratio['method']}): **{ratio['conclusion']}**",
        f"- difference {diff['estimate'] * PER_100K:+,.0f} per 100,000 (interval "
        f"{diff['lower'] * PER_100K:+,.0f} to {diff['upper'] * PER_100K:+,.0f}), margin "
        f"+{diff['margin'] * PER_100K:,.0f}, p {diff['p_value']:.3g}: **{diff['conclusion']}**",
        f"- the simulator's own test of its totals: ratio {own['ratio']:.3f}, upper "
        f"{own['upper']:.3f}, non-inferior {own['noninferior']}",
        f"- files: {n:,} women ({expected['screen_failures']:,} screen failures: a cancer found "
        f"before entry), {expected['rows']['visits']:,} visits, "
        f"{expected['rows']['diagnoses']:,} diagnoses; not written: "
        + "; ".join(f"{k}: {v:,}" for k, v in expected["not_written"].items()),
        "",
    ]
    lines += [f"- {'PASS' if ok else 'FAIL'}: {what}" for what, ok in found]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--women", type=int, default=85_000)
    parser.add_argument("--quick", action="store_true", help="5,000 women")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backends", default="sqlite,postgresql",
                        help="sqlite, postgresql or both (comma-separated)")  # fmt: skip
    parser.add_argument("--tmpdir", type=Path, help="where to write the files (default: /tmp)")
    args = parser.parse_args(argv)
    n = 5_000 if args.quick else args.women
    names = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not names or set(names) - {"sqlite", "postgresql"}:
        parser.error("--backends: sqlite, postgresql or both")
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="pebs-trial-analysis-", dir=args.tmpdir) as folder:
        work = Path(folder)
        files = work / "files"
        _progress(f"simulating {n:,} women ({SCENARIO}) and writing the import files")
        simulate = pebs(["simulate", SCENARIO, "--trial-files", "-o", str(files), "--women",
                         str(n), "--seed", str(args.seed), "--study", STUDY],
                        _env("sqlite:///unused.db"), cwd=work)  # fmt: skip
        expected = json.loads((files / "trial_files.json").read_text(encoding="utf-8"))
        backends: list[Backend] = []
        data_cut = None
        if "sqlite" in names:
            backends.append(run_sqlite(files, work))
            data_cut = backends[-1].results["data_cut"]
        if "postgresql" in names:
            backends.append(run_postgresql(files, work, data_cut or time.strftime("%Y-%m-%d")))
        found = checks(expected, backends)
        lines = report(n, simulate, expected, backends, found)
    load_end = os.getloadavg()[0]
    command = "python -m benchmarks.trial_analysis_bench" + (
        " --quick" if args.quick else f" --women {n}" if n != 85_000 else ""
    )
    print("## A simulated trial analysed from the database (`pebs analyse`)\n")
    print(f"`{command}`: {n:,} women of the `{SCENARIO}` scenario (seed {args.seed}) through "
          f"`pebs simulate --trial-files`, `pebs import`, `pebs audit verify`, `pebs study lock` "
          f"and `pebs analyse` ({', '.join(names)}; each step its own process, its wall and CPU "
          f"time). Load average {load:.1f} at the start, {load_end:.1f} at the end.\n")  # fmt: skip
    print("\n".join(lines))
    return 0 if all(ok for _, ok in found) else 1


if __name__ == "__main__":
    sys.exit(main())
