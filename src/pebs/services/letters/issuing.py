"""Issue one letter: gather her facts, render, record what was issued, audit; one transaction.

A PDF letter is *issued*: an :class:`~pebs.store.models.IssuedLetter` row records its kind,
recipient, language, basis (the plan, kit or visit it reports), the template version, the
SHA-256 and size of the PDF and who issued it, with an ``issued_letter``/``issue`` audit event
carrying the same values. The PDF itself is not stored: it is handed to the caller, and a copy
shown later can be checked against the recorded digest. An HTML rendering is a *preview*: not
recorded as issued (nothing was sent), but audited (``participant``/``preview_letter``) because
it shows her name and contact.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker

from pebs import letters as engine
from pebs.letters.content import LetterData
from pebs.services.actor import Action, Actor, require
from pebs.services.errors import InvalidInput
from pebs.services.field_rules import unknown_choice
from pebs.services.keys import IdentityKeys
from pebs.services.letters._facts import Gathered, gather
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.subject import Subject, find_participant
from pebs.services.transaction import instant, local_date, transaction
from pebs.store.audit import append_event
from pebs.store.models import IssuedLetter

__all__ = ["FORMATS", "IssuedLetterFile", "LetterPreview", "issue_letter", "letter_data",
           "preview_letter", "render_letter"]  # fmt: skip

FORMATS = ("pdf", "html")
"""What a letter is rendered to: a PDF (issued and recorded) or an HTML preview."""


@dataclass(frozen=True)
class IssuedLetterFile:
    """A letter issued: its PDF and what was recorded about it."""

    letter_id: int
    study_id: str
    kind: str
    recipient: str
    language: str
    basis: str
    template_version: str
    sha256: str
    """SHA-256 of ``pdf`` (hexadecimal), as recorded."""
    issued_at: datetime
    issued_by: str
    pdf: bytes

    @property
    def file_name(self) -> str:
        """``<study ID>-<kind>-<recipient>-<language>.pdf``."""
        return f"{self.study_id}-{self.kind}-{self.recipient}-{self.language}.pdf"


@dataclass(frozen=True)
class LetterPreview:
    """A letter rendered to HTML (not issued)."""

    study_id: str
    kind: str
    recipient: str
    language: str
    basis: str
    html: str

    @property
    def file_name(self) -> str:
        return f"{self.study_id}-{self.kind}-{self.recipient}-{self.language}.html"


def issue_in(
    session: Session, actor: Actor, keys: IdentityKeys, subject: Subject, *, kind: str,
    recipient: str, language: str | None, at: datetime,
) -> IssuedLetterFile:  # fmt: skip
    """Render and record her letter inside the caller's transaction (see the module
    docstring); the batch issues many with it."""
    gathered = _gathered(session, keys, subject, kind, recipient, language, at)
    data = gathered.data
    pdf = engine.render_pdf(data)
    digest = hashlib.sha256(pdf).hexdigest()
    version = str(engine.TEMPLATE_VERSION)
    row = IssuedLetter(
        participant_id=subject.participant.id, kind=data.kind, recipient=data.recipient,
        language=data.language, basis=gathered.basis, template_version=version,
        pdf_sha256=digest, pdf_bytes=len(pdf), issued_at=at, issued_by_id=actor.user_id,
        issued_by=actor.username,
    )  # fmt: skip
    session.add(row)
    session.flush()
    append_event(
        session, actor=actor.username, action="issue", entity="issued_letter", entity_id=row.id,
        reason="letter issued",
        new={"participant": data.study_id, "kind": data.kind, "recipient": data.recipient,
             "language": data.language, "basis": gathered.basis, "template_version": version,
             "pdf_sha256": digest, "pdf_bytes": len(pdf), "issued_by": actor.username},
        at=at,
    )  # fmt: skip
    return IssuedLetterFile(row.id, data.study_id, data.kind, data.recipient, data.language,
                            gathered.basis, version, digest, at, actor.username, pdf)  # fmt: skip


def _gathered(session, keys, subject, kind, recipient, language, at) -> Gathered:
    study = subject.study(session)
    today = local_date(at, subject.country.time_zone)
    return gather(session, keys, subject, study, kind=kind, recipient=recipient,
                  language=language, issued_on=today)  # fmt: skip


@refuses_unstorable_text
def issue_letter(
    session_maker: sessionmaker[Session],
    actor: Actor,
    keys: IdentityKeys,
    study_id: str,
    kind: str,
    recipient: str = "woman",
    language: str | None = None,
    *,
    at: datetime | None = None,
) -> IssuedLetterFile:
    """Issue her letter ``kind`` (:data:`~pebs.trial.vocabularies.LETTER_KINDS`) to
    ``recipient`` (``woman`` or ``doctor``) in ``language`` (default: hers) as a PDF.

    Raises
    ------
    PermissionDenied
        The role may not issue letters.
    NotFound
        No such participant in the actor's scope.
    InvalidInput
        An unknown kind, recipient or language (the field is named, the allowed values
        listed), or a kind that does not apply to her (``message_code`` ``error.letter_*``).
    Conflict
        She has withdrawn or died: no letter is written to her.
    """
    require(actor, Action.ISSUE_LETTER)
    issued_at = instant(at)
    with transaction(session_maker) as session:
        subject = find_participant(session, actor, study_id)
        return issue_in(session, actor, keys, subject, kind=kind, recipient=recipient,
                        language=language, at=issued_at)  # fmt: skip


@refuses_unstorable_text
def preview_letter(
    session_maker: sessionmaker[Session],
    actor: Actor,
    keys: IdentityKeys,
    study_id: str,
    kind: str,
    recipient: str = "woman",
    language: str | None = None,
    *,
    at: datetime | None = None,
) -> LetterPreview:
    """Her letter rendered to HTML, not issued (the view is audited); refused as
    :func:`issue_letter` refuses."""
    require(actor, Action.ISSUE_LETTER)
    viewed_at = instant(at)
    with transaction(session_maker) as session:
        subject = find_participant(session, actor, study_id)
        gathered = _gathered(session, keys, subject, kind, recipient, language, viewed_at)
        data = gathered.data
        html = engine.render_html(data)
        append_event(
            session, actor=actor.username, action="preview_letter", entity="participant",
            entity_id=study_id, reason="letter viewed (not issued)",
            new={"kind": data.kind, "recipient": data.recipient, "language": data.language,
                 "basis": gathered.basis, "format": "html"},
            at=viewed_at,
        )  # fmt: skip
        return LetterPreview(study_id, data.kind, data.recipient, data.language, gathered.basis,
                             html)  # fmt: skip


@refuses_unstorable_text
def letter_data(
    session_maker: sessionmaker[Session],
    actor: Actor,
    keys: IdentityKeys,
    study_id: str,
    kind: str,
    recipient: str = "woman",
    language: str | None = None,
    *,
    on: date | None = None,
) -> LetterData:
    """The facts of her letter (name and contact decrypted), refused as :func:`issue_letter`
    refuses; reading them is audited as a view of identifying data."""
    require(actor, Action.ISSUE_LETTER)
    if on is not None and (isinstance(on, datetime) or not isinstance(on, date)):
        raise InvalidInput(f"must be a date, got {on!r}", field="on")
    at = instant(None)
    with transaction(session_maker) as session:
        subject = find_participant(session, actor, study_id)
        study = subject.study(session)
        day = on or local_date(at, subject.country.time_zone)
        gathered = gather(session, keys, subject, study, kind=kind, recipient=recipient,
                          language=language, issued_on=day)  # fmt: skip
        append_event(
            session, actor=actor.username, action="read_identity", entity="participant",
            entity_id=study_id, reason="identifying data viewed (letter facts)", at=at,
        )  # fmt: skip
        return gathered.data


@refuses_unstorable_text
def render_letter(
    session_maker: sessionmaker[Session],
    actor: Actor,
    keys: IdentityKeys,
    study_id: str,
    kind: str,
    recipient: str = "woman",
    language: str | None = None,
    file_format: str = "pdf",
) -> IssuedLetterFile | LetterPreview:
    """:func:`issue_letter` for ``pdf``, :func:`preview_letter` for ``html``; any other format
    is refused naming the field ``format``."""
    if file_format not in FORMATS:
        raise unknown_choice("format", file_format, FORMATS)
    if file_format == "html":
        return preview_letter(session_maker, actor, keys, study_id, kind, recipient, language)
    return issue_letter(session_maker, actor, keys, study_id, kind, recipient, language)
