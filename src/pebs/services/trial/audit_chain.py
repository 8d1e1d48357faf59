"""Verify the audit chain (``pebs audit verify``) and read its head for export."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from pebs.services.errors import InvalidInput
from pebs.services.storable_text import refuses_unstorable_text
from pebs.store.audit import ChainHead, chain_head, verify_chain

__all__ = ["AuditReport", "verify_audit_chain"]


@dataclass(frozen=True)
class AuditReport:
    """``ok`` with the chain's length and head, or the first broken event and why."""

    ok: bool
    n_events: int
    head_id: int
    head_hash: str
    head_line: str
    """``pebs-audit-head id=N hash=...``: publish it (reports, trial master file)."""
    first_broken_id: int | None = None
    reason: str | None = None


@refuses_unstorable_text
def verify_audit_chain(
    session_maker: sessionmaker[Session], *, expected_head: str | None = None
) -> AuditReport:
    """Walk the whole chain; with ``expected_head`` (an exported head line) also detect a
    rewritten or truncated history. An operations task: it reads only the audit table."""
    try:
        expected = None if expected_head is None else ChainHead.parse(expected_head)
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    with session_maker() as session, session.begin():
        result = verify_chain(session, expected_head=expected)
        head = chain_head(session)
    return AuditReport(
        ok=result.ok,
        n_events=result.n_events,
        head_id=head.id,
        head_hash=head.hash,
        head_line=head.export_line(),
        first_broken_id=result.first_broken_id,
        reason=result.reason,
    )
