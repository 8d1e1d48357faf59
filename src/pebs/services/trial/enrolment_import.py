"""Enrol many women at once: each through the same use cases as one at a time, committed in groups.

:func:`import_enrolments` takes every woman of an enrolment file (:mod:`.enrolment_file`) as far
along the pathway as her record goes::

    register -> eligibility -> consent -> allocate -> risk assessment + plan (risk-based arm)
                                                    -> plan (standard arm)
             -> visits, outcomes (her follow-up records) -> death

Every step is the ordinary use case (:func:`register_participant`, :func:`assess_eligibility`, ...),
with its checks, its permissions and its audit event; a refused step stores nothing of that step
and she stops there (her outcome says which step, which field and why). The use cases run as
savepoints of shared transactions (:class:`pebs.store.group_commit.GroupCommit`) committed
every ``max_delay_s`` or ``max_batch`` use cases: the durable commit, which costs about as much
as a use case, is paid once per group instead of once per step.

An allocation the source system made (:attr:`Enrolment.imported`) is kept as it was made
(:class:`~pebs.services.trial.allocation.ImportedAllocation`): no slot is taken for her.

**Idempotent**: a woman already stored (registration refuses her as a duplicate, by her
``source_id`` or else the HMAC of her national ID, and names her study ID) is skipped with all
her steps and records, counted in :attr:`ImportSummary.skipped`: importing a file twice leaves
the database as importing it once (a row with neither key cannot be recognised).

A **dry run** (``dry_run=True``) runs every step of every woman in one transaction that is
rolled back at the end (:class:`~pebs.store.group_commit.GroupCommit` as a rehearsal): the same
checks and refusals, nothing stored, no audit event.

If a commit fails (a full disk), the import stops: the women of the failed group are reported as
not stored, and the file can be imported again (the women stored are skipped).
"""

from __future__ import annotations

import gc
import itertools
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Actor
from pebs.services.errors import DuplicateParticipant, InvalidFields, InvalidInput, ServiceError
from pebs.services.keys import IdentityKeys
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.trial.allocation import Allocated, AllocationRequest, allocate, allocate_in
from pebs.services.trial.consent import ConsentRequest, record_consent, record_consent_in
from pebs.services.trial.deaths import DeathRecorded, record_death
from pebs.services.trial.eligibility import (
    EligibilityRequest,
    assess_eligibility,
    assess_eligibility_in,
)
from pebs.services.trial.enrolment_file import Enrolment, RowRefused
from pebs.services.trial.follow_up_file import OutcomeRow, VisitRow
from pebs.services.trial.outcomes import record_outcome
from pebs.services.trial.registration import (
    Registered,
    Registration,
    register_participant,
    register_participants_in,
)
from pebs.services.trial.risk_assessment import (
    AssessmentWanted,
    RiskRecorded,
    record_risk_assessment,
    record_risk_assessment_in,
)
from pebs.services.trial.screening_plan import (
    PlanWanted,
    create_screening_plan,
    create_screening_plan_in,
)
from pebs.services.trial.visit_list import VisitRequest, record_visits_in
from pebs.services.trial.visits import record_visit
from pebs.store.audit import audit_batch
from pebs.store.group_commit import GroupCommit, GroupCommitError
from pebs.trial import ARM_EVENTS, transition

__all__ = ["STEPS", "EnrolmentOutcome", "ImportSummary", "import_enrolments"]

STEPS = ("read", "register", "eligibility", "consent", "allocate", "plan", "visit", "outcome",
         "death")  # fmt: skip
"""The steps, in order; ``plan`` is the risk assessment and plan, or the plan alone; ``visit``
and ``outcome`` are her follow-up records (one step per record)."""


