"""The stored kits and genotype results a batch is compared with, read a chunk at a time.

Kits are read with their participant's row id and pseudonym (for her risk and the audit trail,
never for the report), locked for the import (``FOR UPDATE`` on PostgreSQL; SQLite's writer
lock already serialises writers). A result is the *same* as a stored one when the score (id and
version), the counts and the call rate are equal and the raw and standardised scores agree to
1e-9 (the same genotypes summed in another order may differ in the last bits).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from pebs.store.models import Country, GenotypeResult, LabBatch, Participant, Sample, Site

CHUNK = 500
"""Kits per statement, and samples stored per step."""
_TOLERANCE = 1e-9


def chunks(items: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class Kit:
    """A stored kit of the study."""

    sample_id: int
    kit_id: str
    state: str
    participant_id: int
    study_id: str
    """Her pseudonym: for the audit trail only."""


@dataclass(frozen=True)
class ResultValues:
    """What a genotype result says, to compare two results."""

    score_id: str
    score_version: str
    raw_score: float | None
    prs_z: float | None
    call_rate: float
    n_variants: int
    n_matched: int
    n_missing: int
    n_imputed: int

    def same_as(self, other: ResultValues) -> bool:
        def close(a: float | None, b: float | None) -> bool:
            if a is None or b is None:
                return a is b
            return math.isclose(a, b, rel_tol=0.0, abs_tol=_TOLERANCE)

        counts = (self.n_variants, self.n_matched, self.n_missing, self.n_imputed)
        return (
            (self.score_id, self.score_version) == (other.score_id, other.score_version)
            and counts == (other.n_variants, other.n_matched, other.n_missing, other.n_imputed)
            and close(self.raw_score, other.raw_score)
            and close(self.prs_z, other.prs_z)
            and close(self.call_rate, other.call_rate)
        )


@dataclass(frozen=True)
class StoredResult:
    id: int
    sample_id: int
    status: str
    values: ResultValues


def kits_of_study(session: Session, study_pk: int, kit_ids: Sequence[str]) -> dict[str, Kit]:
    """The study's kits among ``kit_ids``, by kit ID, their rows locked."""
    found: dict[str, Kit] = {}
    for part in chunks(kit_ids):
        statement = (
            select(Sample.id, Sample.kit_id, Sample.state, Sample.participant_id,
                   Participant.study_id)
            .join(Participant, Participant.id == Sample.participant_id)
            .join(Site, Site.id == Participant.site_id)
            .join(Country, Country.id == Site.country_id)
            .where(Country.study_id == study_pk, Sample.kit_id.in_(part))
            .with_for_update(of=(Sample, Participant))
        )  # fmt: skip
        for row in session.execute(statement):
            found[row.kit_id] = Kit(*row)
    return found


def results_of(session: Session, sample_ids: Iterable[int]) -> dict[int, list[StoredResult]]:
    """The results a new one is compared with, by sample: accepted and failed ones, and the
    conflicts the data manager has not resolved yet."""
    found: dict[int, list[StoredResult]] = {}
    for part in chunks(sorted(set(sample_ids))):
        r = GenotypeResult
        statement = (
            select(r.id, r.sample_id, r.status, LabBatch.score_id, LabBatch.score_version,
                   r.raw_score, r.prs_z, r.call_rate, r.n_variants, r.n_matched, r.n_missing,
                   r.n_imputed)
            .join(LabBatch, LabBatch.id == r.batch_id)
            .where(r.sample_id.in_(part), or_(
                r.status.in_(("accepted", "failed_qc")),
                and_(r.status == "conflict", r.resolved_at.is_(None)),
            ))
            .order_by(r.id)
        )  # fmt: skip
        for row in session.execute(statement):
            values = ResultValues(*row[3:])
            found.setdefault(row.sample_id, []).append(
                StoredResult(row.id, row.sample_id, row.status, values)
            )
    return found
