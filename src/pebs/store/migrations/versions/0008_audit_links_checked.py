"""Audit events: each link checked as it is inserted, instead of unique indexes on the hashes.

The chain could not fork because ``prev_hash`` was unique (and ``hash`` too). A unique index on
SHA-256 text is written at a random place for every event: once the table outgrows the page
cache, each insert reads and rewrites a page of each index somewhere in the file (a whole-trial
import spent more on these two indexes than on everything else it stores).

A trigger now refuses an event whose ``prev_hash`` is not the stored ``hash`` of the event just
before it (``id - 1``; the genesis hash for event 1): with ``id`` the primary key, two events
cannot follow the same event, and none can be inserted ahead of a missing one. It reads one row
by primary key, the last one written.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_GENESIS = "0" * 64
_MESSAGE = "audit_events: an event must link to the event before it"
_UNIQUE = ("uq_audit_events_hash", "hash"), ("uq_audit_events_prev_hash", "prev_hash")


def upgrade() -> None:
    if _postgresql():
        for name, _column in _UNIQUE:
            op.drop_constraint(name, "audit_events", type_="unique")
        op.execute(
            # its schema's audit_events whatever the caller's search_path (a copy between schemas)
            "CREATE FUNCTION pebs_audit_linked() RETURNS trigger LANGUAGE plpgsql "
            "SET search_path FROM CURRENT AS $$ BEGIN "
            "IF NEW.prev_hash IS DISTINCT FROM (CASE WHEN NEW.id = 1 THEN "
            f"'{_GENESIS}' ELSE (SELECT hash FROM audit_events WHERE id = NEW.id - 1) END) "
            f"THEN RAISE EXCEPTION '{_MESSAGE}' USING ERRCODE = 'integrity_constraint_violation'; "
            "END IF; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_events_linked BEFORE INSERT ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION pebs_audit_linked()"
        )
        return
    with op.batch_alter_table("audit_events", recreate="always") as batch_op:
        for name, _column in _UNIQUE:
            batch_op.drop_constraint(name, type_="unique")
    _sqlite_append_only_triggers()  # the rebuilt table has none
    op.execute(
        "CREATE TRIGGER audit_events_linked BEFORE INSERT ON audit_events "
        f"WHEN NEW.prev_hash IS NOT (CASE WHEN NEW.id = 1 THEN '{_GENESIS}' "
        "ELSE (SELECT hash FROM audit_events WHERE id = NEW.id - 1) END) "
        f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
    )


def downgrade() -> None:
    if _postgresql():
        op.execute("DROP TRIGGER audit_events_linked ON audit_events")
        op.execute("DROP FUNCTION pebs_audit_linked()")
        for name, column in _UNIQUE:
            op.create_unique_constraint(name, "audit_events", [column])
        return
    op.execute("DROP TRIGGER audit_events_linked")
    with op.batch_alter_table("audit_events", recreate="always") as batch_op:
        for name, column in _UNIQUE:
            batch_op.create_unique_constraint(name, [column])
    _sqlite_append_only_triggers()


def _postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def _sqlite_append_only_triggers() -> None:
    """As revision 0001 created them."""
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
        )
