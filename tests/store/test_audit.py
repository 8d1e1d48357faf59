"""The audit chain: hash definition, verification, tampering, and appends under concurrency."""

from __future__ import annotations

import hashlib
import itertools
import json
import multiprocessing
import threading
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from pebs.store.audit import (
    GENESIS_HASH,
    ChainHead,
    append_event,
    audit_batch,
    canonical_json,
    chain_head,
    event_hash,
    verify_chain,
)
from pebs.store.engine import create_engine_for, session_factory
from pebs.store.models import AuditEvent

AT = datetime(2025, 3, 1, 9, 30, 0, 250000, tzinfo=UTC)


# --- the definition ---------------------------------------------------------------------------


def test_canonical_json_is_sorted_compact_and_typed() -> None:
    value = {
        "z": 1,
        "a": {"y": [1.5, None, True], "b": "é"},
        "when": datetime(2025, 3, 1, 10, 30, tzinfo=timezone(timedelta(hours=1))),
        "day": date(2025, 3, 1),
        "amount": Decimal("0.10"),
    }
    assert canonical_json(value) == (
        '{"a":{"b":"é","y":[1.5,null,true]},"amount":"0.10","day":"2025-03-01",'
        '"when":"2025-03-01T09:30:00.000000Z","z":1}'
    )


@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                 timezones=st.timezones()),
)  # fmt: skip
def test_canonical_instants_are_the_utc_strftime_text(when: datetime) -> None:
    # The definition (docs/trial/audit.md): UTC, microseconds, "Z"; strftime writes it too.
    expected = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert canonical_json({"at": when}) == f'{{"at":"{expected}"}}'


@pytest.mark.parametrize(
    "bad",
    [float("nan"), float("inf"), datetime(2025, 1, 1), object(), b"bytes"],
    ids=["nan", "inf", "naive datetime", "object", "bytes"],
)
def test_canonical_json_refuses_ambiguous_values(bad: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        canonical_json({"x": bad})


def test_first_event_hash_follows_the_documented_definition(
    session_maker: sessionmaker[Session],
) -> None:
    with session_maker.begin() as session:
        head = append_event(
            session,
            actor="dm",
            action="create",
            entity="participant",
            entity_id=7,
            reason="registration",
            new={"site": "FR-GR", "age": 52},
            at=AT,
        )
    # Written out by hand from docs/trial/audit.md, not produced by pebs:
    document = (
        '{"action":"create","actor":"dm","at":"2025-03-01T09:30:00.250000Z",'
        '"entity":"participant","entity_id":"7","id":1,"new":{"age":52,"site":"FR-GR"},'
        '"old":null,"reason":"registration"}'
    )
    expected = hashlib.sha256(("0" * 64 + document).encode("utf-8")).hexdigest()
    assert (head.id, head.hash, head.at) == (1, expected, AT)
    with session_maker() as session:
        stored = session.get(AuditEvent, 1)
        assert (stored.prev_hash, stored.hash, stored.at) == (GENESIS_HASH, expected, AT)
        assert stored.new == {"age": 52, "site": "FR-GR"}
        assert stored.old is None
        assert session.execute(text("SELECT old FROM audit_events")).scalar_one() is None
    assert event_hash(GENESIS_HASH, json.loads(document)) == expected


_TEXTS = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12)
"""Storable texts (pebs refuses NUL and lone surrogates before anything reaches the chain)."""
_LEAVES = (
    _TEXTS | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.booleans() | st.none() | st.dates()
    | st.datetimes(min_value=datetime(1000, 1, 2), timezones=st.just(UTC))
)  # fmt: skip


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(inner, max_size=3), st.tuples(inner, inner),
        st.dictionaries(_TEXTS, inner, max_size=3),
        st.dictionaries(st.integers(), inner, max_size=3),  # number keys: sorted once as text
    )  # fmt: skip


_VALUES = st.recursive(_LEAVES, _containers, max_leaves=10)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    old=st.none() | st.dictionaries(_TEXTS, _VALUES, max_size=4),
    new=st.none() | st.dictionaries(_TEXTS, _VALUES, max_size=4),
    reason=st.none() | _TEXTS,
    actor=_TEXTS.filter(bool),
    entity_id=st.none() | st.integers(0, 10**9) | _TEXTS,
)
def test_every_appended_event_hashes_its_stored_document(
    session_maker: sessionmaker[Session], old: Any, new: Any, reason: Any, actor: str,
    entity_id: Any,
) -> None:  # fmt: skip
    with session_maker.begin() as session:
        head = append_event(session, actor=actor, action="update", entity="visit",
                            entity_id=entity_id, reason=reason, old=old, new=new,
                            at=AT)  # fmt: skip
    with session_maker() as session:
        stored = session.get(AuditEvent, head.id)
        document = {"id": stored.id, "at": stored.at, "actor": stored.actor,
                    "action": stored.action, "entity": stored.entity,
                    "entity_id": stored.entity_id, "reason": stored.reason, "old": stored.old,
                    "new": stored.new}  # fmt: skip
        assert stored.hash == head.hash == event_hash(stored.prev_hash, document)
        assert (stored.actor, stored.reason) == (actor, reason)
        assert verify_chain(session).ok