@dataclass(frozen=True)
class EnrolmentOutcome:
    """Where one row of the file got to."""

    line: int
    study_id: str | None
    reached: str | None
    """The last step done (``None``: not even registered)."""
    arm: str | None = None
    risk_level: str | None = None
    status: str | None = None
    """Her pathway state after the last step."""
    refused_step: str | None = None
    refused_field: str | None = None
    message: str | None = None
    file: str = "women"
    """The file of ``line``: ``women`` (her row), ``visits`` or ``diagnoses`` (a refused
    follow-up record of hers)."""
    skipped: bool = False
    """She was stored before (``study_id``): nothing of her row was imported again."""
    is_record: bool = False
    """The refusal of one of her follow-up records (her visits, diagnoses or death); her row's
    own outcome is reported apart."""


@dataclass
class ImportSummary:
    """Counts of the whole import."""

    rows: int = 0
    reached: Counter[str] = field(default_factory=Counter)
    """Women per last step done."""
    refused: Counter[str] = field(default_factory=Counter)
    """Refusals per ``step: field``."""
    steps: Counter[str] = field(default_factory=Counter)
    """Women per step tried (done or refused); records for ``visit`` and ``outcome``."""
    recorded: Counter[str] = field(default_factory=Counter)
    """Follow-up records stored per step (``visit``, ``outcome``, ``death``)."""
    skipped: int = 0
    """Women already stored, skipped."""
    dry_run: bool = False
    """Nothing was stored: every step ran and was rolled back."""
    registered: set[str] = field(default_factory=set, repr=False)
    """Study IDs registered by this import."""
    commits: int = 0
    largest_group: int = 0
    seconds: float = 0.0
    stopped: str | None = None
    """Why the import stopped before the end (a failed commit), else ``None``."""


@refuses_unstorable_text
def import_enrolments(
    sessions: sessionmaker[Session],
    actor: Actor,
    keys: IdentityKeys,
    study: str,
    rows: Iterable[Enrolment | RowRefused],
    *,
    on_outcome: Callable[[EnrolmentOutcome], None] | None = None,
    max_delay_s: float = 0.05,
    max_batch: int = 600,
    chunk_size: int = 200,
    dry_run: bool = False,
) -> ImportSummary:
    """Take every row as far as it goes; report each outcome to ``on_outcome``, in the file's
    order, once the commit that stored it is done (a dry run: as the steps run; nothing is
    stored)."""
    summary = ImportSummary(dry_run=dry_run)
    group = GroupCommit(sessions, max_delay_s=max_delay_s, max_batch=max_batch, rehearsal=dry_run)
    unreported: list[EnrolmentOutcome] = []  # stored, waiting for their commit
    started = time.perf_counter()

    def report(outcome: EnrolmentOutcome) -> None:
        if outcome.skipped:
            summary.skipped += 1
        elif not outcome.is_record:
            summary.reached[outcome.reached or "none"] += 1
        if outcome.refused_step is not None:
            summary.refused[f"{outcome.refused_step}: {outcome.refused_field or '-'}"] += 1
        if on_outcome is not None:
            on_outcome(outcome)

    def settle() -> None:
        group.commit_pending()  # raises if this or an earlier group of the batch failed
        for outcome in unreported:
            report(outcome)
        unreported.clear()

    try:
        with group.batch(), _heap_frozen():
            for chunk in _chunks(rows, chunk_size):
                summary.rows += len(chunk)
                unreported.extend(_enrol_chunk(group, actor, keys, study, chunk, summary))
                if len(unreported) >= max_batch:
                    settle()
            settle()
    except GroupCommitError as error:
        summary.stopped = str(error)
        for outcome in unreported:
            if outcome.reached is None:  # refused before anything was written
                report(outcome)
                continue
            report(replace(outcome, refused_step="commit", message=(
                "a commit failed: her record may be incomplete; look her up by study ID "
                "before importing her again")))  # fmt: skip
    finally:
        group.close()
    summary.commits = group.stats.commits
    summary.largest_group = group.stats.largest_group
    summary.seconds = time.perf_counter() - started
    return summary


