"""The study's edit checks run on her data: queries raised where a check fires, closed where it
passes again.

:func:`run_edit_checks_in` runs in the transaction of the use case that has just recorded her
data (a visit, a diagnosis, a risk questionnaire or assessment, a consent or a withdrawal), so
that the change and the queries it raises commit together; :func:`check_study` runs the checks
over every participant of a study, a page at a time (one transaction per page), and counts
what it did.

For each finding (a check firing on an item of a form instance):

- a query of that check on that item that is not closed: nothing new (never a duplicate; a
  partial unique index guarantees it);
- else, if a reviewer (not the system) closed the check's latest query on that item while the
  item held the same value: nothing (the reviewer accepted the value);
- else a new query, raised by ``system`` with the check's message, kind ``edit_check``.

A query of a check the study declares that no longer fires (the data was fixed) is closed by
``system``. A woman who withdrew the use of her data is not checked: her queries stay as they
are. Every raise and close appends its audit event (``data_query``) in the same transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.data_locks import refuse_if_study_locked
from pebs.services.participant_pages import in_study
from pebs.services.queries.views import note_row
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.transaction import instant, transaction
from pebs.store.audit import append_event
from pebs.store.models import Country, DataQuery, Participant, Site, Study
from pebs.trial.casebook import Casebook
from pebs.trial.edit_checks import EditCheck, Finding, edit_checks_from_json, run_checks
from pebs.trial.forms import form_named
from pebs.trial.item_values import value_text

__all__ = [
    "SYSTEM",
    "CheckTally",
    "EditCheckReport",
    "check_study",
    "checks_of",
    "run_edit_checks_in",
    "run_edit_checks_of",
    "run_edit_checks_on",
]

SYSTEM = Actor.system("system")
"""Who raises and closes an edit check's queries (no account: ``raised_by_id`` is empty)."""
PAGE_SIZE = 200
"""Women checked per transaction by :func:`check_study`."""

Target = tuple[str, str, int, str]
"""(check id, form, form key, item): where a check fires."""


@dataclass
class CheckTally:
    """What a run of the checks did."""

    n_women: int = 0
    n_withheld: int = 0
    """Women not checked: they withdrew the use of their data."""
    n_findings: int = 0
    n_raised: int = 0
    n_already_open: int = 0
    n_accepted: int = 0
    """Findings left quiet: a reviewer closed the check's query on the same value."""
    n_closed: int = 0
    """Queries closed by the system: their check passes again."""
    raised_by_check: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class EditCheckReport:
    """The counts of :func:`check_study`."""

    study: str
    n_checks: int
    n_women: int
    n_withheld: int
    n_findings: int
    n_raised: int
    n_already_open: int
    n_accepted: int
    n_closed: int
    raised_by_check: Mapping[str, int]
    """Check id -> queries raised (every declared check, 0 when none)."""


def checks_of(config: Mapping[str, Any] | None) -> tuple[EditCheck, ...]:
    """The edit checks of a stored study configuration."""
    return edit_checks_from_json((config or {}).get("edit_checks"))


_STUDY_CONFIG = select(Study.config).where(Study.id == bindparam("study_pk"))
_CHECKS_CACHE: dict[tuple[int, str], tuple[EditCheck, ...]] = {}


def checks_by_digest(
    session: Session, study_pk: int, config_sha256: str | None
) -> tuple[EditCheck, ...]:
    """:func:`checks_of` the stored study, read and parsed once per process and configuration
    digest (a stored configuration never changes without its SHA-256 changing: the loader
    writes both); a study stored without a digest is read each time."""
    key = (study_pk, config_sha256 or "")
    checks = _CHECKS_CACHE.get(key) if config_sha256 is not None else None
    if checks is None:
        config = session.connection().execute(_STUDY_CONFIG, {"study_pk": study_pk}).scalar()
        checks = checks_of(config)
        if config_sha256 is not None:
            if len(_CHECKS_CACHE) > 64:  # studies and their versions: a handful per installation
                _CHECKS_CACHE.clear()
            _CHECKS_CACHE[key] = checks
    return checks


