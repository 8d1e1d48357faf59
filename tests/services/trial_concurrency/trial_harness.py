"""What the concurrency tests run in threads and in spawned processes, and what they check.

This module is imported by the tests *and* by child processes started with the ``spawn`` context,
so it is importable as a top-level module (the ``conftest`` puts its directory on ``sys.path``)
and everything a child needs arrives as plain, picklable arguments: the database URL and the key
material. Each child builds its own engine.

:class:`Pathway` is the one place that calls the trial use cases (register -> eligibility ->
consent -> allocate), so a change of their signatures is absorbed here.
:func:`check_invariants` reads the database afterwards and lists every violated invariant.
"""

from __future__ import annotations

import inspect
import os
import queue as queues
import threading
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from factories import AT, CONSENT_LANGUAGE, DEMO_ACCOUNTS, ELIGIBLE, STUDY
from pebs.services.actor import Actor, actor_for
from pebs.services.errors import ServiceError
from pebs.services.keys import IdentityKeys
from pebs.services.trial import (
    NewParticipant,
    allocate,
    assess_eligibility,
    record_consent,
    register_participant,
)
from pebs.store.audit import verify_chain
from pebs.store.engine import create_engine_for, session_factory
from pebs.store.models import (
    Allocation,
    AllocationList,
    AllocationSlot,
    AuditEvent,
    Participant,
    ParticipantIdentity,
    Site,
)

HMAC_KEY = b"c" * 32
ACTOR = DEMO_ACCOUNTS["data_manager"]
"""Who runs every use case, at :data:`factories.AT` (``AT``)."""
BORN = {"40-49": date(1980, 6, 1), "50-59": date(1970, 6, 1), "60-70": date(1960, 6, 1)}
"""A birth date in each age band on ``AT``."""


def keys_from(fernet_key: str) -> IdentityKeys:
    return IdentityKeys.from_settings_values([fernet_key], HMAC_KEY)


@dataclass(frozen=True)
class Job:
    """One woman to enrol: site, age band, national ID (unique unless a test wants a clash)."""

    site: str
    band: str
    national_id: str


def jobs(sites: Sequence[str], bands: Sequence[str], n: int, prefix: str) -> list[Job]:
    """``n`` women spread round-robin over sites x bands (so every stratum is contended)."""
    cells = [(site, band) for site in sites for band in bands]
    return [Job(*cells[i % len(cells)], f"{prefix}{i:06d}") for i in range(n)]


@dataclass
class Outcome:
    """What a worker saw for one woman: her study ID, arm, ``created``, or the error's class."""

    job: Job | None
    study_id: str | None = None
    arm: str | None = None
    created: bool | None = None
    error: str | None = None
    message: str | None = None


class Pathway:
    """The use cases of one worker (thread or process), on one sessionmaker."""

    def __init__(self, sessions: sessionmaker[Session], keys: IdentityKeys, actor: Actor) -> None:
        self.sessions = sessions
        self.keys = keys
        self.actor = actor

    def register(self, job: Job) -> str:
        new = NewParticipant(
            site=job.site,
            name=f"Woman {job.national_id}",
            birth_date=BORN[job.band],
            national_id=job.national_id,
        )
        return register_participant(
            self.sessions, self.actor, self.keys, STUDY, new, at=AT
        ).study_id

    def consent(self, study_id: str) -> None:
        assess_eligibility(self.sessions, self.actor, self.keys, study_id, ELIGIBLE, at=AT)
        record_consent(
            self.sessions, self.actor, study_id, language=CONSENT_LANGUAGE[study_id[:2]], at=AT
        )

    def allocate(self, study_id: str) -> Outcome:
        done = allocate(self.sessions, self.actor, self.keys, study_id, at=AT)
        return Outcome(None, study_id, done.arm, done.created)

    def enrol(self, job: Job) -> Outcome:
        """Register, assess, consent and allocate her; an error is recorded, never raised."""
        study_id = None
        try:
            study_id = self.register(job)
            self.consent(study_id)
            outcome = self.allocate(study_id)
            outcome.job = job
            return outcome
        except ServiceError as error:
            return Outcome(job, study_id, error=type(error).__name__, message=str(error))

    def try_allocate(self, study_id: str) -> Outcome:
        try:
            return self.allocate(study_id)
        except ServiceError as error:
            return Outcome(None, study_id, error=type(error).__name__, message=str(error))


def open_pathway(url: str, fernet_key: str, actor: str = ACTOR):
    """(engine, :class:`Pathway`) on ``url``; dispose the engine when done."""
    engine = create_engine_for(url)
    sessions = session_factory(engine)
    return engine, Pathway(sessions, keys_from(fernet_key), actor_for(sessions, actor))


