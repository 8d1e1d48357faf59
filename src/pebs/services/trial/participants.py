"""Read one participant's pseudonymised record (no identifying data), within the caller's scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.signature_status import SignatureView, signature_in
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.subject import find_participant
from pebs.services.trial.registration import participant_language
from pebs.store.repositories import get_allocation

__all__ = ["ParticipantSummary", "get_participant_summary"]


@dataclass(frozen=True)
class ParticipantSummary:
    study_id: str
    site: str
    country: str
    status: str
    """Pathway state (:class:`pebs.trial.State`)."""
    age_at_entry: int | None
    age_band: str | None
    stratum: str | None
    strata_locked: bool
    arm: str | None
    is_test: bool
    registered_at: datetime
    language: str
    """The language her letters are written in (ISO 639-1)."""
    signature: SignatureView | None = None
    """Her investigator's latest signature, its manifestation and whether it still holds
    (21 CFR 11.50); ``None``: never signed. A void noticed here is recorded and audited."""


@refuses_unstorable_text
def get_participant_summary(
    session_maker: sessionmaker[Session], actor: Actor, study_id: str
) -> ParticipantSummary:
    """Her pseudonymised record; :class:`~.errors.NotFound` outside the actor's scope."""
    require(actor, Action.READ_PARTICIPANT)
    with session_maker() as session, session.begin():
        subject = find_participant(session, actor, study_id)
        participant = subject.participant
        allocation = get_allocation(session, participant.id)
        return ParticipantSummary(
            study_id=participant.study_id, site=subject.site.code, country=subject.country.code,
            status=participant.status, age_at_entry=participant.age_at_entry,
            age_band=participant.age_band, stratum=participant.stratum,
            strata_locked=participant.is_locked,
            arm=None if allocation is None else allocation.arm, is_test=participant.is_test,
            registered_at=participant.registered_at,
            language=participant.language or participant_language(None, subject.country.languages),
            signature=signature_in(session, participant.id, participant.study_id,
                                   subject.country.study_id),
        )  # fmt: skip
