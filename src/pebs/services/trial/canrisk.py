"""Her CanRisk pedigree file: imported as her risk questionnaire, exported for CanRisk.

**Import** (:func:`import_canrisk`): the file is read and checked line by line
(:mod:`pebs.io.imports.canrisk`; a bad file is refused with :class:`InvalidFields` naming each
line, column and what is allowed). A target year of birth that is not hers is refused (is it
her file?). The questionnaire answers the file carries (``age_at_menarche``,
``age_at_first_birth`` and, when her parents are in it, ``n_relatives``) replace those of her
latest risk questionnaire; her other answers are kept (CanRisk has no biopsy field); and the
whole is recorded by the risk questionnaire's own use case
(:func:`.risk_questionnaire.record_risk_questionnaire_in`): the same checks (her arm, the
study's required answers, the platform's bounds), the same audit event, with the file's SHA-256,
its version and her affected first-degree relatives (relation and age at diagnosis, never a
name or an identifier of the file) as its ``source``, and her risk and plan computed if her data
is now complete (never lowering her level without a clinician). A density or polygenic score
in the file is reported, not stored: in the trial they come from her baseline mammogram and the
laboratory. A file that carries none of her questionnaire's answers is refused. ``dry_run``
checks everything and stores nothing.

**Export** (:func:`export_canrisk`): her file for a clinician to open in CanRisk
(:mod:`pebs.io.canrisk_writer`): her study ID as the family, her current inputs (latest
questionnaire, baseline density, accepted PRS), her age today and year of birth (from her
identity record; ``0``, not known, without one), a breast cancer or death recorded in the trial,
and the smallest family that carries her count of affected relatives. The read is audited
(``canrisk_export`` on her), without the values.

Both need :data:`~pebs.services.actor.Action.RECORD_RISK` (the roles that record her risk
factors, and read her identity).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pebs.io.canrisk_format import FAMILY_ID_CHARS
from pebs.io.canrisk_writer import Proband, write_canrisk
from pebs.io.imports.canrisk import CanRiskError, CanRiskFile, read_canrisk
from pebs.screening.calendar import age_on
from pebs.services.actor import Action, Actor, require
from pebs.services.errors import Conflict, InvalidFields, InvalidInput
from pebs.services.field_rules import AGE_AT_FIRST_BIRTH, AGE_AT_MENARCHE, N_RELATIVES, Bounds
from pebs.services.keys import IdentityKeys
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.subject import Subject, birth_date, find_participant
from pebs.services.transaction import instant, local_date, transaction
from pebs.services.trial._risk_factors import QUESTIONNAIRE_INPUTS, RiskFactors
from pebs.services.trial.risk_completion import inputs_of
from pebs.services.trial.risk_questionnaire import (
    checked_answers_in,
    record_risk_questionnaire_in,
)
from pebs.store.audit import append_event
from pebs.store.models import Death, Outcome

__all__ = [
    "CANRISK_MEDIA_TYPE",
    "CanRiskExport",
    "CanRiskImported",
    "Relative",
    "export_canrisk",
    "import_canrisk",
]

CANRISK_MEDIA_TYPE = "text/tab-separated-values"
EXPORT_ACTION = "canrisk_export"
"""Audit action (entity ``participant``) of a CanRisk file given out."""
_MEASURED = ("density", "prs_z")
"""Inputs a file may carry that the trial measures itself (not imported)."""
_BOUNDS: dict[str, tuple[str, Bounds]] = {
    "age_at_menarche": ("##menarche", AGE_AT_MENARCHE),
    "age_at_first_birth": ("##first_live_birth", AGE_AT_FIRST_BIRTH),
    "n_relatives": ("the pedigree", N_RELATIVES),
}
"""Where in the file each questionnaire answer comes from, and the platform's bounds on it."""


@dataclass(frozen=True)
class Relative:
    """An affected first-degree relative as the file gives her."""

    relation: str
    """``mother``, ``sister`` or ``daughter``."""
    age_at_diagnosis: int | None
    """Years; ``None``: affected at an unknown age."""


