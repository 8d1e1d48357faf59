"""Enrol many women at once: each through the same use cases as one at a time, committed in groups.

:func:`import_enrolments` takes every woman of an enrolment file (:mod:`.enrolment_file`) as far
along the pathway as her record goes::

    register -> eligibility -> consent -> allocate -> risk assessment + plan (risk-based arm)
                                                    -> plan (standard arm)

Every step is the ordinary use case (:func:`register_participant`, :func:`assess_eligibility`, ...),
with its checks, its permissions and its audit event; a refused step stores nothing of that step
and she stops there (her outcome says which step, which field and why). The use cases run as
savepoints of shared transactions (:class:`pebs.store.group_commit.GroupCommit`) committed
every ``max_delay_s`` or ``max_batch`` use cases: the durable commit, which costs about as much
as a use case, is paid once per group instead of once per step.

If a commit fails (a full disk), the import stops: the women of the failed group are reported as
not stored, and the file can be imported again (a woman already registered is refused as a
duplicate through her national ID; without national IDs, import only the rows not yet stored).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Actor
from pebs.services.errors import InvalidFields, ServiceError
from pebs.services.keys import IdentityKeys
from pebs.services.trial.allocation import allocate
from pebs.services.trial.consent import record_consent
from pebs.services.trial.eligibility import assess_eligibility
from pebs.services.trial.enrolment_file import Enrolment, RowRefused
from pebs.services.trial.registration import register_participant
from pebs.services.trial.risk_assessment import record_risk_assessment
from pebs.services.trial.screening_plan import create_screening_plan
from pebs.store.group_commit import GroupCommit, GroupCommitError

__all__ = ["STEPS", "EnrolmentOutcome", "ImportSummary", "import_enrolments"]

STEPS = ("read", "register", "eligibility", "consent", "allocate", "plan")
"""The steps, in order; ``plan`` is the risk assessment and plan, or the plan alone."""


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


@dataclass
class ImportSummary:
    """Counts of the whole import."""

    rows: int = 0
    reached: Counter[str] = field(default_factory=Counter)
    """Women per last step done."""
    refused: Counter[str] = field(default_factory=Counter)
    """Refusals per ``step: field``."""
    use_cases: int = 0
    commits: int = 0
    largest_group: int = 0
    seconds: float = 0.0
    stopped: str | None = None
    """Why the import stopped before the end (a failed commit), else ``None``."""


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
) -> ImportSummary:
    """Take every row as far as it goes; report each outcome to ``on_outcome``, in the file's
    order, once the commit that stored it is done."""
    summary = ImportSummary()
    group = GroupCommit(sessions, max_delay_s=max_delay_s, max_batch=max_batch)
    unreported: list[EnrolmentOutcome] = []  # stored, waiting for their commit
    started = time.perf_counter()

    def report(outcome: EnrolmentOutcome) -> None:
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
        with group.batch():
            for row in rows:
                summary.rows += 1
                unreported.append(_enrol(group, actor, keys, study, row))
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
    summary.use_cases = group.stats.stored + group.stats.rolled_back
    summary.commits = group.stats.commits
    summary.largest_group = group.stats.largest_group
    summary.seconds = time.perf_counter() - started
    return summary


def _enrol(
    group: GroupCommit, actor: Actor, keys: IdentityKeys, study: str, row: Enrolment | RowRefused
) -> EnrolmentOutcome:
    if isinstance(row, RowRefused):
        return EnrolmentOutcome(row.line, None, None, refused_step="read",
                                refused_field=row.field, message=row.message)  # fmt: skip
    sessions: sessionmaker[Session] = group  # type: ignore[assignment]  # it stands in for one
    done = _Progress(row.line)
    registered = done.step("register", lambda: register_participant(
        sessions, actor, keys, study, row.new, at=row.registered_at))  # fmt: skip
    if registered is None:
        return done.outcome()
    done.study_id = registered.study_id
    done.status = "registered"
    if row.answers is None:
        return done.outcome()
    assessed_at = row.assessed_at or row.registered_at
    assessed = done.step("eligibility", lambda: assess_eligibility(
        sessions, actor, keys, registered.study_id, row.answers or {}, at=assessed_at))  # fmt: skip
    if assessed is None or row.consented_at is None:
        return done.outcome()
    language = row.consent_language or registered.language
    consented = done.step("consent", lambda: record_consent(
        sessions, actor, registered.study_id, language=language, at=row.consented_at))  # fmt: skip
    if consented is None or row.allocated_at is None:
        return done.outcome()
    allocated = done.step("allocate", lambda: allocate(
        sessions, actor, keys, registered.study_id, at=row.allocated_at))  # fmt: skip
    if allocated is None:
        return done.outcome()
    done.arm = allocated.arm
    risk_at = row.risk_at or row.allocated_at
    if allocated.arm == "risk-based":
        recorded = done.step("plan", lambda: record_risk_assessment(
            sessions, actor, keys, registered.study_id, row.factors, at=risk_at))  # fmt: skip
        if recorded is not None:
            done.risk_level = recorded.level
    else:
        done.step("plan", lambda: create_screening_plan(
            sessions, actor, keys, registered.study_id, at=risk_at))  # fmt: skip
    return done.outcome()


@dataclass
class _Progress:
    """One woman's steps so far."""

    line: int
    study_id: str | None = None
    reached: str | None = None
    status: str | None = None
    arm: str | None = None
    risk_level: str | None = None
    refusal: tuple[str, str | None, str] | None = None

    def step(self, name: str, call: Callable[[], object]) -> object | None:
        try:
            result = call()
        except ServiceError as error:
            self.refusal = (name, _field_of(error), str(error))
            return None
        self.reached = name
        self.status = getattr(result, "pathway_state", None) or self.status
        return result

    def outcome(self) -> EnrolmentOutcome:
        step, field_name, message = self.refusal or (None, None, None)
        return EnrolmentOutcome(
            self.line, self.study_id, self.reached, self.arm, self.risk_level, self.status,
            step, field_name, message,
        )  # fmt: skip


def _field_of(error: ServiceError) -> str | None:
    if isinstance(error, InvalidFields):
        return ",".join(error.fields)
    return getattr(error, "field", None)
