"""The participant a use case works on: found through the caller's scope, with her site,
country and study, moved along the pathway by :meth:`Subject.apply`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from pebs.services.actor import Actor
from pebs.services.errors import Conflict, NotFound
from pebs.services.keys import IdentityKeys
from pebs.store.models import Country, Participant, ParticipantIdentity, Site, Study
from pebs.store.participant_lookup import participant_in_scope
from pebs.trial import Event, State, TransitionError, transition


@dataclass
class Subject:
    """The participant a use case works on, and where she is."""

    participant: Participant
    site: Site
    country: Country

    @property
    def state(self) -> State:
        return State(self.participant.status)

    def study(self, session: Session) -> Study:
        study = session.get(Study, self.country.study_id)
        assert study is not None  # a foreign key
        return study

    def apply(self, event: Event) -> tuple[str, str]:
        """Move her along the pathway; returns (old, new) state, :class:`Conflict` if illegal."""
        old = self.participant.status
        try:
            new = transition(old, event)
        except TransitionError as error:
            raise Conflict(f"{self.participant.study_id}: {error}",
                           message_code="error.wrong_state",
                           values={"state": self.participant.status}) from None  # fmt: skip
        self.participant.status = new.value
        return old, new.value

    def require_state(self, allowed: tuple[State, ...], doing: str) -> None:
        if self.state not in allowed:
            raise Conflict(
                f"{self.participant.study_id} is {self.state.value!r}: cannot {doing} "
                f"(possible when {', '.join(s.value for s in allowed)})",
                message_code="error.wrong_state_for",
                values={"state": self.state.value,
                        "allowed_states": tuple(s.value for s in allowed)},
            )  # fmt: skip


def find_participant(
    session: Session, actor: Actor, study_id: str, *, for_update: bool = False
) -> Subject:
    """The participant with pseudonymous ``study_id`` in ``actor``'s scope, or :class:`NotFound`.

    One scoped query (:func:`pebs.store.participant_lookup.participant_in_scope`) joins her site
    and country; ``for_update`` locks her row until the transaction ends.
    """
    row = participant_in_scope(session, actor.scope, study_id, for_update=for_update)
    if row is None:
        raise NotFound(
            f"no participant {study_id!r} (in your sites)",
            message_code="error.no_participant",
            values={"study_id": study_id},
        )
    return Subject(*row)


def birth_date(session: Session, keys: IdentityKeys, participant: Participant) -> date:
    """Her date of birth, decrypted from the identity record."""
    identity = session.get(ParticipantIdentity, participant.id)
    if identity is None:
        raise Conflict(
            f"{participant.study_id} has no identity record (date of birth)",
            message_code="error.no_identity",
        )
    return keys.cipher.decrypt_date(identity.date_of_birth_enc)
