"""Fixtures: the demo study in a fresh SQLite file (WAL) *and* a fresh PostgreSQL schema.

The database fixtures come from ``tests/conftest.py``, so these tests create, migrate and drop
their databases exactly as the store and service suites do.

Child processes are started with the ``spawn`` context: they import :mod:`trial_harness` by name,
so this directory is put on ``sys.path`` (spawned children inherit the parent's ``sys.path``).
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Actor
from pebs.services.trial import generate_allocation_list, load_study_config
from pebs.store.crypto import IdentityCipher

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import trial_harness  # noqa: E402  (needs the sys.path entry above)


@dataclass
class TrialDb:
    """The demo study loaded on ``url``; ``fernet_key`` is what child processes need."""

    url: str
    backend: str
    sessions: sessionmaker[Session]
    engine: Engine
    fernet_key: str
    pathway: trial_harness.Pathway

    def lists(self, strata: list[str], slots: int | dict[str, int], *, seed: int = 5) -> Any:
        statistician = trial_harness.actor_for(self.sessions, "demo-statistician")
        return generate_allocation_list(
            self.sessions,
            statistician,
            trial_harness.STUDY,
            slots_per_stratum=slots,
            seed=seed,
            strata=strata,
            at=trial_harness.AT,
        )

    def report(self) -> trial_harness.Report:
        return trial_harness.check_invariants(self.sessions)


@pytest.fixture
def trial_db(url: str, backend: str, engine: Engine, session_maker) -> TrialDb:
    load_study_config(
        session_maker, Actor.system("concurrency-test"), trial_harness.STUDY, demo_users=True
    )
    fernet_key = IdentityCipher.generate_key()
    keys = trial_harness.keys_from(fernet_key)
    pathway = trial_harness.Pathway(
        session_maker, keys, trial_harness.actor_for(session_maker, trial_harness.ACTOR)
    )
    return TrialDb(url, backend, session_maker, engine, fernet_key, pathway)


@pytest.fixture
def spawn() -> Iterator[Any]:
    """The ``spawn`` multiprocessing context; processes left alive are killed at teardown."""
    context = multiprocessing.get_context("spawn")
    yield context
    for child in multiprocessing.active_children():
        child.kill()
        child.join(10)
