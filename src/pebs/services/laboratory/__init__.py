"""The central laboratory: genotype batch imports, their reports, conflicting results."""

from pebs.services.laboratory.batch_import import import_genotype_batch
from pebs.services.laboratory.batches import genotype_batch
from pebs.services.laboratory.conflicts import (
    KEEP_CHOICES,
    ConflictResolved,
    GenotypeConflict,
    open_genotype_conflicts,
    resolve_genotype_conflict,
)
from pebs.services.laboratory.report import BatchReport, Outcome

__all__ = [
    "KEEP_CHOICES",
    "BatchReport",
    "ConflictResolved",
    "GenotypeConflict",
    "Outcome",
    "genotype_batch",
    "import_genotype_batch",
    "open_genotype_conflicts",
    "resolve_genotype_conflict",
]