# --- appending and verifying ------------------------------------------------------------------


def _append_many(session_maker: sessionmaker[Session], n: int, actor: str = "dm") -> None:
    for i in range(n):
        with session_maker.begin() as session:
            append_event(
                session,
                actor=actor,
                action="update",
                entity="visit",
                entity_id=i,
                old={"birads": i % 7},
                new={"birads": (i + 1) % 7, "on": date(2025, 1, 1)},
                reason=None if i % 2 else "correction",
            )


def test_appended_chain_verifies(session_maker: sessionmaker[Session]) -> None:
    with session_maker() as session:
        assert chain_head(session) == ChainHead(0, GENESIS_HASH)
        assert verify_chain(session).ok
    _append_many(session_maker, 25)
    with session_maker() as session:
        result = verify_chain(session, batch_size=7)
        assert (result.ok, result.n_events, result.first_broken_id) == (True, 25, None)
        head = chain_head(session)
        last = session.get(AuditEvent, 25)
        assert last is not None
        assert head == ChainHead(25, last.hash)
        assert head.at == last.at
        assert ChainHead.parse(head.export_line()) == head
        assert verify_chain(session, expected_head=head).ok
        assert last.new == {"birads": 4, "on": "2025-01-01"}  # stored as hashed


def test_rolled_back_append_leaves_no_gap(session_maker: sessionmaker[Session]) -> None:
    _append_many(session_maker, 2)
    with session_maker() as session:
        append_event(session, actor="dm", action="create", entity="visit", entity_id=1)
        session.rollback()
    _append_many(session_maker, 1)
    with session_maker() as session:
        assert session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all() == [1, 2, 3]
        assert verify_chain(session).ok


def test_several_appends_in_one_transaction(session_maker: sessionmaker[Session]) -> None:
    with session_maker.begin() as session:
        for i in range(3):
            append_event(session, actor="dm", action="create", entity="visit", entity_id=i)
    with session_maker() as session:
        assert verify_chain(session) == verify_chain(session)
        assert verify_chain(session).n_events == 3


def test_an_append_after_a_rolled_back_savepoint_links_to_what_is_kept(
    session_maker: sessionmaker[Session],
) -> None:
    with session_maker.begin() as session:
        kept = append_event(session, actor="dm", action="create", entity="visit", entity_id=1)
        with pytest.raises(ZeroDivisionError), session.begin_nested():  # noqa: PT012
            append_event(session, actor="dm", action="create", entity="visit", entity_id=2)
            raise ZeroDivisionError
        after = append_event(session, actor="dm", action="create", entity="visit", entity_id=3)
    assert after.id == kept.id + 1
    with session_maker() as session:
        assert session.get(AuditEvent, after.id).prev_hash == kept.hash
        assert verify_chain(session).ok


def _events(session_maker: sessionmaker[Session]) -> list[tuple[Any, ...]]:
    with session_maker() as session:
        rows = session.execute(
            select(AuditEvent.id, AuditEvent.prev_hash, AuditEvent.hash, AuditEvent.new)
            .order_by(AuditEvent.id)
        ).all()  # fmt: skip
    return [tuple(row) for row in rows]


def _append_visits(session: Session, ids: range) -> None:
    for i in ids:
        append_event(session, actor="dm", action="create", entity="visit", entity_id=i,
                     new={"birads": i % 7, "on": date(2025, 1, 1)}, at=AT)  # fmt: skip


def test_a_batch_stores_the_chain_appends_one_by_one_would(
    session_maker: sessionmaker[Session],
) -> None:
    with session_maker.begin() as session:
        _append_visits(session, range(2))
    with session_maker.begin() as session, audit_batch(session):
        _append_visits(session, range(2, 17))  # enough for PostgreSQL's COPY (bulk_insert)
        with audit_batch(session):  # nested: one batch
            _append_visits(session, range(17, 19))
        # nothing inserted before the batch ends
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 2
    with session_maker.begin() as session:
        _append_visits(session, range(19, 20))
    events = _events(session_maker)
    assert [e[0] for e in events] == list(range(1, 21))  # in append order, no gap
    assert [e[3]["birads"] for e in events] == [i % 7 for i in range(20)]
    assert all(e[1] == before[2] for before, e in itertools.pairwise(events))
    with session_maker() as session:  # every hash recomputed from the stored event
        assert verify_chain(session).ok


