"""Letters issued to participants and their doctors, and risk consultations (re-exported by
:mod:`pebs.store.models`).

An issued letter is recorded, not stored: its kind, recipient, language, what it reports
(``basis``: the screening plan, kit or visit it was written from) and the SHA-256 of the PDF, so
that a letter shown later can be checked against the one sent. A consultation records that a
woman's risk result was explained to her, when, how and by whom.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pebs.store._base import Base, one_of, user_fk, utcnow
from pebs.trial.vocabularies import (
    CONSULTATION_MODES,
    LANGUAGES,
    LETTER_KINDS,
    LETTER_RECIPIENTS,
)


class IssuedLetter(Base):
    """One letter rendered and issued: what, to whom, in which language, and its PDF's digest."""

    __tablename__ = "issued_letters"
    __table_args__ = (
        one_of("kind", LETTER_KINDS, "kind"),
        one_of("recipient", LETTER_RECIPIENTS, "recipient"),
        one_of("language", LANGUAGES, "language"),
        Index("ix_issued_letters_due", "participant_id", "kind", "recipient", "basis"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    basis: Mapped[str] = mapped_column(String(64))
    """What the letter reports: ``plan:<id>``, ``kit:<kit ID>`` or ``visit:<id>``."""
    template_version: Mapped[str] = mapped_column(String(32))
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    pdf_bytes: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    issued_by_id: Mapped[int | None] = user_fk()
    issued_by: Mapped[str] = mapped_column(String(64))
    """The username (or ``cli:<login>`` for the command line) that issued it."""


class Consultation(Base):
    """Her risk result explained to her: the day, at a visit or by phone, by whom, her questions."""

    __tablename__ = "consultations"
    __table_args__ = (one_of("mode", CONSULTATION_MODES, "mode"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    held_on: Mapped[date]
    mode: Mapped[str] = mapped_column(String(16))
    held_by: Mapped[str] = mapped_column(String(200))
    """The clinician who explained the result (name as she would sign)."""
    questions: Mapped[str | None] = mapped_column(Text)
    """Questions she raised, and anything else worth noting (free text)."""
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = user_fk()
