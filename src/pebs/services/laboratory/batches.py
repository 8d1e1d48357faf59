"""Stored genotype batches, read back by reference (the laboratory's view: kit IDs only)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import NotFound
from pebs.services.laboratory.report import BatchReport
from pebs.services.storable_text import refuses_unstorable_text
from pebs.store.models import LabBatch

__all__ = ["genotype_batch"]


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
