"""Fixtures of the browser tests: the real server (uvicorn, in a thread, on a free port) on a
temporary SQLite database with the demo study, demo accounts and a few seeded participants
(:func:`factories.demo_database`), and Debian's Chromium driven by Playwright's sync API.

Chromium is looked up at ``PEBS_CHROMIUM`` (default ``/usr/bin/chromium``; ``make test``
installs it with apt). Without it the tests FAIL, unless ``PEBS_TEST_BROWSER=skip``. Screenshots
go to ``test-artifacts/e2e/`` at the repository root.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from factories import STUDY, DemoDatabase, demo_database
from pebs.server import create_site
from pebs.services.actor import actor_for
from pebs.services.trial import seed_demo_participants

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM = os.environ.get("PEBS_CHROMIUM", "/usr/bin/chromium")


@dataclass
class Server:
    url: str
    db: DemoDatabase


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    db = demo_database(f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'pebs.db'}")
    seed_demo_participants(db.sessions, db.manager, db.keys, STUDY, n=40, seed=3,
                           statistician=actor_for(db.sessions, "demo-statistician"))  # fmt: skip
    port = _free_port()
    config = uvicorn.Config(create_site(db.settings, auth_policy=db.policy), host="127.0.0.1",
                            port=port, log_level="warning", ws="none", lifespan="on")  # fmt: skip
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, name="pebs-e2e-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uvicorn_server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield Server(f"http://127.0.0.1:{port}", db)
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=10)
        db.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("PEBS_TEST_BROWSER") == "skip":
            pytest.skip(f"no Chromium at {CHROMIUM} (PEBS_TEST_BROWSER=skip)")
        pytest.fail(f"no Chromium at {CHROMIUM}: run 'make browser' (apt-get install chromium), "
                    "or set PEBS_TEST_BROWSER=skip to skip the browser tests")  # fmt: skip
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )  # fmt: skip
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def shots() -> Path:
    """The screenshots directory."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
