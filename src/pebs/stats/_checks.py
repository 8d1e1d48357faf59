"""Checking arguments of the statistics functions at the edge (messages name the argument)."""

from __future__ import annotations

import numpy as np


class StatsInputError(ValueError):
    """An argument cannot be used (wrong type, shape or range). The message names it."""


def as_counts(**arguments: object) -> dict[str, np.ndarray]:
    """Convert named arguments to broadcast int64 arrays of non-negative whole numbers.

    >>> as_counts(events=[1, 2], n=10)["n"]
    array([10, 10])
    """
    arrays: dict[str, np.ndarray] = {}
    for name, value in arguments.items():
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise StatsInputError(f"{name}: expected whole numbers, got {value!r:.80}") from exc
        if not np.all(np.isfinite(array)) or np.any(array < 0) or np.any(array != np.round(array)):
            raise StatsInputError(f"{name}: expected non-negative whole numbers, got {value!r:.80}")
        arrays[name] = array.astype(np.int64)
    try:
        broadcast = np.broadcast_arrays(*arrays.values())
    except ValueError as exc:
        shapes = {name: a.shape for name, a in arrays.items()}
        raise StatsInputError(f"arguments have incompatible shapes: {shapes}") from exc
    return dict(zip(arrays, broadcast, strict=True))


def check_events(events: np.ndarray, n: np.ndarray, events_name: str, n_name: str) -> None:
    """Require ``1 <= n`` and ``events <= n`` everywhere."""
    if np.any(n < 1):
        raise StatsInputError(f"{n_name}: every group needs at least one woman, got {n.min()}")
    if np.any(events > n):
        raise StatsInputError(f"{events_name}: cannot exceed {n_name}")


def check_alpha(alpha: float) -> float:
    """One-sided significance level in (0, 0.5)."""
    if not 0.0 < float(alpha) < 0.5:
        raise StatsInputError(f"alpha: one-sided level must be in (0, 0.5), got {alpha!r}")
    return float(alpha)


def check_proportion(value: float, name: str, *, open_interval: bool = True) -> float:
    """A proportion in (0, 1) (or [0, 1) when ``open_interval`` is False)."""
    value = float(value)
    low_ok = value > 0.0 if open_interval else value >= 0.0
    if not (low_ok and value < 1.0):
        bounds = "(0, 1)" if open_interval else "[0, 1)"
        raise StatsInputError(f"{name}: expected a proportion in {bounds}, got {value!r}")
    return value


def check_choice(value: str, name: str, allowed: tuple[str, ...]) -> str:
    """One of ``allowed``."""
    if value not in allowed:
        raise StatsInputError(f"{name}: expected one of {', '.join(allowed)}; got {value!r}")
    return value


def unwrap(value: np.ndarray) -> float | bool | np.ndarray:
    """A 0-d array as a Python scalar; anything else unchanged."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    return value
