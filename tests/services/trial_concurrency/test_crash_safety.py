"""A process killed (SIGKILL) in the middle of a use case's transaction leaves nothing behind.

A spawned child runs the real use case with its module's ``append_event`` replaced (in the child
only) by one that flushes the use case's writes -- optionally appends the real audit event too --
then signals the parent and sleeps: the child is killed while its transaction is open and holds
its locks (SQLite's writer lock; PostgreSQL's row, stratum and audit-chain locks). Meanwhile the
parent starts the same use case for another woman, which must wait, then succeed once the child
is dead, and take exactly what the dead transaction had taken (sequence number, slot). Afterwards
no partial participant exists, the slots of the stratum are still used in list order and the
audit chain verifies with no gap in its ids.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import trial_harness as harness
from sqlalchemy import func, select

from pebs.store.models import (
    Allocation,
    AllocationSlot,
    AuditEvent,
    Participant,
    ParticipantIdentity,
    Site,
)

HEAD_START_S = 0.5
"""How long the parent's own request runs before the kill (so that it is waiting on a lock)."""

VICTIM_WOMEN = 1_000
"""The killed process has 25 times the others' work (several seconds even on a fast machine), so
it is still loading when it is killed; it is killed once 15 women are allocated."""


def _freeze_child(spawn, trial_db, use_case: str, after_audit: bool, argument):
    signals = spawn.Queue()
    child = spawn.Process(
        target=harness.paused_worker,
        args=(trial_db.url, trial_db.fernet_key, use_case, after_audit, argument, signals),
    )
    child.start()
    kind, detail = harness.receive(signals, [child])
    assert kind == "paused", detail
    return child, detail


def _kill(child) -> None:
    os.kill(child.pid, signal.SIGKILL)
    child.join(30)
    assert child.exitcode == -signal.SIGKILL


class _Background:
    """Run one call in a thread; ``done`` tells whether it has returned."""

    def __init__(self, call) -> None:
        self.result = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(call,))
        self.thread.start()

    def _run(self, call) -> None:
        try:
            self.result = call()
        except BaseException as error:
            self.error = error
        finally:
            self.done.set()

    def wait(self):
        assert self.done.wait(60), "the parent's request never finished after the kill"
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.result


def _head(trial_db) -> tuple[int, int]:
    with trial_db.sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
            session.scalar(select(func.max(AuditEvent.id))) or 0,
        )


@pytest.mark.slow
@pytest.mark.parametrize("after_audit", [False, True], ids=["before-audit", "after-audit"])
def test_a_registration_killed_mid_transaction_leaves_no_participant(
    trial_db, spawn, after_audit: bool
) -> None:
    before = harness.count_rows(trial_db.sessions, [Participant, ParticipantIdentity, AuditEvent])
    n_events, head_id = _head(trial_db)
    dying = harness.Job("IT-TO", "50-59", "DYING00001")
    child, study_id = _freeze_child(spawn, trial_db, "register", after_audit, dying)
    assert study_id == "IT-TO-000001"  # flushed, not committed
    survivor = harness.Job("IT-TO", "50-59", "ALIVE00001")
    parent = _Background(lambda: trial_db.pathway.register(survivor))
    time.sleep(HEAD_START_S)
    assert not parent.done.is_set(), "the parent registered while the child held its locks"
    _kill(child)
    assert parent.wait() == "IT-TO-000001"  # the dead transaction's sequence number is reused

    after = harness.count_rows(trial_db.sessions, [Participant, ParticipantIdentity, AuditEvent])
    assert after == {key: value + 1 for key, value in before.items()}
    with trial_db.sessions() as session:
        assert session.scalar(select(Site.last_sequence).where(Site.code == "IT-TO")) == 1
        event = session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert (event.id, event.action, event.entity_id) == (head_id + 1, "register", "IT-TO-000001")
    assert _head(trial_db) == (n_events + 1, head_id + 1)
    # She can be registered again: the dead process left no identity (HMAC) behind.
    assert trial_db.pathway.register(dying) == "IT-TO-000002"
    report = trial_db.report()
    assert report.problems == []
    assert report.n_participants == 2


