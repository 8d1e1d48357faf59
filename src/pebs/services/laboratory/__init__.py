"""The central laboratory: genotype batch imports, their list and reports, conflicting results,
and the study names its forms offer."""

from pebs.services.laboratory.batch_import import import_genotype_batch
from pebs.services.laboratory.batches import (
    MAX_BATCHES_PER_PAGE,
    BatchPage,
    BatchRow,
    genotype_batch,
    list_batches,
)
from pebs.services.laboratory.conflicts import (
    KEEP_CHOICES,
    ConflictResolved,
    GenotypeConflict,
    open_genotype_conflicts,
    resolve_genotype_conflict,
)
from pebs.services.laboratory.report import BatchReport, Outcome
from pebs.services.laboratory.studies import laboratory_studies

__all__ = [
    "KEEP_CHOICES",
    "MAX_BATCHES_PER_PAGE",
    "BatchPage",
    "BatchReport",
    "BatchRow",
    "ConflictResolved",
    "GenotypeConflict",
    "Outcome",
    "genotype_batch",
    "import_genotype_batch",
    "laboratory_studies",
    "list_batches",
    "open_genotype_conflicts",
    "resolve_genotype_conflict",
]
