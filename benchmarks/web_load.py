"""The load generator of :mod:`benchmarks.web_bench`: clients running enrolment flows over HTTP.

It runs in its own process (:func:`load_main`, through a ``spawn`` process pool) so that it does
not share the GIL or a core's time slices with the measuring process. Each client is a coroutine
with one keep-alive connection; the clients take women from one shared queue and run each
woman's flow -- register, eligibility, consent, allocation -- one request after the other,
stopping a flow at its first unexpected status. :class:`RawConnection` speaks just enough
HTTP/1.1 for JSON requests to uvicorn (measured ~0.2 ms of CPU per request);
:class:`HttpxConnection` uses ``httpx.AsyncClient`` (~1.4 ms) for comparison.

:func:`requests_main` sends single requests instead of flows (one route, back to back from each
client), for :mod:`benchmarks.web_ceiling`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from benchmarks.trial_bench_data import ELIGIBLE, LANGUAGE, STUDY, Woman

API = "/api/v1"
STEPS = ("register", "eligibility", "consent", "allocate")
EXPECTED = {"register": 201, "eligibility": 200, "consent": 200, "allocate": 201}
"""The status of each request when it goes well (anything else is an error)."""


def percentile_ms(values: list[float], q: float) -> float:
    """Nearest-rank percentile ``q`` (0-100) of ``values`` (seconds), in milliseconds.

    >>> percentile_ms([0.001, 0.002, 0.003, 0.004], 50), percentile_ms([0.001, 0.002], 100)
    (2.0, 2.0)
    """
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-q * len(ordered) // 100)))
    return 1000 * ordered[int(rank) - 1]


class RawConnection:
    """One keep-alive HTTP/1.1 connection; just enough protocol for JSON requests to uvicorn."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.auth = f"Authorization: Bearer {token}\r\n"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.auth}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode("ascii") + body)
        try:
            raw = await self.reader.readuntil(b"\r\n\r\n")  # type: ignore[union-attr]
            lines = raw.decode("latin-1").split("\r\n")
            headers = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
            headers = {k.strip().lower(): v.strip() for k, v in headers.items()}
            data = await self.reader.readexactly(int(headers["content-length"]))  # type: ignore[union-attr]
        except BaseException:
            await self.close()
            raise
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return int(lines[0].split()[1]), data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None


class HttpxConnection:
    def __init__(self, host: str, port: int, token: str) -> None:
        import httpx

        self.client = httpx.AsyncClient(
            base_url=f"http://{host}:{port}",
            timeout=120,
            headers={"Authorization": f"Bearer {token}"},
        )

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        response = await self.client.request(
            method, path, content=body, headers={"Content-Type": "application/json"}
        )
        return response.status_code, response.content

    async def close(self) -> None:
        await self.client.aclose()


@dataclass
class LoadResult:
    wall_s: float = 0.0
    client_cpu_s: float = 0.0
    flows_done: int = 0
    latencies: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})
    statuses: Counter = field(default_factory=Counter)
    """(step, status or exception name) -> count, over the timed flows."""
    first_error: str | None = None


def _payloads(woman: Woman, shift: timedelta) -> tuple[bytes, bytes, bytes]:
    register = {
        "study": STUDY,
        "site": woman.site,
        "name": f"Woman {woman.national_id}",
        "birth_date": (woman.birth_date + shift).isoformat(),
        "national_id": woman.national_id,
    }
    consent = {"language": LANGUAGE[woman.site[:2]]}
    return (
        json.dumps(register).encode(),
        json.dumps({"answers": ELIGIBLE}).encode(),
        json.dumps(consent).encode(),
    )