def forms_read(checks: Sequence[EditCheck]) -> frozenset[str]:
    """The forms whose instances ``checks`` read: each check's own form, the form of its
    ``after`` date and its ``before`` form."""
    forms = {check.form for check in checks}
    forms |= {check.after[0] for check in checks if check.after is not None}
    forms |= {check.before for check in checks if check.before is not None}
    return frozenset(forms)


def _target(query: DataQuery) -> Target:
    return query.check_id or "", query.form, query.form_key, query.item


def _raise(
    session: Session, participant_id: int, study_id: str, finding: Finding, text: str | None,
    at: datetime,
) -> None:  # fmt: skip
    query = DataQuery(
        participant_id=participant_id, form=finding.form, item=finding.item,
        form_key=finding.key or 0, kind="edit_check", check_id=finding.check.id, state="open",
        question=finding.check.message, value=text, raised_at=at, raised_by=SYSTEM.username,
        updated_at=at,
    )  # fmt: skip
    note_row(query, "raise", SYSTEM, at, text=finding.check.message)
    session.add(query)
    session.flush()
    append_event(
        session, actor=SYSTEM.username, action="raise", entity="data_query", entity_id=query.id,
        reason=f"raised by edit check {finding.check.id}",
        new={"participant": study_id, "form": finding.form, "form_key": finding.key,
             "item": finding.item, "kind": "edit_check", "check": finding.check.id,
             "value": text, "state": "open"},
        at=at,
    )  # fmt: skip


def _close(session: Session, query: DataQuery, study_id: str, at: datetime) -> None:
    old = query.state
    query.state, query.closed_by = "closed", SYSTEM.username
    note_row(query, "close", SYSTEM, at, text="the data now passes the edit check")
    session.flush()
    append_event(
        session, actor=SYSTEM.username, action="close", entity="data_query", entity_id=query.id,
        reason=f"data passes edit check {query.check_id}", old={"state": old},
        new={"participant": study_id, "state": "closed", "closed_by": SYSTEM.username},
        at=at,
    )  # fmt: skip


def _apply(
    session: Session, women: Mapping[int, tuple[Casebook, str]], checks: Sequence[EditCheck],
    at: datetime, tally: CheckTally,
) -> None:  # fmt: skip
    """Raise and close queries for ``women`` (row id -> (casebook, time zone))."""
    existing = session.scalars(
        select(DataQuery)
        .where(DataQuery.participant_id.in_(list(women)), DataQuery.kind == "edit_check")
        .order_by(DataQuery.id)
    ).all()
    latest: dict[int, dict[Target, DataQuery]] = {pid: {} for pid in women}
    for query in existing:
        latest[query.participant_id][_target(query)] = query  # id order: the last one wins
    declared = {check.id for check in checks}
    for participant_id, (casebook, time_zone) in women.items():
        tally.n_women += 1
        if casebook.data_use_withdrawn:
            tally.n_withheld += 1
            continue
        hers, firing = latest[participant_id], set()
        for finding in run_checks(checks, casebook, time_zone):
            tally.n_findings += 1
            target = (finding.check.id, finding.form, finding.key or 0, finding.item)
            firing.add(target)
            text = value_text(form_named(finding.form).item(finding.item), finding.value)
            query = hers.get(target)
            if query is not None and query.state != "closed":
                tally.n_already_open += 1
            elif query is not None and query.closed_by != SYSTEM.username and query.value == text:
                tally.n_accepted += 1
            else:
                _raise(session, participant_id, casebook.study_id, finding, text, at)
                tally.n_raised += 1
                tally.raised_by_check[finding.check.id] += 1
        for target, query in hers.items():
            if query.state != "closed" and target not in firing and query.check_id in declared:
                _close(session, query, casebook.study_id, at)
                tally.n_closed += 1


_HERS = (
    select(Study.id, Study.config_sha256, Country.time_zone)
    .select_from(Participant)
    .join(Site, Site.id == Participant.site_id)
    .join(Country, Country.id == Site.country_id)
    .join(Study, Study.id == Country.study_id)
)


def run_edit_checks_in(
    session: Session, participant_id: int, *, at: datetime | None = None
) -> CheckTally:
    """Run her study's edit checks on her data as it stands in ``session``'s transaction (the
    caller holds her row lock), raising and closing queries (module docstring)."""
    return run_edit_checks_of(session, [participant_id], at=at)


