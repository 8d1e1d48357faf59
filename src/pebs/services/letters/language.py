"""Change the language her letters are written in (one of her country's study languages)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.letters._facts import her_language
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.subject import find_participant
from pebs.services.transaction import instant, transaction
from pebs.services.trial.registration import participant_language
from pebs.store.audit import append_event

__all__ = ["LanguageSet", "set_language"]


@dataclass(frozen=True)
class LanguageSet:
    study_id: str
    previous: str
    language: str


@refuses_unstorable_text
def set_language(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study_id: str,
    language: str,
    *,
    at: datetime | None = None,
) -> LanguageSet:
    """Record ``language`` as hers (audited: ``participant``/``set_language``).

    :class:`InvalidInput` (field ``language``, the allowed values listed) for a language that
    is not one of her country's study languages.
    """
    require(actor, Action.REGISTER)
    changed_at = instant(at)
    with transaction(session_maker) as session:
        subject = find_participant(session, actor, study_id, for_update=True)
        if not isinstance(language, str):
            language = repr(language)
        chosen = participant_language(language, subject.country.languages)
        previous = her_language(subject)
        subject.participant.language = chosen
        append_event(
            session, actor=actor.username, action="set_language", entity="participant",
            entity_id=study_id, reason="language of her letters",
            old={"language": previous}, new={"language": chosen}, at=changed_at,
        )  # fmt: skip
    return LanguageSet(study_id, previous, chosen)