async def _flows(connection, queue: list, result: LoadResult) -> None:
    while queue:
        register, eligibility, consent = queue.pop()
        study_id = None
        for step in STEPS:
            if step == "register":
                method, path, body = "POST", f"{API}/participants", register
            else:
                suffix = {
                    "eligibility": "eligibility",
                    "consent": "consent",
                    "allocate": "allocation",
                }[step]
                body = {"eligibility": eligibility, "consent": consent, "allocate": b""}[step]
                method, path = "POST", f"{API}/participants/{study_id}/{suffix}"
            start = time.perf_counter()
            try:
                status, data = await connection.request(method, path, body)
            except Exception as error:  # a broken connection: an error, the flow stops
                status, data = type(error).__name__, repr(error).encode()
            elapsed = time.perf_counter() - start
            result.statuses[(step, status)] += 1
            if status == EXPECTED[step]:
                result.latencies[step].append(elapsed)
            elif result.first_error is None:
                result.first_error = f"{step} -> {status}: {data[:300].decode(errors='replace')}"
            if status != EXPECTED[step]:
                break
            if step == "register":
                study_id = json.loads(data)["study_id"]
        else:
            result.flows_done += 1


async def _drive(
    kind: str, port: int, token: str, women: list[Woman], clients: int, shift: timedelta
) -> LoadResult:
    opener = RawConnection if kind == "raw" else HttpxConnection
    connections = [opener("127.0.0.1", port, token) for _ in range(clients)]
    queue = [_payloads(w, shift) for w in reversed(women)]
    result = LoadResult()
    cpu, start = time.process_time(), time.perf_counter()
    await asyncio.gather(*(_flows(c, queue, result) for c in connections))
    result.wall_s = time.perf_counter() - start
    result.client_cpu_s = time.process_time() - cpu
    for connection in connections:
        await connection.close()
    return result


def load_main(
    kind: str, port: int, token: str, women: list[Woman], clients: int, shift: timedelta
) -> LoadResult:
    """Entry point of the load-generator process."""
    return asyncio.run(_drive(kind, port, token, women, clients, shift))


@dataclass
class RequestsResult:
    wall_s: float = 0.0
    client_cpu_s: float = 0.0
    latencies: list[float] = field(default_factory=list)
    """Seconds of each request that answered ``expected``."""
    statuses: Counter = field(default_factory=Counter)
    first_error: str | None = None

    def per_s(self) -> float:
        """Requests that answered as expected per second of the run's wall time."""
        return len(self.latencies) / self.wall_s if self.wall_s else 0.0


async def _requests(connection, queue: list, expected: int, result: RequestsResult) -> None:
    while queue:
        method, path, body = queue.pop()
        start = time.perf_counter()
        try:
            status, data = await connection.request(method, path, body)
        except Exception as error:  # a broken connection: an error
            status, data = type(error).__name__, repr(error).encode()
        elapsed = time.perf_counter() - start
        result.statuses[status] += 1
        if status == expected:
            result.latencies.append(elapsed)
        elif result.first_error is None:
            text = data[:300].decode(errors="replace")
            result.first_error = f"{method} {path} -> {status}: {text}"


async def _drive_requests(
    kind: str, port: int, token: str, requests: list, expected: int, clients: int
) -> RequestsResult:
    opener = RawConnection if kind == "raw" else HttpxConnection
    connections = [opener("127.0.0.1", port, token) for _ in range(clients)]
    for connection in connections:  # connected before the clock starts, as in a warm pool
        if isinstance(connection, RawConnection):
            connection.reader, connection.writer = await asyncio.open_connection(
                connection.host, connection.port
            )
    queue = list(reversed(requests))
    result = RequestsResult()
    cpu, start = time.process_time(), time.perf_counter()
    await asyncio.gather(*(_requests(c, queue, expected, result) for c in connections))
    result.wall_s = time.perf_counter() - start
    result.client_cpu_s = time.process_time() - cpu
    for connection in connections:
        await connection.close()
    return result


def requests_main(
    kind: str,
    port: int,
    token: str,
    requests: list[tuple[str, str, bytes]],
    expected: int,
    clients: int,
) -> RequestsResult:
    """Entry point of the load-generator process: ``requests`` (method, path, body) shared by
    ``clients`` keep-alive connections, each sending its next request when the last answered."""
    return asyncio.run(_drive_requests(kind, port, token, requests, expected, clients))


def register_body(woman: Woman, shift: timedelta) -> bytes:
    """The ``POST /participants`` body of ``woman`` (as in her enrolment flow)."""
    return _payloads(woman, shift)[0]
