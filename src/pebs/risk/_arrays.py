"""Checking array arguments at the edge of a model (structural problems raise; bad rows do not)."""

from __future__ import annotations

import numpy as np


class ModelInputError(ValueError):
    """An argument cannot be used at all (wrong shape, not numeric). Names the argument."""


def as_float_vectors(**arguments: object) -> dict[str, np.ndarray]:
    """Convert each named argument to a 1-D float64 array, broadcasting scalars.

    ``None`` becomes NaN. Raises :class:`ModelInputError` naming the first argument that is not
    numeric, has more than one dimension, or whose length differs from the others.

    >>> as_float_vectors(age=[40, 50], horizon=5)["horizon"]
    array([5., 5.])
    """
    vectors: dict[str, np.ndarray] = {}
    for name, value in arguments.items():
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ModelInputError(f"{name}: expected numbers, got {value!r:.80}") from exc
        if array.ndim > 1:
            raise ModelInputError(f"{name}: expected a 1-D array, got shape {array.shape}")
        vectors[name] = array
    lengths = {name: a.size for name, a in vectors.items() if a.ndim == 1}
    n = max(lengths.values(), default=1)
    for name, size in lengths.items():
        if size != n:
            raise ModelInputError(
                f"{name}: has {size} values but other arguments have {n}; "
                "all arguments must have the same length (or be scalars)"
            )
    return {name: np.broadcast_to(a, (n,)) for name, a in vectors.items()}
