"""Synthetic genotypes: Hardy-Weinberg dosages at the score's frequencies, seeded, with dropped
calls for the samples asked to fail."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pebs.sim.genotypes import NO_CALL, synthetic_genotypes


def test_mean_dosage_is_twice_the_frequency() -> None:
    frequencies = np.array([0.05, 0.3, 0.5, 0.9])
    n = 20_000
    genotypes = synthetic_genotypes(frequencies, [str(i) for i in range(n)], seed=3)
    mean = genotypes.dosages.mean(axis=0)
    se = np.sqrt(2 * frequencies * (1 - frequencies) / n)  # Binomial(2, f) variance 2f(1-f)
    assert np.all(np.abs(mean - 2 * frequencies) < 4 * se)
    assert set(np.unique(genotypes.dosages)) <= {0, 1, 2}


def test_the_same_seed_gives_the_same_genotypes() -> None:
    frequencies = np.linspace(0.1, 0.9, 50)
    a = synthetic_genotypes(frequencies, ["A", "B"], seed=9, failing=["B"])
    b = synthetic_genotypes(frequencies, ["A", "B"], seed=9, failing=["B"])
    c = synthetic_genotypes(frequencies, ["A", "B"], seed=10, failing=["B"])
    assert np.array_equal(a.dosages, b.dosages)
    assert not np.array_equal(a.dosages, c.dosages)


def test_failing_samples_lose_the_asked_share_of_their_calls() -> None:
    genotypes = synthetic_genotypes(np.full(313, 0.4), ["A", "B", "C"], seed=1,
                                    failing=["B"], drop_fraction=0.1)  # fmt: skip
    assert genotypes.n_called().tolist() == [313, 313 - math.ceil(31.3), 313]
    assert (genotypes.dosages[1] == NO_CALL).sum() == 32


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match=r"proportion 0\.\.1"):
        synthetic_genotypes(np.array([1.2]), ["A"], seed=1)
    with pytest.raises(ValueError, match="not among the samples: Z"):
        synthetic_genotypes(np.array([0.2]), ["A"], seed=1, failing=["Z"])
    with pytest.raises(ValueError, match="drop_fraction"):
        synthetic_genotypes(np.array([0.2]), ["A"], seed=1, drop_fraction=2)
