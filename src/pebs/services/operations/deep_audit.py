"""Deep verification: do the tables still say what the audit trail says they should?

The hash chain (:mod:`pebs.store.audit`) proves that the *events* were not altered; it says
nothing about the rows they describe. Someone with write access to the database (or to a
backup) can change an allocation's arm, delete a consent or insert a participant without
touching the chain. :func:`deep_verify` closes that gap, in one pass over the chain:

1. it verifies the chain, and replays every event into the *audited state* of each row
   (:data:`~._audited_tables.RULES`: which event sets which field);
2. it reads every audited table (:data:`~._audited_tables.TABLES`) and compares each row with
   its audited state: a field that differs, a row no event created, an audited row that is
   gone. Rows made in bulk by one event (allocation slots, expected visits) must hold their
   initial values until an event of their own changes them;
3. it cross-checks allocations against the allocation slots they took (same participant; a
   list allocation has its slot's arm; no slot used without its allocation) and each stored
   allocation list's content against the SHA-256 recorded when it was generated.

Reports name tables, row keys (ids and pseudonymous study IDs) and field names, never values:
no identifying data, and no arm (the report may be read by blinded staff). All reads happen in
one read-only transaction (``REPEATABLE READ`` on PostgreSQL), so a server writing meanwhile
cannot cause a false mismatch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, exists, select
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Actor
from pebs.services.errors import DatabaseNotReady, InvalidInput, ServiceError
from pebs.services.operations._audited_tables import RULES, TABLES, AuditedTable, Rule, Source
from pebs.services.operations._database_state import (
    backend_of,
    revision_of,
    safe_url,
    unreachable,
)
from pebs.services.trial.allocation_lists import verify_allocation_list
from pebs.store import migrate
from pebs.store.audit import GENESIS_HASH, ChainHead, canonical_json, verify_chain
from pebs.store.engine import READ_ONLY_OPTION, create_engine_for
from pebs.store.models import Allocation, AllocationList, AllocationSlot

__all__ = ["DeepReport", "Mismatch", "TableCheck", "deep_verify", "deep_verify_database"]

SLOT_CROSS_CHECK = "allocations ~ allocation_slots"
LIST_CONTENT_CHECK = "allocation_lists ~ allocation_slots"


@dataclass(frozen=True)
class Mismatch:
    """One row that does not match the audit trail: where, and which fields (never values)."""

    table: str
    row: str
    """``allocation 17``, ``participant FR-GR-000012``."""
    problem: str
    """``fields differ: arm``, ``no audit event``, ``audited, but the row is missing``..."""

    def __str__(self) -> str:
        return f"{self.row}: {self.problem}"


@dataclass(frozen=True)
class TableCheck:
    """The comparison of one table (or one cross-check)."""

    table: str
    n_rows: int
    """Rows compared (audited rows that are missing count too)."""
    n_mismatches: int
    n_unverified: int = 0
    """Fields with no audited value (events of a release that did not record them)."""


@dataclass(frozen=True)
class DeepReport:
    """The chain as verified, every table's comparison and the first mismatches of each."""

    chain_ok: bool
    n_events: int
    first_broken_id: int | None
    chain_reason: str | None
    tables: tuple[TableCheck, ...]
    mismatches: tuple[Mismatch, ...]
    """At most ``max_shown`` per table."""
    head_id: int = 0
    head_hash: str = GENESIS_HASH
    """The last stored event (``0`` and 64 zeros for an empty chain)."""

    @property
    def n_mismatches(self) -> int:
        return sum(table.n_mismatches for table in self.tables)

    @property
    def n_rows(self) -> int:
        return sum(table.n_rows for table in self.tables)

    @property
    def tables_ok(self) -> bool:
        return self.n_mismatches == 0

    @property
    def ok(self) -> bool:
        """The chain verifies and every table matches it."""
        return self.chain_ok and self.tables_ok

    @property
    def chain_summary(self) -> str:
        """``ok: N events; head id=K hash=...`` or ``BROKEN at event K: why; head ...``."""
        state = f"ok: {self.n_events:,} events"
        if not self.chain_ok:
            state = f"BROKEN at event {self.first_broken_id}: {self.chain_reason}"
        return f"{state}; head id={self.head_id} hash={self.head_hash[:16]}..."

    @property
    def summary(self) -> str:
        """``N rows in K tables match the audit trail`` or ``M mismatch(es) in ...``."""
        if self.tables_ok:
            return f"{self.n_rows:,} rows in {len(self.tables)} tables match the audit trail"
        bad = [f"{t.table} {t.n_mismatches:,}" for t in self.tables if t.n_mismatches]
        return f"{self.n_mismatches:,} mismatch(es) with the audit trail: {', '.join(bad)}"


