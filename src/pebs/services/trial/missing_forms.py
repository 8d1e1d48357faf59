"""The missing-forms report: per site and time point, the expected forms that are missing, and
the list of them (``docs/trial/queries.md``; the rules: :mod:`pebs.trial.expected_forms`).

The study's participants in the caller's scope (test participants left out) are read a page of
:data:`PAGE_SIZE` women at a time, in one read transaction per page, with six queries per page
whatever its size: the women with their allocation and death, their eligibility assessments,
consents, risk questionnaires and assessments, expected visits not performed, and
questionnaire responses. ``on`` is the day the report is for; without it, each woman's today
in her country's time zone. The CSV download streams every missing form (one chunk per page)
and is audited (``missing_forms``/``export``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, sessionmaker

from pebs.io.exports.columns import Column
from pebs.io.exports.csv import CSV
from pebs.services.actor import Action, Actor, require
from pebs.services.errors import InvalidInput, NotFound
from pebs.services.participant_pages import participants_after
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.transaction import local_date, transaction
from pebs.services.trial.exports import ExportFile
from pebs.services.trial.study_rules import study_named
from pebs.store.audit import append_event
from pebs.store.models import (
    Consent,
    Country,
    EligibilityAssessment,
    QuestionnaireResponse,
    RiskAssessment,
    RiskQuestionnaire,
    Site,
    Study,
    Visit,
)
from pebs.trial import State
from pebs.trial.expected_forms import (
    ExpectedVisit,
    HerForms,
    MissingForm,
    missing_forms,
    time_point_order,
)
from pebs.trial.instruments import instruments_from_json

__all__ = [
    "COLUMNS",
    "PAGE_SIZE",
    "MissingCount",
    "MissingFormsReport",
    "missing_forms_csv",
    "missing_forms_report",
]

PAGE_SIZE = 500
"""Women read per transaction."""
MAX_ENTRIES = 1000
"""Most missing forms listed on one page of the report."""

COLUMNS = (
    Column("study_id", "string", "", "her pseudonymous study ID"),
    Column("site", "string", "", "her site's code"),
    Column("form", "string", "", "the missing form (a case report form's name)"),
    Column("time_point", "string", "", "entry, randomisation, month-T or year-N"),
    Column("due", "date", "", "the day the form was expected"),
    Column("key", "integer", "", "the expected visit's row id (visits only)"),
    Column("instrument", "string", "", "the questionnaire's instrument (questionnaires only)"),
)
"""The columns of the CSV download."""


@dataclass(frozen=True)
class MissingCount:
    site: str
    time_point: str
    form: str
    n: int


@dataclass(frozen=True)
class MissingFormsReport:
    study: str
    on: date | None
    """The day of the report; ``None``: each woman's today in her country."""
    n_women: int
    """Women examined (in the caller's scope, test participants left out)."""
    counts: tuple[MissingCount, ...]
    """Per site, time point and form (only where something is missing), in that order."""
    total: int
    entries: tuple[MissingForm, ...]
    """The missing forms of the women after ``after``, by row id (up to ``limit``, whole
    women)."""
    next_after: int | None
    """Give it as ``after`` for the next page of entries; ``None`` on the last."""


@dataclass(frozen=True)
class _Scope:
    study_pk: int
    instruments: tuple[str, ...]
    zones: dict[str, str]
    site_id: int | None


def _scope(session: Session, actor: Actor, study: str, site: str | None) -> _Scope:
    row: Study = study_named(session, study)
    zones = dict(
        session.execute(
            select(Country.code, Country.time_zone).where(Country.study_id == row.id)
        ).all()
    )
    site_id = None
    if site is not None:
        found = session.execute(
            select(Site.id, Site.country_id).join(Country, Country.id == Site.country_id)
            .where(Country.study_id == row.id, Site.code == site)
        ).first()  # fmt: skip
        if found is None or not actor.sees_site(*found):
            raise NotFound(f"study {study!r} has no site {site!r} (in your sites)",
                           message_code="error.no_site", values={"site": site})  # fmt: skip
        site_id = found[0]
    names = tuple(i.name for i in instruments_from_json((row.config or {}).get("instruments")))
    return _Scope(row.id, names, zones, site_id)


def _grouped(session: Session, statement: Select, ids: list[int]) -> dict[int, list[Any]]:
    """Rows of ``statement`` (its first column a participant's row id) for ``ids``, by her."""
    found: dict[int, list[Any]] = {}
    for row in session.execute(statement.where(statement.selected_columns[0].in_(ids))):
        found.setdefault(row[0], []).append(row[1:])
    return found