@pytest.mark.slow
def test_an_allocation_killed_after_taking_its_slot_frees_the_slot(trial_db, spawn) -> None:
    trial_db.lists(["FR-PA:50-59"], 6)
    dying, survivor = (
        trial_db.pathway.register(job) for job in harness.jobs(["FR-PA"], ["50-59"], 2, "ALLOC")
    )
    for woman in (dying, survivor):
        trial_db.pathway.consent(woman)
    n_events, head_id = _head(trial_db)
    child, _ = _freeze_child(spawn, trial_db, "allocate", True, dying)
    parent = _Background(lambda: trial_db.pathway.allocate(survivor))
    time.sleep(HEAD_START_S)
    assert not parent.done.is_set(), "the parent allocated while the child held the stratum"
    _kill(child)
    allocated = parent.wait()
    assert allocated.created
    with trial_db.sessions() as session:
        positions = dict(
            session.execute(
                select(Participant.study_id, AllocationSlot.position).join(
                    AllocationSlot, AllocationSlot.used_by_participant_id == Participant.id
                )
            ).all()
        )
        status = session.scalar(select(Participant.status).where(Participant.study_id == dying))
        assert session.scalar(select(func.count()).select_from(Allocation)) == 1
    assert positions == {survivor: 1}  # the slot the dead transaction had taken
    assert status == "consented"
    # her allocation's event, and her kit's when she is in the risk-based arm (the demo study
    # assigns saliva kits at randomisation)
    n_new = 2 if allocated.arm == "risk-based" else 1
    assert _head(trial_db) == (n_events + n_new, head_id + n_new)
    assert trial_db.pathway.allocate(dying).created  # and she can still be randomised
    report = trial_db.report()
    assert report.problems == []
    assert report.used_by_stratum == {"FR-PA:50-59": 2}


@pytest.mark.slow
def test_a_process_killed_at_any_moment_of_a_load_leaves_whole_participants(
    trial_db, spawn
) -> None:
    sites, bands = ("IT-TO", "FR-PA"), ("50-59",)
    # slots for every woman of the load, the victim's included (it is killed long before)
    trial_db.lists([f"{s}:{b}" for s in sites for b in bands], (VICTIM_WOMEN + 80) // 2 + 20)
    ready, results, go = spawn.Queue(), spawn.Queue(), spawn.Event()
    processes = [
        spawn.Process(
            target=harness.process_worker,
            args=(
                trial_db.url,
                trial_db.fernet_key,
                2,
                [],
                harness.jobs(sites, bands, VICTIM_WOMEN if p == 0 else 40, f"K{p}-"),
                ready,
                go,
                results,
            ),
        )
        for p in range(3)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        harness.receive(ready, processes)
    go.set()
    victim = processes[0]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # kill it once the load is well under way
        with trial_db.sessions() as session:
            if (session.scalar(select(func.count()).select_from(Allocation)) or 0) >= 15:
                break
        time.sleep(0.02)
    _kill(victim)
    collected = [harness.receive(results, processes[1:]) for _ in processes[1:]]
    for process in processes[1:]:
        process.join(30)
        assert process.exitcode == 0
    assert all(c[3] is None for c in collected), [c[3] for c in collected if c[3]]
    outcomes = [o for c in collected for o in c[2]]
    assert not [o for o in outcomes if o.error], [o.message for o in outcomes if o.error][:3]
    report = trial_db.report()
    # The victim's women are whole: registered (perhaps not yet allocated), never half-written.
    assert report.problems == []
    assert 80 <= report.n_participants < 80 + VICTIM_WOMEN  # the victim never finished
    assert report.n_allocations >= 80
    print(
        f"{trial_db.backend}: victim killed; {report.n_participants} participants, "
        f"{report.n_allocations} allocations, chain of {report.n_events} events intact"
    )