@contextmanager
def _heap_frozen() -> Iterator[None]:
    """The objects that exist before the import are left out of the garbage collector's full
    passes while it runs (:func:`gc.freeze`), and handed back to it afterwards.

    The import keeps each chunk's objects long enough for the collector to move them to its
    oldest generation, so it makes a full pass every few hundred women; each pass would scan
    the whole heap of the process again (the application's modules and caches, a caller's
    data), a tenth of the import's time for a heap of 200,000 objects.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _chunks(rows: Iterable[Any], size: int) -> Iterable[list[Any]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _enrol_chunk(
    group: GroupCommit, actor: Actor, keys: IdentityKeys, study: str,
    rows: Sequence[Enrolment | RowRefused], summary: ImportSummary,
) -> list[EnrolmentOutcome]:  # fmt: skip
    """The rows of one chunk, step by step: each step for all the women who reached it; then
    each woman's follow-up records and death, one use case each."""
    progress = [_Progress(row.line, file=getattr(row, "file", "women")) for row in rows]
    for done, row in zip(progress, rows, strict=True):
        if isinstance(row, RowRefused):
            done.refusal = ("read", row.field, row.message)
    for step in _STEPS:
        items = [
            (done, row, request)
            for done, row in zip(progress, rows, strict=True)
            if not isinstance(row, RowRefused) and done.goes_on
            and (request := step.request(done, row, study)) is not None
        ]  # fmt: skip
        if items:
            summary.steps[step.name] += len(items)
            results = _run_step(group, actor, keys, step, [request for _, _, request in items])
            for (done, _, _), result in zip(items, results, strict=True):
                done.record(step, result, summary.registered)
    _follow_up(group, actor, keys, [
        (done, row) for done, row in zip(progress, rows, strict=True)
        if not isinstance(row, RowRefused) and done.study_id and not done.skipped
    ], summary)  # fmt: skip
    outcomes = []
    for done in progress:
        outcomes.append(done.outcome())
        outcomes.extend(done.records_refused)
    return outcomes


def _follow_up(
    group: GroupCommit, actor: Actor, keys: IdentityKeys, women: list[tuple[_Progress, Enrolment]],
    summary: ImportSummary,
) -> None:  # fmt: skip
    """The chunk's visits (of the women allocated) by their list form, then each woman's
    diagnoses and death, one use case each in its own savepoint; a record refused is added to
    her :attr:`_Progress.records_refused` (her row's outcome says the rest)."""
    visits = [(done, record) for done, row in women if done.arm is not None
              for record in row.follow_up if isinstance(record, VisitRow)]  # fmt: skip
    if visits:
        summary.steps["visit"] += len(visits)
        requests = [VisitRequest(done.study_id or "", record.record, record.due_date,
                                 record.recorded_at) for done, record in visits]  # fmt: skip
        results = _run_step(group, actor, keys, _VISITS, requests)
        for (done, record), result in zip(visits, results, strict=True):
            done.record_follow_up("visit", record, result, summary)
    sessions: sessionmaker[Session] = group  # type: ignore[assignment]  # it stands in for one
    for done, row in women:
        for unread in (r for r in row.follow_up if isinstance(r, RowRefused)):
            refusal = InvalidInput(unread.message, field=unread.field)
            done.record_follow_up("read", unread, refusal, summary)
        records: list[Any] = [r for r in row.follow_up if isinstance(r, OutcomeRow)]
        records = records if done.arm is not None else []
        if row.death is not None:
            records.append(row.death)
        for record in records:
            step = "outcome" if isinstance(record, OutcomeRow) else "death"
            summary.steps[step] += 1
            try:
                result: object = _record_one(sessions, actor, done.study_id or "", record)
            except ServiceError as error:
                result = error
            done.record_follow_up(step, record, result, summary)


def _record_one(
    sessions: sessionmaker[Session], actor: Actor, study_id: str, record: Any
) -> object:
    if isinstance(record, OutcomeRow):
        return record_outcome(sessions, actor, study_id, record.record, at=record.recorded_at)
    death: DeathRecorded = record_death(
        sessions, actor, study_id, date_of_death=record.date_of_death, cause=record.cause,
        cause_icd10=record.cause_icd10, at=record.recorded_at,
    )  # fmt: skip
    return death


