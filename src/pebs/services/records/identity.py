"""Her identifying data (decrypted), for the roles that need it; every read is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Actor
from pebs.services.auth.policy import IDENTITY_ROLES
from pebs.services.errors import Conflict, PermissionDenied
from pebs.services.keys import IdentityKeys
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.subject import find_participant
from pebs.store.audit import append_event
from pebs.store.models import ParticipantIdentity

__all__ = ["IdentityView", "get_identity"]


@dataclass(frozen=True)
class IdentityView:
    study_id: str
    name: str
    birth_date: date
    contact: str | None
    national_id: str | None


@refuses_unstorable_text
def get_identity(
    session_maker: sessionmaker[Session], actor: Actor, keys: IdentityKeys, study_id: str
) -> IdentityView:
    """Name, date of birth, contact and national ID of a participant in the actor's scope.

    Only :data:`~pebs.services.auth.IDENTITY_ROLES`; the read is audited (who, whom, when;
    never the values).
    """
    if actor.role not in IDENTITY_ROLES:
        raise PermissionDenied(
            f"{actor.username} ({actor.role}) may not read identifying data; allowed roles: "
            + ", ".join(sorted(IDENTITY_ROLES))
        )
    with session_maker.begin() as session:
        subject = find_participant(session, actor, study_id)
        row = session.get(ParticipantIdentity, subject.participant.id)
        if row is None:
            raise Conflict(f"{study_id} has no identity record")
        cipher = keys.cipher
        view = IdentityView(
            study_id, cipher.decrypt_text(row.name_enc), cipher.decrypt_date(row.date_of_birth_enc),
            cipher.decrypt_optional(row.contact_enc), cipher.decrypt_optional(row.national_id_enc),
        )  # fmt: skip
        append_event(
            session, actor=actor.username, action="read_identity", entity="participant",
            entity_id=study_id, reason="identifying data viewed",
        )  # fmt: skip
        return view
