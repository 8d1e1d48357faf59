"""The tamper-evident audit chain (see ``docs/trial/audit.md``).

Each event stores ``prev_hash`` (the hash of the event before it; 64 zeros for the first) and

    hash = SHA-256( prev_hash_hex_ascii || canonical_json(event) )

where ``event`` is ``{"id", "at", "actor", "action", "entity", "entity_id", "reason", "old",
"new"}`` and :func:`canonical_json` sorts keys, uses no whitespace, UTF-8, ``Z``-suffixed UTC times
with microseconds, and refuses NaN/infinity. Appends are serialised (PostgreSQL: a transaction-level
advisory lock; SQLite: the writer lock every pebs transaction takes with ``BEGIN IMMEDIATE``), ids
run 1, 2, 3... without gaps, and the database refuses an event whose ``prev_hash`` is not the
hash of the event before it (a trigger; ``id`` is the primary key), so the chain never forks.

Call :func:`append_event` inside the service's transaction, after the change it records, so that
the change and its audit record commit (or roll back) together.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Text, cast, event, insert, select, text
from sqlalchemy.orm import Session

from pebs.store._base import utcnow
from pebs.store.bulk_insert import insert_rows
from pebs.store.engine import READ_ONLY_OPTION
from pebs.store.models import AuditEvent

__all__ = [
    "ADVISORY_LOCK_KEY",
    "BEFORE_APPEND",
    "GENESIS_HASH",
    "ChainHead",
    "VerifyResult",
    "append_event",
    "audit_batch",
    "canonical_json",
    "chain_head",
    "event_hash",
    "lock_chain",
    "values_digest",
    "verify_chain",
]

GENESIS_HASH = "0" * 64
ADVISORY_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"pebs.audit_events").digest()[:8], "big", signed=True
)
"""Key of the PostgreSQL advisory lock that serialises appends (same in every pebs database)."""

_HEAD_LINE = re.compile(r"^pebs-audit-head id=(\d+) hash=([0-9a-f]{64})(?: at=(\S+))?$")


@dataclass(frozen=True)
class ChainHead:
    """The last event of the chain: export it (reports, e-mail to the DSMB) to pin history.

    >>> head = ChainHead(id=3, hash="ab" * 32)
    >>> ChainHead.parse(head.export_line()) == head
    True
    """

    id: int
    hash: str
    at: datetime | None = field(default=None, compare=False)
    """When the head event was recorded (informative; not compared)."""

    def export_line(self) -> str:
        """One line that :meth:`parse` reads back, e.g. for a report footer."""
        line = f"pebs-audit-head id={self.id} hash={self.hash}"
        return line if self.at is None else f"{line} at={_utc_text(self.at)}"

    @classmethod
    def parse(cls, line: str) -> ChainHead:
        match = _HEAD_LINE.match(line.strip())
        if match is None:
            raise ValueError(f"audit head: {line!r} is not 'pebs-audit-head id=N hash=HEX64'")
        at = match.group(3)
        return cls(
            int(match.group(1)),
            match.group(2),
            None if at is None else datetime.fromisoformat(at).astimezone(UTC),
        )


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify_chain`; ``first_broken_id`` is the first event failing a check."""

    ok: bool
    n_events: int
    first_broken_id: int | None = None
    reason: str | None = None


def canonical_json(value: Any) -> str:
    """The canonical JSON text of ``value`` (what the hash covers).

    Keys sorted, no whitespace, non-ASCII kept (hashed as UTF-8). Aware datetimes become UTC
    ``YYYY-MM-DDTHH:MM:SS.ffffffZ``; dates ``YYYY-MM-DD``; ``Decimal``, ``UUID`` and enums their
    text or value; sets sorted lists; numpy scalars Python numbers. Floats keep Python's shortest
    round-trip form; NaN, infinities and naive datetimes are refused.

    >>> canonical_json({"b": 1.5, "a": [date(2024, 1, 31), None, "é"]})
    '{"a":["2024-01-31",null,"é"],"b":1.5}'
    """
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_json_default,
    )


def values_digest(*values: bytes | str | None) -> str:
    """SHA-256 (hex) of a sequence of values, for audit records that must pin data they may not
    show (the ciphertexts of identifying data).

    Each value is framed as one tag byte (``0`` None, ``1`` bytes, ``2`` text as UTF-8), its
    length as 8 bytes big-endian, then its bytes, so that no two different sequences share a
    digest (``None`` differs from empty; parts cannot slide into each other).

    >>> values_digest(b"ab", None) == values_digest(b"a", b"b")
    False
    >>> len(values_digest())
    64
    """
    digest = hashlib.sha256()
    for value in values:
        if value is None:
            digest.update(b"\x00" + (0).to_bytes(8, "big"))
            continue
        tag, data = (b"\x02", value.encode("utf-8")) if isinstance(value, str) else (b"\x01", value)
        digest.update(tag + len(data).to_bytes(8, "big") + bytes(data))
    return digest.hexdigest()


