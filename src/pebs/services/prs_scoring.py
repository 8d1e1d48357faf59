"""Polygenic risk scores for every sample of a VCF file, from a PGS Catalog scoring file.

One pass over the VCF: records at the score's positions are matched
(:func:`pebs.risk.prs.match_site`) and their effect-allele dosages summed a block of variants at a
time, so memory grows with
``n_samples * block_variants`` (about 25 MB for 100,000 samples), not with the number of variants
or the file size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pebs.io import pgs_catalog
from pebs.io.atomic import atomic_output
from pebs.io.csv_table import write_csv_chunk
from pebs.io.errors import FileAccessError, InputFormatError
from pebs.io.pgs_catalog import ScoringFile
from pebs.io.vcf import VcfReader, VcfRecord
from pebs.risk import prs

DEFAULT_SCORE = "PGS000004"
"""PRS313 (Mavaddat et al. 2019), shipped with pebs."""
OUTPUT_COLUMNS = (
    "sample", "raw_score", "z_score", "n_variants", "n_matched", "n_missing", "n_imputed",
)  # fmt: skip
BLOCK_VARIANTS = 32
"""Variants summed at a time: a float64 block of n_samples x 32 (25 MB for 100,000 samples)."""


@dataclass(frozen=True)
class PrsRun:
    """What a scoring run found and computed."""

    result: prs.PrsResult
    scoring: ScoringFile
    n_samples: int
    not_found: tuple[str, ...]
    """Score variants with no record at their position (labels ``chrom:pos:other:effect``)."""
    mismatched: tuple[str, ...]
    """Score variants whose alleles no record carries, with the reason."""

    @property
    def n_variants(self) -> int:
        return self.result.n_variants

    @property
    def n_matched_variants(self) -> int:
        return int(np.count_nonzero(self.result.variant_status == prs.VariantStatus.MATCHED))

    @property
    def n_imputed(self) -> int:
        """Imputed genotypes over all samples."""
        return int(self.result.n_imputed.sum())


def packaged_scores() -> tuple[str, ...]:
    """Names accepted by :func:`load_score` (``--score``)."""
    return pgs_catalog.PACKAGED_SCORES


def load_score(name: str | None = None, path: Path | None = None) -> ScoringFile:
    """A packaged score by ``name``, or a scoring file at ``path`` (default: :data:`DEFAULT_SCORE`).

    Raises
    ------
    ValueError
        Both ``name`` and ``path`` given.
    InputFormatError, FileAccessError
        Unknown name, unreadable or malformed file.
    """
    if name is not None and path is not None:
        raise ValueError("give a packaged score name or a scoring file, not both")
    if path is not None:
        return pgs_catalog.read_scoring_file(path)
    return pgs_catalog.load_packaged_score(name or DEFAULT_SCORE)


class _Tally:
    """Which score variants the VCF carries, why others do not match, and the running sums.

    Dosages are summed a block of variants at a time (:func:`pebs.risk.prs.partial_scores`), so
    memory is ``block * n_samples`` float64 whatever the number of variants.
    """

    def __init__(self, score: prs.PolygenicScore, n_samples: int, block: int, path: Path):
        self.score = score
        self.path = path
        self.status = np.full(score.n_variants, prs.VariantStatus.NOT_FOUND, dtype=np.int8)
        self.matched_on_line: dict[int, int] = {}
        self.reasons: dict[int, str] = {}
        """Why a variant did not match a record at its position (first such record)."""
        self.total = prs.PartialScores.zeros(n_samples)
        self.rows = np.empty((block, n_samples))  # (block, n_samples): one variant per row
        self.variants: list[int] = []

    def add_record(self, record: VcfRecord) -> None:
        score = self.score
        site = prs.match_site(score, record.chromosome, record.position, record.ref, record.alts)
        for variant, why in site.mismatches:
            self.reasons.setdefault(variant, f"line {record.line_number}: {why}")
        if not site.variant_indices:
            return
        dosages = record.dosages()
        for variant, allele in zip(site.variant_indices, site.allele_indices, strict=True):
            if variant in self.matched_on_line:
                raise InputFormatError(
                    f"{self.path}: lines {self.matched_on_line[variant]} and "
                    f"{record.line_number} both carry {score.labels([variant])[0]}; remove the "
                    "duplicate record"
                )
            self.matched_on_line[variant] = record.line_number
            self.status[variant] = prs.VariantStatus.MATCHED
            self.rows[len(self.variants)] = prs.effect_allele_dosages(
                dosages.alt_dosages, dosages.ploidy, allele
            )
            self.variants.append(variant)
            if len(self.variants) == self.rows.shape[0]:
                self.flush()

    def flush(self) -> None:
        if not self.variants:
            return
        index = np.array(self.variants)
        block = self.rows[: index.size].T  # (n_samples, n_block)
        expected = prs.DIPLOID * self.score.effect_allele_frequencies[index]
        self.total = self.total + prs.partial_scores(block, self.score.weights[index], expected)
        self.variants = []

    def final_status(self) -> np.ndarray:
        """Variants never matched but seen with other alleles become ALLELE_MISMATCH."""
        status = self.status.copy()
        for variant in self.reasons:
            if status[variant] == prs.VariantStatus.NOT_FOUND:
                status[variant] = prs.VariantStatus.ALLELE_MISMATCH
        return status


def score_vcf(
    vcf_path: Path,
    scoring: ScoringFile,
    *,
    impute_missing: bool = False,
    normalisation: prs.Normalisation | None = None,
    block_variants: int = BLOCK_VARIANTS,
    on_progress: Callable[[int], None] | None = None,
    repeated_samples: bool = False,
) -> PrsRun:
    """Score every sample of ``vcf_path``.

    ``normalisation`` defaults to the published constants for the score's name, if any
    (:data:`pebs.risk.prs.NORMALISATIONS`); without constants the z-scores are NaN.
    ``on_progress`` receives the number of file bytes read after each record used.
    ``repeated_samples``: score a sample name given more than once (each copy on its own)
    instead of refusing the file.

    Raises
    ------
    FileAccessError, InputFormatError
        Unreadable or malformed VCF; two records carrying the same score variant; missing
        variants or genotypes while ``impute_missing`` is False (the message counts and names
        them).
    """
    vcf_path = Path(vcf_path)
    score = scoring.score
    if normalisation is None:
        normalisation = prs.NORMALISATIONS.get(score.name)
    positions = score.by_position.keys()
    with VcfReader(vcf_path, positions=positions, repeated_samples=repeated_samples) as vcf:
        tally = _Tally(score, len(vcf.samples), block_variants, vcf_path)
        for record in vcf:
            tally.add_record(record)
            if on_progress is not None:
                on_progress(vcf.bytes_read)
        tally.flush()
        samples = vcf.samples
    status = tally.final_status()
    try:
        result = prs.finish_scores(
            tally.total, score, status, impute_missing=impute_missing,
            normalisation=normalisation, sample_names=samples,
        )  # fmt: skip
    except prs.MissingGenotypesError as error:
        raise InputFormatError(f"{vcf_path}: {error}") from error
    mismatched = np.flatnonzero(status == prs.VariantStatus.ALLELE_MISMATCH)
    return PrsRun(
        result=result,
        scoring=scoring,
        n_samples=len(samples),
        not_found=tuple(score.labels(np.flatnonzero(status == prs.VariantStatus.NOT_FOUND))),
        mismatched=tuple(
            f"{label}: {tally.reasons[i]}"
            for i, label in zip(mismatched, score.labels(mismatched), strict=True)
        ),
    )


def output_table(run: PrsRun) -> pd.DataFrame:
    """The :data:`OUTPUT_COLUMNS`, one row per sample."""
    result = run.result
    return pd.DataFrame(
        {
            "sample": np.array(result.sample_names, dtype=object),
            "raw_score": result.raw_scores,
            "z_score": result.z_scores,
            "n_variants": np.full(run.n_samples, result.n_variants, dtype=np.int64),
            "n_matched": result.n_matched,
            "n_missing": result.n_missing,
            "n_imputed": result.n_imputed,
        },
        columns=list(OUTPUT_COLUMNS),
    )


def score_vcf_to_csv(
    vcf_path: Path,
    output_path: Path | None,
    *,
    score: str | None = None,
    scoring_file: Path | None = None,
    impute_missing: bool = False,
    normalisation: prs.Normalisation | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> PrsRun:
    """Score ``vcf_path`` and write the :data:`OUTPUT_COLUMNS` as CSV (floats in full precision).

    ``output_path`` appears only when every sample has been scored (``None``: standard output).
    See :func:`load_score` and :func:`score_vcf` for the other arguments and the errors.
    """
    vcf_path = Path(vcf_path)
    if output_path is not None and Path(output_path).resolve() == vcf_path.resolve():
        raise FileAccessError(f"{output_path}: the output would overwrite the input file")
    scoring = load_score(score, scoring_file)
    run = score_vcf(
        vcf_path, scoring, impute_missing=impute_missing, normalisation=normalisation,
        on_progress=on_progress,
    )  # fmt: skip
    with atomic_output(output_path) as stream:
        write_csv_chunk(output_table(run), stream, header=True)
    return run
