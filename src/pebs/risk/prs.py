"""Polygenic risk scores (PRS) from effect-allele dosages: match, sum, standardise.

The raw score of a woman is ``raw = sum_j dosage_j * weight_j`` over the score's variants, where
``dosage_j`` (0..2 for a diploid site) counts copies of variant j's *effect allele* and
``weight_j`` is its log odds ratio per copy. It is standardised as ``z = (raw - mean) / sd`` with
explicitly named constants (:class:`Normalisation`); the relative risk per standard deviation is a
separate published constant (:data:`PRS313_OR_PER_SD`).

Stages, each testable on its own:

1. :func:`match_site`: a genotype record (chromosome, position, REF, ALT alleles) against the score
   variants at that position. The effect allele must be REF or one of the ALT alleles, and the
   other allele (when the score gives it) must be among them too; anything else is an allele
   mismatch, reported and never used. Strand flips are not attempted.
2. :func:`effect_allele_dosages`: dosages of a record's ALT alleles -> dosage of the effect allele.
   An ALT effect allele takes its own column; a REF effect allele takes ``ploidy - sum of every ALT
   dosage`` (on a multi-allelic site, ``2 - dosage of one ALT`` would count the other ALT alleles
   as REF).
3. :func:`partial_scores`: ``sum dosage * weight`` over a block of variants, keeping missing
   genotypes apart. Additive over disjoint blocks, so a file can be scored a few variants at a
   time with memory bounded by ``n_samples * block``.
4. :func:`finish_scores`: the missing-data policy, then raw and z scores (:class:`PrsResult`).

:func:`polygenic_scores` runs stages 3-4 on a whole ``(n_samples, n_variants)`` dosage matrix.

Missing data: a variant absent from the genotypes, one whose alleles do not match, and a sample
whose genotype is missing at a matched variant are all *missing*. By default any missing value is
an error (:class:`MissingGenotypesError`, as CanRisk's ``vcf2prs`` does); with
``impute_missing=True`` each is replaced by the expected dosage ``2 f`` (``f`` = effect-allele
frequency, a proportion) and counted per sample.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from pebs.risk._arrays import ModelInputError

PRS313_MEAN = -0.423912567501208
"""Mean of the PRS313 raw score (sum of log OR): CanRisk's current value for women of European
ancestry, the one its ``vcf2prs`` uses for z-scores (CanRisk: Carver et al.,
Cancer Epidemiol Biomarkers Prev 2021; the ``mean`` column of CanRisk's reference outputs in
``tests/data/prs/``)."""
PRS313_SD = 0.611145385948092
"""Standard deviation of the PRS313 raw score, same source as :data:`PRS313_MEAN`."""
PRS313_OR_PER_SD = 1.61
"""Odds ratio of breast cancer per standard deviation of PRS313 (Mavaddat et al., Am J Hum Genet
2019;104:21-34, overall breast cancer)."""

DIPLOID = 2
"""Copies of an autosome; the expected dosage of a missing genotype is ``DIPLOID * f``."""


class MissingGenotypesError(ModelInputError):
    """Variants or genotypes are missing and imputation was not asked for."""


class VariantStatus(enum.IntEnum):
    """What matching found for one score variant."""

    MATCHED = 0
    """A genotype record at its position carries its effect (and other) allele."""
    NOT_FOUND = 1
    """No genotype record at its chromosome and position."""
    ALLELE_MISMATCH = 2
    """Records at its position, none carrying its alleles."""


@dataclass(frozen=True)
class Normalisation:
    """Constants of ``z = (raw - mean) / sd``."""

    mean: float
    sd: float
    source: str
    """Where the constants come from (population, tool, version)."""

    def __post_init__(self) -> None:
        if not (np.isfinite(self.mean) and np.isfinite(self.sd) and self.sd > 0):
            raise ModelInputError(
                f"normalisation: mean must be finite and sd finite and > 0, got mean={self.mean!r}"
                f", sd={self.sd!r}"
            )


PRS313_EUROPEAN = Normalisation(
    mean=PRS313_MEAN,
    sd=PRS313_SD,
    source="CanRisk, PRS313 (PGS000004), women of European ancestry",
)
NORMALISATIONS: Mapping[str, Normalisation] = {"PGS000004": PRS313_EUROPEAN}
"""Known constants by score name (PGS Catalog id)."""


def normalise_chromosome(name: str) -> str:
    """Chromosome name without a ``chr`` prefix, upper case: ``"chr1"`` and ``"1"`` both give "1".

    >>> normalise_chromosome("chrX"), normalise_chromosome("7")
    ('X', '7')
    """
    name = name.strip()
    if name[:3].lower() == "chr":
        name = name[3:]
    return name.upper()


def _as_text_array(values: Sequence[str] | np.ndarray, name: str, upper: bool) -> np.ndarray:
    array = np.asarray(values, dtype=object)
    if array.ndim != 1:
        raise ModelInputError(f"{name}: expected a 1-D array, got shape {array.shape}")
    if not all(isinstance(v, str) for v in array):
        raise ModelInputError(f"{name}: expected text values")
    return np.array([v.upper() for v in array] if upper else list(array), dtype=object)


@dataclass(frozen=True)
class PolygenicScore:
    """The variants and weights of one polygenic score, one entry per variant.

    Parameters
    ----------
    name : str
        Score name, e.g. a PGS Catalog id such as ``"PGS000004"``.
    chromosomes : array_like of str, shape (n_variants,)
        Chromosome names (a ``chr`` prefix is removed, see :func:`normalise_chromosome`).
    positions : array_like of int, shape (n_variants,)
        1-based positions on ``genome_build``.
    effect_alleles, other_alleles : array_like of str, shape (n_variants,)
        Alleles (upper-cased); ``""`` as other allele means "not given".
    weights : array_like of float, shape (n_variants,)
        Effect per copy of the effect allele (log odds ratio for PRS313).
    effect_allele_frequencies : array_like of float, shape (n_variants,), optional
        Effect-allele frequency as a proportion 0..1, NaN where unknown (all NaN if omitted).
    variant_ids : array_like of str, optional
        Identifiers such as rsIDs for messages, ``""`` where unknown.
    genome_build : str
        E.g. ``"GRCh37"``; ``""`` when unknown.
    """

    name: str
    chromosomes: np.ndarray
    positions: np.ndarray
    effect_alleles: np.ndarray
    other_alleles: np.ndarray
    weights: np.ndarray
    effect_allele_frequencies: np.ndarray | None = None
    variant_ids: np.ndarray | None = None
    genome_build: str = ""

    def __post_init__(self) -> None:
        chromosomes = _as_text_array(self.chromosomes, "chromosomes", upper=False)
        n = chromosomes.size
        frequencies = self.effect_allele_frequencies
        ids = self.variant_ids
        values = {
            "chromosomes": np.array([normalise_chromosome(c) for c in chromosomes], dtype=object),
            "positions": np.asarray(self.positions),
            "effect_alleles": _as_text_array(self.effect_alleles, "effect_alleles", upper=True),
            "other_alleles": _as_text_array(self.other_alleles, "other_alleles", upper=True),
            "weights": np.asarray(self.weights, dtype=np.float64),
            "effect_allele_frequencies": np.asarray(
                np.full(n, np.nan) if frequencies is None else frequencies, dtype=np.float64
            ),
            "variant_ids": _as_text_array([""] * n if ids is None else ids, "variant_ids", False),
        }
        for name, array in values.items():
            if array.shape != (n,):
                raise ModelInputError(f"{name}: expected shape ({n},), got {array.shape}")
        positions = values["positions"]
        if n and (not np.issubdtype(positions.dtype, np.integer) or positions.min() < 1):
            raise ModelInputError("positions: expected integers >= 1")
        if not np.all(np.isfinite(values["weights"])):
            raise ModelInputError("weights: expected finite numbers")
        frequencies = values["effect_allele_frequencies"]
        if np.any((frequencies < 0) | (frequencies > 1)):
            raise ModelInputError("effect_allele_frequencies: expected proportions in [0, 1]")
        effect, other = values["effect_alleles"], values["other_alleles"]
        if any(a == "" for a in effect) or np.any(effect == other):
            raise ModelInputError("effect_alleles: empty, or equal to the other allele")
        values["positions"] = positions.astype(np.int64)
        for name, array in values.items():
            array.flags.writeable = False
            object.__setattr__(self, name, array)

    @property
    def n_variants(self) -> int:
        return int(self.weights.size)

    @functools.cached_property
    def by_position(self) -> dict[tuple[str, int], tuple[int, ...]]:
        """Variant indices at each (chromosome, position)."""
        index: dict[tuple[str, int], list[int]] = {}
        for i, key in enumerate(zip(self.chromosomes, self.positions.tolist(), strict=True)):
            index.setdefault(key, []).append(i)
        return {key: tuple(found) for key, found in index.items()}

    def labels(self, indices: Sequence[int] | np.ndarray | None = None) -> list[str]:
        """``chrom:pos:other:effect`` (preceded by the id when known) for messages."""
        chosen = range(self.n_variants) if indices is None else indices
        labels = []
        for i in chosen:
            site = (
                f"{self.chromosomes[i]}:{self.positions[i]}:{self.other_alleles[i] or '?'}:"
                f"{self.effect_alleles[i]}"
            )
            labels.append(f"{self.variant_ids[i]} ({site})" if self.variant_ids[i] else site)
        return labels


REF_INDEX = 0
"""Allele index of REF (ALT alleles are 1, 2, ... in VCF order)."""
NO_MATCH = -1


def match_alleles(effect: str, other: str, ref: str, alts: Sequence[str]) -> int:
    """Allele index of ``effect`` in ``[ref, *alts]`` (0 = REF), or -1 if the alleles do not match.

    ``other`` (``""`` = not given) must also be one of them. Case-insensitive.

    >>> match_alleles("A", "G", "G", ["A"]), match_alleles("G", "A", "G", ["A"])
    (1, 0)
    >>> match_alleles("T", "C", "G", ["A"])
    -1
    """
    alleles = [ref.upper(), *(a.upper() for a in alts)]
    effect, other = effect.upper(), other.upper()
    if effect not in alleles or (other and other not in alleles):
        return NO_MATCH
    return alleles.index(effect)


def mismatch_reason(effect: str, other: str, ref: str, alts: Sequence[str]) -> str:
    """Why :func:`match_alleles` returned -1, for messages."""
    alleles = f"REF {ref}, ALT {','.join(alts) or '.'}"
    if effect.upper() not in [ref.upper(), *(a.upper() for a in alts)]:
        return f"effect allele {effect} is not among {alleles}"
    return f"other allele {other} is not among {alleles}"


@dataclass(frozen=True)
class SiteMatch:
    """Score variants at one genotype record: used ones and allele mismatches."""

    variant_indices: tuple[int, ...]
    """Matched score variants."""
    allele_indices: tuple[int, ...]
    """Allele index of each matched variant's effect allele (0 = REF)."""
    mismatches: tuple[tuple[int, str], ...]
    """(variant index, reason) for variants at this position whose alleles do not match."""


