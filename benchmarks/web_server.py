"""The server of :mod:`benchmarks.web_bench`: ``pebs serve`` in a child process, logged in.

:func:`running_server` gives the demo accounts passwords and TOTP secrets
(:func:`pebs.services.auth.demo.provision_demo_accounts`), starts ``pebs serve`` on a free
loopback port with ``PEBS_*`` pointing at the database, waits until it answers, logs in over
HTTP (password + TOTP code) and creates a personal API token per account. The server's CPU time
(with its worker processes) is read from ``/proc``.

With ``profile=`` the child is instead ``python -m benchmarks.web_server PORT OUT``: the same app
under uvicorn (one process) with a sampling profiler (:class:`Sampler`), which writes where its
threads spent their time to ``OUT`` (JSON) when the server stops.

With ``peer=True`` the child is ``python -m benchmarks.web_server PORT --peer``: the site of
``pebs serve`` (its factory, uvicorn options and one process) with one more route,
:data:`PEER_PATH`, that exists only in this benchmark's app (:func:`site_with_peer`): the trivial
endpoint the other routes are compared with, served by the same uvicorn, middleware and process.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from benchmarks import one_core
from benchmarks.trial_bench_data import HMAC_KEY, STUDY
from benchmarks.web_load import API

ROOT = Path(__file__).resolve().parent.parent
APP = "pebs.api.app:from_environment"
PEER_APP = "benchmarks.web_server:site_with_peer"
PEER_PATH = "/api/v1/bench-trivial"
"""The trivial endpoint (:func:`site_with_peer`): no authentication, no database, a constant
answer."""
READ_FLOOR_PATH = "/api/v1/bench-read-floor"
"""The read floor (:func:`site_with_peer`): 50 participants' rows in one plain query, no
authentication, no ORM, on the event loop."""
WRITE_FLOOR_PATH = "/api/v1/bench-write-floor"
"""The write floor (:func:`site_with_peer`): one row inserted and committed in a plain
transaction, no authentication, no ORM, no audit event, on the event loop."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its live descendants (uvicorn's worker processes)."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
    return total


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log: Path
    tokens: dict[str, str]

    def cpu_seconds(self) -> float:
        return _cpu_seconds(self.process.pid)


def _provision(url: str, fernet_key: str, secret: str) -> dict[str, tuple[str, str]]:
    """Passwords and TOTP secrets of the demo accounts: username -> (password, secret)."""
    from pebs.services.actor import Actor
    from pebs.services.auth import AuthPolicy
    from pebs.services.auth.demo import provision_demo_accounts
    from pebs.services.keys import IdentityKeys
    from pebs.store.engine import create_engine_for, session_factory

    engine = create_engine_for(url)
    try:
        logins = provision_demo_accounts(
            session_factory(engine),
            Actor.system("web-bench"),
            IdentityKeys.from_settings_values([fernet_key], HMAC_KEY).cipher,
            AuthPolicy.from_settings_values(secret),
            STUDY,
        )
    finally:
        engine.dispose()
    return {login.username: (login.password, login.totp_secret) for login in logins}


def _api_token(base: str, username: str, password: str, totp_secret: str) -> str:
    """Log in over HTTP (password + TOTP code) and create a personal API token."""
    import httpx
    import pyotp

    with httpx.Client(base_url=base, timeout=60) as client:
        code = pyotp.TOTP(totp_secret).now()
        me = client.post(
            f"{API}/auth/login",
            json={"username": username, "password": password, "totp_code": code},
        )
        me.raise_for_status()
        created = client.post(
            f"{API}/auth/tokens",
            json={"name": "web-bench", "days": 1},
            headers={"X-CSRF-Token": me.json()["csrf_token"]},
        )
        created.raise_for_status()
        return created.json()["token"]