def event_hash(prev_hash: str, document: Mapping[str, Any]) -> str:
    """``SHA-256(prev_hash || canonical_json(document))`` as 64 hex digits."""
    return hashlib.sha256((prev_hash + canonical_json(document)).encode("utf-8")).hexdigest()


def append_event(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int | None = None,
    reason: str | None = None,
    old: Mapping[str, Any] | None = None,
    new: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> ChainHead:
    """Append one event to the chain in the session's transaction; return the new head.

    Flushes pending ORM changes, takes the chain lock (held until the transaction ends), reads
    the head and inserts the new event linked to it. Does not commit. ``old``/``new`` are stored
    exactly as hashed (JSON-normalised: dates become ISO text). Call it after the change it
    records, as the last write, and commit soon: other appenders wait for the lock.
    """
    when = utcnow() if at is None else _utc(at)
    old_text = None if old is None else canonical_json(dict(old))
    new_text = None if new is None else canonical_json(dict(new))
    values: dict[str, Any] = {
        "at": when,
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "reason": reason,
        "old": None if old_text is None else json.loads(old_text),
        "new": None if new_text is None else json.loads(new_text),
    }
    if session.new or session.dirty or session.deleted:
        session.flush()  # the change being recorded goes first (and fails first)
    for check in tuple(session.info.get(BEFORE_APPEND, ())):
        check(session)  # may refuse the change: then nothing is appended
    transaction = session.get_transaction()
    known = session.info.get(_KNOWN_HEAD)
    if known is not None and known[0] is transaction:
        connection = session.connection()  # the chain lock is held since that append
        head_id, head_hash = known[1], known[2]
    else:
        connection = lock_chain(session)
        head = connection.execute(_HEAD).first()
        head_id, head_hash = (0, GENESIS_HASH) if head is None else (head.id, head.hash)
    values["id"] = head_id + 1
    values["prev_hash"] = head_hash
    if _plain(old) and _plain(new):  # their canonical texts are those of the stored values
        document = _document_text(values, old_text, new_text)
    else:
        document = canonical_json({key: values[key] for key in _DOCUMENT_KEYS})
    values["hash"] = hashlib.sha256((head_hash + document).encode("utf-8")).hexdigest()
    pending = session.info.get(_PENDING)
    if pending is None:
        connection.execute(_INSERT, values)
    else:
        pending.append(values)
    session.info[_KNOWN_HEAD] = (transaction, values["id"], values["hash"])
    return ChainHead(values["id"], values["hash"], when)


@contextlib.contextmanager
def audit_batch(session: Session) -> Iterator[None]:
    """The events appended in the block are inserted together, in one statement, when it ends.

    For list forms that record one event per woman: the chain is the same, event by event, as if
    each had been inserted at once (each is linked and hashed when appended), for one statement
    instead of hundreds. If the block raises, nothing is inserted (the caller's transaction or
    savepoint is then rolled back). A rollback inside the block would leave events of undone
    changes waiting: the batch then inserts nothing and raises. Nested batches are one batch.
    """
    if _PENDING in session.info:
        yield
        return
    pending: list[dict[str, Any]] = []
    session.info[_PENDING] = pending
    try:
        yield
    except BaseException:
        session.info.pop(_KNOWN_HEAD, None)  # its events were never inserted
        raise
    finally:
        undone = session.info.get(_PENDING) is not pending  # a rollback in the block dropped it
        if not undone:
            del session.info[_PENDING]
    if undone:
        raise RuntimeError("audit batch: a rollback inside the batch undid changes it records")
    if pending:
        insert_rows(session.connection(), AuditEvent.__table__, pending)


BEFORE_APPEND = "pebs.audit.before_append"
"""``session.info`` key: callables ``check(session)`` that :func:`append_event` runs after it
flushed the change it records and before it links the event. One that raises refuses the
change: nothing is appended, and the caller's transaction (or savepoint) rolls back. The
services' lock guard (:mod:`pebs.services.data_locks`) is one."""

_PENDING = "pebs.audit.pending"
"""``session.info`` key: the events of the open :func:`audit_batch`, linked but not inserted."""

_KNOWN_HEAD = "pebs.audit.known_head"
"""``session.info`` key: (root transaction, id, hash) of the event this session appended last.

While that transaction lasts, nobody else can append (SQLite: its writer lock; PostgreSQL: the
chain's advisory lock, held until the transaction ends), so the next append in it needs no read
of the head. Any rollback, even of a savepoint, and the end of the transaction forget it."""


_CHAIN_LOCKED = "pebs.audit.chain_locked"
"""``session.info`` key: the root transaction known to hold the chain's PostgreSQL lock
(:func:`lock_chain` takes it once per transaction); forgotten like :data:`_KNOWN_HEAD`."""


@event.listens_for(Session, "after_soft_rollback")
def _forget_head_on_rollback(session: Session, _previous: Any) -> None:
    session.info.pop(_KNOWN_HEAD, None)
    session.info.pop(_CHAIN_LOCKED, None)
    session.info.pop(_PENDING, None)  # the open batch, if any, refuses to insert


@event.listens_for(Session, "after_commit")
def _forget_head_on_commit(session: Session) -> None:
    session.info.pop(_KNOWN_HEAD, None)
    session.info.pop(_CHAIN_LOCKED, None)


_HEAD = (
    select(AuditEvent.id, AuditEvent.hash, AuditEvent.at).order_by(AuditEvent.id.desc()).limit(1)
)
_INSERT = insert(AuditEvent)


def chain_head(session: Session) -> ChainHead:
    """The last event's id and hash (``ChainHead(0, GENESIS_HASH)`` for an empty chain)."""
    row = session.connection().execute(_HEAD).first()
    if row is None:
        return ChainHead(0, GENESIS_HASH)
    return ChainHead(row.id, row.hash, row.at)


EventVisitor = Callable[[Any, Any, Any], None]
"""``visitor(event, old, new)``: ``event`` has the stored columns as attributes (``id``, ``at``,
``actor``, ``action``, ``entity``, ``entity_id``, ``reason``); ``old``/``new`` are parsed JSON."""


def verify_chain(
    session: Session,
    *,
    expected_head: ChainHead | None = None,
    batch_size: int = 1000,
    visitor: EventVisitor | None = None,
) -> VerifyResult:
    """Walk the chain in id order and report the first event that breaks it.

    Detects an edited event (its content no longer gives its hash), a deleted one (ids jump, or
    the next ``prev_hash`` does not link), an inserted one (it does not link, or the next event
    does not link to it). An exported ``expected_head`` additionally detects a rewritten or
    truncated history that is internally consistent. ``n_events`` counts every stored event.

    ``visitor``, if given, is called with every readable event in id order (also after a break),
    in the same single pass: the deep verification replays the chain this way.
    """
    table = AuditEvent.__table__
    columns = [c for c in table.c if c.name not in ("old", "new")]
    query = (
        select(*columns, cast(table.c.old, Text).label("old"), cast(table.c.new, Text).label("new"))
        .order_by(table.c.id)
        .execution_options(yield_per=batch_size)
    )
    n_events = 0
    broken: tuple[int, str] | None = None
    prev_id, prev_hash = 0, GENESIS_HASH
    head_seen: str | None = None
    rows = iter(session.execute(query))
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except (ValueError, TypeError) as error:  # a value the driver cannot read back
            broken = broken or (prev_id + 1, f"event after {prev_id} is unreadable: {error}")
            break
        n_events += 1
        if expected_head is not None and row.id == expected_head.id:
            head_seen = row.hash
        parsed = _parse(row) if broken is None or visitor is not None else None
        if broken is None:
            problem = _check_row(row, prev_id, prev_hash, parsed)
            if problem is not None:
                broken = (row.id, problem)
        if visitor is not None and isinstance(parsed, tuple):
            visitor(row, *parsed)
        prev_id, prev_hash = row.id, row.hash
    if broken is None and expected_head is not None and expected_head.id > 0:
        if head_seen is None:
            broken = (
                n_events + 1,
                f"chain ends at event {prev_id} but the exported head is event {expected_head.id}",
            )
        elif head_seen != expected_head.hash:
            broken = (expected_head.id, "differs from the exported head: history was rewritten")
    if broken is None:
        return VerifyResult(True, n_events)
    return VerifyResult(False, n_events, broken[0], broken[1])


def _parse(row: Any) -> tuple[Any, Any] | Exception:
    """``(old, new)`` parsed from their JSON text, or the error that prevented it."""
    try:
        old = None if row.old is None else json.loads(row.old)
        new = None if row.new is None else json.loads(row.new)
    except (ValueError, TypeError) as error:
        return error
    return old, new


def _check_row(
    row: Any, prev_id: int, prev_hash: str, parsed: tuple[Any, Any] | Exception | None
) -> str | None:
    if row.id != prev_id + 1:
        return f"event {prev_id + 1} is missing (the next stored event is {row.id})"
    if row.prev_hash != prev_hash:
        return f"prev_hash does not match the hash of event {prev_id}"
    try:
        if isinstance(parsed, Exception):
            raise parsed
        old, new = parsed if parsed is not None else (None, None)
        expected = event_hash(row.prev_hash, _document(row.id, row.at, row, old, new))
    except (ValueError, TypeError) as error:
        return f"content cannot be read: {error}"
    if expected != row.hash:
        return "content does not match its hash (the event was altered)"
    return None


_DOCUMENT_KEYS = ("id", "at", "actor", "action", "entity", "entity_id", "reason", "old", "new")

_PLAIN_LEAVES = frozenset({str, int, float, bool, type(None), datetime, date})


def _plain(value: Any) -> bool:
    """Whether ``value`` is dicts with text keys, lists and tuples of them, and leaves of
    :data:`_PLAIN_LEAVES` alone: then parsing its canonical JSON and writing it again gives the
    same text (a mapping with other keys, such as numbers, is sorted differently once they
    are text). Exact types: a subclass is not plain."""
    kind = type(value)
    if kind in _PLAIN_LEAVES:
        return True
    if kind is dict:
        return all(type(key) is str and _plain(item) for key, item in value.items())
    if kind is list or kind is tuple:
        return all(_plain(item) for item in value)
    return False


def _document_text(values: Mapping[str, Any], old: str | None, new: str | None) -> str:
    """:func:`canonical_json` of the event's document (``values`` of :data:`_DOCUMENT_KEYS`)
    written from its parts: the canonical texts ``old`` and ``new`` of its values, and its
    other keys in sorted order, texts escaped as :func:`canonical_json` escapes them."""
    text = json.encoder.encode_basestring  # what json.dumps uses with ensure_ascii=False
    scalars = [values[key] for key in ("action", "actor", "entity", "entity_id", "reason")]
    if not all(type(one) is str or one is None for one in scalars) or type(values["id"]) is not int:
        return canonical_json({key: values[key] for key in _DOCUMENT_KEYS})
    action, actor, entity, entity_id, reason = (
        "null" if one is None else text(one) for one in scalars
    )
    return (
        f'{{"action":{action},"actor":{actor},"at":"{_utc_text(values["at"])}",'
        f'"entity":{entity},"entity_id":{entity_id},"id":{values["id"]},'
        f'"new":{new or "null"},"old":{old or "null"},"reason":{reason}}}'
    )


def _document(event_id: int, at: datetime, event: Any, old: Any, new: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "at": at,
        "actor": event.actor,
        "action": event.action,
        "entity": event.entity,
        "entity_id": event.entity_id,
        "reason": event.reason,
        "old": old,
        "new": new,
    }


def lock_chain(session: Session) -> Connection:
    """Take the chain's lock for the rest of the session's transaction (PostgreSQL: its
    advisory lock; SQLite: the writer lock the transaction already holds); return the
    connection.

    :func:`append_event` takes it. A transaction that takes another lock it holds until its end
    takes this one first (:func:`pebs.store.randomisation.lock_stratum`): every transaction then
    takes its locks in the same order, so a transaction that appended an event and then locks
    something cannot deadlock with one that locked it first and then appends.
    """
    connection = session.connection()
    if connection.get_execution_options().get(READ_ONLY_OPTION, False):
        raise RuntimeError("append_event: the session is read-only; use a writing session")
    if connection.dialect.name == "postgresql":
        transaction = session.get_transaction()
        if session.info.get(_CHAIN_LOCKED) is not transaction:
            connection.execute(_ADVISORY_LOCK, {"key": ADVISORY_LOCK_KEY})
            session.info[_CHAIN_LOCKED] = transaction
    # SQLite: the transaction began with BEGIN IMMEDIATE and already holds the writer lock.
    return connection


_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


def _utc(value: datetime) -> datetime:
    """``value`` in UTC; ``ValueError`` for a naive datetime."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} in audit data: give an aware one")
    return value.astimezone(UTC)


def _utc_text(value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (what ``strftime("%Y-%m-%dT%H:%M:%S.%fZ")`` writes of the
    UTC instant, built from ``isoformat``, several times faster; years before 1000, which
    ``strftime`` writes without padding, by ``strftime`` itself)."""
    utc = _utc(value)
    if utc.year < 1000:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return utc.isoformat(timespec="microseconds")[:-6] + "Z"  # "+00:00" -> "Z"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return _utc_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value)
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        item = value.item()
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"audit data: {item} is not allowed in canonical JSON")
        return item
    raise TypeError(f"audit data: {type(value).__name__} {value!r} has no canonical JSON form")