def match_site(
    score: PolygenicScore, chromosome: str, position: int, ref: str, alts: Sequence[str]
) -> SiteMatch:
    """Match one genotype record against the score variants at its position."""
    key = (normalise_chromosome(chromosome), int(position))
    variants, alleles, mismatches = [], [], []
    for i in score.by_position.get(key, ()):
        effect, other = score.effect_alleles[i], score.other_alleles[i]
        allele = match_alleles(effect, other, ref, alts)
        if allele == NO_MATCH:
            mismatches.append((i, mismatch_reason(effect, other, ref, alts)))
        else:
            variants.append(i)
            alleles.append(allele)
    return SiteMatch(tuple(variants), tuple(alleles), tuple(mismatches))


def effect_allele_dosages(
    alt_dosages: np.ndarray, ploidy: np.ndarray | int, allele_index: int
) -> np.ndarray:
    """Dosage of the allele ``allele_index`` (0 = REF) from the dosages of every ALT allele.

    Parameters
    ----------
    alt_dosages : ndarray, shape (n_samples, n_alts)
        Copies of each ALT allele per sample (counts from GT, or DS); NaN = missing.
    ploidy : int or ndarray of int, shape (n_samples,)
        Allele copies per sample (2 for autosomes, 1 for haploid calls).
    allele_index : int
        0 for REF, k for the k-th ALT allele.

    Returns
    -------
    ndarray, shape (n_samples,)
        For an ALT allele its own column; for REF ``ploidy - sum of all ALT columns`` (NaN stays).

    >>> effect_allele_dosages(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), 2, 0)
    array([1., 1., 2.])
    """
    alt_dosages = np.asarray(alt_dosages, dtype=np.float64)
    if alt_dosages.ndim != 2:
        raise ModelInputError(
            f"alt_dosages: expected shape (n_samples, n_alts), got {alt_dosages.shape}"
        )
    if not 0 <= allele_index <= alt_dosages.shape[1]:
        raise ModelInputError(
            f"allele_index: {allele_index} is not 0 (REF) or 1..{alt_dosages.shape[1]} (ALT)"
        )
    if allele_index == REF_INDEX:
        return np.asarray(ploidy, dtype=np.float64) - alt_dosages.sum(axis=1)
    return alt_dosages[:, allele_index - 1].copy()


