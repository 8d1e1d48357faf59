"""How near the framework's ceiling two API routes run, for :mod:`benchmarks.web_bench`.

Per backend, one fresh database and one server process (:func:`~.web_server.site_with_peer`:
the site of ``pebs serve`` under its uvicorn options, one process, plus a trivial endpoint that
exists only in this benchmark's app). Three kinds of request, each one route sent back to back
by 1 and then 8 clients (one keep-alive connection each, API token as ``Authorization:
Bearer``):

- **trivial**: ``GET`` :data:`~.web_server.PEER_PATH` (no authentication, no database, a constant
  JSON answer): the peer, the most this stack serves per second;
- **list**: ``GET /api/v1/participants?limit=50`` as the data manager (a full first page: the
  warm-up registers more than 50 women);
- **register**: ``POST /api/v1/participants``, a new woman each time.

The kinds are interleaved (trivial, read-floor, list, write-floor, register, trivial, ...) for
:data:`ROUNDS` rounds, so that load from elsewhere on the machine falls on all three alike.
Reported per kind and number of clients: the median over rounds of the requests per second
(wall time of the round), its ratio to the trivial endpoint's median in the same run, p50 / p95 /
p99 latency over every round's requests, and the server's CPU milliseconds per request (from
``/proc``, median over rounds) with the trivial endpoint's divided by it (the same ratio in CPU,
less sensitive to other load on the machine than requests per second). Two more kinds, the
floors ``read-floor`` and ``write-floor`` (:func:`~.web_server.site_with_peer`), measure the least
database work of a list and of a register request in the same stack, and each pebs route is
also given as a ratio to its floor. Goal: list and register
reach >= :data:`GOAL_RATIO` of the trivial endpoint's requests per second with 8 clients, p99 <
:data:`GOAL_P99_MS` ms, on each backend.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

from benchmarks.report import goal_line
from benchmarks.trial_bench_data import SEED, cohort, fresh_database
from benchmarks.web_load import (
    API,
    RequestsResult,
    percentile_ms,
    register_body,
    requests_main,
)
from benchmarks.web_server import PEER_PATH, READ_FLOOR_PATH, WRITE_FLOOR_PATH, running_server

USER = "demo-data-manager"
KINDS = ("trivial", "read-floor", "list", "write-floor", "register")
EXPECTED = {"trivial": 200, "read-floor": 200, "list": 200, "write-floor": 201, "register": 201}
FLOOR_OF = {"list": "read-floor", "register": "write-floor"}
"""The floor each pebs route is compared with (its least database work in the same stack)."""
CLIENTS = (1, 8)
ROUNDS = {"full": 7, "quick": 5}
PER_ROUND = {"full": 400, "quick": 150}
"""Requests per kind per round."""
WARM_UP_REGISTER = 60
GOAL_RATIO, GOAL_P99_MS = 0.5, 50.0


@dataclass
class KindRuns:
    """The rounds of one kind of request with one number of clients."""

    expected: int
    """The status of a request that went well (anything else is an error)."""
    results: list[RequestsResult] = field(default_factory=list)
    server_cpu_s: list[float] = field(default_factory=list)

    def per_s(self) -> float:
        return statistics.median(r.per_s() for r in self.results)

    def cpu_ms(self) -> float:
        per_request = [
            1000 * cpu / max(len(r.latencies), 1)
            for r, cpu in zip(self.results, self.server_cpu_s, strict=True)
        ]
        return statistics.median(per_request)

    def latencies(self) -> list[float]:
        return [t for r in self.results for t in r.latencies]

    def errors(self) -> dict:
        bad: dict = {}
        for r in self.results:
            for status, n in r.statuses.items():
                if status != self.expected:
                    bad[status] = bad.get(status, 0) + n
        return bad


def _progress(message: str) -> None:
    import sys

    print(f"[web-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _requests(kind: str, women: list, shift) -> list[tuple[str, str, bytes]]:
    if kind == "trivial":
        return [("GET", PEER_PATH, b"")] * len(women)
    if kind == "read-floor":
        return [("GET", READ_FLOOR_PATH, b"")] * len(women)
    if kind == "write-floor":
        return [("POST", WRITE_FLOOR_PATH, b"")] * len(women)
    if kind == "list":
        return [("GET", f"{API}/participants?limit=50", b"")] * len(women)
    return [("POST", f"{API}/participants", register_body(w, shift)) for w in women]


def measure(backend: str, size: str, pool, client: str, shift) -> dict[tuple[str, int], KindRuns]:
    """The interleaved rounds on one fresh database and server: (kind, clients) -> runs."""
    rounds, per_round = ROUNDS[size], PER_ROUND[size]
    n_register = WARM_UP_REGISTER + len(CLIENTS) * rounds * per_round
    women = cohort(n_register, SEED + 9)
    runs = {(kind, c): KindRuns(EXPECTED[kind]) for kind in KINDS for c in CLIENTS}
    with (
        fresh_database(backend, women) as db,
        running_server(db.url, db.fernet_key, 1, (USER,), peer=True) as server,
    ):
        token = server.tokens[USER]
        warm = women[:WARM_UP_REGISTER]
        start = WARM_UP_REGISTER
        for kind in KINDS:  # warm-up, not timed (and more than one page of participants)
            requests = _requests(kind, warm, shift)
            pool.submit(requests_main, client, server.port, token, requests, EXPECTED[kind],
                        8).result()  # fmt: skip
        for clients in CLIENTS:
            _progress(f"{backend}: {rounds} rounds of {per_round} requests per kind, "
                      f"{clients} client(s)")  # fmt: skip
            for _ in range(rounds):
                for kind in KINDS:
                    batch = women[start : start + per_round]
                    if kind == "register":
                        start += per_round
                    requests = _requests(kind, batch, shift)
                    cpu = server.cpu_seconds()
                    result = pool.submit(requests_main, client, server.port, token, requests,
                                         EXPECTED[kind], clients).result()  # fmt: skip
                    runs[kind, clients].server_cpu_s.append(server.cpu_seconds() - cpu)
                    runs[kind, clients].results.append(result)
    return runs


def ceiling_section(
    backends: list[str], size: str, pool, client: str, shift
) -> tuple[list[str], list[str]]:
    """Markdown lines (table and GOAL lines) and problems (errors)."""
    rounds, per_round = ROUNDS[size], PER_ROUND[size]
    lines = [
        f"### Near the framework's ceiling: list and register against a trivial endpoint "
        f"({rounds} interleaved rounds of {per_round} requests per kind)",
        "",
        f"One server process (`pebs serve`'s app and uvicorn options) with one extra route, "
        f"`GET {PEER_PATH}` (async, no authentication, no database, constant answer), that "
        "exists only in this benchmark's app: the trivial endpoint. Two more such routes are "
        "the floors of the database work: read-floor (`GET "
        f"{READ_FLOOR_PATH}`: one plain query of 50 participants' rows) and write-floor (`POST "
        f"{WRITE_FLOOR_PATH}`: one row inserted and committed), each on a pooled connection with "
        "pebs' engine settings (on the event loop on SQLite, in worker threads on PostgreSQL), "
        "with no authentication, ORM, validation or audit event: what any list or register "
        "request must at least do. list = `GET "
        f"{API}/participants?limit=50` (a full page), register = `POST {API}/participants` (a new "
        "woman each); the server remembers an accepted API token for a few seconds "
        "(`docs/security.md` §3), so nearly every request skips the token's lookup. req/s: "
        "median over rounds of the requests answered as expected per second "
        "of the round's wall time; ratio: to the trivial endpoint's median with the same "
        "clients; latency over all rounds; server CPU: median over rounds; CPU ratio: the "
        "trivial endpoint's server CPU per request / this request's.",
        "",
        "| database | clients | request | req/s | **ratio to trivial** | ratio to its floor | "
        "p50 ms | p95 ms | **p99 ms** | server CPU ms/request | CPU ratio |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    goals: list[str] = []
    problems: list[str] = []
    for backend in backends:
        runs = measure(backend, size, pool, client, shift)
        for clients in CLIENTS:
            peer = runs["trivial", clients].per_s()
            peer_cpu_ms = runs["trivial", clients].cpu_ms()
            for kind in KINDS:
                run = runs[kind, clients]
                latencies = run.latencies()
                ratio = run.per_s() / peer if peer else float("nan")
                floor = runs[FLOOR_OF[kind], clients].per_s() if kind in FLOOR_OF else None
                to_floor = f"{run.per_s() / floor:.2f}" if floor else ""
                p50, p95, p99 = (percentile_ms(latencies, q) for q in (50, 95, 99))
                lines.append(
                    f"| {backend} | {clients} | {kind} | {run.per_s():,.0f} | **{ratio:.2f}** | "
                    f"{to_floor} | {p50:.1f} | {p95:.1f} | **{p99:.1f}** | {run.cpu_ms():.2f} | "
                    f"{peer_cpu_ms / run.cpu_ms():.2f} |"
                )
                if run.errors():
                    first = next(r.first_error for r in run.results if r.first_error)
                    problems.append(f"{backend} {kind} {clients} clients: {run.errors()} "
                                    f"(first: {first})")  # fmt: skip
                if clients == 8 and kind in FLOOR_OF:
                    goals += [
                        goal_line(f"http-{kind}-vs-trivial-8-clients-{backend}", ratio,
                                  GOAL_RATIO),
                        goal_line(f"http-{kind}-p99-ms-8-clients-{backend}", p99, GOAL_P99_MS,
                                  at_most=True),
                    ]  # fmt: skip
    lines += ["", *goals, ""]
    return lines, problems