@dataclass(frozen=True)
class CanRiskImported:
    """What an import took from the file, what it left, and what followed."""

    study_id: str
    dry_run: bool
    file_sha256: str
    version: str
    """The file's CanRisk version (``"4"``)."""
    n_individuals: int
    answers: dict[str, Any]
    """Her risk questionnaire's answers as stored (on a dry run: as they would be)."""
    from_file: tuple[str, ...]
    """The answers taken from the file; the others are her latest questionnaire's."""
    not_imported: dict[str, Any]
    """Density or PRS the file carries: measured in the trial, not taken from a file."""
    relatives: tuple[Relative, ...]
    """Her first-degree relatives with breast cancer (counted in ``n_relatives`` when her
    parents are in the file)."""
    family_history: bool
    """Whether her parents are in the file (without them her family history is not taken)."""
    n_other_affected: int
    """Members with breast cancer not counted: beyond the first degree, or men."""
    ignored_header: tuple[str, ...]
    """Risk-factor lines the platform has no input for (``BMI``, ``oc_use``...)."""
    ignored_columns: dict[str, int]
    """Columns the platform does not use -> members with a value there."""
    questionnaire_id: int | None
    """The questionnaire stored (``None`` on a dry run)."""
    risk_level: str | None
    """Her level, if the questionnaire completed her data and her risk was computed."""
    missing: tuple[str, ...]
    """What her final assessment still waits for (after a stored import)."""


@dataclass(frozen=True)
class CanRiskExport:
    """Her CanRisk file, to hand to a clinician."""

    study_id: str
    file_name: str
    text: str
    media_type: str = CANRISK_MEDIA_TYPE


@refuses_unstorable_text
def import_canrisk(
    session_maker: sessionmaker[Session],
    actor: Actor,
    keys: IdentityKeys,
    study_id: str,
    data: bytes,
    *,
    dry_run: bool = False,
    answered_on: date | None = None,
    at: datetime | None = None,
) -> CanRiskImported:
    """Record the risk questionnaire answers of her CanRisk file ``data`` (see the module
    docstring); ``answered_on``: the day the file's answers were given (default: today at her
    site); ``dry_run``: check everything, store nothing."""
    require(actor, Action.RECORD_RISK)
    recorded_at = instant(at)
    file = _read(data, recorded_at)
    with transaction(session_maker) as session:
        subject = find_participant(session, actor, study_id, for_update=not dry_run)
        _check_hers(session, keys, subject, file)
        day = answered_on or local_date(recorded_at, subject.country.time_zone)
        previous = inputs_of(session, subject.participant.id).questionnaire
        kept = {} if previous is None else dict(previous.answers)
        taken = {name: file.inputs[name] for name in QUESTIONNAIRE_INPUTS if name in file.inputs}
        factors = RiskFactors(**{name: taken.get(name, kept.get(name))
                                 for name in QUESTIONNAIRE_INPUTS})  # fmt: skip
        source = _source(file, data, taken)
        if dry_run:
            answers = checked_answers_in(
                session, subject, factors, answered_on=day, recorded_at=recorded_at
            )
            return _imported(study_id, file, data, answers, taken, None, None, (), dry_run=True)
        done = record_risk_questionnaire_in(
            session, actor, keys, subject, factors, answered_on=day, recorded_at=recorded_at,
            reason="risk questionnaire from a CanRisk file", source=source,
        )  # fmt: skip
    answers = {name: getattr(factors, name) for name in QUESTIONNAIRE_INPUTS}
    return _imported(study_id, file, data, answers, taken, done.questionnaire_id,
                     done.risk_level, done.missing, dry_run=False)  # fmt: skip


def _read(data: bytes, at: datetime) -> CanRiskFile:
    """The file, or :class:`InvalidFields` naming each of its problems (``file.line_7.Sex``);
    :class:`InvalidInput` when it carries no questionnaire answer; answers outside the
    platform's bounds are refused, naming the file's line."""
    if not isinstance(data, bytes | bytearray):
        raise InvalidInput("give the file's bytes", field="file")
    try:
        file = read_canrisk(bytes(data), this_year=at.year)
    except CanRiskError as error:
        fields: dict[str, str] = {}
        for problem in error.problems:
            parts = ["file", *([f"line_{problem.line}"] if problem.line else []),
                     *([problem.column] if problem.column else [])]  # fmt: skip
            key = ".".join(parts)
            fields[key] = "; ".join(filter(None, (fields.get(key), str(problem))))
        raise InvalidFields(str(error), fields, message_code="error.canrisk_file") from None
    if not any(name in file.inputs for name in QUESTIONNAIRE_INPUTS):
        raise InvalidInput(
            "the CanRisk file carries none of her risk questionnaire's answers (##menarche, "
            "##parity or ##first_live_birth, her parents and relatives)", field="file",
            message_code="error.canrisk_nothing",
        )  # fmt: skip
    outside = {
        name: f"{file.inputs[name]} from {where} is outside {low} to {high}"
        for name, (where, (low, high)) in _BOUNDS.items()
        if isinstance(file.inputs.get(name), int) and not low <= file.inputs[name] <= high
    }
    if outside:
        parts = "; ".join(f"{name}: {text}" for name, text in outside.items())
        raise InvalidFields(f"CanRisk file: {parts}", outside)
    return file


