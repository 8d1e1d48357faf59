"""Stored genotype batches: a study's list, newest first, and one batch's report by its
reference (the laboratory's view: kit IDs only).

The list is keyset-paged on its order (latest import first): ``after`` is the reference of the
previous page's last batch (:attr:`BatchPage.next_after`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import InvalidInput, NotFound
from pebs.services.laboratory.report import BatchReport, Outcome
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.trial.study_rules import study_named
from pebs.store.models import LabBatch

__all__ = ["MAX_BATCHES_PER_PAGE", "BatchPage", "BatchRow", "genotype_batch", "list_batches"]

MAX_BATCHES_PER_PAGE = 500


@dataclass(frozen=True)
class BatchRow:
    reference: str
    file_name: str
    file_sha256: str
    imported_at: datetime
    counts: Mapping[str, int]
    """Samples of the file per outcome (every :class:`~.report.Outcome`, in its order), from the
    stored report."""


@dataclass(frozen=True)
class BatchPage:
    study: str
    rows: tuple[BatchRow, ...]
    """Latest import first."""
    next_after: str | None
    """Give it as ``after`` for the next page; ``None`` on the last page."""
    total: int
    """The study's batches on every page (whatever ``after``)."""


def _counts(stored: Mapping[str, int]) -> dict[str, int]:
    """Every outcome's count (an outcome the report does not name had no sample, as in
    :attr:`~.report.BatchReport.counts`)."""
    return {outcome.value: int(stored.get(outcome.value, 0)) for outcome in Outcome}


@refuses_unstorable_text
def list_batches(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study: str,
    *,
    limit: int = 50,
    after: str | None = None,
) -> BatchPage:
    """One page of the batches imported for ``study``, latest first. :class:`NotFound` for an
    unknown study; :class:`InvalidInput` (field ``after``) for an ``after`` that is not a batch
    of this study."""
    require(actor, Action.IMPORT_GENOTYPES)
    if (
        isinstance(limit, bool)
        or not isinstance(limit, int)
        or not (1 <= limit <= MAX_BATCHES_PER_PAGE)
    ):
        raise InvalidInput(
            f"a page holds 1 to {MAX_BATCHES_PER_PAGE} batches, got {limit!r}", field="limit"
        )
    with session_maker() as session, session.begin():
        study_row = study_named(session, study)
        statement = select(
            LabBatch.reference, LabBatch.file_name, LabBatch.file_sha256, LabBatch.imported_at,
            LabBatch.report["counts"],
        ).where(LabBatch.study_pk == study_row.id)  # fmt: skip
        n_batches = select(func.count(LabBatch.id)).where(LabBatch.study_pk == study_row.id)
        total = session.scalar(n_batches) or 0
        if after is not None:
            last = session.execute(
                select(LabBatch.imported_at, LabBatch.id).where(
                    LabBatch.study_pk == study_row.id, LabBatch.reference == after.strip()
                )
            ).first()
            if last is None:
                raise InvalidInput(f"{after!r} is not a batch of study {study!r}", field="after")
            statement = statement.where(or_(
                LabBatch.imported_at < last.imported_at,
                and_(LabBatch.imported_at == last.imported_at, LabBatch.id < last.id),
            ))  # fmt: skip
        found = session.execute(
            statement.order_by(LabBatch.imported_at.desc(), LabBatch.id.desc()).limit(limit)
        ).all()
    rows = tuple(
        BatchRow(reference, file_name, sha256, imported_at, _counts(counts))
        for reference, file_name, sha256, imported_at, counts in found
    )
    next_after = rows[-1].reference if len(rows) == limit else None
    return BatchPage(study_row.name, rows, next_after, total)


@refuses_unstorable_text
def genotype_batch(
    session_maker: sessionmaker[Session], actor: Actor, reference: str
) -> BatchReport:
    """The report stored with batch ``reference`` (:class:`NotFound` if there is none)."""
    require(actor, Action.IMPORT_GENOTYPES)
    with session_maker() as session:
        report = session.scalar(select(LabBatch.report).where(LabBatch.reference == reference))
    if report is None:
        raise NotFound(f"no genotype batch {reference!r}")
    return BatchReport.from_json(report)