def _run_step(
    group: GroupCommit, actor: Actor, keys: IdentityKeys, step: _Step, requests: list[Any]
) -> list[object]:
    """The step for every request: its list form in one savepoint of the group; if that fails
    as a whole (not a refusal of one woman), or the step has no list form, each request alone
    in its own savepoint."""
    if step.many is not None:
        try:
            with group.begin() as session, audit_batch(session):
                return step.many(session, actor, keys, requests)
        except (ServiceError, SQLAlchemyError):  # its savepoint rolled back: nothing stored
            pass  # each woman alone says what refuses her (the account's role, a clash...)
    sessions: sessionmaker[Session] = group  # type: ignore[assignment]  # it stands in for one
    results: list[object] = []
    for request in requests:
        try:
            results.append(step.one(sessions, actor, keys, request))
        except ServiceError as error:
            results.append(error)
    return results


@dataclass(frozen=True)
class _Step:
    """One step of the pathway: who goes on to it, and its use case for one and for a list."""

    name: str
    request: Callable[[_Progress, Enrolment, str], Any]
    """Her request for this step, or ``None`` if her row stops before it."""
    one: Callable[[sessionmaker[Session], Actor, IdentityKeys, Any], Any]
    many: Callable[[Session, Actor, IdentityKeys, list[Any]], list[Any]] | None


def _plan_request(done: _Progress, row: Enrolment, _study: str) -> Any:
    if done.arm is None:
        return None
    at = row.risk_at or row.allocated_at
    if done.arm == "risk-based":
        return AssessmentWanted(done.study_id or "", row.factors, at=at)
    return PlanWanted(done.study_id or "", at=at)


def _plan_one(sessions: sessionmaker[Session], actor: Actor, keys: IdentityKeys, one: Any) -> Any:
    if isinstance(one, AssessmentWanted):
        return record_risk_assessment(sessions, actor, keys, one.study_id, one.factors, at=one.at)
    return create_screening_plan(sessions, actor, keys, one.study_id, at=one.at)


def _plan_many(session: Session, actor: Actor, keys: IdentityKeys, wanted: list[Any]) -> list:
    """Risk-based women assessed (and planned), the others planned; in ``wanted`` order."""
    risk = [i for i, one in enumerate(wanted) if isinstance(one, AssessmentWanted)]
    plan = [i for i, one in enumerate(wanted) if not isinstance(one, AssessmentWanted)]
    results: list[Any] = [None] * len(wanted)
    assessed = record_risk_assessment_in(session, actor, keys, [wanted[i] for i in risk])
    planned = create_screening_plan_in(session, actor, keys, [wanted[i] for i in plan])
    for i, result in zip(risk + plan, assessed + planned, strict=True):
        results[i] = result
    return results


def _register(done: _Progress, row: Enrolment, study: str) -> tuple[str, Registration]:
    return study, Registration(row.new, row.registered_at)


def _assess(done: _Progress, row: Enrolment, _study: str) -> EligibilityRequest | None:
    if row.answers is None:
        return None
    at = row.assessed_at or row.registered_at
    return EligibilityRequest(done.study_id or "", row.answers, at=at)


def _consent(done: _Progress, row: Enrolment, _study: str) -> ConsentRequest | None:
    if row.consented_at is None:
        return None
    language = row.consent_language or done.language or ""
    return ConsentRequest(done.study_id or "", language, at=row.consented_at)


def _allocate(done: _Progress, row: Enrolment, _study: str) -> AllocationRequest | None:
    if row.allocated_at is None:
        return None
    return AllocationRequest(done.study_id or "", at=row.allocated_at, imported=row.imported)


_VISITS = _Step(
    "visit", lambda done, row, study: None,
    lambda s, a, k, r: record_visit(s, a, r.study_id, r.record, keys=k, at=r.at,
                                    due_date=r.due_date),
    record_visits_in,
)  # fmt: skip
"""The visits of a chunk's women (their requests are made by :func:`_follow_up`)."""