def _check_hers(session: Session, keys: IdentityKeys, subject: Subject, file: CanRiskFile) -> None:
    """:class:`Conflict` when the file's target was not born in her year of birth."""
    if file.target_year_of_birth is None:
        return
    try:
        born = birth_date(session, keys, subject.participant).year
    except Conflict:  # no identity record: nothing to compare with
        return
    if born != file.target_year_of_birth:
        study_id = subject.participant.study_id
        raise Conflict(
            f"{study_id}: the file's target was born in {file.target_year_of_birth}, she in "
            f"{born}: is it her file?", message_code="error.canrisk_not_hers",
            values={"file_year": file.target_year_of_birth, "year": born},
        )  # fmt: skip


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _source(file: CanRiskFile, data: bytes, taken: dict[str, Any]) -> dict[str, Any]:
    """What the audit event says of the file: never a name or an identifier from it."""
    return {
        "format": "CanRisk", "version": file.version, "file_sha256": _sha256(data),
        "n_individuals": file.n_individuals, "from_file": sorted(taken),
        "relatives": [{"relation": r.relation, "age_at_diagnosis": r.age_at_diagnosis}
                      for r in file.relatives],
        "not_imported": sorted(name for name in _MEASURED if name in file.inputs),
    }  # fmt: skip


def _imported(
    study_id: str, file: CanRiskFile, data: bytes, answers: dict[str, Any],
    taken: dict[str, Any], questionnaire_id: int | None, level: str | None,
    missing: tuple[str, ...], *, dry_run: bool,
) -> CanRiskImported:  # fmt: skip
    return CanRiskImported(
        study_id, dry_run, _sha256(data), file.version, file.n_individuals, answers,
        tuple(taken), {name: file.inputs[name] for name in _MEASURED if name in file.inputs},
        tuple(Relative(r.relation, r.age_at_diagnosis) for r in file.relatives),
        file.family_history, file.n_other_affected, file.ignored_header,
        dict(file.ignored_columns), questionnaire_id, level, missing,
    )  # fmt: skip


@refuses_unstorable_text
def export_canrisk(
    session_maker: sessionmaker[Session],
    actor: Actor,
    keys: IdentityKeys,
    study_id: str,
    *,
    at: datetime | None = None,
) -> CanRiskExport:
    """Her CanRisk v4 file (see the module docstring); the read is audited."""
    require(actor, Action.RECORD_RISK)
    now = instant(at)
    with transaction(session_maker) as session:
        subject = find_participant(session, actor, study_id)
        found = inputs_of(session, subject.participant.id)
        inputs = found.factors().answers()
        proband = _proband(session, keys, subject, now)
        try:
            text = write_canrisk(proband, inputs)
        except ValueError as error:
            raise Conflict(f"{study_id}: no CanRisk file can be written: {error}") from None
        append_event(
            session, actor=actor.username, action=EXPORT_ACTION, entity="participant",
            entity_id=study_id, reason="CanRisk file exported",
            new={"file_sha256": _sha256(text.encode()), "sources": found.sources(),
                 "year_of_birth": proband.year_of_birth is not None},
            at=now,
        )  # fmt: skip
    return CanRiskExport(study_id, f"{study_id}.canrisk.txt", text)


def _proband(session: Session, keys: IdentityKeys, subject: Subject, now: datetime) -> Proband:
    """Her line: the family ID, her age and year of birth, her death and breast cancer."""
    participant = subject.participant
    family_id = participant.study_id
    if len(family_id) > FAMILY_ID_CHARS:  # a long site code: the hyphens are left out
        family_id = family_id.replace("-", "")
    try:
        born: date | None = birth_date(session, keys, participant)
    except Conflict:  # no identity record: her age and year of birth are not known
        born = None
    died = session.scalar(select(Death.date_of_death).where(
        Death.participant_id == participant.id))  # fmt: skip
    diagnosed = session.scalar(
        select(Outcome.diagnosis_date)
        .where(Outcome.participant_id == participant.id, Outcome.behaviour == "invasive")
        .order_by(Outcome.diagnosis_date).limit(1)
    )  # fmt: skip
    last_seen = died or local_date(now, subject.country.time_zone)
    return Proband(
        family_id, None if born is None else age_on(born, last_seen),
        None if born is None else born.year, dead=died is not None,
        breast_cancer_age=None if born is None or diagnosed is None else age_on(born, diagnosed),
        breast_cancer_at_unknown_age=born is None and diagnosed is not None,
    )  # fmt: skip
