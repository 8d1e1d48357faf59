"""A laboratory's genotype file scored in one pass: every sample's PRS and quality counts.

The file (VCF, plain or gzip) is read once by :func:`pebs.services.prs_scoring.score_vcf` with
every missing genotype imputed at the population mean dosage ``2 f`` (quality control then
decides which samples are usable, :mod:`.quality`). Sample names may repeat here: the import
refuses every copy of a repeated name. Provenance: the file's SHA-256, the score's PGS Catalog id
and the SHA-256 of its scoring file, and the source of the z-score's normalisation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np

from pebs.io.errors import FileAccessError, InputFormatError
from pebs.io.pgs_catalog import PACKAGED_SCORES
from pebs.risk.prs import NORMALISATIONS, VariantStatus
from pebs.services.errors import InvalidInput
from pebs.services.prs_scoring import load_score, score_vcf
from pebs.services.storable_text import unstorable

__all__ = ["ScoredFile", "file_sha256", "score_genotype_file", "score_sha256"]

_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of the file's bytes as received (compressed, for a ``.vcf.gz``)."""
    digest = hashlib.sha256()
    try:
        with Path(path).open("rb") as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
    except OSError as error:
        raise InvalidInput(f"{path}: cannot be read ({error.strerror})", field="file") from None
    return digest.hexdigest()


def score_sha256(score_id: str) -> str:
    """SHA-256 of a packaged scoring file (``pebs/io/scores/PROVENANCE.md`` lists it)."""
    if score_id not in PACKAGED_SCORES:
        raise InvalidInput(
            f"{score_id!r} is not a packaged score; packaged: {', '.join(PACKAGED_SCORES)}",
            field="laboratory.score",
        )
    data = files("pebs.io").joinpath("scores", f"{score_id}.txt").read_bytes()
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ScoredFile:
    """Every sample of a genotype file, scored with the study's score."""

    sample_names: tuple[str, ...]
    """As in the file's header, in column order (repeats kept)."""
    raw_scores: np.ndarray
    """Sum of dosage x weight, missing genotypes at ``2 f``, shape (n_samples,)."""
    z_scores: np.ndarray
    """Standardised raw scores, shape (n_samples,)."""
    n_called: np.ndarray
    """Score variants with a genotype for the sample, shape (n_samples,)."""
    absent: tuple[str, ...]
    """Score variants the file does not carry (no record with their alleles)."""
    n_variants: int
    file_sha256: str
    score_id: str
    score_version: str
    normalisation: str

    @property
    def n_imputed(self) -> int:
        return len(self.absent)

    @property
    def n_no_call(self) -> np.ndarray:
        """Missing genotypes at variants the file carries, shape (n_samples,)."""
        return self.n_variants - self.n_imputed - self.n_called


def score_genotype_file(path: Path, score_id: str) -> ScoredFile:
    """Read and score ``path`` with the packaged score ``score_id``.

    :class:`InvalidInput` (field ``file``) for a file that cannot be read or is not a usable VCF
    (the message names the line), or whose sample names cannot be stored.
    """
    path = Path(path)
    normalisation = NORMALISATIONS.get(score_id)
    if normalisation is None:
        raise InvalidInput(
            f"{score_id} has no published mean and standard deviation, so its z-scores cannot "
            "be computed; use a score with one (PGS000004)",
            field="laboratory.score",
        )
    version = score_sha256(score_id)
    digest = file_sha256(path)
    try:
        run = score_vcf(path, load_score(score_id), impute_missing=True, repeated_samples=True)
    except (InputFormatError, FileAccessError) as error:
        raise InvalidInput(f"{error}; nothing was stored", field="file") from None
    names = run.result.sample_names
    for name in names:
        problem = unstorable(name)
        if problem is not None:
            raise InvalidInput(f"sample name {name!r} {problem}", field="file")
    result = run.result
    absent = np.flatnonzero(result.variant_status != VariantStatus.MATCHED)
    return ScoredFile(
        sample_names=names, raw_scores=result.raw_scores, z_scores=result.z_scores,
        n_called=np.asarray(result.n_matched, dtype=np.int64),
        absent=tuple(run.scoring.score.labels(absent)), n_variants=result.n_variants,
        file_sha256=digest, score_id=score_id, score_version=version,
        normalisation=normalisation.source,
    )  # fmt: skip