def test_a_failed_batch_inserts_nothing_and_the_next_append_links_to_the_stored_head(
    session_maker: sessionmaker[Session],
) -> None:
    with session_maker.begin() as session:
        _append_visits(session, range(2))
        with pytest.raises(ZeroDivisionError), audit_batch(session):  # noqa: PT012
            _append_visits(session, range(2, 5))
            raise ZeroDivisionError
        _append_visits(session, range(5, 6))  # the caller went on without rolling back
    events = _events(session_maker)
    assert [e[0] for e in events] == [1, 2, 3]
    assert events[2][1] == events[1][2]
    with session_maker() as session:
        assert verify_chain(session).ok


def test_a_rollback_inside_a_batch_is_refused(session_maker: sessionmaker[Session]) -> None:
    with session_maker.begin() as session:
        _append_visits(session, range(1))
        batch = audit_batch(session)
        with pytest.raises(RuntimeError, match="rollback inside the batch"), batch:  # noqa: PT012
            _append_visits(session, range(1, 3))
            with pytest.raises(ZeroDivisionError), session.begin_nested():  # noqa: PT012
                _append_visits(session, range(3, 4))
                raise ZeroDivisionError
    assert [e[0] for e in _events(session_maker)] == [1]


def test_a_new_transaction_reads_the_head_others_moved(
    session_maker: sessionmaker[Session],
) -> None:
    with session_maker() as mine, session_maker() as theirs:
        with mine.begin():
            append_event(mine, actor="dm", action="create", entity="visit", entity_id=1)
        with theirs.begin():
            append_event(theirs, actor="dm", action="create", entity="visit", entity_id=2)
        with mine.begin():
            third = append_event(mine, actor="dm", action="create", entity="visit", entity_id=3)
    assert third.id == 3
    with session_maker() as session:
        assert verify_chain(session).ok


def test_read_only_session_cannot_append(engine: Engine) -> None:
    with session_factory(engine, read_only=True)() as session, pytest.raises(RuntimeError):
        append_event(session, actor="dm", action="x", entity="y")


def test_naive_time_is_refused(session_maker: sessionmaker[Session]) -> None:
    with session_maker() as session, pytest.raises(ValueError, match="naive"):
        append_event(session, actor="dm", action="x", entity="y", at=datetime(2025, 1, 1))


# --- tampering --------------------------------------------------------------------------------


