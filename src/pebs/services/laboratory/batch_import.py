"""Import a laboratory's genotype batch: score, check and store every sample; complete risks.

The file is a VCF (plain or gzip) whose sample names are kit IDs. It is scored in one pass with
the study's score (:mod:`.genotype_file`), each sample is checked (:mod:`.quality`) and lands in
one :class:`~.report.Outcome`:

- a kit of the study that was shipped (or received): ``accepted`` (result stored, sample
  ``genotyped``, and her risk and plan computed if her data is now complete:
  :func:`pebs.services.trial.risk_completion.complete_risks_in`, a chunk of women at a time)
  or ``failed_qc`` (result stored as failed, sample ``recollection_requested``, a new kit
  assigned that replaces it);
- a genotyped kit: ``unchanged`` when the same result is stored, else ``conflict`` (stored for
  the data manager, :mod:`.conflicts`; nothing overwritten);
- a kit that failed in an earlier batch: ``unchanged`` for the same failed result, else
  ``already_failed`` (refused: its replacement kit is the one to genotype);
- refused, nothing stored: ``unknown_kit`` (not a kit of the study, or not a kit ID),
  ``not_shipped`` (assigned or collected), ``abandoned``, ``duplicate`` (the name appears more than
  once in the file: every copy).

**Atomicity**: a batch is stored in one transaction, all of it or nothing (the samples are
written a chunk at a time with bulk statements, inside that transaction). A file that changes
nothing (every sample unchanged or refused, e.g. the same file imported again) stores nothing,
not even a batch row, and its report says so. A dry run does the whole import and rolls it back,
so its report is exactly what the import would report. Every stored result has one audit
event on its kit (entity ``sample``, action :data:`RESULT_ACTIONS`: the kit's new state, the
result's id and values), and the batch one more after them (``lab_batch``/``import``, with the
stored report).

The report names kit IDs only (:class:`~.report.BatchReport`): the laboratory never learns who a
sample belongs to, her identity or her arm.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.data_locks import refuse_if_study_locked
from pebs.services.errors import Conflict, InvalidInput
from pebs.services.field_rules import LAB_FILE_NAME_CHARS
from pebs.services.keys import IdentityKeys
from pebs.services.laboratory._records import (
    Kit,
    ResultValues,
    StoredResult,
    chunks,
    kits_of_study,
    results_of,
)
from pebs.services.laboratory.genotype_file import ScoredFile, score_genotype_file
from pebs.services.laboratory.quality import QualityControl, check_file, quality_control
from pebs.services.laboratory.report import STORED_OUTCOMES, BatchReport, Outcome
from pebs.services.samples.kit_assignment import assign_kit_in
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.transaction import instant, transaction
from pebs.services.trial.risk_completion import complete_risks_in
from pebs.services.trial.study_rules import lab_rules_of, sample_rules_of, study_named
from pebs.store.audit import append_event
from pebs.store.models import GenotypeResult, LabBatch, Sample
from pebs.trial.samples import (
    ALPHABET,
    SampleEvent,
    SampleRules,
    SampleState,
    is_valid_kit_id,
    next_state,
)

__all__ = ["REFERENCE_PREFIX", "RESULT_ACTIONS", "import_genotype_batch"]

REFERENCE_PREFIX = "LB"
"""Batch references read ``LB-YYYYMMDD-XXXXXX`` (import date in UTC, six random characters)."""
_REFERENCE_ATTEMPTS = 8
_SHIPPED = (SampleState.SHIPPED.value, SampleState.RECEIVED.value)
_NOT_SHIPPED = (SampleState.ASSIGNED.value, SampleState.COLLECTED.value)
_FAILED = (SampleState.FAILED_QC.value, SampleState.RECOLLECTION_REQUESTED.value)


@dataclass(frozen=True)
class _Planned:
    """A sample of the file that stores a result."""

    kit: Kit
    column: int
    outcome: Outcome


class _DryRun(Exception):  # noqa: N818 (not an error: carries the report out of the rollback)
    def __init__(self, report: BatchReport) -> None:
        super().__init__("dry run")
        self.report = report


@refuses_unstorable_text
def import_genotype_batch(
    session_maker: sessionmaker[Session],
    actor: Actor,
    keys: IdentityKeys,
    study: str,
    path: Path,
    *,
    file_name: str | None = None,
    dry_run: bool = False,
    at: datetime | None = None,
    timings: dict[str, float] | None = None,
) -> BatchReport:
    """Import the genotype file at ``path`` for ``study`` (see the module docstring).

    ``file_name``: the name to record (default: the path's); ``keys`` decrypt a woman's date of
    birth when her risk is completed; ``timings``, if given, receives the seconds spent reading
    and scoring the file (``read_and_score``), storing results (``store``) and completing risks
    and plans (``risk_and_plan``). :class:`InvalidInput` (field ``file``) for a file that cannot
    be used (nothing is stored), :class:`NotFound` for an unknown study.
    """
    require(actor, Action.IMPORT_GENOTYPES)
    when = instant(at)
    name = Path(path).name if file_name is None else file_name
    if not 1 <= len(name) <= LAB_FILE_NAME_CHARS:
        raise InvalidInput(f"give 1 to {LAB_FILE_NAME_CHARS} characters", field="file_name")
    clock = _Clock(timings)
    with session_maker() as session:
        lab = lab_rules_of(study_named(session, study))
    scored = score_genotype_file(Path(path), lab.score)
    check_file(lab, scored.score_id, scored.n_variants, scored.absent)
    qc = quality_control(lab, scored.n_called, scored.n_imputed, scored.n_variants)
    clock.lap("read_and_score")
    try:
        with transaction(session_maker) as session:
            report = _import(session, actor, keys, study, scored, qc, name, dry_run, when, clock)
            if dry_run:
                raise _DryRun(report)
    except _DryRun as done:
        return done.report
    return report


class _Clock:
    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings
        self.start = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings[phase] = self.timings.get(phase, 0.0) + now - self.start
        self.start = now


def _import(
    session: Session, actor: Actor, keys: IdentityKeys, study_name: str, scored: ScoredFile,
    qc: QualityControl, file_name: str, dry_run: bool, when: datetime, clock: _Clock,
) -> BatchReport:  # fmt: skip
    study = study_named(session, study_name)
    refuse_if_study_locked(session, study.id)
    lab = lab_rules_of(study)
    if lab.score != scored.score_id:
        raise Conflict(f"study {study_name!r} changed its score during the import; import again")
    kit_rules = sample_rules_of(study)
    names = scored.sample_names
    repeated = {name for name, n in Counter(names).items() if n > 1}
    candidates = [n for n in dict.fromkeys(names) if n not in repeated
                  and is_valid_kit_id(n, kit_rules.kit_prefix)]  # fmt: skip
    kits = kits_of_study(session, study.id, candidates)
    stored = results_of(session, (k.sample_id for k in kits.values() if k.state not in _SHIPPED))
    outcomes: dict[Outcome, list[str]] = {outcome: [] for outcome in Outcome}
    outcomes[Outcome.DUPLICATE] = [name for name in dict.fromkeys(names) if name in repeated]
    planned: list[_Planned] = []
    for column, name in enumerate(names):
        if name in repeated:
            continue
        kit = kits.get(name)
        outcome = Outcome.UNKNOWN_KIT if kit is None else _outcome(
            kit, qc, column, _values(scored, qc, column), stored.get(kit.sample_id, [])
        )  # fmt: skip
        outcomes[outcome].append(name)
        if kit is not None and outcome in STORED_OUTCOMES:
            planned.append(_Planned(kit, column, outcome))
    previous = tuple(session.scalars(
        select(LabBatch.reference)
        .where(LabBatch.study_pk == study.id, LabBatch.file_sha256 == scored.file_sha256)
        .order_by(LabBatch.imported_at, LabBatch.id)
    ))  # fmt: skip
    report = BatchReport(
        reference=None, study=study_name, file_name=file_name, file_sha256=scored.file_sha256,
        score_id=scored.score_id, score_version=scored.score_version,
        normalisation=scored.normalisation, imported_at=when, dry_run=dry_run,
        min_call_rate=lab.min_call_rate, max_imputed=lab.max_imputed,
        n_variants=scored.n_variants, absent_variants=scored.absent,
        kits={outcome: tuple(kits) for outcome, kits in outcomes.items()},
        n_samples=len(names), n_risks_completed=0, previous_imports=previous,
    )  # fmt: skip
    if not planned:
        return report
    reference = _new_reference(session, when)
    batch = LabBatch(
        reference=reference, study_pk=study.id, file_name=file_name,
        file_sha256=scored.file_sha256, score_id=scored.score_id,
        score_version=scored.score_version, imported_at=when, imported_by_id=actor.user_id,
        report={},
    )  # fmt: skip
    session.add(batch)
    session.flush()
    batch_id = batch.id
    n_completed = 0
    for part in chunks(planned):
        _store(session, actor, kit_rules, scored, qc, part, batch_id, reference, when)
        clock.lap("store")
        levels = complete_risks_in(
            session, actor=actor, keys=keys, at=when,
            participant_ids=[i.kit.participant_id for i in part if i.outcome is Outcome.ACCEPTED],
        )  # fmt: skip
        n_completed += sum(level is not None for level in levels.values())
        session.flush()
        session.expunge_all()  # bounded memory: the next chunk reads what it needs again
        clock.lap("risk_and_plan")
    final = replace(report, reference=None if dry_run else reference, n_risks_completed=n_completed)
    document = {**final.as_json(), "reference": reference}
    session.execute(update(LabBatch).where(LabBatch.id == batch_id).values(report=document))
    append_event(
        session, actor=actor.username, action="import", entity="lab_batch", entity_id=reference,
        reason=f"genotype file {file_name}",
        new={"study": study_name, "file_name": file_name, "file_sha256": scored.file_sha256,
             "score_id": scored.score_id, "score_version": scored.score_version,
             "report": document},
        at=when,
    )  # fmt: skip
    clock.lap("store")
    return final


def _values(scored: ScoredFile, qc: QualityControl, column: int) -> ResultValues:
    return ResultValues(
        score_id=scored.score_id, score_version=scored.score_version,
        raw_score=float(scored.raw_scores[column]), prs_z=float(scored.z_scores[column]),
        call_rate=float(qc.call_rate[column]), n_variants=scored.n_variants,
        n_matched=int(scored.n_called[column]), n_missing=int(scored.n_no_call[column]),
        n_imputed=scored.n_imputed,
    )  # fmt: skip


def _outcome(
    kit: Kit, qc: QualityControl, column: int, values: ResultValues, stored: list[StoredResult]
) -> Outcome:
    if kit.state in _SHIPPED:
        return Outcome.ACCEPTED if qc.passed[column] else Outcome.FAILED_QC
    if kit.state in _NOT_SHIPPED:
        return Outcome.NOT_SHIPPED
    if kit.state == SampleState.ABANDONED:
        return Outcome.ABANDONED
    if any(result.values.same_as(values) for result in stored):
        return Outcome.UNCHANGED
    return Outcome.ALREADY_FAILED if kit.state in _FAILED else Outcome.CONFLICT


def _new_reference(session: Session, when: datetime) -> str:
    for _ in range(_REFERENCE_ATTEMPTS):
        body = "".join(secrets.choice(ALPHABET) for _ in range(6))
        reference = f"{REFERENCE_PREFIX}-{when:%Y%m%d}-{body}"
        if session.scalar(select(LabBatch.id).where(LabBatch.reference == reference)) is None:
            return reference
    raise Conflict(f"no unused batch reference found after {_REFERENCE_ATTEMPTS} tries; try again")


_STATUS = {Outcome.ACCEPTED: "accepted", Outcome.FAILED_QC: "failed_qc",
           Outcome.CONFLICT: "conflict"}  # fmt: skip
RESULT_ACTIONS = {"accepted": SampleEvent.GENOTYPE.value, "failed_qc": SampleEvent.FAIL_QC.value,
                  "conflict": "conflicting_result"}  # fmt: skip
"""Result status -> audit action of the sample event that records it."""
_EVENT_KEYS = {"status": "result_status"}
"""A result's column named otherwise in its kit's event (whose ``status`` would be hers)."""


def _sample_state(kit: Kit, outcome: Outcome) -> str:
    """Her sample's state after the result (a conflict leaves it as it is)."""
    if outcome is Outcome.ACCEPTED:
        return next_state(kit.state, SampleEvent.GENOTYPE).value
    if outcome is Outcome.FAILED_QC:
        failed = next_state(kit.state, SampleEvent.FAIL_QC)
        return next_state(failed, SampleEvent.REQUEST_RECOLLECTION).value
    return kit.state


def _store(
    session: Session, actor: Actor, kit_rules: SampleRules, scored: ScoredFile,
    qc: QualityControl, part: Sequence[_Planned], batch_id: int, reference: str, when: datetime,
) -> None:  # fmt: skip
    """One chunk: its results (one bulk insert), its samples' states (one bulk update), an audit
    event per result, and a new kit for each failed sample."""
    rows, updates, events = [], [], []
    for item in part:
        values = _values(scored, qc, item.column)
        row = {
            "sample_id": item.kit.sample_id, "batch_id": batch_id,
            "status": _STATUS[item.outcome], "prs_z": values.prs_z,
            "raw_score": values.raw_score, "call_rate": values.call_rate,
            "n_variants": values.n_variants, "n_matched": values.n_matched,
            "n_missing": values.n_missing, "n_imputed": values.n_imputed,
            "qc_reason": qc.reasons[item.column], "recorded_at": when,
        }  # fmt: skip
        rows.append(row)
        state = _sample_state(item.kit, item.outcome)
        if state != item.kit.state:
            updates.append(
                {"id": item.kit.sample_id, "state": state, "result_at": when, "updated_at": when}
            )
        events.append((item.kit, state, row))
    ids = session.scalars(
        insert(GenotypeResult).returning(GenotypeResult.id, sort_by_parameter_order=True), rows
    ).all()
    if updates:
        session.execute(update(Sample), updates)
    for result_id, (kit, state, row) in zip(ids, events, strict=True):
        shown = {_EVENT_KEYS.get(k, k): v for k, v in row.items()
                 if k not in ("sample_id", "batch_id", "recorded_at")}  # fmt: skip
        append_event(
            session, actor=actor.username, action=RESULT_ACTIONS[row["status"]], entity="sample",
            entity_id=kit.kit_id, reason=f"laboratory batch {reference}",
            old={"state": kit.state},
            new={"participant": kit.study_id, "state": state, "kit_id": kit.kit_id,
                 "result": result_id, "batch": reference, **shown},
            at=when,
        )  # fmt: skip
    for item in part:
        if item.outcome is Outcome.FAILED_QC:
            assign_kit_in(
                session, participant_id=item.kit.participant_id, study_id=item.kit.study_id,
                rules=kit_rules, actor=actor.username, user_id=actor.user_id, at=when,
                replaces=session.get(Sample, item.kit.sample_id),
                reason=f"recollection: kit {item.kit.kit_id} failed quality control",
            )  # fmt: skip