def _page(
    session: Session, actor: Actor, scope: _Scope, after: int, on: date | None
) -> tuple[list[tuple[int, list[MissingForm]]], int | None]:
    """(row id, her missing forms) of the next page of women, and the page's last row id."""
    base = participants_after(session, actor, scope.study_pk, after=after, limit=PAGE_SIZE,
                              include_test=False)  # fmt: skip
    if not base:
        return [], None
    ids = [row[0].id for row in base]
    eligible = {r[0] for r in session.execute(
        select(EligibilityAssessment.participant_id)
        .where(EligibilityAssessment.participant_id.in_(ids)).distinct())}  # fmt: skip
    consents = _grouped(session, select(Consent.participant_id, func.min(Consent.consented_at),
                                        func.min(Consent.withdrawn_at))
                        .group_by(Consent.participant_id), ids)  # fmt: skip
    risk = {r[0] for model in (RiskQuestionnaire, RiskAssessment) for r in session.execute(
        select(model.participant_id).where(model.participant_id.in_(ids)).distinct())}  # fmt: skip
    visits = _grouped(session, select(Visit.participant_id, Visit.id, Visit.due_date,
                                      Visit.window_end).where(Visit.performed_date.is_(None)),
                      ids)  # fmt: skip
    answered = _grouped(session, select(QuestionnaireResponse.participant_id,
                                        QuestionnaireResponse.instrument,
                                        QuestionnaireResponse.timepoint_months), ids)  # fmt: skip
    women = []
    for participant, site, country, allocation, death in base:
        zone = scope.zones[country]
        if scope.site_id is not None and participant.site_id != scope.site_id:
            continue
        first_consent, withdrawn_at = consents.get(participant.id, [(None, None)])[0]
        ends = [local_date(withdrawn_at, zone)] if withdrawn_at is not None else []
        ends += [death.date_of_death] if death is not None else []
        her = HerForms(
            participant.study_id, site, allocation.arm if allocation else None,
            local_date(allocation.allocated_at, zone) if allocation else None,
            participant.id in eligible,
            local_date(first_consent, zone) if first_consent is not None else None,
            participant.id in risk,
            tuple(ExpectedVisit(*visit) for visit in visits.get(participant.id, [])),
            frozenset((name, months) for name, months in answered.get(participant.id, [])),
            min(ends) if ends else None,
            participant.status == State.WITHDRAWN_DATA_USE.value,
        )  # fmt: skip
        day = on or datetime.now(UTC).astimezone(ZoneInfo(zone)).date()
        women.append((participant.id, list(missing_forms(her, scope.instruments, day))))
    return women, ids[-1]


def _check(actor: Actor, on: date | None) -> None:
    require(actor, Action.READ_WORKLIST)
    if on is not None and (isinstance(on, datetime) or not isinstance(on, date)):
        raise InvalidInput(f"must be a date, got {on!r}", field="on", message_code="error.date")


def _sorted(entries: Sequence[MissingForm]) -> list[MissingForm]:
    return sorted(entries, key=lambda m: (time_point_order(m.time_point), m.due, m.form))


@refuses_unstorable_text
def missing_forms_report(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study: str,
    *,
    on: date | None = None,
    site: str | None = None,
    after: int = 0,
    limit: int = 100,
) -> MissingFormsReport:
    """Counts of the missing forms per site, time point and form, and one page of the list
    (the women with row id > ``after``; a site code narrows both). The roles that read
    worklists (:data:`Action.READ_WORKLIST`), in their scope."""
    _check(actor, on)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_ENTRIES:
        raise InvalidInput(f"a page lists 1 to {MAX_ENTRIES} forms, got {limit!r}", field="limit")
    counts: Counter[tuple[str, str, str]] = Counter()
    entries: list[MissingForm] = []
    n_women, start, next_after, full = 0, 0, None, False
    with session_maker() as session, session.begin():
        scope = _scope(session, actor, study, site)
    while True:
        with session_maker() as session, session.begin():
            women, last = _page(session, actor, scope, start, on)
        if last is None:
            break
        for row_id, missing in women:
            n_women += 1
            counts.update((m.site, m.time_point, m.form) for m in missing)
            if row_id > after and missing and not full:
                entries.extend(_sorted(missing))
                if len(entries) >= limit:
                    full, next_after = True, row_id
        start = last
    ordered = sorted(counts.items(), key=lambda kv: (kv[0][0], time_point_order(kv[0][1]),
                                                     kv[0][2]))  # fmt: skip
    return MissingFormsReport(
        study, on, n_women, tuple(MissingCount(*key, n) for key, n in ordered),
        sum(counts.values()), tuple(entries), next_after,
    )  # fmt: skip


@refuses_unstorable_text
def missing_forms_csv(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study: str,
    *,
    on: date | None = None,
    site: str | None = None,
) -> ExportFile:
    """Every missing form as CSV (:data:`COLUMNS`), streamed a page of women at a time; the
    download is audited before the first byte."""
    _check(actor, on)
    with transaction(session_maker) as session:
        scope = _scope(session, actor, study, site)
        append_event(
            session, actor=actor.username, action="export", entity="missing_forms",
            entity_id=study, reason="missing-forms report",
            new={"site": site, "on": on, "format": "csv"},
        )  # fmt: skip

    def pages() -> Iterator[list[tuple]]:
        start = 0
        while True:
            with session_maker() as session, session.begin():
                women, last = _page(session, actor, scope, start, on)
            if last is None:
                return
            yield [(m.study_id, m.site, m.form, m.time_point, m.due, m.key, m.instrument)
                   for _, missing in women for m in _sorted(missing)]  # fmt: skip
            start = last

    return ExportFile(CSV.media_type, CSV.extension, CSV.chunks(COLUMNS, pages()))