def site_with_peer():
    """The site ``pebs serve`` runs, plus the trivial endpoint :data:`PEER_PATH` and two floors.

    The peer is an ``async def`` route that returns a constant JSON object: it passes through
    the same uvicorn, request limits, security headers and router as every other route. The
    floors, :data:`READ_FLOOR_PATH` and :data:`WRITE_FLOOR_PATH`, add the least database work a
    list or a register request can do: one query (or one insert and its durable commit) through
    the driver's own connection, taken from the pool of an engine with pebs' settings
    (:func:`pebs.store.engine.create_engine_for`), without authentication, SQLAlchemy
    statements, validation or audit event. They are put first in the routing table, so that they
    do not pay for matching the routes before them. On SQLite they run on the event loop (no
    thread hop: the query waits on nothing but its own work and the disk); on PostgreSQL in
    Starlette's worker threads, so that requests waiting on the server overlap, as pebs' routes
    do.
    """
    import orjson
    from fastapi import Response
    from sqlalchemy import text

    from pebs.server import served_site
    from pebs.store.engine import create_engine_for

    app = served_site()  # as `pebs serve` builds it (the process kept on one CPU)
    engine = create_engine_for(os.environ["PEBS_DATABASE_URL"])
    key = "SERIAL PRIMARY KEY" if engine.dialect.name == "postgresql" else "INTEGER PRIMARY KEY"
    with engine.begin() as connection:
        connection.execute(text(f"CREATE TABLE IF NOT EXISTS bench_floor (id {key}, at TEXT)"))
    mark = "%s" if engine.dialect.name == "postgresql" else "?"
    read = ("SELECT id, study_id, site_id, status, age_band, language, registered_at "
            "FROM participants ORDER BY id LIMIT 50")  # fmt: skip
    write = f"INSERT INTO bench_floor (at) VALUES ({mark})"
    names = ("id", "study_id", "site_id", "status", "age_band", "language", "registered_at")

    @app.get(PEER_PATH, include_in_schema=False)
    async def trivial() -> dict[str, bool]:
        return {"ok": True}

    def read_floor() -> Response:
        connection = engine.raw_connection()  # from the pool: the driver's own connection
        try:
            cursor = connection.cursor()
            cursor.execute(read)
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            connection.commit()
        finally:
            connection.close()
        return Response(orjson.dumps({"items": rows}, default=str), media_type="application/json")

    def write_floor() -> dict[str, bool]:
        connection = engine.raw_connection()
        try:
            connection.cursor().execute(write, (time.strftime("%Y-%m-%dT%H:%M:%S"),))
            connection.commit()
        finally:
            connection.close()
        return {"ok": True}

    if engine.dialect.name == "postgresql":  # waits on a socket: in worker threads, overlapped
        read_route, write_route = read_floor, write_floor
    else:  # waits on nothing but its own work (and the disk's flush): on the event loop

        async def read_route() -> Response:
            return read_floor()

        async def write_route() -> dict[str, bool]:
            return write_floor()

    app.get(READ_FLOOR_PATH, include_in_schema=False)(read_route)
    app.post(WRITE_FLOOR_PATH, include_in_schema=False, status_code=201)(write_route)
    for _ in range(3):
        app.router.routes.insert(0, app.router.routes.pop())
    return app


def _serve_with_peer(port: int) -> None:
    """Serve :func:`site_with_peer` with the uvicorn options of ``pebs serve`` (one process)."""
    import uvicorn

    from pebs.cli.serve import uvicorn_options

    uvicorn.run(PEER_APP, factory=True, **uvicorn_options("127.0.0.1", port, 1, []))


@contextlib.contextmanager
def running_server(
    url: str,
    fernet_key: str,
    workers: int,
    users: tuple[str, ...],
    profile: Path | None = None,
    *,
    peer: bool = False,
):
    """``pebs serve`` on a free loopback port over ``url``; API tokens of ``users``.

    ``profile``: run the sampled server instead (one process), its samples written there.
    ``peer``: run :func:`site_with_peer` instead (one process).
    """
    secret = secrets.token_urlsafe(40)
    accounts = _provision(url, fernet_key, secret)
    port = _free_port()
    env = {
        **one_core.child_env(),
        "PEBS_ENVIRONMENT": "development",
        "PEBS_DATABASE_URL": url,
        "PEBS_SECRET_KEY": secret,
        "PEBS_IDENTITY_KEY": fernet_key,
        "PEBS_HMAC_KEY": HMAC_KEY.decode(),
    }
    log = Path(tempfile.mkstemp(prefix="pebs-web-bench-", suffix=".log")[1])
    with log.open("wb") as sink:
        command = [str(Path(sys.executable).parent / "pebs"), "serve", "--port", str(port),
                   "--workers", str(workers)]  # fmt: skip
        if profile is not None:
            command = [sys.executable, "-m", "benchmarks.web_server", str(port), str(profile)]
        elif peer:
            command = [sys.executable, "-m", "benchmarks.web_server", str(port), "--peer"]
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base, process, log)
        tokens = {}
        for user in users:
            password, totp = accounts[user]
            tokens[user] = _api_token(base, user, password, totp)
        yield Server(port, process, log, tokens)
    finally:
        process.send_signal(signal.SIGINT)  # uvicorn stops gracefully (and the sampler writes)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.unlink(missing_ok=True)


