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
    texts = np.full(errors.shape, "", dtype=object)
    flagged = np.flatnonzero(errors)  # most rows carry no flag
    if not flagged.size:
        return texts
    codes = errors.ravel()[flagged]
    if codes.min() >= 0 and codes.max() < _MAX_TABLE:  # a table of every code up to the largest
        seen = np.flatnonzero(np.bincount(codes))
        described = np.empty(int(seen[-1]) + 1, dtype=object)
        described[seen] = [describe_flags(code, reasons) for code in seen.tolist()]
        texts.ravel()[flagged] = described[codes]
    else:
        distinct, inverse = np.unique(codes, return_inverse=True)
        described = np.array([describe_flags(code, reasons) for code in distinct], dtype=object)
        texts.ravel()[flagged] = described[inverse]
    return texts


_MAX_TABLE = 1 << 16
""":func:`describe_flags_all` looks codes below this up in a table, others by sorting them."""