@dataclass(frozen=True)
class PartialScores:
    """Sums over a set of variants, per sample; add two for disjoint sets of variants."""

    raw_called: np.ndarray
    """Sum of dosage * weight over called genotypes, shape (n_samples,)."""
    raw_expected: np.ndarray
    """Sum of expected dosage * weight over missing genotypes, shape (n_samples,)."""
    n_called: np.ndarray
    """Called genotypes per sample, shape (n_samples,)."""
    n_missing: np.ndarray
    """Missing genotypes (NaN dosage) per sample, shape (n_samples,)."""

    def __add__(self, other: PartialScores) -> PartialScores:
        return PartialScores(
            self.raw_called + other.raw_called,
            self.raw_expected + other.raw_expected,
            self.n_called + other.n_called,
            self.n_missing + other.n_missing,
        )

    @classmethod
    def zeros(cls, n_samples: int) -> PartialScores:
        zero = np.zeros(n_samples)
        count = np.zeros(n_samples, dtype=np.int64)
        return cls(zero, zero.copy(), count, count.copy())


def partial_scores(
    dosages: np.ndarray, weights: np.ndarray, expected_dosages: np.ndarray
) -> PartialScores:
    """Weighted sums over a block of variants.

    Parameters
    ----------
    dosages : ndarray, shape (n_samples, n_block)
        Effect-allele dosages; NaN = missing genotype.
    weights, expected_dosages : ndarray, shape (n_block,)
        Weight per effect allele, and the dosage to impute (``2 f``; NaN if unknown).
    """
    dosages = np.asarray(dosages, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    expected = np.asarray(expected_dosages, dtype=np.float64)
    if dosages.ndim != 2 or weights.shape != (dosages.shape[1],) or expected.shape != weights.shape:
        raise ModelInputError(
            f"dosages {dosages.shape}, weights {weights.shape} and expected_dosages "
            f"{expected.shape}: expected (n_samples, n) with (n,) and (n,)"
        )
    is_missing = np.isnan(dosages)  # (n_samples, n_block)
    called = np.where(is_missing, 0.0, dosages) @ weights  # (n_samples,)
    if is_missing.any():  # where(), not a product: 0 * NaN would spread an unknown frequency
        imputed = np.where(is_missing, expected * weights, 0.0).sum(axis=1)
    else:
        imputed = np.zeros(dosages.shape[0])
    n_missing = is_missing.sum(axis=1)
    return PartialScores(
        raw_called=called,
        raw_expected=imputed,
        n_called=dosages.shape[1] - n_missing,
        n_missing=n_missing,
    )


@dataclass(frozen=True)
class PrsResult:
    """Polygenic scores, one entry per sample."""

    raw_scores: np.ndarray
    """Sum of dosage * weight (log odds ratio for PRS313), shape (n_samples,)."""
    z_scores: np.ndarray
    """``(raw - mean) / sd``; NaN when no normalisation was given."""
    n_variants: int
    """Variants in the score."""
    n_matched: np.ndarray
    """Variants whose genotype was read for this sample, shape (n_samples,)."""
    n_missing: np.ndarray
    """Variants without a usable genotype for this sample (= ``n_variants - n_matched``)."""
    n_imputed: np.ndarray
    """Missing variants given the expected dosage ``2 f`` (0 unless imputation was asked for)."""
    variant_status: np.ndarray
    """:class:`VariantStatus` per score variant, shape (n_variants,)."""
    normalisation: Normalisation | None
    score_name: str
    sample_names: tuple[str, ...] = field(default=())


def _listed(items: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _missing_message(
    score: PolygenicScore, status: np.ndarray, n_missing: np.ndarray, sample_names: Sequence[str]
) -> str:
    parts = []
    for code, what in (
        (VariantStatus.NOT_FOUND, "not in the genotypes"),
        (VariantStatus.ALLELE_MISMATCH, "with mismatched alleles"),
    ):
        indices = np.flatnonzero(status == code)
        if indices.size:
            parts.append(
                f"{indices.size} of {score.n_variants} variants {what}: "
                f"{_listed(score.labels(indices))}"
            )
    samples = np.flatnonzero(n_missing)
    if samples.size:
        names = [
            f"{sample_names[i] if sample_names else f'sample {i + 1}'} ({n_missing[i]})"
            for i in samples
        ]
        parts.append(
            f"{int(n_missing.sum())} missing genotypes in {samples.size} samples: {_listed(names)}"
        )
    return (
        f"{score.name}: " + "; ".join(parts) + "; impute the expected dosage 2f only if that is "
        "acceptable (impute_missing / --impute-missing)"
    )


def finish_scores(
    partial: PartialScores,
    score: PolygenicScore,
    variant_status: np.ndarray,
    *,
    impute_missing: bool = False,
    normalisation: Normalisation | None = None,
    sample_names: Sequence[str] = (),
) -> PrsResult:
    """Apply the missing-data policy and standardise.

    ``partial`` must sum over exactly the variants whose ``variant_status`` is MATCHED. Variants
    that are not matched are missing for every sample.

    Raises
    ------
    MissingGenotypesError
        Something is missing and ``impute_missing`` is False (the message says how many and
        which), or imputation needs an effect-allele frequency the score does not give.
    """
    status = np.asarray(variant_status)
    if status.shape != (score.n_variants,):
        raise ModelInputError(f"variant_status: expected shape ({score.n_variants},)")
    is_unmatched = status != VariantStatus.MATCHED
    n_unmatched = int(is_unmatched.sum())
    n_missing = partial.n_missing + n_unmatched  # (n_samples,)
    if n_missing.any() and not impute_missing:
        raise MissingGenotypesError(
            _missing_message(score, status, partial.n_missing, sample_names)
        )
    raw = partial.raw_called
    if n_missing.any():
        expected = DIPLOID * score.effect_allele_frequencies  # (n_variants,)
        unknown = np.flatnonzero(np.isnan(expected))
        if unknown.size:
            raise MissingGenotypesError(
                f"{score.name}: imputing needs the effect-allele frequency "
                f"(allelefrequency_effect) of every variant; {unknown.size} have none: "
                f"{_listed(score.labels(unknown))}"
            )
        unmatched_sum = float(expected[is_unmatched] @ score.weights[is_unmatched])
        raw = raw + partial.raw_expected + unmatched_sum
    z = (
        np.full(raw.shape, np.nan)
        if normalisation is None
        else (raw - normalisation.mean) / normalisation.sd
    )
    return PrsResult(
        raw_scores=raw,
        z_scores=z,
        n_variants=score.n_variants,
        n_matched=partial.n_called,
        n_missing=n_missing,
        n_imputed=n_missing if impute_missing else np.zeros_like(n_missing),
        variant_status=status,
        normalisation=normalisation,
        score_name=score.name,
        sample_names=tuple(sample_names),
    )


def polygenic_scores(
    dosages: np.ndarray,
    score: PolygenicScore,
    *,
    variant_status: np.ndarray | None = None,
    impute_missing: bool = False,
    normalisation: Normalisation | None = None,
    sample_names: Sequence[str] = (),
) -> PrsResult:
    """Raw and standardised scores from a whole dosage matrix.

    Parameters
    ----------
    dosages : ndarray, shape (n_samples, n_variants)
        Effect-allele dosages, columns in the score's variant order; NaN = missing genotype.
    score : PolygenicScore
    variant_status : ndarray of VariantStatus, shape (n_variants,), optional
        From matching; columns of variants not MATCHED are ignored and count as missing.
        Default: every variant matched.
    impute_missing, normalisation, sample_names
        See :func:`finish_scores`.

    Examples
    --------
    Two variants; the second sample carries one effect allele of each:

    >>> score = PolygenicScore("toy", ["1", "2"], [100, 200], ["A", "C"], ["G", "T"],
    ...                        [0.5, -0.25])
    >>> result = polygenic_scores(np.array([[0.0, 0.0], [1.0, 1.0]]), score,
    ...                           normalisation=Normalisation(0.25, 0.5, "toy"))
    >>> result.raw_scores, result.z_scores
    (array([0.  , 0.25]), array([-0.5,  0. ]))
    """
    dosages = np.asarray(dosages, dtype=np.float64)
    if dosages.ndim != 2 or dosages.shape[1] != score.n_variants:
        raise ModelInputError(
            f"dosages: expected shape (n_samples, {score.n_variants}), got {dosages.shape}"
        )
    status = (
        np.full(score.n_variants, VariantStatus.MATCHED, dtype=np.int8)
        if variant_status is None
        else np.asarray(variant_status, dtype=np.int8)
    )
    if status.shape != (score.n_variants,):
        raise ModelInputError(f"variant_status: expected shape ({score.n_variants},)")
    used = status == VariantStatus.MATCHED
    partial = partial_scores(
        dosages[:, used], score.weights[used], DIPLOID * score.effect_allele_frequencies[used]
    )
    return finish_scores(
        partial,
        score,
        status,
        impute_missing=impute_missing,
        normalisation=normalisation,
        sample_names=sample_names,
    )
