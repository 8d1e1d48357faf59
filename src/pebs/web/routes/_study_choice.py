"""The study a page works on: the one asked for, or the first the viewer may see."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Actor
from pebs.services.errors import InvalidInput
from pebs.services.records.choices import studies_for


def chosen_study(sessions: sessionmaker[Session], actor: Actor, study: str | None) -> str:
    """``study`` if ``actor`` may see it; none asked for: the first they may see;
    :class:`InvalidInput` naming the studies otherwise."""
    names = studies_for(sessions, actor)
    if study in names:
        return study  # type: ignore[return-value]
    if study is not None or not names:
        raise InvalidInput(f"no study {study!r}; studies: {', '.join(names)}", field="study")
    return names[0]
