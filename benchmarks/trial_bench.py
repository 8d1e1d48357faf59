"""Trial platform through the service layer: throughput, and a whole 85,000-woman trial.

``python -m benchmarks.trial_bench`` prints a markdown section. Every number goes
through the public use cases of :mod:`pebs.services.trial` (one transaction each, with its audit
event), on SQLite (a new file, WAL, the engine's defaults: ``synchronous=FULL``) and PostgreSQL
(a new schema in the database at ``PEBS_BENCH_POSTGRES_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``, dropped afterwards). Each measurement gets
a fresh database, migrated with :func:`pebs.store.migrate.upgrade`, the demo study loaded and
allocation lists generated for every stratum.

1. **Throughput**: women registered, then assessed and consented, then allocated, each phase
   timed separately (workers wait at a barrier between phases); register+allocate per second is
   ``n / (t_register + t_allocate)``. Single-threaded, 8 threads in one process (one engine), 8
   threads sharing a group commit, and 8 processes (``spawn``, each with its own engine). On
   SQLite the single-thread run is bracketed by the two-commit floor
   (:func:`benchmarks.trial_import.commit_floor`).
2. **The trial**: ``--participants`` women (default 85,000; ``--quick`` 5,000) written to an
   enrolment file and imported (:func:`benchmarks.trial_import.import_trial`: the path of
   ``pebs participants import``, group commit, one thread); ``--trial-mode auto`` drives the use
   cases one by one instead (SQLite one thread, PostgreSQL 8 processes). Wall time (and for the
   import its CPU seconds; on PostgreSQL also the local server's, whose work the single
   connection waits for: :func:`benchmarks.trial_import.server_cpu`), the audit chain
   verified, database size (SQLite: file size after a WAL checkpoint; PostgreSQL: sum of
   ``pg_total_relation_size`` over the schema's tables).

Goals: a register+allocate pair <= 2x the two-commit floor (SQLite, one thread); 8 threads with
group commit faster than one thread; the 85,000-woman trial in under 3 minutes. A missed goal is
reported, not failed.

Women (fixed seed): sites drawn in proportion to the demo study's site targets, ages uniform on
40-70 on the randomisation day, unique national IDs, risk factors drawn per woman.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import itertools
import multiprocessing
import os
import pstats
import statistics
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import one_core
from benchmarks.report import goal_line
from benchmarks.trial_bench_data import (
    ACTOR,
    AT,
    ELIGIBLE,
    GOAL_TRIAL_S,
    HMAC_KEY,
    LANGUAGE,
    POSTGRES_URL,
    SEED,
    STEPS,
    STUDY,
    WORKERS,
    BenchDb,
    Woman,
    _progress,
    cohort,
    fresh_database,
)
from benchmarks.trial_import import commit_floor, import_trial

# --- the use cases, timed ------------------------------------------------------------------------


@dataclass
class Tally:
    """Per use case: calls, seconds, the seconds of every call; errors by class; arms."""

    calls: Counter = field(default_factory=Counter)
    seconds: Counter = field(default_factory=Counter)
    durations: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)
    arms: Counter = field(default_factory=Counter)
    first_error: str | None = None

    def add(self, other: Tally) -> None:
        self.calls.update(other.calls)
        self.seconds.update(other.seconds)
        for step, values in other.durations.items():
            self.durations[step].extend(values)
        self.errors.update(other.errors)
        self.arms.update(other.arms)
        self.first_error = self.first_error or other.first_error


class Worker:
    """The use cases of one worker on one sessionmaker, each call timed into a :class:`Tally`."""

    def __init__(self, sessions: Any, fernet_key: str) -> None:
        from pebs.services.actor import actor_for
        from pebs.services.keys import IdentityKeys

        self.sessions = sessions
        self.keys = IdentityKeys.from_settings_values([fernet_key], HMAC_KEY)
        self.actor = actor_for(sessions, ACTOR)
        self.tally = Tally()
        self.study_ids: dict[str, str] = {}
        self.arms: dict[str, str] = {}

    def _timed(self, step: str, call: Callable[[], Any]) -> Any:
        from pebs.services.errors import ServiceError

        start = time.perf_counter()
        try:
            return call()
        except ServiceError as error:
            self.tally.errors[f"{step}: {type(error).__name__}"] += 1
            self.tally.first_error = self.tally.first_error or f"{step}: {error}"
            return None
        finally:
            elapsed = time.perf_counter() - start
            self.tally.calls[step] += 1
            self.tally.seconds[step] += elapsed
            self.tally.durations[step].append(elapsed)

    def register(self, woman: Woman) -> None:
        from pebs.services.trial import NewParticipant, register_participant

        new = NewParticipant(
            site=woman.site,
            name=f"Woman {woman.national_id}",
            birth_date=woman.birth_date,
            national_id=woman.national_id,
        )
        done = self._timed("register", lambda: register_participant(
            self.sessions, self.actor, self.keys, STUDY, new, at=AT))  # fmt: skip
        if done is not None:
            self.study_ids[woman.national_id] = done.study_id

    def consent(self, woman: Woman) -> None:
        from pebs.services.trial import assess_eligibility, record_consent

        study_id = self.study_ids.get(woman.national_id)
        if study_id is None:
            return
        self._timed("eligibility", lambda: assess_eligibility(
            self.sessions, self.actor, self.keys, study_id, ELIGIBLE, at=AT))  # fmt: skip
        language = LANGUAGE[woman.site[:2]]
        self._timed("consent", lambda: record_consent(
            self.sessions, self.actor, study_id, language=language, at=AT))  # fmt: skip

    def allocate(self, woman: Woman) -> None:
        from pebs.services.trial import allocate

        study_id = self.study_ids.get(woman.national_id)
        if study_id is None:
            return
        done = self._timed("allocate", lambda: allocate(
            self.sessions, self.actor, self.keys, study_id, at=AT))  # fmt: skip
        if done is not None:
            self.arms[woman.national_id] = done.arm
            self.tally.arms[done.arm] += 1

    def plan(self, woman: Woman) -> None:
        from pebs.services.trial import RiskFactors, create_screening_plan, record_risk_assessment

        study_id = self.study_ids.get(woman.national_id)
        arm = self.arms.get(woman.national_id)
        if arm == "risk-based":
            biopsies, menarche, first_birth, nulliparous, relatives, density, prs = woman.factors
            factors = RiskFactors(n_biopsies=biopsies,
                                  atypical_hyperplasia=False if biopsies else None,
                                  age_at_menarche=menarche,
                                  age_at_first_birth="nulliparous" if nulliparous else first_birth,
                                  n_relatives=relatives, density=density, prs_z=prs)  # fmt: skip
            self._timed("risk+plan", lambda: record_risk_assessment(
                self.sessions, self.actor, self.keys, study_id, factors, at=AT))  # fmt: skip
        elif arm is not None:
            self._timed("plan", lambda: create_screening_plan(
                self.sessions, self.actor, self.keys, study_id, at=AT))  # fmt: skip

    def enrol(self, woman: Woman) -> None:
        self.register(woman)
        self.consent(woman)
        self.allocate(woman)
        self.plan(woman)


PHASES: dict[str, tuple[str, ...]] = {
    "throughput": ("register", "consent", "allocate"),
    "trial": ("enrol",),
}


def _run_phases(worker: Worker, women: list[Woman], phases: tuple[str, ...], barrier) -> None:
    """Each phase over this worker's women, all workers starting each phase together."""
    for phase in phases:
        barrier.wait()
        step = getattr(worker, phase)
        for woman in women:
            step(woman)
    barrier.wait()


