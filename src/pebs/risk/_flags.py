"""Per-row error flags (``enum.IntFlag``) turned into human-readable reasons."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def describe_flags(error: int, reasons: Mapping[int, str]) -> str:
    """The reasons of every flag set in ``error``, joined by ``"; "`` ("" when 0)."""
    return "; ".join(text for flag, text in reasons.items() if int(error) & flag)


def describe_flags_all(errors, reasons: Mapping[int, str]) -> np.ndarray:
    """Vectorised :func:`describe_flags`: an object array of reason strings, one per row."""
    errors = np.asarray(errors)
    codes, inverse = np.unique(errors, return_inverse=True)
    texts = np.array([describe_flags(code, reasons) for code in codes], dtype=object)
    return texts[inverse.reshape(errors.shape)]
