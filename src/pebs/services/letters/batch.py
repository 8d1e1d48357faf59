"""Issue every due letter of a study, one at a time, for the caller to write.

:func:`issue_batch` is a generator: it reads the due letters (:mod:`.due`), then renders and
records them a chunk at a time (:data:`CHUNK` letters and their audit events per transaction),
handing each PDF to the caller before its chunk is committed. Only one chunk's PDFs are held at
once, so 10,000 letters take the memory of :data:`CHUNK`. If the caller stops (an error while
writing a file, Ctrl-C), the chunk in progress is rolled back: a letter is recorded as issued
only once the caller has taken it and asked for the next chunk (a letter written but not
recorded stays due and is issued again next time; none is recorded that was not handed over).
A due letter that no longer applies when its turn comes (her kit was collected meanwhile) is
skipped and counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import Conflict, InvalidInput
from pebs.services.keys import IdentityKeys
from pebs.services.letters.due import DueLetter, check_since, due_in
from pebs.services.letters.issuing import IssuedLetterFile, issue_in
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.subject import find_participant
from pebs.services.transaction import instant, transaction
from pebs.services.trial.study_rules import study_named

__all__ = ["CHUNK", "BatchCounts", "issue_batch"]

CHUNK = 100
"""Letters rendered and recorded per transaction."""


@dataclass
class BatchCounts:
    """What a batch did so far: letters issued per (kind, language), and skipped."""

    issued: dict[tuple[str, str], int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    """``<study ID> <kind>: <why>`` of the due letters that no longer applied."""

    @property
    def n_issued(self) -> int:
        return sum(self.issued.values())


@refuses_unstorable_text
def issue_batch(
    session_maker: sessionmaker[Session],
    actor: Actor,
    keys: IdentityKeys,
    study: str,
    since: date | None = None,
    *,
    counts: BatchCounts | None = None,
    at: datetime | None = None,
) -> Iterator[IssuedLetterFile]:
    """Issue the letters due in ``study`` (those in the actor's scope; ``since``: see
    :func:`.due.letters_due`): an iterator of each issued letter with its PDF.

    The checks (permission, study, ``since``) and the list of due letters are done at the
    call; the letters are rendered and recorded as the iterator is read. ``counts`` (optional)
    is filled as chunks are committed.
    """
    require(actor, Action.ISSUE_LETTER)
    check_since(since)
    issued_at = instant(at)
    with session_maker() as session, session.begin():
        study_pk = study_named(session, study).id
        due = list(due_in(session, actor, study_pk, since=since, today=issued_at.date()))
    return _issue(session_maker, actor, keys, due, issued_at,
                  counts if counts is not None else BatchCounts())  # fmt: skip


def _issue(
    session_maker: sessionmaker[Session], actor: Actor, keys: IdentityKeys, due: list[DueLetter],
    at: datetime, counts: BatchCounts,
) -> Iterator[IssuedLetterFile]:  # fmt: skip
    for start in range(0, len(due), CHUNK):
        yield from _chunk(session_maker, actor, keys, due[start : start + CHUNK], at, counts)


def _chunk(
    session_maker: sessionmaker[Session], actor: Actor, keys: IdentityKeys,
    letters: list[DueLetter], at: datetime, counts: BatchCounts,
) -> Iterator[IssuedLetterFile]:  # fmt: skip
    added: dict[tuple[str, str], int] = {}
    with transaction(session_maker) as session:
        for letter in letters:
            subject = find_participant(session, actor, letter.study_id)
            try:
                with session.begin_nested():
                    issued = issue_in(
                        session, actor, keys, subject, kind=letter.kind, recipient="woman",
                        language=letter.language, at=at,
                    )  # fmt: skip
            except (InvalidInput, Conflict) as error:
                counts.skipped.append(f"{letter.study_id} {letter.kind}: {error}")
                continue
            key = (issued.kind, issued.language)
            added[key] = added.get(key, 0) + 1
            yield issued
    for key, n in added.items():  # counted once the chunk is committed
        counts.issued[key] = counts.issued.get(key, 0) + n
