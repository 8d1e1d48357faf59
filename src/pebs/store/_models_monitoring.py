"""Monitoring of a casebook: source data verified, investigators' signatures, and locks of a
form, a participant or a whole study (re-exported by :mod:`pebs.store.models`).

A form instance is named by its participant, its form (a name of :data:`pebs.trial.forms.FORMS`)
and its ``form_key``: the row id of a repeating form's instance (visit id, outcome id...), ``0``
for a form that does not repeat (row ids start at 1). What was verified, locked or signed is
pinned by the SHA-256 of the values as they were then (canonical JSON, see
:mod:`pebs.services.casebook_content`): a later change of the values shows as a different digest.
History (every mark, lock, unlock, signature and voiding) is in the audit trail; these tables
hold the current state.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pebs.store._base import Base, both_or_neither, user_fk, utcnow

_SHA256 = 64


class SourceVerification(Base):
    """A form instance of a participant verified against the source documents by a monitor."""

    __tablename__ = "source_verifications"
    __table_args__ = (
        UniqueConstraint("participant_id", "form", "form_key"),
        CheckConstraint("form_key >= 0", name="form_key"),
        CheckConstraint("length(values_sha256) = 64", name="values_sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    form: Mapped[str] = mapped_column(String(32))
    form_key: Mapped[int] = mapped_column(Integer)
    """The repeating form's row id; ``0`` for a form that does not repeat."""
    values_sha256: Mapped[str] = mapped_column(String(_SHA256))
    """SHA-256 of the instance's values when verified: another digest now means changed since."""
    verified_at: Mapped[datetime] = mapped_column(default=utcnow)
    verified_by_id: Mapped[int] = user_fk(nullable=False)


class FormLock(Base):
    """One form instance of a participant locked by a data manager: no write may change it."""

    __tablename__ = "form_locks"
    __table_args__ = (
        UniqueConstraint("participant_id", "form", "form_key"),
        CheckConstraint("form_key >= 0", name="form_key"),
        CheckConstraint("length(values_sha256) = 64", name="values_sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    form: Mapped[str] = mapped_column(String(32))
    form_key: Mapped[int] = mapped_column(Integer)
    values_sha256: Mapped[str] = mapped_column(String(_SHA256))
    """SHA-256 of the instance's values when locked (a write that changes them is refused)."""
    locked_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_by_id: Mapped[int] = user_fk(nullable=False)


class ParticipantLock(Base):
    """Every form of a participant locked: no write about her is accepted."""

    __tablename__ = "participant_locks"

    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), primary_key=True)
    locked_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_by_id: Mapped[int] = user_fk(nullable=False)


class StudyLock(Base):
    """A study locked (database lock): no write in it is accepted until it is unlocked.

    One row per lock; the open one has no ``unlocked_at``. The snapshot taken at locking is
    named with its SHA-256 (also in the audit trail).
    """

    __tablename__ = "study_locks"
    __table_args__ = (
        CheckConstraint(
            "snapshot_sha256 IS NULL OR length(snapshot_sha256) = 64", name="snapshot_sha256"
        ),
        both_or_neither("unlocked_at", "unlock_reason", "unlocked"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"), index=True)
    locked_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_by: Mapped[str] = mapped_column(String(64))
    """The username (or ``cli:<login>``) that locked it."""
    reason: Mapped[str] = mapped_column(Text)
    snapshot_file: Mapped[str | None] = mapped_column(String(255))
    """The snapshot's file name (without its folder)."""
    snapshot_sha256: Mapped[str | None] = mapped_column(String(_SHA256))
    unlocked_at: Mapped[datetime | None]
    unlocked_by: Mapped[str | None] = mapped_column(String(64))
    unlock_reason: Mapped[str | None] = mapped_column(Text)


class CasebookSignature(Base):
    """An investigator's electronic signature of a participant's casebook (21 CFR 11.50).

    The signer's printed name, username and role, the instant (UTC), the meaning she confirmed
    (its code, version, language and the text as shown) and the SHA-256 of the casebook signed.
    ``voided_at``: when a change of her data after signing was first noticed (the signature then
    no longer applies; a new one may be given).
    """

    __tablename__ = "casebook_signatures"
    __table_args__ = (CheckConstraint("length(casebook_sha256) = 64", name="casebook_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    signer_id: Mapped[int] = user_fk(nullable=False)
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_username: Mapped[str] = mapped_column(String(64))
    signer_role: Mapped[str] = mapped_column(String(32))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    meaning: Mapped[str] = mapped_column(String(64))
    """The code of the meaning confirmed (``casebook_review``)."""
    meaning_version: Mapped[str] = mapped_column(String(16))
    meaning_language: Mapped[str] = mapped_column(String(8))
    meaning_text: Mapped[str] = mapped_column(Text)
    """The meaning exactly as shown to the signer, in her language."""
    casebook_sha256: Mapped[str] = mapped_column(String(_SHA256))
    voided_at: Mapped[datetime | None]
    changed_at: Mapped[datetime | None]
    """When her data first changed after signing (the first audited change), when known."""