def deep_verify_database(url: str, *, expected_head: str | None = None) -> DeepReport:
    """:func:`deep_verify` on the database at ``url``, in a read-only transaction.

    :class:`DatabaseNotReady` if it cannot be reached or is not at this release's revision;
    :class:`InvalidInput` for a malformed ``expected_head`` line.
    """
    try:
        head = None if expected_head is None else ChainHead.parse(expected_head)
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    backend = backend_of(url)
    engine = create_engine_for(url)
    try:
        with engine.connect() as raw:
            connection = read_only(raw, backend)
            with connection.begin():
                revision = revision_of(connection)
                if revision != migrate.head():
                    state = "is empty" if revision is None else f"is at revision {revision}"
                    raise DatabaseNotReady(
                        f"database {safe_url(url)} {state}, not {migrate.head()}: run "
                        "'pebs db upgrade'"
                    )
                return deep_verify(connection, expected_head=head)
    except OperationalError as error:
        raise unreachable(url, error) from None
    finally:
        engine.dispose()


def read_only(connection: Connection, backend: str) -> Connection:
    """``connection`` set for one consistent read-only transaction (a snapshot)."""
    if backend == "postgresql":
        return connection.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
    return connection.execution_options(**{READ_ONLY_OPTION: True})


def deep_verify(
    connection: Connection, *, expected_head: ChainHead | None = None, max_shown: int = 5
) -> DeepReport:
    """Verify the chain, replay it and compare every audited table (see the module docstring).

    Runs in ``connection``'s current transaction and writes nothing. ``max_shown`` bounds the
    mismatches kept per table (all are counted).
    """
    replay = _Replay()
    with Session(bind=connection) as session:
        chain = verify_chain(session, expected_head=expected_head, visitor=replay)
    tables: list[TableCheck] = []
    shown: list[Mismatch] = []
    for table in TABLES:
        check, found = _compare(connection, table, replay.state[table.name], max_shown)
        tables.append(check)
        shown += found
    for name, (n_rows, problems) in (
        (SLOT_CROSS_CHECK, _slot_cross_check(connection)),
        (LIST_CONTENT_CHECK, _list_contents(connection, replay.state["allocation_lists"])),
    ):
        tables.append(TableCheck(name, n_rows, len(problems)))
        shown += [Mismatch(name, row, problem) for row, problem in problems[:max_shown]]
    return DeepReport(
        chain.ok, chain.n_events, chain.first_broken_id, chain.reason, tuple(tables),
        tuple(shown), *replay.head,
    )  # fmt: skip


class _Replay:
    """The audit chain's visitor: builds ``state[table][key] = {field: audited value}``."""

    def __init__(self) -> None:
        self.state: dict[str, dict[str, dict[str, Any]]] = {t.name: {} for t in TABLES}
        self.head: tuple[int, str] = (0, GENESIS_HASH)
        self._initial = {t.name: t.initial for t in TABLES}
        self._latest: dict[str, dict[str, str]] = {t.name: {} for t in TABLES}
        """table -> participant's study ID -> key of the last row audited for her"""
        self._exact: dict[tuple[str, str], list[Rule]] = {}
        self._other: list[Rule] = []
        for rule in RULES:
            if rule.entity is None or rule.actions is None:
                self._other.append(rule)
                continue
            for action in rule.actions:
                self._exact.setdefault((rule.entity, action), []).append(rule)

    def __call__(self, event: Any, old: Any, new: Any) -> None:
        self.head = (event.id, event.hash)
        values = new if isinstance(new, dict) else {}
        for rule in self._exact.get((event.entity, event.action), ()):
            self._apply(rule, event, values)
        for rule in self._other:
            if rule.entity in (None, event.entity) and (
                rule.actions is None or event.action in rule.actions
            ):
                self._apply(rule, event, values)

    def _apply(self, rule: Rule, event: Any, new: Mapping[str, Any]) -> None:
        values = {name: _normal(value) for name, value in _values(rule.sets, event, new)}
        if not values:
            return  # the event does not carry what this rule sets (another kind, or older)
        table = self.state[rule.table]
        for key in self._keys(rule.key, event, new):
            state = table.get(key)
            if state is None:
                state = table[key] = dict(self._initial[rule.table])
                for name, value in _values(rule.sets_on_create, event, new):
                    state[name] = _normal(value)
            state.update(values)
            if isinstance(values.get("participant"), str):
                self._latest[rule.table][values["participant"]] = key

    def _keys(self, source: Source, event: Any, new: Mapping[str, Any]) -> list[str]:
        if source.kind == "entity_id":
            return [] if event.entity_id is None else [str(event.entity_id)]
        if source.kind == "new":
            value = new.get(source.name)
            return [] if value is None or isinstance(value, dict | list) else [str(value)]
        if source.kind == "each":
            items = new.get(source.name)
            return [str(item) for item in items] if isinstance(items, list) else []
        if source.kind == "latest":
            her = event.entity_id if event.entity == "participant" else new.get("participant")
            key = self._latest[str(source.name)].get(str(her))
            return [] if key is None else [key]
        raise ValueError(f"source {source.kind!r} cannot name a row")


def _values(sets: Mapping[str, Source], event: Any, new: Mapping[str, Any]) -> Iterator[tuple]:
    for name, source in sets.items():
        if source.kind == "new":
            if source.name in new:
                yield name, new[source.name]
        elif source.kind == "at":
            yield name, event.at
        elif source.kind == "reason":
            yield name, event.reason
        elif source.kind == "const":
            yield name, source.value
        else:
            raise ValueError(f"source {source.kind!r} cannot give a value")


