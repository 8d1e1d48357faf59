"""The participant a use case works on: found through the caller's scope, with her site,
country and study, moved along the pathway by :meth:`Subject.apply`; or, for a use case that
writes with single statements, one flat row of facts (:func:`participant_facts`) moved by
:func:`advance`. Both share the rules here: her state checks, transitions and date of birth."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from pebs.services.actor import Actor
from pebs.services.data_locks import Writing, refuse_locked_writes, writing_of
from pebs.services.errors import Conflict, NotFound
from pebs.services.keys import IdentityKeys
from pebs.store.models import Country, Participant, ParticipantIdentity, Site, Study
from pebs.store.participant_lookup import (
    Projection,
    participant_in_scope,
    participants_in_scope,
)
from pebs.store.repositories import set_participant_status, set_participant_statuses
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
        new = next_state(self.participant.study_id, old, event)
        self.participant.status = new
        return old, new

    def require_state(self, allowed: tuple[State, ...], doing: str) -> None:
        require_state(self.participant.study_id, self.participant.status, allowed, doing)


def next_state(study_id: str, status: str, event: Event) -> str:
    """Her pathway state after ``event`` from ``status``; :class:`Conflict` if illegal."""
    try:
        return transition(status, event).value
    except TransitionError as error:
        raise Conflict(f"{study_id}: {error}", message_code="error.wrong_state",
                       values={"state": status}) from None  # fmt: skip


def require_state(study_id: str, status: str, allowed: tuple[State, ...], doing: str) -> None:
    """:class:`Conflict` unless her pathway state ``status`` is one of ``allowed``."""
    state = State(status)
    if state not in allowed:
        raise Conflict(
            f"{study_id} is {state.value!r}: cannot {doing} "
            f"(possible when {', '.join(s.value for s in allowed)})",
            message_code="error.wrong_state_for",
            values={"state": state.value, "allowed_states": tuple(s.value for s in allowed)},
        )


def advance(session: Session, her: Row[Any], event: Event) -> tuple[str, str]:
    """Move her (a :func:`participant_facts` row) along the pathway, written at once by one
    UPDATE of her row; returns (old, new) state, :class:`Conflict` if illegal."""
    new = next_state(her.study_id, her.status, event)
    set_participant_status(session, her.participant_id, new)
    return her.status, new


@dataclass
class Moves:
    """The pathway states of several women (:func:`participants_facts` rows) moved one after
    the other in memory, then written in one statement (:meth:`write`): the list form of
    :func:`advance`."""

    states: dict[int, str] = field(default_factory=dict)
    """Her state after the moves so far, by participant id (only the women moved)."""

    def status(self, her: Row[Any]) -> str:
        """Her state now: as read, or after the moves so far."""
        return self.states.get(her.participant_id, her.status)

    def advance(self, her: Row[Any], event: Event) -> tuple[str, str]:
        """Move her along the pathway; returns (old, new) state, :class:`Conflict` if illegal
        (and she is not moved)."""
        old = self.status(her)
        new = next_state(her.study_id, old, event)
        self.states[her.participant_id] = new
        return old, new

    def write(self, session: Session) -> None:
        """Write every moved woman's state."""
        set_participant_statuses(session, self.states.items())


def not_found(study_id: str) -> NotFound:
    """The error for a study ID that is not a participant in the caller's scope."""
    return NotFound(
        f"no participant {study_id!r} (in your sites)",
        message_code="error.no_participant",
        values={"study_id": study_id},
    )


_T = TypeVar("_T")


def one_found(found: Mapping[str, _T], study_id: str) -> _T:
    """Her entry in the result of a list lookup (:func:`find_participants`,
    :func:`participants_facts`), or :func:`not_found`."""
    her = found.get(study_id)
    if her is None:
        raise not_found(study_id)
    return her


def find_participant(
    session: Session, actor: Actor, study_id: str, *, for_update: bool = False
) -> Subject:
    """The participant with pseudonymous ``study_id`` in ``actor``'s scope, or :class:`NotFound`.

    One scoped query (:func:`pebs.store.participant_lookup.participant_in_scope`) joins her site
    and country; ``for_update`` locks her row until the transaction ends and is for writing:
    a lock of her study, of her or of a form of hers refuses the write
    (:func:`~pebs.services.data_locks.refuse_locked_writes`).
    """
    row = participant_in_scope(session, actor.scope, study_id, for_update=for_update)
    if row is None:
        raise not_found(study_id)
    subject = Subject(*row)
    if for_update:
        refuse_locked_writes(session, [_writing(subject)])
    return subject