def process_main(url: str, fernet_key: str, women: list[Woman], phases, barrier, results) -> None:
    """A spawned worker process: its own engine, one worker."""
    from pebs.store.engine import create_engine_for, session_factory

    engine = create_engine_for(url)
    try:
        worker = Worker(session_factory(engine), fernet_key)
        _warm_up(worker)
        _run_phases(worker, women, phases, barrier)
        results.put((worker.tally, None))
    except BaseException:
        with contextlib.suppress(Exception):
            barrier.abort()
        results.put((Tally(), traceback.format_exc()))
    finally:
        engine.dispose()


def _warm_up(worker: Worker) -> None:
    """Connect, and calibrate the country risk models (cached per process) before the clock."""
    from sqlalchemy import select

    from pebs.risk.personalised import country_model

    with worker.sessions() as session:
        session.execute(select(1))
    for country in LANGUAGE:
        country_model(country)


@dataclass
class Timing:
    workers: str
    phase_seconds: list[float]
    tally: Tally


def run(db: BenchDb, women: list[Woman], phases: tuple[str, ...], mode: str, n_workers: int):
    """Run ``phases`` over ``women`` split among ``n_workers`` (``single``/``threads``/
    ``group`` (threads sharing a :class:`GroupCommit`)/``processes``); seconds per phase
    between the barriers."""
    from pebs.store.engine import create_engine_for, session_factory
    from pebs.store.group_commit import GroupCommit

    n_workers = 1 if mode == "single" else n_workers
    shares = [women[i::n_workers] for i in range(n_workers)]
    tally = Tally()
    if mode == "processes":
        context = multiprocessing.get_context("spawn")
        barrier, results = context.Barrier(n_workers + 1), context.Queue()
        processes = [
            context.Process(target=process_main,
                            args=(db.url, db.fernet_key, share, phases, barrier, results))
            for share in shares
        ]  # fmt: skip
        for process in processes:
            process.start()
        marks = _marks(barrier, len(phases))
        crashes = []
        for _ in processes:
            got, crash = results.get(timeout=3600)
            tally.add(got)
            if crash:
                crashes.append(crash)
        for process in processes:
            process.join(60)
        if crashes:
            raise RuntimeError(f"a worker process failed:\n{crashes[0]}")
        label = f"{n_workers} processes (spawn), an engine each"
    else:
        engine = create_engine_for(db.url)
        sessions = session_factory(engine)
        group = GroupCommit(sessions) if mode == "group" else None
        workers = [Worker(group or sessions, db.fernet_key) for _ in range(n_workers)]
        for worker in workers:
            _warm_up(worker)
        barrier = threading.Barrier(n_workers + 1)
        threads = [
            threading.Thread(target=_run_phases, args=(w, share, phases, barrier))
            for w, share in zip(workers, shares, strict=True)
        ]
        for thread in threads:
            thread.start()
        marks = _marks(barrier, len(phases))
        for thread in threads:
            thread.join()
        for worker in workers:
            tally.add(worker.tally)
        if group is not None:
            group.close()
        engine.dispose()
        label = "1 thread" if n_workers == 1 else f"{n_workers} threads, one engine"
        if group is not None:
            label = f"{n_workers} threads, group commit ({group.stats.commits:,} commits)"
    return Timing(label, [b - a for a, b in itertools.pairwise(marks)], tally)