_STEPS: tuple[_Step, ...] = (
    _Step(
        "register", _register,
        lambda s, a, k, r: register_participant(s, a, k, r[0], r[1].new, at=r[1].at),
        lambda s, a, k, rs: register_participants_in(s, a, k, rs[0][0], [r for _, r in rs]),
    ),
    _Step(
        "eligibility", _assess,
        lambda s, a, k, r: assess_eligibility(s, a, k, r.study_id, r.answers, at=r.at),
        assess_eligibility_in,
    ),
    _Step(
        "consent", _consent,
        lambda s, a, k, r: record_consent(s, a, r.study_id, language=r.language, at=r.at),
        lambda s, a, k, rs: record_consent_in(s, a, rs),
    ),
    _Step(
        "allocate", _allocate,
        lambda s, a, k, r: allocate(s, a, k, r.study_id, at=r.at, imported=r.imported),
        allocate_in,
    ),
    _Step("plan", _plan_request, _plan_one, _plan_many),
)  # fmt: skip


@dataclass
class _Progress:
    """One woman's steps so far."""

    line: int
    study_id: str | None = None
    language: str | None = None
    reached: str | None = None
    status: str | None = None
    arm: str | None = None
    risk_level: str | None = None
    refusal: tuple[str, str | None, str] | None = None
    skipped: bool = False
    file: str = "women"
    records_refused: list[EnrolmentOutcome] = field(default_factory=list)
    message: str | None = None

    @property
    def goes_on(self) -> bool:
        """Her next step is to be tried."""
        return self.refusal is None and not self.skipped

    def record(self, step: _Step, result: object, registered: set[str]) -> None:
        """Her step's ``result``; ``registered``: the study IDs this import registered (a
        duplicate of one of them is a repeated row, refused; of another, a woman stored before,
        skipped)."""
        if (
            isinstance(result, DuplicateParticipant)
            and result.existing_study_id is not None
            and result.existing_study_id not in registered
        ):
            self.skipped, self.study_id = True, result.existing_study_id
            self.message = f"already stored, skipped ({result})"
            return
        if isinstance(result, ServiceError):
            self.refusal = (step.name, _field_of(result), str(result))
            return
        self.reached = step.name
        if isinstance(result, Registered):
            self.study_id, self.language, self.status = (
                result.study_id, result.language, "registered")  # fmt: skip
            registered.add(result.study_id)
        if isinstance(result, Allocated):
            self.arm = result.arm
            self.status = transition(self.status or "", ARM_EVENTS[result.arm]).value
        if isinstance(result, RiskRecorded):
            self.risk_level = result.level
        self.status = getattr(result, "pathway_state", None) or self.status

    def record_follow_up(
        self, step: str, record: Any, result: object, summary: ImportSummary
    ) -> None:
        """The result of one of her follow-up records (a visit, a diagnosis, her death)."""
        if isinstance(result, ServiceError):
            self.records_refused.append(EnrolmentOutcome(
                getattr(record, "line", self.line), self.study_id, self.reached, self.arm,
                self.risk_level, self.status, step, _field_of(result), str(result),
                file=getattr(record, "file", "women"), is_record=True,
            ))  # fmt: skip
            return
        summary.recorded[step] += 1
        self.status = getattr(result, "pathway_state", None) or self.status
        self.risk_level = getattr(result, "risk_level", None) or self.risk_level

    def outcome(self) -> EnrolmentOutcome:
        step, field_name, message = self.refusal or (None, None, self.message)
        return EnrolmentOutcome(
            self.line, self.study_id, self.reached, self.arm, self.risk_level, self.status,
            step, field_name, message, self.file, self.skipped, self.file != "women",
        )  # fmt: skip


def _field_of(error: ServiceError) -> str | None:
    if isinstance(error, InvalidFields):
        return ",".join(error.fields)
    return getattr(error, "field", None)