def _writing(subject: Subject) -> Writing:
    p = subject.participant
    return Writing(p.id, p.study_id, subject.country.study_id)


def find_participants(
    session: Session, actor: Actor, study_ids: Sequence[str], *, for_update: bool = False
) -> dict[str, Subject]:
    """:func:`find_participant` for several women in one statement: those found, by study ID
    (:func:`not_found` is the error for the others); ``for_update`` locks them in id order."""
    rows = participants_in_scope(
        session, actor.scope, study_ids, projection=Projection.RECORDS, for_update=for_update
    )
    subjects = {study_id: Subject(*row) for study_id, row in rows.items()}
    if for_update:
        refuse_locked_writes(session, [_writing(subject) for subject in subjects.values()])
    return subjects


def participant_facts(
    session: Session, actor: Actor, study_id: str, *, for_update: bool = False
) -> Row[Any]:
    """:func:`find_participant` as one flat row of facts about her, without ORM objects
    (:attr:`~pebs.store.participant_lookup.Projection.FACTS`: her ``participant_id``,
    ``status``, country ``time_zone`` and ``country_code``, ``study_pk``, encrypted
    ``date_of_birth_enc``, ...), for use cases that write with single statements."""
    row = participant_in_scope(
        session, actor.scope, study_id, projection=Projection.FACTS, for_update=for_update
    )
    if row is None:
        raise not_found(study_id)
    if for_update:
        refuse_locked_writes(session, [writing_of(row)])
    return row


def participants_facts(
    session: Session, actor: Actor, study_ids: Sequence[str], *, for_update: bool = False
) -> dict[str, Row[Any]]:
    """:func:`participant_facts` for several women in one statement: the rows found, by study
    ID (:func:`not_found` is the error for the others); ``for_update`` locks them in id
    order."""
    rows = participants_in_scope(session, actor.scope, study_ids, for_update=for_update)
    if for_update:
        refuse_locked_writes(session, [writing_of(row) for row in rows.values()])
    return rows


_DATES_OF_BIRTH = select(
    ParticipantIdentity.participant_id, ParticipantIdentity.date_of_birth_enc
).where(ParticipantIdentity.participant_id.in_(bindparam("participant_ids", expanding=True)))


def birth_date(session: Session, keys: IdentityKeys, participant: Participant) -> date:
    """Her date of birth, decrypted from the identity record.

    An identity record the session already holds is used as it stands (with any change not yet
    flushed); otherwise only the encrypted date is read. :class:`Conflict` when she has no
    identity record.
    """
    born = birth_dates(session, keys, [participant])[participant.id]
    if isinstance(born, Conflict):
        raise born
    return born


def birth_dates(
    session: Session, keys: IdentityKeys, participants: Sequence[Participant]
) -> dict[int, date | Conflict]:
    """:func:`birth_date` of several women, or the :class:`Conflict` saying she has none, by
    row id; the encrypted dates the session does not hold read in one query."""
    held = {p.id: session.identity_map.get(identity_key(ParticipantIdentity, p.id))
            for p in participants}  # fmt: skip
    unread = sorted(pid for pid, identity in held.items() if identity is None)
    stored = {} if not unread else dict(session.connection().execute(
        _DATES_OF_BIRTH, {"participant_ids": unread}).all())  # fmt: skip
    births: dict[int, date | Conflict] = {}
    for participant in participants:
        identity = held[participant.id]
        encrypted = stored.get(participant.id) if identity is None else identity.date_of_birth_enc
        try:
            births[participant.id] = decrypt_birth_date(keys, participant.study_id, encrypted)
        except Conflict as missing:
            births[participant.id] = missing
    return births


def decrypt_birth_date(keys: IdentityKeys, study_id: str, encrypted: bytes | None) -> date:
    """Her date of birth from its stored ciphertext; :class:`Conflict` when she has no
    identity record (``None``)."""
    if encrypted is None:
        raise Conflict(
            f"{study_id} has no identity record (date of birth)",
            message_code="error.no_identity",
        )
    return keys.cipher.decrypt_date(encrypted)