def _marks(barrier, n_phases: int) -> list[float]:
    marks = []
    for _ in range(n_phases + 1):
        barrier.wait(timeout=3600)
        marks.append(time.perf_counter())
    return marks


def _audit_check(db: BenchDb) -> tuple[bool, int, float, dict[str, int], dict[str, int]]:
    """Whether the audit chain verifies, its events, the seconds to verify it, rows per table
    and allocations per arm (as stored)."""
    from sqlalchemy import func, select

    from pebs.services.trial import verify_audit_chain
    from pebs.store.engine import create_engine_for, session_factory
    from pebs.store.models import Allocation, Participant, PlannedExam, RiskAssessment, Visit

    engine = create_engine_for(db.url)
    try:
        sessions = session_factory(engine, read_only=True)
        start = time.perf_counter()
        report = verify_audit_chain(sessions)
        seconds = time.perf_counter() - start
        with sessions() as session:
            rows = {
                model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in (Participant, Allocation, RiskAssessment, PlannedExam, Visit)
            }
            per_arm = select(Allocation.arm, func.count()).group_by(Allocation.arm)
            arms = dict(session.execute(per_arm.order_by(Allocation.arm)).tuples().all())
    finally:
        engine.dispose()
    return report.ok, report.n_events, seconds, rows, arms


# --- report --------------------------------------------------------------------------------------


def _errors(tally: Tally) -> str:
    if not tally.errors:
        return "none"
    shown = ", ".join(f"{k} x{v}" for k, v in tally.errors.most_common(3))
    return f"{shown} (first: {tally.first_error})"