def run_threads(n_threads: int, tasks: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run ``tasks`` on ``n_threads`` threads released together; results in task order.

    An exception other than a service error is returned as its traceback text (the caller
    asserts there is none)."""
    results: list[Any] = [None] * len(tasks)
    start = threading.Barrier(n_threads)
    lock = threading.Lock()
    queue = list(range(len(tasks)))

    def worker() -> None:
        start.wait()
        while True:
            with lock:
                if not queue:
                    return
                index = queue.pop(0)
            try:
                results[index] = tasks[index]()
            except Exception:
                results[index] = traceback.format_exc()

    threads = [threading.Thread(target=worker) for _ in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


# --- child processes (spawn) -----------------------------------------------------------------


def receive(queue: Any, processes: Sequence[Any], timeout: float = 120.0) -> Any:
    """The next message on ``queue``; fails at once if one of ``processes`` died instead."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return queue.get(timeout=0.25)
        except queues.Empty:
            dead = [p for p in processes if p.exitcode not in (None, 0)]
            if dead:
                raise AssertionError(
                    f"child {dead[0].pid} exited with code {dead[0].exitcode} before reporting"
                ) from None
            if time.monotonic() > deadline:
                raise TimeoutError(f"no message from the children in {timeout:.0f} s") from None


def process_worker(
    url: str,
    fernet_key: str,
    n_threads: int,
    shared: list[str],
    own: list[Job],
    ready: Any,
    go: Any,
    results: Any,
) -> None:
    """A spawned process: its own engine and ``n_threads`` threads.

    Phase 1 allocates every woman in ``shared`` (every process tries all of them at once:
    idempotency across processes); phase 2 enrols its ``own`` women. Puts one
    ``(pid, phase1, phase2, crash)`` tuple on ``results``.
    """
    engine = None
    try:
        engine, pathway = open_pathway(url, fernet_key)
        with pathway.sessions() as session:  # connect now, not inside the race
            session.execute(select(1))
        ready.put(os.getpid())
        if not go.wait(120):
            raise TimeoutError("the parent never said go")
        phase1 = run_threads(n_threads, [lambda s=s: pathway.try_allocate(s) for s in shared])
        phase2 = run_threads(n_threads, [lambda j=j: pathway.enrol(j) for j in own])
        results.put((os.getpid(), phase1, phase2, None))
    except BaseException:
        results.put((os.getpid(), [], [], traceback.format_exc()))
    finally:
        if engine is not None:
            engine.dispose()


def paused_worker(
    url: str, fernet_key: str, use_case: str, after_audit: bool, argument: Any, signals: Any
) -> None:
    """A spawned process that runs one use case and freezes inside its transaction.

    The use case's ``append_event`` (the name bound in the use case's own module) is replaced by
    one that first flushes the use case's writes (``after_audit``: also appends the real audit
    event), then tells the parent ``("paused", entity_id)`` and sleeps: the parent kills the
    process while its transaction is open. Nothing in the services is edited.
    """
    engine, pathway = open_pathway(url, fernet_key)
    use_cases: dict[str, Callable[..., Any]] = {
        "register": register_participant,
        "allocate": allocate,
    }
    function = use_cases[use_case]
    namespace = inspect.unwrap(function).__globals__  # the use case's module, not a wrapper's
    real = namespace.get("append_event")
    if real is None:
        signals.put(("error", f"{function.__module__} no longer binds append_event"))
        return

    def append_then_freeze(session: Session, **event: Any) -> Any:
        if after_audit:
            real(session, **event)
        session.flush()
        signals.put(("paused", event.get("entity_id")))
        time.sleep(600)
        raise AssertionError("the parent should have killed this process")

    namespace["append_event"] = append_then_freeze
    try:
        result = (
            pathway.register(argument) if use_case == "register" else pathway.allocate(argument)
        )
        signals.put(("finished", repr(result)))
    except BaseException:
        signals.put(("error", traceback.format_exc()))
    finally:
        engine.dispose()


# --- invariants ------------------------------------------------------------------------------


@dataclass
class Report:
    """What :func:`check_invariants` found; ``problems`` must be empty."""

    n_participants: int = 0
    n_allocations: int = 0
    n_events: int = 0
    used_by_stratum: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def check_invariants(sessions: sessionmaker[Session]) -> Report:
    """Every participant whole (identity + register event), allocated at most once with her own
    slot and event, slots used once and in list order per stratum, site sequences consistent,
    audit chain intact."""
    report = Report()
    problems = report.problems
    with sessions() as session:
        participants = session.execute(
            select(
                Participant.id,
                Participant.study_id,
                Participant.status,
                Participant.stratum,
                Participant.site_id,
                Participant.strata_locked_at,
            )
        ).all()
        report.n_participants = len(participants)
        identities = set(session.scalars(select(ParticipantIdentity.participant_id)))
        events = Counter(session.execute(select(AuditEvent.action, AuditEvent.entity_id)).all())
        report.n_events = sum(events.values())
        allocations = session.execute(
            select(
                Allocation.id,
                Allocation.participant_id,
                Allocation.allocation_slot_id,
                Allocation.arm,
                Allocation.method,
            )
        ).all()
        report.n_allocations = len(allocations)
        slots = session.execute(
            select(
                AllocationSlot.id,
                AllocationSlot.stratum,
                AllocationSlot.position,
                AllocationSlot.arm,
                AllocationSlot.used_by_participant_id,
                AllocationSlot.unusable_reason,
                AllocationList.version,
                AllocationList.is_test,
            )
            .join(AllocationList, AllocationSlot.allocation_list_id == AllocationList.id)
            .order_by(
                AllocationList.is_test,
                AllocationSlot.stratum,
                AllocationList.version,
                AllocationSlot.position,
            )
        ).all()
        sequences = dict(session.execute(select(Site.id, Site.last_sequence)).all())
        chain = verify_chain(session)

    if not chain.ok:
        problems.append(f"audit chain broken at event {chain.first_broken_id}: {chain.reason}")
    by_id = {p.id: p for p in participants}
    per_site: dict[int, list[int]] = defaultdict(list)
    for p in participants:
        per_site[p.site_id].append(int(p.study_id.rsplit("-", 1)[1]))
        if p.id not in identities:
            problems.append(f"{p.study_id} has no identity record")
        if events[("register", p.study_id)] != 1:
            problems.append(f"{p.study_id} has {events[('register', p.study_id)]} register events")
    for site_id, numbers in per_site.items():
        if len(set(numbers)) != len(numbers):
            problems.append(f"site {site_id}: a sequence number is used twice")
        if max(numbers) > sequences[site_id]:
            problems.append(f"site {site_id}: sequence {max(numbers)} above the site counter")
    if len(identities - set(by_id)) > 0:
        problems.append("identity records without a participant")

    slot_by_id = {s.id: s for s in slots}
    allocated_participants = Counter(a.participant_id for a in allocations)
    for participant_id, n in allocated_participants.items():
        if n > 1:
            problems.append(f"participant {by_id[participant_id].study_id} has {n} allocations")
    used_slots = Counter(a.allocation_slot_id for a in allocations if a.allocation_slot_id)
    for slot_id, n in used_slots.items():
        if n > 1:
            problems.append(f"slot {slot_id} is used by {n} allocations")
    for a in allocations:
        p = by_id[a.participant_id]
        if events[("allocate", str(a.id))] != 1:
            problems.append(f"allocation of {p.study_id} has no single audit event")
        if not p.status.startswith("randomised_") or p.strata_locked_at is None:
            problems.append(f"{p.study_id} is allocated but {p.status!r}, strata unlocked")
        if a.method != "list":
            continue
        slot = slot_by_id[a.allocation_slot_id]
        if slot.used_by_participant_id != a.participant_id:
            problems.append(f"slot {slot.id} does not name {p.study_id} as its user")
        if slot.arm != a.arm or slot.stratum != p.stratum:
            problems.append(f"{p.study_id}: arm/stratum differ from her slot {slot.id}")
    allocated = set(allocated_participants)
    for p in participants:
        if p.status.startswith("randomised_") and p.id not in allocated:
            problems.append(f"{p.study_id} is {p.status!r} without an allocation")
    slot_users = Counter(s.used_by_participant_id for s in slots if s.used_by_participant_id)
    for participant_id, n in slot_users.items():
        if n > 1:
            problems.append(f"participant {participant_id} marked as user of {n} slots")
        if participant_id not in allocated:
            problems.append(
                f"a slot is marked used by participant {participant_id} without an allocation"
            )

    # List order: within a stratum (test lists apart), in (version, position) order, the used
    # slots form a prefix of the usable ones: used positions 1..k, no gap.
    strata: dict[tuple[bool, str], list[Any]] = defaultdict(list)
    for s in slots:
        strata[(s.is_test, s.stratum)].append(s)
    for (is_test, stratum), ordered in strata.items():
        usable = [s for s in ordered if s.unusable_reason is None]
        used = [s.used_by_participant_id is not None for s in usable]
        k = sum(used)
        if used != [True] * k + [False] * (len(used) - k):
            gaps = [s.position for s, u in zip(usable, used, strict=True) if not u][:5]
            problems.append(
                f"stratum {stratum}: {k} used slots are not the first {k} "
                f"(unused before a used one at positions {gaps})"
            )
        if k:
            report.used_by_stratum[("test:" if is_test else "") + stratum] = k
    return report


def count_rows(sessions: sessionmaker[Session], models: Iterable[Any]) -> dict[str, int]:
    with sessions() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in models
        }
