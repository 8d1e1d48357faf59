"""Synthetic genotypes at a polygenic score's variants, for tests, benchmarks and demos.

Each woman's two alleles at variant ``j`` are drawn independently with probability ``f_j`` of
being the effect allele (Hardy-Weinberg equilibrium at the score's effect-allele frequency), so
her effect-allele dosage is Binomial(2, ``f_j``). Draws come from one seeded
:class:`numpy.random.Generator`: the same seed, frequencies and samples give the same genotypes.

Quality-control failures are made by dropping calls: a sample named in ``failing`` has a
proportion ``drop_fraction`` of its genotypes set to missing (:data:`NO_CALL`, written ``./.``).

>>> import numpy as np
>>> genotypes = synthetic_genotypes(np.array([0.1, 0.5, 0.9]), ["A", "B"], seed=1,
...                                 failing=["B"], drop_fraction=0.5)
>>> genotypes.dosages.shape, genotypes.n_called().tolist()
((2, 3), [3, 1])
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["NO_CALL", "SyntheticGenotypes", "synthetic_genotypes"]

NO_CALL = -1
"""Dosage code of a missing genotype (``./.`` in a VCF)."""


@dataclass(frozen=True)
class SyntheticGenotypes:
    """Effect-allele dosages of every sample at every score variant."""

    sample_names: tuple[str, ...]
    dosages: np.ndarray
    """Copies of the effect allele, 0, 1 or 2 (:data:`NO_CALL` where missing), int8, shape
    (n_samples, n_variants) in the score's variant order."""

    def n_called(self) -> np.ndarray:
        """Genotypes called per sample, shape (n_samples,)."""
        return (self.dosages != NO_CALL).sum(axis=1)


def synthetic_genotypes(
    frequencies: np.ndarray,
    sample_names: Sequence[str],
    *,
    seed: int,
    failing: Collection[str] = (),
    drop_fraction: float = 0.2,
) -> SyntheticGenotypes:
    """Random genotypes for ``sample_names`` at variants of effect-allele ``frequencies``.

    Parameters
    ----------
    frequencies : ndarray, shape (n_variants,)
        Effect-allele frequency of each variant, a proportion 0..1.
    sample_names : sequence of str
        One sample per name, in file order (repeats allowed: a file may carry a name twice).
    seed : int
        Seed of the random generator.
    failing : collection of str
        Samples whose calls are partly dropped.
    drop_fraction : float
        Proportion (0..1) of a failing sample's variants set to :data:`NO_CALL`, rounded up to
        a whole number of variants.

    Raises
    ------
    ValueError
        A frequency outside 0..1 or unknown (NaN), ``drop_fraction`` outside 0..1, or a name in
        ``failing`` that is not a sample.
    """
    frequencies = np.asarray(frequencies, dtype=np.float64)
    if frequencies.ndim != 1 or not np.all((frequencies >= 0) & (frequencies <= 1)):
        raise ValueError("frequencies: one effect-allele frequency per variant, a proportion 0..1")
    if not 0 <= drop_fraction <= 1:
        raise ValueError(f"drop_fraction: a proportion 0..1, got {drop_fraction!r}")
    names = tuple(sample_names)
    unknown = sorted(set(failing) - set(names))
    if unknown:
        raise ValueError(f"failing: not among the samples: {', '.join(unknown)}")
    rng = np.random.default_rng(seed)
    n_samples, n_variants = len(names), frequencies.size
    dosages = rng.binomial(2, frequencies, size=(n_samples, n_variants)).astype(np.int8)
    n_dropped = int(np.ceil(drop_fraction * n_variants))
    for row, name in enumerate(names):
        if name in failing:
            dropped = rng.choice(n_variants, size=n_dropped, replace=False)
            dosages[row, dropped] = NO_CALL
    return SyntheticGenotypes(names, dosages)