def throughput_section(backends: list[str], n: int, keep: bool) -> tuple[list[str], list[str]]:
    """Register / assess+consent / allocate phases per database and way of running; on SQLite
    with one thread, the two-commit floor measured on the same disk before and after."""
    lines = [
        f"### Throughput: {n:,} women per run, register / assess+consent / allocate phases",
        "",
        "| database | workers | register/s | assess+consent/s | allocate/s | "
        "**register+allocate/s** | errors |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    problems: list[str] = []
    goals: list[str] = []
    timed: list[tuple[str, Tally]] = []
    floor: list[float] = []
    pair_ms = 0.0
    women = cohort(n, SEED + 1)
    modes = (("single", 1), ("threads", WORKERS), ("group", WORKERS), ("processes", WORKERS))
    for backend in backends:
        rates: dict[str, float] = {}
        for mode, n_workers in modes:
            _progress(f"throughput {backend} {mode} x{n_workers}: {n:,} women")
            with fresh_database(backend, women, keep=keep) as db:
                floor_here = backend == "sqlite" and mode == "single"
                if floor_here:
                    floor += commit_floor(db.path.parent)  # type: ignore[union-attr]
                timing = run(db, women, PHASES["throughput"], mode, n_workers)
                if floor_here:
                    floor += commit_floor(db.path.parent)  # type: ignore[union-attr]
                    pair_ms = sum(percentiles_ms(timing.tally.durations[step])[50]
                                  for step in ("register", "allocate"))  # fmt: skip
            t_reg, t_consent, t_alloc = timing.phase_seconds
            rates[mode] = pairs = n / (t_reg + t_alloc)
            if timing.tally.errors:
                problems.append(f"{backend} {timing.workers}: {_errors(timing.tally)}")
            lines.append(
                f"| {backend} | {timing.workers} | {n / t_reg:,.0f} | {n / t_consent:,.0f} | "
                f"{n / t_alloc:,.0f} | **{pairs:,.0f}** | {_errors(timing.tally)} |"
            )
            _progress(f"  -> {pairs:,.0f} register+allocate/s")
            timed.append((f"{backend}, {timing.workers}", timing.tally))
        goals.append(goal_line(f"trial-{backend}-8-threads-group-commit-over-1-thread",
                               rates["group"] / rates["single"], 1.0))  # fmt: skip
    if floor:
        floor_ms = percentiles_ms(floor)[50]
        lines += [
            "",
            f"Two-commit floor (SQLite, same disk, WAL, `synchronous=FULL`; {len(floor):,} pairs "
            f"of a one-row insert + commit, half before and half after the single-thread run): "
            f"p50 {floor_ms:.2f} ms. Register+allocate pair, single thread (p50 register + p50 "
            f"allocate): {pair_ms:.2f} ms = {pair_ms / floor_ms:.1f}x the floor.",
        ]
        goals.insert(0, goal_line("trial-sqlite-register+allocate-over-two-commit-floor",
                                  pair_ms / floor_ms, 2.0, at_most=True))  # fmt: skip
    lines += [
        "",
        "Milliseconds per use case call in the throughput runs (each call timed on its own "
        "worker; with 8 workers a call also waits for locks; with group commit a call returns "
        "after the commit that stored it):",
        "",
        *percentile_table(timed),
        "",
        *goals,
    ]
    return lines, problems


PERCENTILES = (50, 95, 99)


def percentiles_ms(seconds: list[float]) -> dict[int, float]:
    """p50/p95/p99 of call durations in milliseconds (``statistics.quantiles``, inclusive).

    Calls of 1, 2, ..., 101 ms: the inclusive p-th percentile lies at rank 1 + p/100 x 100, so
    p50 = 51 ms, p95 = 96 ms, p99 = 100 ms; with 1, 2, 3, 4 ms, p50 = 2.5 ms (half-way between
    2 and 3), p95 = 3.85 ms (3 + 0.85 x 1) and p99 = 3.97 ms.

    >>> {p: round(v, 6) for p, v in percentiles_ms([k / 1000 for k in range(1, 102)]).items()}
    {50: 51.0, 95: 96.0, 99: 100.0}
    >>> {p: round(v, 6) for p, v in percentiles_ms([0.001, 0.002, 0.003, 0.004]).items()}
    {50: 2.5, 95: 3.85, 99: 3.97}
    """
    if len(seconds) == 1:
        return dict.fromkeys(PERCENTILES, 1000 * seconds[0])
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return {p: 1000 * cuts[p - 1] for p in PERCENTILES}


def percentile_table(rows: list[tuple[str, Tally]]) -> list[str]:
    """Markdown table: per run and use case, calls, mean and p50/p95/p99 milliseconds."""
    lines = [
        "| run | use case | calls | mean ms | p50 ms | p95 ms | p99 ms |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for label, tally in rows:
        for step in STEPS:
            durations = tally.durations.get(step)
            if not durations:
                continue
            p = percentiles_ms(durations)
            mean = 1000 * statistics.fmean(durations)
            lines.append(
                f"| {label} | {step} | {len(durations):,} | {mean:.1f} | {p[50]:.1f} "
                f"| {p[95]:.1f} | {p[99]:.1f} |"
            )
    return lines


def trial_section(
    backends: list[str], n: int, mode: str, n_workers: int, keep: bool
) -> tuple[list[str], list[str]]:
    lines = [
        f"### The trial: {n:,} women registered, eligible, consented, allocated and planned",
        "",
        "| database | workers | wall (s) | women/s | goal (< 180 s for 85,000) | "
        "database size | audit events (verify s) | errors |",
        "|---|---|---:|---:|---|---:|---:|---|",
    ]
    per_step = []
    goals: list[str] = []
    problems: list[str] = []
    women = cohort(n)
    for backend in backends:
        chosen = mode
        if mode == "auto":
            chosen = "single" if backend == "sqlite" else "processes"
        _progress(f"trial {backend}: {n:,} women, {chosen} x{n_workers}")
        with fresh_database(backend, women, keep=keep) as db:
            if chosen == "import":
                with tempfile.TemporaryDirectory(prefix="pebs-enrolment-") as directory:
                    imported = import_trial(db.url, db.fernet_key, women, Path(directory))
                wall, tally = imported.wall_s, _import_tally(imported.summary, n)
                server = ("" if imported.server_cpu_s is None else
                          f"; server CPU {imported.server_cpu_s:,.1f} s")  # fmt: skip
                workers = (f"import, 1 thread, group commit ({imported.summary.commits:,} "
                           f"commits; CPU {imported.cpu_s:,.1f} s{server})")  # fmt: skip
            else:
                timing = run(db, women, PHASES["trial"], chosen, n_workers)
                (wall,), tally, workers = timing.phase_seconds, timing.tally, timing.workers
            _progress(f"  -> {wall:,.1f} s; verifying the audit chain")
            ok, n_events, verify_s, rows, arms = _audit_check(db)
            size = db.size_bytes()
        projected = wall * 85_000 / n
        goal = f"{'met' if projected < GOAL_TRIAL_S else 'MISSED'} ({projected:,.0f} s at 85,000)"
        if not ok:
            problems.append(f"{backend}: the audit chain does not verify")
        if tally.errors:
            problems.append(f"{backend} trial: {_errors(tally)}")
        if rows["participants"] != n or rows["allocations"] != n:
            problems.append(f"{backend}: {rows['participants']:,} participants and "
                            f"{rows['allocations']:,} allocations for {n:,} women")  # fmt: skip
        lines.append(
            f"| {backend} | {workers} | {wall:,.1f} | {n / wall:,.0f} | {goal} | "
            f"{size / 2**20:,.1f} MiB | {n_events:,} ({'ok' if ok else 'BROKEN'}, "
            f"{verify_s:.1f} s) | {_errors(tally)} |"
        )
        per_step.append((backend, tally, rows, arms))
        goals.append(goal_line(f"trial-{backend}-85000-women-s", projected, GOAL_TRIAL_S,
                               at_most=True))  # fmt: skip
    timed = [(backend, tally) for backend, tally, _, _ in per_step if tally.durations]
    lines += [
        "",
        *(
            [
                "Milliseconds per use case call over all workers (with 8 workers each call also "
                "waits for locks):",
                "",
                *percentile_table(timed),
            ]
            if timed
            else [
                "The import is timed as a whole (it runs each step for a group of women at once); "
                "the milliseconds per use case call are in the throughput runs above."
            ]
        ),
        "",
        "Arms allocated (as stored) and rows written:",
        "",
        "| database | arms | rows |",
        "|---|---|---|",
    ]
    for backend, _, rows, stored_arms in per_step:
        arms = ", ".join(f"{k} {v:,}" for k, v in stored_arms.items())
        shown = ", ".join(f"{k} {v:,}" for k, v in rows.items())
        lines.append(f"| {backend} | {arms} | {shown} |")
    lines += ["", *goals]
    return lines, problems


def _import_tally(summary: Any, n: int) -> Tally:
    """The import's refusals as a :class:`Tally`'s errors (no per-call timings)."""
    tally = Tally()
    for refusal, count in summary.refused.items():
        tally.errors[refusal] += count
    if summary.refused:
        tally.first_error = next(iter(summary.refused))
    if summary.reached.get("plan", 0) != n:
        tally.errors["women not taken to their plan"] += n - summary.reached.get("plan", 0)
    return tally


def profile_section(backends: list[str], n: int) -> list[str]:
    """cProfile of the single-threaded pathway (register ... plan) for ``n`` women."""
    from pebs.store.engine import create_engine_for, session_factory

    lines = [f"### Profile: {n:,} women through the whole pathway, one thread", ""]
    women = cohort(n, SEED + 2)
    for backend in backends:
        with fresh_database(backend, women) as db:
            engine = create_engine_for(db.url)
            worker = Worker(session_factory(engine), db.fernet_key)
            _warm_up(worker)
            profiler = cProfile.Profile()
            start = time.perf_counter()
            profiler.enable()
            for woman in women:
                worker.enrol(woman)
            profiler.disable()
            wall = time.perf_counter() - start
            engine.dispose()
        lines += [
            f"{backend}: {wall:.1f} s under the profiler ({n / wall:,.0f} women/s). pebs "
            "functions by cumulative time, then every function by own time:",
            "",
            "```",
            *_stats(profiler, "cumulative", r"src/pebs/(services|store)", 24),
            "",
            *_stats(profiler, "tottime", None, 14),
            "```",
            "",
        ]
    return lines


def _stats(profiler: cProfile.Profile, order: str, pattern: str | None, limit: int) -> list[str]:
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats(order)
    stats.print_stats(*([pattern] if pattern else []), limit)
    body = text.getvalue().splitlines()
    start = next(i for i, line in enumerate(body) if "ncalls" in line)
    root = str(Path(__file__).resolve().parent.parent) + "/"
    return [line.replace(root, "").rstrip() for line in body[start:] if line.strip()]


def _postgres_reachable() -> str | None:
    from sqlalchemy import create_engine, text

    engine = create_engine(POSTGRES_URL)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        return str(error).splitlines()[0]
    finally:
        engine.dispose()
    return None


def _load(values: tuple[float, float, float]) -> str:
    return "/".join(f"{v:.2f}" for v in values)


def main(argv: list[str] | None = None) -> int:
    one_core.limit_threads()  # numpy (risk model) in one thread per worker; before it is imported
    parser = argparse.ArgumentParser(prog="python -m benchmarks.trial_bench")
    parser.add_argument("--participants", type=int, default=85_000,
                        help="women in the whole-trial run (0: skip it)")  # fmt: skip
    parser.add_argument("--quick", action="store_true",
                        help="5,000-woman trial and 500-woman throughput runs")  # fmt: skip
    parser.add_argument("--throughput", type=int, default=None,
                        help="women per throughput run (default 2,000; 0: skip)")  # fmt: skip
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--trial-mode",
                        choices=("import", "auto", "single", "threads", "group", "processes"),
                        default="import",
                        help="import: the enrolment import path (one thread, group commit); "
                             "auto: use case by use case, SQLite one thread, PostgreSQL 8 "
                             "processes")  # fmt: skip
    parser.add_argument("--trial-workers", type=int, default=WORKERS)
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also profile N women through the pathway, one thread")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    n_trial = 5_000 if args.quick and args.participants == 85_000 else args.participants
    n_throughput = (
        args.throughput if args.throughput is not None else (500 if args.quick else 2_000)
    )
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    notes = []
    if "postgresql" in backends:
        unreachable = _postgres_reachable()
        if unreachable:
            backends.remove("postgresql")
            notes.append(f"PostgreSQL skipped: {POSTGRES_URL} is unreachable ({unreachable}).")
    lines = [
        "## Trial platform through the services",
        "",
        f"CPU: {one_core.cpu_model()}, {os.cpu_count()} logical CPUs. SQLite: a new file, WAL, "
        "`synchronous=FULL` (the engine default). PostgreSQL: a new schema at "
        f"`{POSTGRES_URL.split('@')[-1]}`. Each run: a fresh database, demo study loaded, lists "
        f"generated. Goals: register+allocate pair <= 2x the two-commit floor; 8 threads with "
        f"group commit faster than 1 thread; 85,000 women in < {GOAL_TRIAL_S:.0f} s.",
        "",
        *notes,
    ]
    problems: list[str] = []
    if n_throughput:
        section, found = throughput_section(backends, n_throughput, args.keep)
        lines += [*section, ""]
        problems += found
    if n_trial:
        section, found = trial_section(backends, n_trial, args.trial_mode, args.trial_workers,
                                       args.keep)  # fmt: skip
        lines += [*section, ""]
        problems += found
    if args.profile:
        lines += profile_section(backends, args.profile)
    load_after = os.getloadavg()
    lines += [
        f"Load average (1/5/15 min) before the runs {_load(load_before)}, after {_load(load_after)}"
        " (this process's own workers included in the latter; anything else running on the "
        "machine slows every figure above).",
        "",
    ]
    if problems:
        lines += ["**Problems:**", "", *[f"- {p}" for p in problems], ""]
    print("\n".join(lines), end="\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
