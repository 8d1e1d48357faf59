"""Source data verification: a monitor marks a form instance of a woman as verified against the
source documents; a later change of its values clears the mark.

A mark pins the SHA-256 of the instance's values as verified
(:func:`pebs.services.casebook_content.instance_sha256`). An instance is

- ``verified``: marked, and its values still give that digest;
- ``changed``: marked, but its values changed since (it must be verified again);
- ``to_verify``: not marked, and the study's monitoring plan
  (:mod:`pebs.trial.monitoring_plan`) asks for it;
- ``optional``: not marked, and the plan does not ask for it (a monitor may still verify it).

Comparing digests catches every change whichever use case, import or correction made it; no
writer has to remember to clear a flag. :func:`monitoring_view` is her page's view (each form's
flag and lock); :func:`sdv_worklist` counts each woman's instances per status for a monitor's
worklist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.casebook_content import instance_key, instance_sha256
from pebs.services.data_locks import refuse_if_study_locked
from pebs.services.errors import NotFound
from pebs.services.form_instance import checked_form
from pebs.services.monitoring._her import Her, find_her, instance_of, label
from pebs.services.records.casebooks import casebook_page
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.transaction import instant, transaction
from pebs.store.audit import append_event
from pebs.store.models import (
    FormLock,
    Participant,
    ParticipantLock,
    SourceVerification,
    Study,
    StudyLock,
    User,
)
from pebs.store.repositories import get_study
from pebs.trial.casebook import Casebook
from pebs.trial.monitoring_plan import MonitoringPlan, monitoring_plan_from_json

__all__ = [
    "SDV_STATUSES",
    "FormMonitoring",
    "LockInfo",
    "MonitoringView",
    "SdvWorklist",
    "WorklistRow",
    "monitoring_view",
    "sdv_worklist",
    "verify_source_data",
]

SDV_STATUSES = ("verified", "changed", "to_verify", "optional")


@dataclass(frozen=True)
class LockInfo:
    """Who locked, when (UTC)."""

    locked_by: str
    locked_at: datetime


@dataclass(frozen=True)
class FormMonitoring:
    """One form instance of her casebook: its verification and its lock."""

    form: str
    key: int
    """The repeating form's row id; ``0`` for a form that does not repeat."""
    label: str
    """``visit 12``, ``death``."""
    sdv: str
    """One of :data:`SDV_STATUSES`."""
    verified_by: str | None
    verified_at: datetime | None
    lock: LockInfo | None


@dataclass(frozen=True)
class MonitoringView:
    """Her casebook's verification flags and locks (her page)."""

    study_id: str
    site: str
    forms: tuple[FormMonitoring, ...]
    participant_lock: LockInfo | None
    study_lock: LockInfo | None


@dataclass(frozen=True)
class SdvWorklist:
    """The monitor's worklist: each woman's counts, and each site's totals."""

    women: tuple[WorklistRow, ...]
    """Study ID order."""
    sites: tuple[WorklistRow, ...]
    """One row per site (``study_id`` empty), site order."""


@dataclass(frozen=True)
class WorklistRow:
    """A woman on the monitor's worklist: her instances counted per verification status."""

    study_id: str
    site: str
    n_verified: int
    n_changed: int
    n_to_verify: int


def plan_of(session: Session, study_pk: int) -> MonitoringPlan:
    """The stored study's monitoring plan."""
    config = session.get_one(Study, study_pk).config or {}
    return monitoring_plan_from_json(config.get("monitoring"))


def _marks(session: Session, participant_ids: Iterable[int]) -> dict[tuple[int, str, int], Any]:
    rows = session.execute(
        select(SourceVerification.participant_id, SourceVerification.form,
               SourceVerification.form_key, SourceVerification.values_sha256,
               SourceVerification.verified_at, User.username)
        .join(User, User.id == SourceVerification.verified_by_id)
        .where(SourceVerification.participant_id.in_(list(participant_ids)))
    )  # fmt: skip
    return {(row.participant_id, row.form, row.form_key): row for row in rows}


def _statuses(
    casebook: Casebook, participant_id: int, plan: MonitoringPlan, marks: dict
) -> list[tuple[str, int, str, Any]]:
    """(form, key, status, mark or None) of each instance of her casebook."""
    found = []
    for instance in casebook.forms:
        form, key = instance_key(instance)
        mark = marks.get((participant_id, form, key))
        if mark is not None:
            status = "verified" if mark.values_sha256 == instance_sha256(instance) else "changed"
        elif plan.needs_verification(casebook.study_id, form, instance.key):
            status = "to_verify"
        else:
            status = "optional"
        found.append((form, key, status, mark))
    return found


