"""Fixtures of the browser tests: the real server (uvicorn, in a thread, on a free port) on a
temporary SQLite database with the demo study, demo accounts and a few seeded participants, and
Debian's Chromium driven by Playwright's sync API.

Chromium is looked up at ``PEBS_CHROMIUM`` (default ``/usr/bin/chromium``; ``make test``
installs it with apt). Without it the tests FAIL, unless ``PEBS_TEST_BROWSER=skip``. Screenshots
go to ``test-artifacts/e2e/`` at the repository root.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from pebs.services.trial import actor_for, seed_demo_participants
from pebs.web import create_site

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM = os.environ.get("PEBS_CHROMIUM", "/usr/bin/chromium")


def _web_fixtures() -> Any:
    name = "_pebs_web_test_fixtures"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "web" / "conftest.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_web = _web_fixtures()


@dataclass
class Server:
    url: str
    db: Any
    """``tests/web/conftest.py``'s ``Prepared`` database."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    db = _web.prepare_database(f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'pebs.db'}")
    seed_demo_participants(db.sessions, db.manager, db.keys, _web.STUDY, n=40, seed=3,
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