def run_edit_checks_of(
    session: Session, participant_ids: Sequence[int], *, at: datetime | None = None
) -> CheckTally:
    """:func:`run_edit_checks_in` for several women (a use case's list form), their casebooks
    read together per study (:func:`pebs.services.casebook_content.casebooks_of`), with the
    forms that the study's checks read alone (:func:`forms_read`)."""
    # Imported here (and in check_study): the use cases of pebs.services.trial call this
    # function, and the casebook reader's package (pebs.services.records) imports them.
    from pebs.services.casebook_content import casebooks_of

    tally = CheckTally()
    wanted = sorted(set(participant_ids))
    if not wanted:
        return tally
    by_study: dict[int, tuple[str | None, dict[int, str]]] = {}
    rows = session.execute(
        _HERS.add_columns(Participant.id).where(Participant.id.in_(wanted))
    ).all()
    for study_pk, digest, time_zone, participant_id in rows:
        by_study.setdefault(study_pk, (digest, {}))[1][participant_id] = time_zone
    for study_pk, (digest, zones) in by_study.items():
        checks = checks_by_digest(session, study_pk, digest)
        if checks:
            books = casebooks_of(session, list(zones), study_pk, forms=forms_read(checks))
            women = {pid: (book, zones[pid]) for pid, book in books.items()}
            _apply(session, women, checks, instant(at), tally)
    return tally


@refuses_unstorable_text
def check_study(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study: str,
    *,
    at: datetime | None = None,
    page_size: int = PAGE_SIZE,
    on_progress: Callable[[int], None] | None = None,
) -> EditCheckReport:
    """Run the study's edit checks over every participant (test participants too), a page of
    ``page_size`` women per transaction, their rows locked; ``on_progress`` is told how many
    women are done after each page. Only the data manager (:data:`Action.RUN_EDIT_CHECKS`)."""
    require(actor, Action.RUN_EDIT_CHECKS)
    from pebs.services.records.casebooks import casebook_page  # see run_edit_checks_in
    from pebs.services.trial.study_rules import study_named

    when = instant(at)
    with session_maker() as session, session.begin():
        row = study_named(session, study)
        study_pk, checks = row.id, checks_of(row.config)
        refuse_if_study_locked(session, study_pk)
        zones = dict(session.execute(
            select(Country.code, Country.time_zone).where(Country.study_id == study_pk)
        ).all())  # fmt: skip
    tally, after = CheckTally(), 0
    while checks:
        with transaction(session_maker) as session:
            session.execute(  # her rows locked, as the use cases that record her data do
                in_study(select(Participant.id).select_from(Participant), actor, study_pk,
                         include_test=True)
                .where(Participant.id > after).order_by(Participant.id).limit(page_size)
                .with_for_update(of=Participant)
            ).all()  # fmt: skip
            page = casebook_page(session, actor, study_pk, after=after, limit=page_size,
                                 include_test=True, forms=forms_read(checks))  # fmt: skip
            if page.last_id is None:
                break
            ids = dict(session.execute(
                select(Participant.study_id, Participant.id)
                .where(Participant.study_id.in_([book.study_id for book in page.casebooks]))
            ).all())  # fmt: skip
            women = {ids[book.study_id]: (book, zones[book.country]) for book in page.casebooks}
            _apply(session, women, checks, when, tally)
            after = page.last_id
        if on_progress is not None:
            on_progress(tally.n_women)
    return EditCheckReport(
        study, len(checks), tally.n_women, tally.n_withheld, tally.n_findings, tally.n_raised,
        tally.n_already_open, tally.n_accepted, tally.n_closed,
        {check.id: tally.raised_by_check[check.id] for check in checks},
    )  # fmt: skip


def run_edit_checks_on(
    session: Session, study_id: str, *, at: datetime | None = None
) -> CheckTally:
    """:func:`run_edit_checks_in` for the woman of pseudonymous ``study_id`` (the use cases that
    know her by it)."""
    participant_id = session.execute(
        select(Participant.id).where(Participant.study_id == study_id)
    ).scalar_one()
    return run_edit_checks_in(session, participant_id, at=at)