def _wait_ready(base: str, process: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}):\n{log.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/api/openapi.json", timeout=5).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer within {timeout:.0f} s:\n{log.read_text()}")


# --- the sampling profiler (``--profile``) -------------------------------------------------------

SWITCH_INTERVAL_S = 0.0002
"""GIL switch interval of the sampled server (default 5 ms): the sampler needs the GIL to take a
sample, so with the default it would mostly catch threads that had released it (driver calls)
and under-count pure-Python work."""
_IDLE = (("threading.py", "wait"), ("selectors.py", "select"))
"""Leaf frames of a thread with nothing to do (a pool thread waiting for work, the event loop)."""
_GROUPS = (
    ("psycopg/", "database driver call (SQL, commit, lock waits)"),
    ("sqlalchemy/engine/default.py:do_", "database driver call (SQL, commit, lock waits)"),
    ("sqlalchemy/", "SQLAlchemy (Core/ORM, outside driver calls)"),
    ("/pebs/", "pebs code itself"),
    ("cryptography/", "cryptography (Fernet)"),
    ("pydantic", "FastAPI / Starlette / pydantic"),
    ("fastapi/", "FastAPI / Starlette / pydantic"),
    ("starlette/", "FastAPI / Starlette / pydantic"),
    ("logging/", "logging (access log)"),
    ("uvicorn/", "uvicorn / h11 / asyncio / anyio"),
    ("h11/", "uvicorn / h11 / asyncio / anyio"),
    ("asyncio/", "uvicorn / h11 / asyncio / anyio"),
    ("anyio/", "uvicorn / h11 / asyncio / anyio"),
)


class Sampler(threading.Thread):
    """Every ``interval`` seconds, the Python stack of every busy thread of this process.

    Counts, over busy thread-samples (wall time, not CPU: a thread blocked in a driver call or
    waiting for the GIL counts where it stands): the group of the leaf frame, the leaf function,
    and every pebs function on the stack once (inclusive, like a profiler's cumulative time).
    """

    def __init__(self, interval: float = 0.002) -> None:
        super().__init__(daemon=True, name="sampler")
        self.interval = interval
        self.stop = threading.Event()
        self.busy = 0
        self.groups: Counter = Counter()
        self.leaves: Counter = Counter()
        self.inclusive: Counter = Counter()

    def run(self) -> None:
        me = threading.get_ident()
        while not self.stop.wait(self.interval):
            for ident, frame in sys._current_frames().items():
                code = frame.f_code
                if ident == me or (Path(code.co_filename).name, code.co_name) in _IDLE:
                    continue
                self.busy += 1
                self.groups[_group(code.co_filename, code.co_name)] += 1
                self.leaves[f"{_short(code.co_filename)}:{code.co_name}"] += 1
                seen = set()
                while frame is not None:
                    code = frame.f_code
                    if "/pebs/" in code.co_filename:
                        seen.add(f"{_short(code.co_filename)}:{code.co_name}")
                    frame = frame.f_back
                self.inclusive.update(seen)

    def reset(self, *_: object) -> None:
        """Forget the samples so far (on ``SIGUSR1``: the timed part starts)."""
        self.busy = 0
        self.groups, self.leaves, self.inclusive = Counter(), Counter(), Counter()

    def summary(self) -> dict:
        return {"interval_s": self.interval, "busy": self.busy, "groups": dict(self.groups),
                "leaves": dict(self.leaves.most_common(15)),
                "inclusive": dict(self.inclusive.most_common(20))}  # fmt: skip


def _group(filename: str, function: str) -> str:
    where = f"{filename}:{function}"
    return next((name for key, name in _GROUPS if key in where), "other (standard library)")


def _short(filename: str) -> str:
    for marker in ("/site-packages/", "/src/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def sampled_server(port: int, out: Path) -> None:
    """Serve the app as ``pebs serve`` does (one process) under :class:`Sampler`."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(APP, factory=True, host="127.0.0.1", port=port,
                                           proxy_headers=True, server_header=False,
                                           log_level="info"))  # fmt: skip
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    sampler = Sampler()
    signal.signal(signal.SIGUSR1, sampler.reset)
    sampler.start()
    try:
        server.run()
    finally:
        sampler.stop.set()
        sampler.join()
        out.write_text(json.dumps(sampler.summary()), encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[2] == "--peer":
        _serve_with_peer(int(sys.argv[1]))
    else:
        sampled_server(int(sys.argv[1]), Path(sys.argv[2]))
