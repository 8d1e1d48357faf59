"""A participant's issued letters, newest first (what was sent, never the letter itself)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.subject import find_participant
from pebs.store.models import IssuedLetter

__all__ = ["IssuedLetterView", "issued_letters"]


@dataclass(frozen=True)
class IssuedLetterView:
    letter_id: int
    kind: str
    recipient: str
    language: str
    basis: str
    template_version: str
    sha256: str
    """SHA-256 of the PDF as issued (hexadecimal)."""
    pdf_bytes: int
    issued_at: datetime
    issued_by: str


@refuses_unstorable_text
def issued_letters(
    session_maker: sessionmaker[Session], actor: Actor, study_id: str
) -> tuple[IssuedLetterView, ...]:
    """The letters issued to her (and her doctor), newest first; the roles that read her
    record, in their scope."""
    require(actor, Action.READ_PARTICIPANT)
    with session_maker() as session, session.begin():
        subject = find_participant(session, actor, study_id)
        rows = session.scalars(
            select(IssuedLetter).where(IssuedLetter.participant_id == subject.participant.id)
            .order_by(IssuedLetter.issued_at.desc(), IssuedLetter.id.desc())
        )  # fmt: skip
        return tuple(
            IssuedLetterView(r.id, r.kind, r.recipient, r.language, r.basis, r.template_version,
                             r.pdf_sha256, r.pdf_bytes, r.issued_at, r.issued_by)
            for r in rows
        )  # fmt: skip