@refuses_unstorable_text
def verify_source_data(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study_id: str,
    form: str,
    key: int | None = None,
    *,
    at: datetime | None = None,
) -> FormMonitoring:
    """Mark her instance ``key`` of ``form`` as verified against the source documents (again,
    if it changed since its last verification)."""
    require(actor, Action.VERIFY_SOURCE_DATA, needs_account=True)
    form, key = checked_form(form, key)
    now = instant(at)
    with transaction(session_maker) as session:
        her = find_her(session, actor, study_id)
        refuse_if_study_locked(session, her.study_pk)
        digest = instance_sha256(instance_of(her, form, key))
        mark = session.scalar(select(SourceVerification).where(
            SourceVerification.participant_id == her.participant_id,
            SourceVerification.form == form, SourceVerification.form_key == key))  # fmt: skip
        old = None if mark is None else {"values_sha256": mark.values_sha256}
        if mark is None:
            mark = SourceVerification(participant_id=her.participant_id, form=form, form_key=key)
            session.add(mark)
        mark.values_sha256, mark.verified_at = digest, now
        mark.verified_by_id = actor.user_id  # type: ignore[assignment]
        append_event(
            session, actor=actor.username, action="source_data_verified", entity="participant",
            entity_id=her.study_id, reason=f"{label(form, key)} verified against the source",
            old=old, new={"form": form, "key": key, "values_sha256": digest}, at=now,
        )  # fmt: skip
    return FormMonitoring(form, key, label(form, key), "verified", actor.username, now, None)


@refuses_unstorable_text
def monitoring_view(
    session_maker: sessionmaker[Session], actor: Actor, study_id: str
) -> MonitoringView:
    """Her casebook's verification flags, form locks, her lock and her study's lock."""
    require(actor, Action.READ_PARTICIPANT)
    with session_maker() as session, session.begin():
        return monitoring_view_in(session, find_her(session, actor, study_id))


def monitoring_view_in(session: Session, her: Her) -> MonitoringView:
    """:func:`monitoring_view` in the caller's transaction."""
    pid = her.participant_id
    marks = _marks(session, [pid])
    locks = {(row.form, row.form_key): LockInfo(row.username, row.locked_at)
             for row in session.execute(
                 select(FormLock.form, FormLock.form_key, FormLock.locked_at, User.username)
                 .join(User, User.id == FormLock.locked_by_id)
                 .where(FormLock.participant_id == pid))}  # fmt: skip
    forms = tuple(
        FormMonitoring(form, key, label(form, key), status,
                       None if mark is None else mark.username,
                       None if mark is None else mark.verified_at, locks.get((form, key)))
        for form, key, status, mark in _statuses(her.casebook, pid, plan_of(session, her.study_pk),
                                                 marks)
    )  # fmt: skip
    whole = session.execute(
        select(ParticipantLock.locked_at, User.username)
        .join(User, User.id == ParticipantLock.locked_by_id)
        .where(ParticipantLock.participant_id == pid)
    ).first()
    study = session.execute(
        select(StudyLock.locked_at, StudyLock.locked_by).where(
            StudyLock.study_id == her.study_pk, StudyLock.unlocked_at.is_(None)
        )
    ).first()
    return MonitoringView(
        her.study_id, her.site, forms,
        None if whole is None else LockInfo(whole.username, whole.locked_at),
        None if study is None else LockInfo(study.locked_by, study.locked_at),
    )  # fmt: skip


_PAGE = 500


@refuses_unstorable_text
def sdv_worklist(
    session_maker: sessionmaker[Session], actor: Actor, study: str, *, site: str | None = None
) -> SdvWorklist:
    """The women of ``study`` in ``actor``'s scope (of ``site`` if given): their instances
    counted per status, and each site's totals."""
    require(actor, Action.READ_PARTICIPANT)
    rows = []
    with session_maker() as session, session.begin():
        found = get_study(session, study)
        if found is None:
            raise NotFound(f"no study {study!r} is loaded", message_code="error.no_study",
                           values={"study": study})  # fmt: skip
        plan = plan_of(session, found.id)
        after = 0
        while True:
            page = casebook_page(session, actor, found.id, after=after, limit=_PAGE,
                                 include_test=False)  # fmt: skip
            if page.last_id is None:
                break
            after = page.last_id
            wanted = [c for c in page.casebooks if site is None or c.site == site]
            ids = _participant_ids(session, [c.study_id for c in wanted])
            marks = _marks(session, ids.values())
            for casebook in wanted:
                counts = {status: 0 for status in SDV_STATUSES}
                for _, _, status, _ in _statuses(casebook, ids[casebook.study_id], plan, marks):
                    counts[status] += 1
                rows.append(WorklistRow(casebook.study_id, casebook.site, counts["verified"],
                                        counts["changed"], counts["to_verify"]))  # fmt: skip
    totals: dict[str, list[int]] = {}
    for row in rows:
        total = totals.setdefault(row.site, [0, 0, 0])
        total[0] += row.n_verified
        total[1] += row.n_changed
        total[2] += row.n_to_verify
    return SdvWorklist(
        tuple(sorted(rows, key=lambda row: row.study_id)),
        tuple(WorklistRow("", code, *totals[code]) for code in sorted(totals)),
    )


def _participant_ids(session: Session, study_ids: list[str]) -> dict[str, int]:
    if not study_ids:
        return {}
    rows = session.execute(
        select(Participant.study_id, Participant.id).where(Participant.study_id.in_(study_ids))
    )
    return {row.study_id: row.id for row in rows}
