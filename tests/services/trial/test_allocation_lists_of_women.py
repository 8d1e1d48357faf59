"""Randomisation of a list of women (``allocate_in``): the same slots, rows and audit events as
the women allocated one after the other, a refused woman leaves no trace, and the number of
statements does not grow with the list (besides each woman's audit event and kit)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url

from factories import DEMO_ACCOUNTS, STUDY
from pebs.services.actor import Actor, actor_for
from pebs.services.errors import (
    AllocationRefused,
    NotFound,
    PermissionDenied,
    ServiceError,
    StratumExhausted,
)
from pebs.services.trial import allocate, load_study_config
from pebs.services.trial.allocation import Allocated, AllocationRequest, allocate_in
from pebs.store.engine import create_engine_for, session_factory
from pebs.store.models import (
    Allocation,
    AllocationList,
    AllocationSlot,
    AuditEvent,
    Participant,
    Sample,
)
from pebs.trial import generate_list, load_study

IT, FR = "IT-TO:50-59", "FR-PA:50-59"


@pytest.fixture
def twin(trial, backend: str, request: pytest.FixtureRequest, tmp_path) -> Iterator[Any]:
    """A second fresh database with the demo study loaded, on the same backend as ``trial``."""
    schema = None
    if backend == "sqlite":
        path = tmp_path / "twin.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        admin = request.getfixturevalue("postgres_admin")
        schema = f"pebs_twin_{uuid.uuid4().hex[:16]}"
        script = request.getfixturevalue("_postgres_migration_sql").replace(
            "BEGIN;", f'BEGIN;\nCREATE SCHEMA "{schema}";\nSET LOCAL search_path TO "{schema}";', 1
        )
        with admin.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(script)
        url = make_url(str(admin.url.render_as_string(hide_password=False)))
        url = url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    engine = create_engine_for(url)
    try:
        sessions = session_factory(engine)
        load_study_config(sessions, Actor.system("test"), STUDY, demo_users=True)
        actors = {name: actor_for(sessions, DEMO_ACCOUNTS[role])
                  for name, role in (("staff", "site_staff"), ("data_manager", "data_manager"),
                                     ("statistician", "statistician"))}  # fmt: skip
        yield type(trial)(sessions, trial.keys, actors, type(trial.db)(sessions))
    finally:
        engine.dispose()
        if schema is not None:
            with request.getfixturevalue("postgres_admin").begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def _women(trial) -> list[AllocationRequest]:
    """Consented women of two strata, one not consented, one not found, one asked for twice."""
    trial.lists([IT, FR], slots=8, seed=11)
    it = [trial.consented() for _ in range(4)]
    fr = [trial.consented("FR-PA") for _ in range(2)]
    registered = trial.register()
    order = [it[0], fr[0], it[1], registered, it[2], "IT-TO-NOBODY", fr[0], fr[1], it[3]]
    return [AllocationRequest(study_id, at=trial.AT + timedelta(minutes=i))
            for i, study_id in enumerate(order)]  # fmt: skip


def _one_by_one(trial, requests) -> list[Allocated | ServiceError]:
    outcomes: list[Allocated | ServiceError] = []
    for request in requests:
        try:
            outcomes.append(allocate(trial.sessions, _manager(trial), trial.keys, request.study_id,
                                     on_date=request.on_date, at=request.at))  # fmt: skip
        except ServiceError as refusal:
            outcomes.append(refusal)
    return outcomes


def _as_a_list(trial, requests) -> list[Allocated | ServiceError]:
    with trial.sessions.begin() as session:
        return allocate_in(session, _manager(trial), trial.keys, requests)


def _manager(trial) -> Actor:
    """The data manager (every site: both strata's women are in her scope)."""
    return trial.actor("data_manager")


def _outcome(outcome: Allocated | ServiceError) -> tuple:
    if isinstance(outcome, ServiceError):
        return (type(outcome).__name__, str(outcome))
    return (outcome.study_id, outcome.arm, outcome.method, outcome.stratum, outcome.allocated_at,
            outcome.created, outcome.kit_id is not None)  # fmt: skip


def _stored(trial, since: int) -> dict[str, list]:
    """What allocation stores, without row ids, kit IDs and ciphertexts."""
    with trial.sessions() as session:
        allocations = session.execute(
            select(Participant.study_id, Allocation.arm, Allocation.method,
                   Allocation.allocated_at, AllocationSlot.stratum, AllocationSlot.position,
                   AllocationSlot.used_at, AllocationList.version)
            .join(Allocation, Allocation.participant_id == Participant.id)
            .join(AllocationSlot, AllocationSlot.id == Allocation.allocation_slot_id)
            .join(AllocationList, AllocationList.id == AllocationSlot.allocation_list_id)
            .where(AllocationSlot.used_by_participant_id == Participant.id)
            .order_by(Participant.study_id)
        ).all()  # fmt: skip
        women = session.execute(
            select(Participant.study_id, Participant.status, Participant.age_band,
                   Participant.stratum, Participant.strata, Participant.strata_locked_at)
            .order_by(Participant.study_id)
        ).all()  # fmt: skip
        kits = session.execute(
            select(Participant.study_id, Sample.state, Sample.assigned_at)
            .join(Sample, Sample.participant_id == Participant.id)
            .order_by(Participant.study_id)
        ).all()  # fmt: skip
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.id > since).order_by(AuditEvent.id)
        ).all()
        audit = [(e.actor, e.action, e.entity, e.reason, e.at, e.old, _without_ids(e.new))
                 for e in events]  # fmt: skip
    return {"allocations": [tuple(r) for r in allocations], "women": [tuple(r) for r in women],
            "kits": [tuple(r) for r in kits], "audit": audit}  # fmt: skip


