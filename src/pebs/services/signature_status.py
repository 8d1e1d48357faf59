"""The latest signature of a woman's casebook, as every view of her record shows it: the
manifestation (21 CFR 11.50) and whether it still holds.

Each view recomputes her casebook's digest (:mod:`pebs.services.casebook_content`); once it
differs from the one signed, the signature is void. The first view that notices it records when
(``voided_at``), when her data first changed after signing (``changed_at``: her first audited
change after the signature, :func:`pebs.services.records.audit_trail.about_her`) and appends a
``casebook_signature_voided`` event. Signing is :func:`pebs.services.monitoring.sign_casebook`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pebs.services.casebook_content import casebook_of, casebook_sha256
from pebs.services.transaction import instant
from pebs.store.audit import append_event
from pebs.store.models import AuditEvent, CasebookSignature

__all__ = ["SignatureView", "signature_in", "signature_view"]

_NOT_CHANGES = frozenset({
    "read_identity", "preview_letter", "source_data_verified", "form_locked", "form_unlocked",
    "participant_locked", "participant_unlocked", "casebook_signed", "casebook_signature_voided",
    "signature_failed",
})  # fmt: skip
"""Audited actions about her that do not change her casebook."""


@dataclass(frozen=True)
class SignatureView:
    """The manifestation of her latest signature (21 CFR 11.50), and whether it still holds."""

    signer_name: str
    signer_username: str
    signer_role: str
    signed_at: datetime
    meaning: str
    meaning_version: str
    meaning_language: str
    meaning_text: str
    casebook_sha256: str
    valid: bool
    """False once her casebook changed after signing (void)."""
    voided_at: datetime | None
    changed_at: datetime | None
    """When her data first changed after signing (``None``: not known)."""


def signature_view(row: CasebookSignature) -> SignatureView:
    return SignatureView(
        row.signer_name, row.signer_username, row.signer_role, row.signed_at, row.meaning,
        row.meaning_version, row.meaning_language, row.meaning_text, row.casebook_sha256,
        row.voided_at is None, row.voided_at, row.changed_at,
    )  # fmt: skip


def signature_in(
    session: Session, participant_id: int, study_id: str, study_pk: int,
    *, at: datetime | None = None,
) -> SignatureView | None:  # fmt: skip
    """Her latest signature in the caller's transaction, checked against her casebook now; a
    void noticed for the first time is recorded and audited (module docstring)."""
    row = session.scalar(
        select(CasebookSignature).where(CasebookSignature.participant_id == participant_id)
        .order_by(CasebookSignature.id.desc()).limit(1)
    )  # fmt: skip
    if row is None or row.voided_at is not None:
        return None if row is None else signature_view(row)
    now_sha256 = casebook_sha256(casebook_of(session, participant_id, study_pk))
    if now_sha256 != row.casebook_sha256:
        # Imported here: the records package shows her signature on her page (this module).
        from pebs.services.records.audit_trail import about_her

        now = instant(at)
        row.voided_at = now
        row.changed_at = session.scalar(
            select(AuditEvent.at).where(
                about_her(session, participant_id, study_id),
                AuditEvent.at > row.signed_at, AuditEvent.action.notin_(_NOT_CHANGES),
            ).order_by(AuditEvent.id).limit(1)
        )  # fmt: skip
        append_event(
            session, actor="system", action="casebook_signature_voided", entity="participant",
            entity_id=study_id, reason="her casebook changed after it was signed",
            old={"signature_id": row.id, "casebook_sha256": row.casebook_sha256},
            new={"casebook_sha256": now_sha256, "changed_at": row.changed_at}, at=now,
        )  # fmt: skip
    return signature_view(row)
