"""Counter-based random numbers: pure functions of (seed, replicate, stream, woman, draw)."""

import numpy as np
import pytest

from pebs.sim._random import stream_key, uniform, uniform_pair


def test_draws_do_not_depend_on_the_other_women():
    key = stream_key(11, 0, "clinical")
    women = np.arange(1000)
    whole = uniform(key, women)
    shuffled = np.random.default_rng(0).permutation(women)
    np.testing.assert_array_equal(uniform(key, shuffled), whole[shuffled])
    np.testing.assert_array_equal(uniform(key, women[700:]), whole[700:])


def test_streams_seeds_replicates_and_draws_differ():
    women = np.arange(200)
    base = uniform(stream_key(1, 0, "a"), women)
    for other in (
        uniform(stream_key(1, 0, "b"), women),
        uniform(stream_key(2, 0, "a"), women),
        uniform(stream_key(1, 1, "a"), women),
        uniform(stream_key(1, 0, "a"), women, 1),
    ):
        assert np.mean(base == other) == 0.0


def test_uniform_moments_and_open_interval():
    # n = 400,000: the mean of U(0,1) has SD 1/sqrt(12 n) = 4.6e-4; the variance 1/12 has SD
    # sqrt(1/180 / n) = 1.2e-4 (fourth central moment 1/80 - 1/144 = 1/180). Tolerance 5 SD.
    u = uniform(stream_key(5, 0, "moments"), np.arange(400_000))
    assert u.min() > 0.0
    assert u.max() < 1.0
    assert abs(u.mean() - 0.5) < 5 * 4.6e-4
    assert abs(u.var() - 1 / 12) < 5 * 1.2e-4
    high, low = uniform_pair(stream_key(5, 0, "pair"), np.arange(400_000), 3)
    assert abs(high.mean() - 0.5) < 5 * 4.6e-4
    assert abs(low.mean() - 0.5) < 5 * 4.6e-4
    # independence of the two halves: correlation SD 1/sqrt(n) = 1.6e-3
    assert abs(np.corrcoef(high, low)[0, 1]) < 5 * 1.6e-3


def test_array_draw_index_equals_scalar_draw_index():
    key = stream_key(3, 2, "attend")
    women = np.arange(50)
    np.testing.assert_array_equal(uniform(key, women, 7), uniform(key, women, np.full(50, 7)))


def test_bad_seed_is_refused():
    with pytest.raises(ValueError, match="seed"):
        stream_key(-1, 0, "a")
