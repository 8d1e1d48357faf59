"""Locks held until the end of a transaction are taken in one order (the audit chain's, then a
stratum's), so a transaction that appends an event and then locks a stratum (a list of women
allocated in one transaction) and one that locks the stratum first (a single allocation) wait
for each other instead of deadlocking. PostgreSQL only: SQLite has one writer at a time."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from pebs.store import randomisation
from pebs.store.audit import append_event, verify_chain

STRATUM = "FR|40-49"


def _waiting_on_a_lock(session_maker: sessionmaker[Session], pid: int) -> bool:
    with session_maker() as session:
        return bool(session.execute(
            text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"),
            {"pid": pid},
        ).scalar())  # fmt: skip


def test_an_appender_and_a_stratum_locker_do_not_deadlock(
    backend: str, session_maker: sessionmaker[Session], world
) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL advisory locks only")
    second_pid: list[int] = []
    second_has_stratum = threading.Event()
    errors: list[BaseException] = []

    def single_allocation() -> None:  # stratum, then (after waiting) its event
        try:
            with session_maker.begin() as session:
                second_pid.append(session.execute(text("SELECT pg_backend_pid()")).scalar_one())
                randomisation.lock_stratum(session, world.study, STRATUM)
                second_has_stratum.set()
                append_event(session, actor="second", action="allocate", entity="test")
        except BaseException as error:
            errors.append(error)

    with session_maker.begin() as session:  # an event first, then the stratum
        append_event(session, actor="first", action="register", entity="test")
        second = threading.Thread(target=single_allocation)
        second.start()
        deadline = time.monotonic() + 30
        while not second_has_stratum.is_set() and not (
            second_pid and _waiting_on_a_lock(session_maker, second_pid[0])
        ):
            assert time.monotonic() < deadline, "the second transaction neither locked nor waited"
            time.sleep(0.01)
        randomisation.lock_stratum(session, world.study, STRATUM)
    second.join(timeout=60)
    assert not second.is_alive()
    assert errors == []
    with session_maker() as session:
        result = verify_chain(session)
    assert result.ok
    assert result.n_events == 2
