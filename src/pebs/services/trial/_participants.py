"""A participant, found through the caller's scope, with her site, country and study.

Writing use cases lock her row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's writer lock
already serialises every writing transaction), so two requests about the same woman run one
after the other and the second sees what the first committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from pebs.services.trial.actor import Actor
from pebs.services.trial.errors import Conflict, NotFound
from pebs.services.trial.keys import IdentityKeys
from pebs.store.models import Country, Participant, ParticipantIdentity, Site, Study
from pebs.store.repositories import Scope
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
            raise Conflict(f"{self.participant.study_id}: {error}") from None
        self.participant.status = new.value
        return old, new.value

    def require_state(self, allowed: tuple[State, ...], doing: str) -> None:
        if self.state not in allowed:
            raise Conflict(
                f"{self.participant.study_id} is {self.state.value!r}: cannot {doing} "
                f"(possible when {', '.join(s.value for s in allowed)})"
            )


def find_participant(
    session: Session, actor: Actor, study_id: str, *, for_update: bool = False
) -> Subject:
    """The participant with pseudonymous ``study_id`` in ``actor``'s scope, or :class:`NotFound`.

    One scoped query (:meth:`pebs.store.repositories.Scope.apply`) joins her site and country;
    ``for_update`` locks her row until the transaction ends.
    """
    row = session.execute(_statement(actor.scope, for_update), {"study_id": study_id}).first()
    if row is None:
        raise NotFound(f"no participant {study_id!r} (in your sites)")
    return Subject(*row)


@lru_cache(maxsize=512)
def _statement(scope: Scope, for_update: bool) -> Select:
    """The scoped query, built once per scope (use cases run it many times)."""
    statement = scope.apply(
        select(Participant, Site, Country)
        .join(Site, Participant.site_id == Site.id)
        .join(Country, Site.country_id == Country.id)
        .where(Participant.study_id == bindparam("study_id"))
    )
    return statement.with_for_update(of=Participant) if for_update else statement


def birth_date(session: Session, keys: IdentityKeys, participant: Participant) -> date:
    """Her date of birth, decrypted from the identity record."""
    identity = session.get(ParticipantIdentity, participant.id)
    if identity is None:
        raise Conflict(f"{participant.study_id} has no identity record (date of birth)")
    return keys.cipher.decrypt_date(identity.date_of_birth_enc)


COLLECTING = (
    State.RANDOMISED_STANDARD, State.RANDOMISED_RISK_BASED, State.RISK_ASSESSED,
    State.PLAN_GIVEN, State.IN_FOLLOW_UP, State.COMPLETED, State.WITHDRAWN_NO_CONTACT,
)  # fmt: skip
"""States in which follow-up data (visits, outcomes) is collected: randomised, and not withdrawn
from data collection (a woman who only declined further contact is still followed in records)."""
