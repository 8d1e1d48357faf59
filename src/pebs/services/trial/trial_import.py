"""Import a whole trial from files: women, their visits and diagnoses (CSV), through
:func:`~pebs.services.trial.enrolment_import.import_enrolments`.

The files are checked before anything is stored (columns, encoding); each row's values are read
and refused with their file, line and column; the rows of the visits and diagnoses files are
attached to the woman whose ``source_id`` they name. Rows that name no woman of the enrolment file
are refused after the women (file, line, ``source_id``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import InvalidInput
from pebs.services.field_rules import unknown_choice
from pebs.services.keys import IdentityKeys
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.trial.enrolment_file import Enrolment, RowRefused, read_enrolments
from pebs.services.trial.enrolment_import import (
    EnrolmentOutcome,
    ImportSummary,
    import_enrolments,
)
from pebs.services.trial.follow_up_file import FollowUp, read_follow_up, with_follow_up
from pebs.services.trial.odm_import import (
    casebook_enrolments,
    protocol_criteria,
    read_identities,
)

__all__ = ["FORMATS", "import_csv_files", "import_files"]

FORMATS = ("csv", "odm")
"""The formats a trial is imported from."""


@refuses_unstorable_text
def import_files(
    sessions: sessionmaker[Session],
    actor: Actor,
    keys: IdentityKeys,
    study: str,
    file: Path,
    *,
    file_format: str = "csv",
    visits: Path | None = None,
    diagnoses: Path | None = None,
    identities: Path | None = None,
    dry_run: bool = False,
    on_outcome: Callable[[EnrolmentOutcome], None] | None = None,
) -> ImportSummary:
    """Import ``file`` of ``file_format`` (:data:`FORMATS`): CSV (:func:`import_csv_files`,
    with ``visits`` and ``diagnoses``) or CDISC ODM (with the women's ``identities``).

    A data manager's task (:attr:`Action.IMPORT_TRIAL`); each step also needs its own use
    case's permission, checked as it runs."""
    require(actor, Action.IMPORT_TRIAL, needs_account=True)
    if file_format == "csv":
        if identities is not None:
            raise InvalidInput("--identities is for an ODM file", field="identities")
        return import_csv_files(
            sessions, actor, keys, study, file, visits=visits, diagnoses=diagnoses,
            dry_run=dry_run, on_outcome=on_outcome,
        )  # fmt: skip
    if file_format == "odm":
        if visits is not None or diagnoses is not None:
            raise InvalidInput("an ODM file holds her visits and diagnoses: give no --visits or "
                               "--diagnoses file", field="visits")  # fmt: skip
        return import_odm_file(sessions, actor, keys, study, file, identities=identities,
                               dry_run=dry_run, on_outcome=on_outcome)  # fmt: skip
    raise unknown_choice("format", file_format, FORMATS)


@refuses_unstorable_text
def import_csv_files(
    sessions: sessionmaker[Session],
    actor: Actor,
    keys: IdentityKeys,
    study: str,
    women: Path,
    *,
    visits: Path | None = None,
    diagnoses: Path | None = None,
    dry_run: bool = False,
    on_outcome: Callable[[EnrolmentOutcome], None] | None = None,
) -> ImportSummary:
    """Import the enrolment file ``women`` with the ``visits`` and ``diagnoses`` files (see
    :mod:`.enrolment_file`, :mod:`.follow_up_file`); ``dry_run``: every check, nothing stored.
    :class:`~pebs.services.errors.InvalidInput` (field ``file``) for an unusable file, raised
    before anything is stored."""
    follow_up = read_follow_up(visits, diagnoses)
    return import_enrolments(
        sessions, actor, keys, study, _rows(read_enrolments(women), follow_up),
        on_outcome=on_outcome, dry_run=dry_run,
    )  # fmt: skip


@refuses_unstorable_text
def import_odm_file(
    sessions: sessionmaker[Session],
    actor: Actor,
    keys: IdentityKeys,
    study: str,
    file: Path,
    *,
    identities: Path | None,
    dry_run: bool = False,
    on_outcome: Callable[[EnrolmentOutcome], None] | None = None,
) -> ImportSummary:
    """Import the CDISC ODM 1.3.2 file ``file`` (:mod:`.odm_import`) with the women's
    ``identities`` (an enrolment file whose ``source_id`` is the ODM ``SubjectKey``)."""
    if identities is None:
        raise InvalidInput(
            "an ODM file holds no identities: give the identities file (name, birth_date... "
            "with source_id = the ODM SubjectKey)", field="identities",
        )  # fmt: skip
    people, refused = read_identities(identities)
    criteria = protocol_criteria(sessions, study)

    def rows() -> Iterator[Enrolment | RowRefused]:
        yield from casebook_enrolments(file, study, people, criteria)
        yield from refused

    return import_enrolments(sessions, actor, keys, study, rows(), on_outcome=on_outcome,
                             dry_run=dry_run)  # fmt: skip


def _rows(
    women: Iterator[Enrolment | RowRefused], follow_up: FollowUp
) -> Iterator[Enrolment | RowRefused]:
    yield from with_follow_up(women, follow_up)
    yield from follow_up.refused
