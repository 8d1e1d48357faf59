"""Counter-based random numbers: every draw is a pure function of (seed, stream, woman, draw).

A draw is the SplitMix64 finaliser (Steele, Lea & Flood, "Fast splittable pseudorandom number
generators", OOPSLA 2014; the mixing constants of Java's ``SplittableRandom``) applied to a key
built from the run seed, the replicate, the stream name, the woman's global index and the draw
index, computed with numpy ``uint64`` arithmetic (which wraps modulo 2**64). Nothing depends on
which chunk or worker a woman is simulated in, so results are identical for any chunking, and two
strategies that ask for the same (stream, woman, draw) get the same number (common random
numbers).

Uniforms are open on both sides: ``(k + 0.5) / 2**53`` for 53-bit ``k``, or ``(k + 0.5) / 2**32``
for the two 32-bit halves returned by :func:`uniform_pair`, so ``log(u)`` and ``ndtri(u)`` are
always finite.
"""

from __future__ import annotations

import hashlib

import numpy as np

_MASK = (1 << 64) - 1
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S32, _S11 = (np.uint64(s) for s in (30, 27, 31, 32, 11))
_DRAW = 0xD1B54A32D192ED03
_TO_53 = 2.0**-53
_TO_32 = 2.0**-32


def _mix_int(x: int) -> int:
    """SplitMix64 finaliser on a Python int (for keys; no numpy overflow warnings)."""
    x &= _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (in place where possible)."""
    x = x ^ (x >> _S30)
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    return x


def stream_key(seed: int, replicate: int, stream: str) -> int:
    """The 64-bit key of one named stream of one replicate of a run.

    The stream name is hashed with BLAKE2b (stable across processes and Python versions, unlike
    ``hash()``), so adding a stream never changes the draws of another.

    >>> stream_key(1, 0, "death") == stream_key(1, 0, "death") != stream_key(1, 1, "death")
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed: expected a whole number >= 0, got {seed!r}")
    name = int.from_bytes(hashlib.blake2b(stream.encode(), digest_size=8).digest(), "little")
    key = _mix_int(int(seed) ^ _mix_int(name))
    return _mix_int(key ^ _mix_int((int(replicate) + 1) * 0x9E3779B97F4A7C15))


def _bits(key: int, women: np.ndarray, draw) -> np.ndarray:
    """(n,) uint64 hashes of (key, woman index, draw index)."""
    x = women.astype(np.uint64, copy=False) * _GOLDEN  # (n,) wraps modulo 2**64
    if np.ndim(draw) == 0:
        x ^= np.uint64((((int(draw) + 1) * _DRAW) & _MASK) ^ key)
    else:
        d = np.asarray(draw).astype(np.uint64) + np.uint64(1)
        d *= np.uint64(_DRAW)
        d ^= np.uint64(key)
        x ^= d
    return _mix(_mix(x))


def pair_bits(key: int, women: np.ndarray, draw=0) -> np.ndarray:
    """The 64-bit hashes behind :func:`uniform_pair` (high half: first uniform, low: second).

    With :func:`threshold_32`, ``(bits >> 32) < threshold_32(p)`` is the event ``u < p`` of the
    first uniform of :func:`uniform_pair`, without converting to floating point.
    """
    return _bits(key, women, draw)


def threshold_32(p) -> np.ndarray:
    """uint64 thresholds ``T`` with ``k < T`` iff ``(k + 0.5) / 2**32 < p`` for 32-bit ``k``.

    >>> key = stream_key(1, 0, "t")
    >>> women = np.arange(10_000)
    >>> high, low = uniform_pair(key, women)
    >>> bits = pair_bits(key, women)
    >>> bool(np.array_equal((bits >> np.uint64(32)) < threshold_32(0.3), high < 0.3))
    True
    """
    scaled = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0) * 2.0**32
    return np.ceil(scaled - 0.5).astype(np.uint64)


def uniform(key: int, women: np.ndarray, draw=0) -> np.ndarray:
    """One uniform in (0, 1) per woman for draw ``draw`` of the stream ``key``.

    Parameters
    ----------
    key : int
        From :func:`stream_key`.
    women : numpy.ndarray of int, shape (n,)
        Global indices of the women (not positions in a chunk).
    draw : int or array of int, shape (n,)
        Draw index (e.g. screening round); the same (key, woman, draw) always gives the same
        number.

    Returns
    -------
    numpy.ndarray, shape (n,), float64

    Examples
    --------
    >>> key = stream_key(7, 0, "demo")
    >>> a = uniform(key, np.arange(10))
    >>> b = uniform(key, np.arange(5, 10))
    >>> bool(np.array_equal(a[5:], b)), bool(((a > 0) & (a < 1)).all())
    (True, True)
    """
    bits = _bits(key, women, draw)
    return ((bits >> _S11).astype(np.float64) + 0.5) * _TO_53


def uniform_pair(key: int, women: np.ndarray, draw=0) -> tuple[np.ndarray, np.ndarray]:
    """Two independent 32-bit uniforms in (0, 1) per woman from one hash (for cheap events)."""
    bits = _bits(key, women, draw)
    high = ((bits >> _S32).astype(np.float64) + 0.5) * _TO_32
    low = ((bits & np.uint64(0xFFFFFFFF)).astype(np.float64) + 0.5) * _TO_32
    return high, low
