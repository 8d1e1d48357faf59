"""A trial's casebooks from a CDISC ODM 1.3.2 file, turned into the rows of the enrolment import.

:func:`casebook_enrolments` reads the file subject by subject (:mod:`pebs.io.imports.odm`) and
makes of each casebook what a row of the enrolment file and its visits and diagnoses files would
say (:class:`~.enrolment_file.Enrolment`), so that she goes through the same use cases. An ODM
casebook is pseudonymous: her identity (name, date of birth, national ID, contact) comes from
the identities file, an enrolment file whose ``source_id`` is her ODM ``SubjectKey``, read whole
first. She is stored with the ``SubjectKey`` as her ``source_id``.

=============================  ================================================================
form (ODM)                     what the import does with it
=============================  ================================================================
registration                   her site (``SiteRef``), language and registration instant
eligibility (latest)           her answers, rebuilt from the result under its protocol version:
                               every criterion as expected, except those named in
                               ``screen_failure_criteria``; ``incomplete``: not assessed
consent (latest)               consent instant; language from ``consent_version``
                               (``IT/it v1``); a withdrawal is not imported (she is refused)
allocation                     an imported allocation: the arm, the instant and the method as
                               written (``source_method``); never re-randomised
risk_factors                   her risk factors (``unknown``, ``nulliparous``, ``yes``/``no``)
risk_assessment (latest)       its instant is the risk step's; level and risk are recomputed
screening_plan                 recomputed from her arm and risk
visit                          each visit with a ``performed_date``; its ``due_date`` finds the
                               expected visit of her plan; expected visits not done are
                               made again by her plan
outcome, death                 recorded through their use cases (stage groups recomputed)
questionnaire                  not imported: each instance is reported as refused
=============================  ================================================================
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pebs.io.errors import InputFormatError
from pebs.io.imports.odm import SubjectRefused, read_casebooks
from pebs.services.errors import InvalidInput
from pebs.services.field_rules import DEFAULT_VISIT_TYPE
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.trial._risk_factors import NULLIPAROUS, UNKNOWN, RiskFactors
from pebs.services.trial.allocation import ImportedAllocation
from pebs.services.trial.enrolment_file import (
    DeathRecord,
    Enrolment,
    RowRefused,
    read_enrolments,
)
from pebs.services.trial.follow_up_file import OutcomeRow, VisitRow
from pebs.services.trial.outcomes import OutcomeRecord
from pebs.services.trial.registration import NewParticipant
from pebs.services.trial.study_rules import criteria_of, study_named
from pebs.services.trial.visits import VisitRecord
from pebs.store.models import ProtocolVersion
from pebs.trial import CriteriaSet
from pebs.trial.casebook import Casebook, FormInstance

__all__ = ["casebook_enrolments", "read_identities"]

FILE = "odm"
_CONSENT_VERSION = re.compile(r"^[A-Z]{2}/(?P<language>[a-z]{2,3}) ")
_WHOLE = ("n_biopsies", "age_at_menarche", "age_at_first_birth", "n_relatives")


def read_identities(path: Path) -> tuple[dict[str, Enrolment], list[RowRefused]]:
    """The women of the identities file by ``source_id``, and its rows refused (unreadable, or
    without a ``source_id``)."""
    found: dict[str, Enrolment] = {}
    refused: list[RowRefused] = []
    for row in read_enrolments(path):
        if isinstance(row, RowRefused):
            refused.append(_in_identities(row))
        elif not row.new.source_id:
            refused.append(RowRefused(row.line, "source_id", "empty: an identity is found by "
                                      "the ODM SubjectKey given here", "identities"))  # fmt: skip
        else:
            found[row.new.source_id] = row
    return found, refused


def _in_identities(row: RowRefused) -> RowRefused:
    return RowRefused(row.line, row.field, row.message, "identities")


@refuses_unstorable_text
def protocol_criteria(sessions: sessionmaker[Session], study: str) -> dict[str, CriteriaSet]:
    """The study's protocol versions' criteria, by version."""
    with sessions() as session:
        study_pk = study_named(session, study).id
        rows = session.scalars(select(ProtocolVersion).where(ProtocolVersion.study_id == study_pk))
        return {row.version: criteria_of(row) for row in rows}


def casebook_enrolments(
    path: Path, study: str, identities: Mapping[str, Enrolment],
    criteria: Mapping[str, CriteriaSet],
) -> Iterator[Enrolment | RowRefused]:  # fmt: skip
    """Each subject of the ODM file at ``path`` as a row of the enrolment import (module
    docstring), or why she cannot be imported; :class:`InvalidInput` (field ``file``) if the
    file is not an ODM 1.3.2 file of ``study``."""
    try:
        for subject in read_casebooks(path, f"ST.{study}"):
            if isinstance(subject, SubjectRefused):
                yield RowRefused(subject.line, subject.field, subject.message, FILE)
                continue
            yield _enrolment(subject.casebook, subject.line, identities, criteria)
    except InputFormatError as error:
        raise InvalidInput(str(error), field="file") from None


class _Refused(Exception):  # noqa: N818  (a subject refused, not an error of pebs)
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _enrolment(
    book: Casebook, line: int, identities: Mapping[str, Enrolment],
    criteria: Mapping[str, CriteriaSet],
) -> Enrolment | RowRefused:  # fmt: skip
    try:
        if book.data_use_withdrawn:
            raise _Refused("SubjectData", f"{book.study_id}: her data use is withdrawn (the file "
                                          "holds her site only): nothing to import")  # fmt: skip
        person = identities.get(book.study_id)
        if person is None:
            raise _Refused("SubjectKey", f"{book.study_id!r}: no row of the identities file has "
                                         "this source_id")  # fmt: skip
        return _from_casebook(book, person, criteria, line)
    except _Refused as refusal:
        return RowRefused(line, refusal.field, str(refusal), FILE)


def _from_casebook(
    book: Casebook, person: Enrolment, criteria: Mapping[str, CriteriaSet], line: int
) -> Enrolment:
    registration = _one(book, "registration") or {}
    consent = _latest(book, "consent")
    allocation = _one(book, "allocation")
    assessment = _latest(book, "risk_assessment")
    death = _one(book, "death")
    new = NewParticipant(
        site=book.site, name=person.new.name, birth_date=person.new.birth_date,
        national_id=person.new.national_id, contact=person.new.contact,
        is_test=person.new.is_test, language=registration.get("language") or person.new.language,
        source_id=book.study_id,
    )  # fmt: skip
    answers, assessed_at = _answers(book, criteria)
    records: list[Any] = [
        VisitRow(line, _visit(values), values["due_date"], None, FILE)
        for values in _all(book, "visit") if values["performed_date"] is not None
    ]  # fmt: skip
    records += [OutcomeRow(line, _outcome(values), None, FILE) for values in _all(book, "outcome")]
    records += [
        RowRefused(line, "IT.QUESTIONNAIRE.INSTRUMENT",
                   f"questionnaire {values['instrument']!r} at {values['timepoint_months']} "
                   "months: questionnaires are not imported", FILE)
        for values in _all(book, "questionnaire")
    ]  # fmt: skip
    return Enrolment(
        line=line, new=new, registered_at=registration.get("registered_at"), answers=answers,
        assessed_at=assessed_at,
        consented_at=None if consent is None else _consented_at(consent),
        consent_language=None if consent is None else _consent_language(consent),
        allocated_at=None if allocation is None else allocation["allocated_at"],
        factors=_factors(_one(book, "risk_factors") or {}),
        risk_at=None if assessment is None else assessment["assessed_at"],
        imported=None if allocation is None else ImportedAllocation(
            allocation["arm"], allocation["method"]),
        death=None if death is None else DeathRecord(
            death["date_of_death"], death["cause"], death["cause_icd10"], None),
        follow_up=tuple(records),
    )  # fmt: skip


def _all(book: Casebook, form: str) -> list[Mapping[str, Any]]:
    return [instance.values for instance in book.instances(form)]


def _one(book: Casebook, form: str) -> Mapping[str, Any] | None:
    found = _all(book, form)
    return found[-1] if found else None


def _latest(book: Casebook, form: str) -> Mapping[str, Any] | None:
    """The instance of the latest key (the last one stored)."""
    instances: Iterable[FormInstance] = book.instances(form)
    latest = max(instances, key=lambda i: i.key or 0, default=None)
    return None if latest is None else latest.values


def _answers(
    book: Casebook, criteria: Mapping[str, CriteriaSet]
) -> tuple[dict[str, bool | None] | None, datetime | None]:
    eligibility = _latest(book, "eligibility")
    if eligibility is None or eligibility["result"] == "incomplete":
        return None, None
    version = eligibility["protocol_version"]
    protocol = criteria.get(version)
    if protocol is None:
        raise _Refused("IT.ELIGIBILITY.PROTOCOL_VERSION", f"{version!r}: the study's protocol "
                       f"versions are {', '.join(sorted(criteria))}")  # fmt: skip
    failed = set((eligibility["screen_failure_criteria"] or "").split(";"))
    answers: dict[str, bool | None] = {
        c.id: (not c.expected) if c.id in failed else c.expected for c in protocol.criteria
    }
    return answers, eligibility["assessed_at"]


def _consented_at(consent: Mapping[str, Any]) -> datetime | None:
    if consent["withdrawal_level"] is not None:
        raise _Refused("IT.CONSENT.WITHDRAWAL_LEVEL", f"{consent['withdrawal_level']!r}: a "
                       "withdrawal is not imported; import her without it and record it on her "
                       "page")  # fmt: skip
    return consent["consented_at"]


def _consent_language(consent: Mapping[str, Any]) -> str | None:
    version = consent["consent_version"] or ""
    match = _CONSENT_VERSION.match(version)
    if match is None:
        raise _Refused(
            "IT.CONSENT.CONSENT_VERSION",
            f"{version!r}: expected <country>/<language> <version> (IT/it v1)",
        )
    return match["language"]


def _factors(values: Mapping[str, Any]) -> RiskFactors:
    found: dict[str, Any] = {}
    for name in _WHOLE:
        text = values.get(name)
        found[name] = text if text in (None, UNKNOWN, NULLIPAROUS) else _number(name, text, int)
    hyperplasia = values.get("atypical_hyperplasia")
    found["atypical_hyperplasia"] = (
        hyperplasia if hyperplasia in (None, UNKNOWN) else hyperplasia == "yes"
    )
    found["density"] = values.get("density")
    prs = values.get("prs_z")
    found["prs_z"] = prs if prs in (None, UNKNOWN) else _number("prs_z", prs, float)
    return RiskFactors(**found)


def _number(name: str, text: str, kind: type) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise _Refused(
            f"IT.RISK_FACTORS.{name.upper()}", f"{text!r}: expected a number or {UNKNOWN}"
        ) from None


def _visit(values: Mapping[str, Any]) -> VisitRecord:
    return VisitRecord(
        performed_date=values["performed_date"], birads=values["birads"],
        recall=values["recall"], biopsy=values["biopsy"], histology=values["histology"],
        modality=values["modality"], visit_type=values["visit_type"] or DEFAULT_VISIT_TYPE,
        density=values["density"], density_reader=values["density_reader"],
    )  # fmt: skip


def _outcome(values: Mapping[str, Any]) -> OutcomeRecord:
    return OutcomeRecord(
        diagnosis_date=values["diagnosis_date"], detection_mode=values["detection_mode"],
        behaviour=values["behaviour"], t=values["t_category"], n=values["n_category"],
        m=values["m_category"],
    )  # fmt: skip