def _as_attacker(engine: Engine, *statements: tuple[str, dict[str, Any]]) -> None:
    """Run SQL as someone with database access who first removes the append-only guards."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            for trigger in ("no_update", "no_delete", "linked"):
                connection.execute(text(f"DROP TRIGGER audit_events_{trigger}"))
        for statement, parameters in statements:
            connection.execute(text(statement), parameters)


N = 12


@pytest.fixture
def chain(session_maker: sessionmaker[Session], engine: Engine) -> ChainHead:
    _append_many(session_maker, N)
    with session_maker() as session:
        return chain_head(session)


def _verify(session_maker: sessionmaker[Session], head: ChainHead | None = None) -> Any:
    with session_maker() as session:
        return verify_chain(session, expected_head=head)


def _hash_of(session_maker: sessionmaker[Session], event_id: int) -> str:
    with session_maker() as session:
        return session.scalars(select(AuditEvent.hash).where(AuditEvent.id == event_id)).one()


def test_edited_values_are_detected(
    chain: ChainHead, engine: Engine, session_maker: sessionmaker[Session]
) -> None:
    _as_attacker(engine, ("UPDATE audit_events SET new = :v WHERE id = 5", {"v": '{"birads":1}'}))
    result = _verify(session_maker)
    assert (result.ok, result.first_broken_id, result.n_events) == (False, 5, N)
    assert "altered" in result.reason


def test_edited_actor_is_detected(
    chain: ChainHead, engine: Engine, session_maker: sessionmaker[Session]
) -> None:
    _as_attacker(engine, ("UPDATE audit_events SET actor = 'someone' WHERE id = 1", {}))
    assert _verify(session_maker).first_broken_id == 1


def test_deleted_event_is_detected(
    chain: ChainHead, engine: Engine, session_maker: sessionmaker[Session]
) -> None:
    _as_attacker(engine, ("DELETE FROM audit_events WHERE id = 7", {}))
    result = _verify(session_maker)
    assert (result.ok, result.first_broken_id, result.n_events) == (False, 8, N - 1)
    assert "event 7 is missing" in result.reason


def test_deleted_first_event_is_detected(
    chain: ChainHead, engine: Engine, session_maker: sessionmaker[Session]
) -> None:
    _as_attacker(engine, ("DELETE FROM audit_events WHERE id = 1", {}))
    assert _verify(session_maker).first_broken_id == 2


def test_forged_event_appended_is_detected(
    chain: ChainHead, engine: Engine, session_maker: sessionmaker[Session]
) -> None:
    forged = (
        "INSERT INTO audit_events (id, at, actor, action, entity, prev_hash, hash) "
        "VALUES (:id, :at, 'dm', 'delete', 'participant', :prev, :hash)"
    )
    _as_attacker(engine, (forged, {"id": N + 1, "at": AT, "prev": "e" * 64, "hash": "f" * 64}))
    result = _verify(session_maker)
    assert (result.ok, result.first_broken_id) == (False, N + 1)
    assert "prev_hash" in result.reason


def test_forged_replacement_with_a_valid_hash_breaks_the_next_link(
    chain: ChainHead, engine: Engine, session_maker: sessionmaker[Session]
) -> None:
    """Replace event 4 by a self-consistent forgery: event 5 no longer links to it."""
    prev = _hash_of(session_maker, 3)
    document = {
        "id": 4,
        "at": AT,
        "actor": "dm",
        "action": "update",
        "entity": "visit",
        "entity_id": "3",
        "reason": None,
        "old": None,
        "new": {"birads": 1},
    }
    forged = (
        "INSERT INTO audit_events (id, at, actor, action, entity, entity_id, new, prev_hash, "
        "hash) VALUES (4, :at, 'dm', 'update', 'visit', '3', :new, :prev, :hash)"
    )
    _as_attacker(
        engine,
        ("DELETE FROM audit_events WHERE id = 4", {}),
        (
            forged,
            {"at": AT, "new": '{"birads": 1}', "prev": prev, "hash": event_hash(prev, document)},
        ),
    )
    result = _verify(session_maker)
    assert (result.ok, result.first_broken_id) == (False, 5)
    assert "prev_hash does not match the hash of event 4" in result.reason


def test_rewritten_history_is_caught_by_the_exported_head(
    chain: ChainHead, engine: Engine, session_maker: sessionmaker[Session]
) -> None:
    """Rewriting the tail with recomputed hashes is consistent; only the exported head tells."""
    exported = ChainHead.parse(chain.export_line())
    _as_attacker(engine, ("DELETE FROM audit_events WHERE id >= 10", {}))
    with session_maker.begin() as session:  # history rewritten through the normal API
        for i in range(3):
            append_event(session, actor="dm", action="forged", entity="visit", entity_id=i)
    assert _verify(session_maker).ok
    result = _verify(session_maker, exported)
    assert (result.ok, result.first_broken_id) == (False, N)
    assert "exported head" in result.reason


def test_truncated_tail_is_caught_by_the_exported_head(
    chain: ChainHead, engine: Engine, session_maker: sessionmaker[Session]
) -> None:
    _as_attacker(engine, ("DELETE FROM audit_events WHERE id > 9", {}))
    assert _verify(session_maker).ok
    result = _verify(session_maker, chain)
    assert (result.ok, result.first_broken_id) == (False, 10)


def test_unreadable_json_is_reported_not_raised(
    chain: ChainHead, engine: Engine, session_maker: sessionmaker[Session]
) -> None:
    edit = ("UPDATE audit_events SET old = '{not json' WHERE id = 3", {})
    if engine.dialect.name == "postgresql":  # the json type refuses it: nothing to report
        with pytest.raises(DBAPIError, match="json"):
            _as_attacker(engine, edit)
        assert _verify(session_maker).ok
        return
    _as_attacker(engine, edit)
    result = _verify(session_maker)
    assert (result.ok, result.first_broken_id) == (False, 3)


# --- concurrency ------------------------------------------------------------------------------


def _check_single_chain(session_maker: sessionmaker[Session], n_expected: int) -> None:
    with session_maker() as session:
        result = verify_chain(session)
        rows = session.execute(select(AuditEvent.id, AuditEvent.prev_hash)).all()
    assert (result.ok, result.n_events) == (True, n_expected), result
    assert sorted(row.id for row in rows) == list(range(1, n_expected + 1))
    assert len({row.prev_hash for row in rows}) == n_expected  # no fork


def test_concurrent_appends_from_threads_keep_one_chain(
    session_maker: sessionmaker[Session],
) -> None:
    n_threads, n_each = 8, 15
    start = threading.Barrier(n_threads)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            start.wait()
            _append_many(session_maker, n_each, actor=f"worker-{worker}")
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    _check_single_chain(session_maker, n_threads * n_each)


def _process_worker(url: str, worker: int, n_each: int) -> None:
    engine = create_engine_for(url)
    try:
        _append_many(session_factory(engine), n_each, actor=f"process-{worker}")
    finally:
        engine.dispose()


def test_concurrent_appends_from_processes_keep_one_chain(
    url: str, session_maker: sessionmaker[Session]
) -> None:
    n_processes, n_each = 4, 15
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_process_worker, args=(url, w, n_each)) for w in range(n_processes)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0] * n_processes
    _check_single_chain(session_maker, n_processes * n_each)