_PLAIN = (str, int, float, bool, type(None))


def _normal(value: Any) -> Any:
    """A value as the audit trail holds it, compactly: instants and dates as their canonical
    text; objects and lists (answers, model inputs and outputs) as a digest of their canonical
    JSON, so that the replayed state of a large trial stays small."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, dict | list):
        return ("json", hashlib.blake2b(canonical_json(value).encode("utf-8")).digest())
    return json.loads(canonical_json(value))


def _compare(
    connection: Connection, table: AuditedTable, audited: dict[str, dict[str, Any]], limit: int
) -> tuple[TableCheck, list[Mismatch]]:
    audited = dict(audited)  # consumed: what is left has no row
    n_rows = n_bad = n_unverified = 0
    shown: list[Mismatch] = []

    def report(key: str, problem: str) -> None:
        nonlocal n_bad
        n_bad += 1
        if len(shown) < limit:
            shown.append(Mismatch(table.name, f"{table.entity} {key}", problem))

    for row in connection.execute(table.rows()).mappings():
        n_rows += 1
        key = str(row["key"])
        stored = dict(row) if table.derive is None else {**row, **table.derive(row)}
        state = audited.pop(key, None)
        if state is None and not table.implicit:
            report(key, "no audit event (the row was added outside pebs)")
            continue
        if state is None:  # made in bulk by one event: must still hold its initial values
            differ = [name for name, value in table.initial.items()
                      if _normal(stored[name]) != _normal(value)]  # fmt: skip
        else:
            differ = [
                name
                for name in table.fields
                if name in state and _normal(stored[name]) != state[name]
            ]
            n_unverified += sum(name not in state for name in table.fields)
        if differ:
            report(key, f"fields differ: {', '.join(differ)}")
    for key in sorted(audited):
        n_rows += 1
        report(key, "audited, but the row is missing (deleted outside pebs)")
    return TableCheck(table.name, n_rows, n_bad, n_unverified), shown


def _slot_cross_check(connection: Connection) -> tuple[int, list[tuple[str, str]]]:
    """Each allocation against the slot it took, and each used slot against its allocation."""
    slot = AllocationSlot
    rows = connection.execute(
        select(
            Allocation.id,
            Allocation.participant_id,
            Allocation.arm,
            Allocation.method,
            Allocation.allocation_slot_id,
            slot.id.label("slot_id"),
            slot.arm.label("slot_arm"),
            slot.used_by_participant_id,
        )
        .outerjoin(slot, slot.id == Allocation.allocation_slot_id)
        .where(Allocation.allocation_slot_id.is_not(None))
        .order_by(Allocation.id)
    )
    problems: list[tuple[str, str]] = []
    n_checked = 0
    for row in rows:
        n_checked += 1
        where = f"allocation {row.id}"
        if row.slot_id is None:
            problems.append((where, f"its slot {row.allocation_slot_id} does not exist"))
        elif row.used_by_participant_id != row.participant_id:
            problems.append((where, f"its slot {row.slot_id} is not marked as used by her"))
        elif row.method == "list" and row.arm != row.slot_arm:
            problems.append((where, f"arm differs from its slot {row.slot_id}'s arm"))
    orphans = connection.execute(
        select(slot.id)
        .where(
            slot.used_by_participant_id.is_not(None),
            ~exists().where(
                and_(
                    Allocation.allocation_slot_id == slot.id,
                    Allocation.participant_id == slot.used_by_participant_id,
                )
            ),
        )
        .order_by(slot.id)
    ).scalars()
    for slot_id in orphans:
        n_checked += 1
        problems.append((f"allocation slot {slot_id}", "used, but no allocation took it"))
    return n_checked, problems


_CHECKER = Actor(username="pebs-deep-verify", role="statistician")


def _list_contents(
    connection: Connection, audited: Mapping[str, dict[str, Any]]
) -> tuple[int, list[tuple[str, str]]]:
    """Each audited list's stored slots, serialised, against the SHA-256 audited at generation."""
    sessions = sessionmaker(bind=connection)  # joins the verification's transaction
    problems: list[tuple[str, str]] = []
    n_checked = 0
    for key, state in sorted(audited.items(), key=lambda item: int(item[0])):
        if "sha256" not in state:
            continue
        n_checked += 1
        where = f"allocation list {key}"
        seed = connection.execute(
            select(AllocationList.seed).where(AllocationList.id == int(key))
        ).scalar_one_or_none()
        if seed is None:
            continue  # the row is missing: reported with the allocation lists
        try:
            verification = verify_allocation_list(sessions, _CHECKER, int(key), int(seed))
        except (ServiceError, SQLAlchemyError, ValueError, KeyError, TypeError) as error:
            problems.append((where, f"its slots cannot be read as a list ({type(error).__name__})"))
            continue
        if verification.sha256_of_list != state["sha256"]:
            problems.append((where, "its slots differ from the list audited at generation"))
    return n_checked, problems