def _without_ids(new: dict | None) -> dict | None:
    if new is None:
        return None
    return {key: value for key, value in new.items()
            if key not in ("kit_id", "allocation_slot_id")}  # fmt: skip


def _last_event_id(trial) -> int:
    with trial.sessions() as session:
        return session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0


def _arms(stratum: str, n: int) -> list[str]:
    """The first ``n`` arms of ``stratum`` in the list of seed 11, generated anew."""
    design = load_study(STUDY).design
    return list(generate_list({IT: 8, FR: 8}, 11, design).stratum(stratum).arms[:n])


def test_a_list_gives_what_the_women_one_after_the_other_give(trial, twin) -> None:
    requests = _women(trial)
    assert _women(twin) == requests  # the same study IDs on both databases
    since = _last_event_id(trial), _last_event_id(twin)
    listed = _as_a_list(trial, requests)
    single = _one_by_one(twin, requests)
    assert [_outcome(o) for o in listed] == [_outcome(o) for o in single]
    assert _stored(trial, since[0]) == _stored(twin, since[1])
    assert trial.db.chain_ok()

    # against the list generated anew: each stratum's slots in order, the repeat unchanged
    arms = {o.study_id: o.arm for o in listed if isinstance(o, Allocated)}
    order = [r.study_id for r in requests]
    assert [arms[order[i]] for i in (0, 2, 4, 8)] == _arms(IT, 4)
    assert [arms[order[i]] for i in (1, 7)] == _arms(FR, 2)
    assert isinstance(listed[3], AllocationRefused)
    assert isinstance(listed[5], NotFound)
    assert listed[1].created is True
    assert listed[6].created is False
    assert listed[6].allocated_at == listed[1].allocated_at == requests[1].at
    assert all((o.kit_id is not None) == (o.arm == "risk-based")
               for o in listed if isinstance(o, Allocated))  # fmt: skip


def test_a_refused_woman_in_the_middle_leaves_no_trace_and_the_others_are_allocated(
    trial,
) -> None:
    trial.lists([IT], slots=4, seed=3)
    first, second = trial.consented(), trial.consented()
    refused = trial.register()
    before = _last_event_id(trial)
    outcomes = _as_a_list(trial, [AllocationRequest(first, at=trial.AT),
                                  AllocationRequest(refused, at=trial.AT),
                                  AllocationRequest(second, at=trial.AT)])  # fmt: skip
    assert isinstance(outcomes[1], AllocationRefused)
    assert outcomes[1].reasons == (
        "pathway state is 'registered'; randomisation needs 'consented'",
        "not eligible under the protocol in force",
        "no consent is recorded",
    )
    stored = _stored(trial, before)
    assert [(row[0], row[5]) for row in stored["allocations"]] == [(first, 1), (second, 2)]
    assert dict((row[0], row[1]) for row in stored["women"])[refused] == "registered"
    assert all(refused not in repr(entry) for entry in stored["audit"])
    assert [entry[1] for entry in stored["audit"] if entry[1] == "allocate"] == ["allocate"] * 2


