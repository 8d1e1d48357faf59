"""The trial platform over HTTP: enrolment flows per second and participant-list latency.

``python -m benchmarks.web_bench`` prints a markdown section. The real server
runs as a child process (``pebs serve --port P --workers W``: uvicorn, the app factory
``pebs.api.app:from_environment``, its access log on) on a free loopback port, over a fresh
database prepared as :mod:`benchmarks.trial_bench` does (migrated, demo study loaded, allocation
lists generated): a new SQLite file (WAL, ``synchronous=FULL``) and a new PostgreSQL schema at
``PEBS_BENCH_POSTGRES_URL`` (skipped with a note when unreachable), dropped afterwards. The demo
accounts get passwords and TOTP secrets; the benchmark logs in as ``demo-data-manager`` over
HTTP (password + TOTP code) and creates a personal API token, which every request then sends as
``Authorization: Bearer``.

1. **Enrolment flows**: each woman is ``POST /participants`` (register), ``.../eligibility``,
   ``.../consent``, ``.../allocation``, one after the other; 1, 8 and 32 clients (each one
   keep-alive connection running flows back to back) share the women. Reported: flows/s (whole
   flows of four requests per second of the run's wall time), all requests/s (the four request
   types together), p50/p95/p99 latency per request type, CPU of the server and of the load
   generator per flow, and errors by status (anything but the expected 201/200 is an error; a
   5xx or a broken connection fails the benchmark). A few flows per client warm up first (not
   timed). The load generator is a separate process (:mod:`benchmarks.web_load`: a small asyncio
   HTTP/1.1 client, one coroutine per client) so that it does not compete with the server for
   the GIL; ``--client httpx`` uses ``httpx.AsyncClient`` instead (measured: ~1.4 ms of CPU
   per request against ~0.2 ms).
2. **Participant list with 85,000 participants** (:mod:`benchmarks.web_list`): a second fresh
   database per backend where, for this measurement only, 85,000 synthetic participants are
   bulk-inserted with SQL (not through the use cases: ~4 ms each would take minutes):
   participant rows over the demo sites with statuses and age bands, an identity row each (one
   Fernet token of a dummy name and birth date, shared), and an allocation row (method
   ``override``, no list slot) for the randomised ones; no audit events. Then ``ANALYZE``.
   Timed: ``GET /participants?limit=50`` as the data manager (first page, deep keyset pages at
   random ``after``, filters by site, status and arm, a study-ID search) and as site staff (her
   site only), one client, p50/p95/max; every returned row is checked against the filter.
3. **Near the framework's ceiling** (:mod:`benchmarks.web_ceiling`): ``GET /participants?limit=50``
   and ``POST /participants`` against a trivial endpoint of the same server process, interleaved,
   1 and 8 clients: requests/s, their ratio to the trivial endpoint's, p50/p95/p99.
4. ``--profile N``: N flows from one client against the app under a sampling profiler
   (:mod:`benchmarks.web_server`), per backend: where the server's threads spend their time.

Goals: >= 250 enrolment flows/s (1,000 requests/s of the four types) with 8 clients and p99 <
100 ms (register and allocate requests) on SQLite; a participant-list page among 85,000 in p95 <
200 ms; no error under 32 clients; list and register with 8 clients at >= 0.5 of the trivial
endpoint's requests/s and p99 < 50 ms, on each backend. Missed goals are reported, not failed;
errors fail (exit 1).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import multiprocessing
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks import one_core
from benchmarks.report import goal_line
from benchmarks.trial_bench import _load, _postgres_reachable
from benchmarks.trial_bench_data import (
    POSTGRES_URL,
    SEED,
    STUDY,
    TODAY,
    cohort,
    fresh_database,
)
from benchmarks.web_ceiling import ceiling_section
from benchmarks.web_list import list_rows
from benchmarks.web_load import EXPECTED, STEPS, LoadResult, load_main, percentile_ms
from benchmarks.web_server import running_server

USER = "demo-data-manager"
CLIENTS = (1, 8, 32)
FLOWS = {"full": {1: 200, 8: 800, 32: 800}, "quick": {1: 50, 8: 200, 32: 200}}
"""Timed flows per run, by clients."""
WARM_UP_PER_CLIENT = 3
LIST_PARTICIPANTS = 85_000
GOAL_FLOWS_PER_S, GOAL_P99_MS, GOAL_LIST_P95_MS = 250, 100.0, 200.0


def _progress(message: str) -> None:
    print(f"[web-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _shift() -> timedelta:
    """Moves the women's birth dates so their ages today at their sites are their ages on
    trial_bench's TODAY (the day its allocation-list sizes are computed for), to within a day
    (the shift counts days, not years). Counted from the latest date among the study's countries
    (a day ahead of UTC's late in the UTC evening): no cohort birthday falls on TODAY, so a site
    a day behind judges the same ages."""
    from pebs.services.transaction import local_date
    from pebs.trial import load_study

    now = datetime.now(UTC)
    latest = max(local_date(now, c.time_zone) for c in load_study(STUDY).countries)
    return latest - TODAY


@dataclass(frozen=True)
class FlowRun:
    backend: str
    workers: int
    clients: int
    result: LoadResult
    server_cpu_s: float
    warm_up: LoadResult

    def flows_per_s(self) -> float:
        """Whole flows (all four requests answered as expected) per second of wall time."""
        return self.result.flows_done / self.result.wall_s

    def errors(self) -> Counter:
        bad = Counter()
        for load in (self.warm_up, self.result):
            bad.update({k: v for k, v in load.statuses.items() if v and k[1] != EXPECTED[k[0]]})
        return bad


def flow_runs(backend: str, workers: int, plan: dict[int, int], pool, kind: str) -> list[FlowRun]:
    """One fresh database and server; the runs of ``plan`` (clients -> timed flows) in turn."""
    sizes = [(c, WARM_UP_PER_CLIENT * c, n) for c, n in plan.items()]
    women = cohort(sum(w + n for _, w, n in sizes), SEED + 6)
    runs = []
    with (
        fresh_database(backend, women) as db,
        running_server(db.url, db.fernet_key, workers, (USER,)) as server,
    ):
        start = 0
        for clients, n_warm, n_timed in sizes:
            _progress(f"{backend}, {workers} worker(s), {clients} clients: {n_timed:,} flows")
            warm, timed = (
                women[start : start + n_warm],
                women[start + n_warm : start + n_warm + n_timed],
            )
            start += n_warm + n_timed
            args = (kind, server.port, server.tokens[USER])
            warm_result = pool.submit(load_main, *args, warm, clients, _shift()).result()
            cpu = server.cpu_seconds()
            result = pool.submit(load_main, *args, timed, clients, _shift()).result()
            run = FlowRun(
                backend, workers, clients, result, server.cpu_seconds() - cpu, warm_result
            )
            runs.append(run)
            _progress(
                f"  -> {result.flows_done / result.wall_s:,.1f} flows/s, "
                f"errors: {dict(run.errors()) or 'none'}"
            )
    return runs


def _error_text(run: FlowRun) -> str:
    errors = run.errors()
    if not errors:
        return "none"
    first = run.result.first_error or run.warm_up.first_error
    return ", ".join(f"{step} {status} x{n}" for (step, status), n in errors.items()) + (
        f" (first: {first})"
    )


def flow_tables(runs: list[FlowRun]) -> list[str]:
    lines = [
        "| database | server | clients | flows | **flows/s** | all req/s | server CPU ms/flow | "
        "load-generator CPU ms/flow | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in runs:
        r = run.result
        done = max(r.flows_done, 1)
        requests = sum(n for (_, status), n in r.statuses.items())
        lines.append(
            f"| {run.backend} | {run.workers} worker{'s' if run.workers > 1 else ''} | "
            f"{run.clients} | {r.flows_done:,} | **{run.flows_per_s():,.1f}** | "
            f"{requests / r.wall_s:,.0f} | "
            f"{1000 * run.server_cpu_s / done:.1f} | {1000 * r.client_cpu_s / done:.1f} | "
            f"{_error_text(run)} |"
        )
    lines += [
        "",
        "Latency in milliseconds, p50 / p95 / p99 per request type (successful requests), and p99 "
        "of register and allocate together:",
        "",
        "| database | server | clients | " + " | ".join(STEPS) + " | **register+allocate p99** |",
        "|---|---|---:|" + "---|" * len(STEPS) + "---:|",
    ]
    for run in runs:
        lat = run.result.latencies
        cells = [" / ".join(f"{percentile_ms(lat[s], q):.1f}" for q in (50, 95, 99)) for s in STEPS]
        both = percentile_ms(lat["register"] + lat["allocate"], 99)
        lines.append(
            f"| {run.backend} | {run.workers} | {run.clients} | "
            + " | ".join(cells)
            + f" | **{both:.1f}** |"
        )
    return lines


def profile_section(backends: list[str], n: int, pool, kind: str) -> list[str]:
    """``n`` flows from one client against the sampled server, per backend."""
    lines = [
        f"### Where the server's time goes: {n:,} flows, one client, sampling profiler",
        "",
        "Busy thread samples every 2 ms (wall time of the server's threads, not CPU: a thread "
        "blocked in the database driver or waiting for the GIL counts where it stands; idle "
        "threads not counted; GIL switch interval 0.2 ms so that pure-Python work is sampled "
        "fairly); the profiler itself slows the server. The event-loop thread (HTTP parsing, "
        "middleware, dispatch) and the worker thread running the route both count.",
        "",
    ]
    for backend in backends:
        women = cohort(n + WARM_UP_PER_CLIENT, SEED + 8)
        out = Path(tempfile.mkstemp(prefix="pebs-web-profile-", suffix=".json")[1])
        with (
            fresh_database(backend, women) as db,
            running_server(db.url, db.fernet_key, 1, (USER,), profile=out) as server,
        ):
            args = (kind, server.port, server.tokens[USER])
            pool.submit(load_main, *args, women[:WARM_UP_PER_CLIENT], 1, _shift()).result()
            server.process.send_signal(signal.SIGUSR1)  # the sampler forgets the warm-up
            time.sleep(0.1)
            result = pool.submit(load_main, *args, women[WARM_UP_PER_CLIENT:], 1, _shift()).result()
        samples = json.loads(out.read_text(encoding="utf-8"))
        out.unlink()
        busy = max(samples["busy"], 1)
        per_flow = samples["busy"] * samples["interval_s"] * 1000 / max(result.flows_done, 1)
        lines += [
            f"{backend}: {result.flows_done / result.wall_s:,.1f} flows/s under the profiler; "
            f"{samples['busy']:,} busy samples (~{per_flow:.1f} ms of thread time per flow).",
            "",
            "| leaf frame in | share |",
            "|---|---:|",
            *[f"| {group} | {count / busy:.0%} |"
              for group, count in sorted(samples["groups"].items(), key=lambda kv: -kv[1])],
            "",
            "| pebs function on the stack (inclusive) | share |",
            "|---|---:|",
            *[f"| `{name}` | {count / busy:.0%} |"
              for name, count in list(samples["inclusive"].items())[:14]],
            "",
        ]  # fmt: skip
    return lines


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main(argv: list[str] | None = None) -> int:
    one_core.limit_threads()
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.web_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer flows (50/200/200), one server worker only, 50 list requests per kind",
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--clients", default=",".join(map(str, CLIENTS)))
    parser.add_argument("--flows", type=int, help="timed flows per run (default: by clients)")
    parser.add_argument("--workers", help="uvicorn worker processes per server, e.g. 1,2 (the "
                        "default; --quick: 1)")  # fmt: skip
    parser.add_argument(
        "--client",
        choices=("raw", "httpx"),
        default="raw",
        help="load generator: small asyncio HTTP/1.1 client, or httpx",
    )
    parser.add_argument(
        "--list-participants",
        type=int,
        default=LIST_PARTICIPANTS,
        help="participants for the list latency (0: skip)",
    )
    parser.add_argument("--list-requests", type=int, help="timed list requests per kind")
    parser.add_argument(
        "--ceiling-only",
        action="store_true",
        help="only the list and register routes against the trivial endpoint",
    )
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also profile N flows (one client) in the server")  # fmt: skip
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    size = "quick" if args.quick else "full"
    clients = [int(c) for c in args.clients.split(",") if c.strip()]
    plan = {c: args.flows or FLOWS[size].get(c, 300) for c in clients}
    chosen = args.workers or ("1" if args.quick else "1,2")
    workers = [int(w) for w in chosen.split(",") if w.strip()]
    list_requests = args.list_requests or (50 if args.quick else 200)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    notes = []
    if "postgresql" in backends and (unreachable := _postgres_reachable()):
        backends.remove("postgresql")
        notes.append(f"PostgreSQL skipped: {POSTGRES_URL} is unreachable ({unreachable}).")
    lines = [
        "## Trial platform over HTTP",
        "",
        f"CPU: {one_core.cpu_model()}, {os.cpu_count()} logical CPUs, shared by the server, the "
        f"load generator and the database. Server: `pebs serve` (uvicorn, access log on) on "
        f"loopback; SQLite: a new file (WAL, `synchronous=FULL`); PostgreSQL: a new schema at "
        f"`{POSTGRES_URL.split('@')[-1]}` (same machine). Load generator: a separate process, "
        f"{'a small asyncio HTTP/1.1 client' if args.client == 'raw' else 'httpx.AsyncClient'}, "
        "one keep-alive connection per client, API token (bearer). A flow = register, "
        "eligibility, consent, allocation of one woman; flows/s = whole flows / wall time of "
        "the run; all req/s = requests of the four types / wall time.",
        "",
        *notes,
    ]
    problems: list[str] = []
    runs: list[FlowRun] = []
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        for backend in [] if args.ceiling_only else backends:
            for n_workers in workers:
                runs += flow_runs(backend, n_workers, plan, pool, args.client)
        ceiling, trouble = ceiling_section(backends, size, pool, args.client, _shift())
        problems += trouble
        if args.profile:
            profile = profile_section(backends, args.profile, pool, args.client)
    if runs:
        lines += [
            f"### Enrolment flows ({', '.join(f'{c} clients: {n:,}' for c, n in plan.items())} "
            "timed flows per run)",
            "",
            *flow_tables(runs),
            "",
        ]
        if any(run.workers > 1 for run in runs):
            lines += [
                "With more than one worker, uvicorn (0.54) binds the listening socket itself "
                "without `IPPROTO_TCP`, so asyncio does not set `TCP_NODELAY` on accepted "
                "connections (uvicorn issue #3149): each keep-alive response whose body follows "
                "its headers in a second segment waits for the client's delayed ACK (~40 ms on "
                "Linux), visible as the ~50 ms floor of the 1-client latencies.",
                "",
            ]
        for run in runs:
            if run.errors():
                problems.append(
                    f"{run.backend} {run.workers} worker(s) {run.clients} clients: "
                    f"{_error_text(run)}"
                )
    goals = []
    eight = [r for r in runs if r.backend == "sqlite" and r.clients == 8]
    if eight:
        best = max(eight, key=FlowRun.flows_per_s)
        p99 = percentile_ms(
            best.result.latencies["register"] + best.result.latencies["allocate"], 99
        )
        flows = goal_line("http-enrolment-flows-per-s-8-clients-sqlite", best.flows_per_s(),
                          GOAL_FLOWS_PER_S)  # fmt: skip
        latency = goal_line("http-enrolment-register-allocate-p99-ms-8-clients-sqlite", p99,
                            GOAL_P99_MS, at_most=True)  # fmt: skip
        goals += [f"- {flows} ({best.workers} worker(s))", f"- {latency} (that run)"]
    many = [r for r in runs if r.clients == 32]
    if many:
        clean = all(not r.errors() for r in many)
        goals.append(f"- no error under 32 clients: **{_verdict(clean)}** ({len(many)} runs)")
    lines += ceiling
    if args.list_participants and not args.ceiling_only:
        n = args.list_participants
        lines += [
            f"### Participant list among {n:,} participants (`GET /participants?limit=50`, one "
            f"client, {list_requests} requests per kind)",
            "",
            "Participants, identities and allocations bulk-inserted with SQL for this "
            "measurement only (not through the use cases; no audit events), then `ANALYZE`.",
            "",
        ]
        table = [
            "| database | request | requests | rows/page | p50 ms | **p95 ms** | max ms |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        worst = 0.0
        for backend in backends:
            found, trouble, p95 = list_rows(backend, n, list_requests)
            lines.append(found[0])
            table += found[1:]
            problems += trouble
            worst = max(worst, p95)
        lines += ["", *table, ""]
        goals.append(
            f"- a page of the list among {n:,} in p95 < {GOAL_LIST_P95_MS:.0f} ms: "
            f"**{_verdict(worst < GOAL_LIST_P95_MS)}** (worst p95 {worst:.1f} ms)"
        )
    if args.profile:
        lines += profile
    load_after = os.getloadavg()
    if goals:
        lines += ["Goals:", "", *goals, ""]
    lines += [
        f"Load average (1/5/15 min) before the runs {_load(load_before)}, after {_load(load_after)}"
        " (the server and load generator included in the latter; anything else running on the "
        "machine slows every figure above).",
        "",
    ]
    if problems:
        lines += ["**Problems:**", "", *[f"- {p}" for p in problems], ""]
    print("\n".join(lines), end="\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