def test_women_beyond_the_last_slot_are_refused_each(trial) -> None:
    generated = trial.lists([IT], slots=2, seed=3)
    slots = generated.n_slots  # the list's slots for its one stratum
    women = [trial.consented() for _ in range(slots + 2)]
    outcomes = _as_a_list(trial, [AllocationRequest(w, at=trial.AT) for w in women])
    assert all(isinstance(o, Allocated) for o in outcomes[:slots])
    assert all(isinstance(o, StratumExhausted) for o in outcomes[slots:])
    with trial.sessions() as session:
        used = session.scalars(select(AllocationSlot.used_by_participant_id).where(
            AllocationSlot.used_by_participant_id.is_not(None))).all()  # fmt: skip
    assert len(used) == slots


def test_the_permission_is_checked_once_for_the_whole_list(trial) -> None:
    trial.lists([IT], slots=4, seed=3)
    woman = trial.consented()
    with pytest.raises(PermissionDenied), trial.sessions.begin() as session:
        allocate_in(session, trial.actor("monitor"), trial.keys, [AllocationRequest(woman)])


def test_an_unstorable_study_id_is_refused_for_its_woman_only(trial) -> None:
    trial.lists([IT], slots=4, seed=3)
    woman = trial.consented()
    outcomes = _as_a_list(trial, [AllocationRequest("IT-TO-\x00", at=trial.AT),
                                  AllocationRequest(woman, at=trial.AT)])  # fmt: skip
    assert "study_id" in outcomes[0].fields  # type: ignore[union-attr]
    assert isinstance(outcomes[1], Allocated)


def test_lists_randomised_at_the_same_time_take_each_slot_once_in_order(trial) -> None:
    trial.lists([IT, FR], slots=24, seed=5)
    it = [trial.consented() for _ in range(12)]
    fr = [trial.consented("FR-PA") for _ in range(8)]
    one = it[0::2] + fr[0::2]  # the strata in opposite orders: the locks must not deadlock
    other = fr[1::2] + it[1::2]
    with ThreadPoolExecutor(2) as pool:
        lists = list(pool.map(lambda women: _as_a_list(trial, [
            AllocationRequest(w, at=trial.AT) for w in women
        ]), [one, other]))  # fmt: skip
    assert all(isinstance(o, Allocated) for outcomes in lists for o in outcomes)
    with trial.sessions() as session:
        used = session.execute(
            select(AllocationSlot.stratum, AllocationSlot.position)
            .where(AllocationSlot.used_by_participant_id.is_not(None))
            .order_by(AllocationSlot.stratum, AllocationSlot.position)
        ).all()
    assert used == [(FR, p) for p in range(1, 9)] + [(IT, p) for p in range(1, 13)]


def _statements(trial, n: int) -> tuple[int, int]:
    """(statements other than audit event inserts, audit event inserts) for a list of ``n``
    consented women of one stratum."""
    women = [trial.consented() for _ in range(n)]
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    with trial.sessions() as session:
        engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", note)
    try:
        outcomes = _as_a_list(trial, [AllocationRequest(w, at=trial.AT) for w in women])
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert all(isinstance(o, Allocated) for o in outcomes)
    events = [s for s in seen if s.startswith("INSERT INTO audit_events")]
    return len(seen) - len(events), len(events)


def test_the_statements_of_a_list_do_not_grow_with_its_length(trial) -> None:
    trial.lists([IT], slots=64, seed=3)
    fixed_10, events_10 = _statements(trial, 10)
    fixed_50, events_50 = _statements(trial, 50)
    assert fixed_50 <= fixed_10 <= 15  # the first list also reads the chain's head; the locks
    assert events_50 - events_10 <= 40 * 2  # her allocation's event, and her kit's
