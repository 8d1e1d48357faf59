"""Input codes of the NCI BCRAT (as in the R package BCRA) and per-row error flags."""

from __future__ import annotations

import enum

import numpy as np

from pebs.risk._flags import describe_flags, describe_flags_all

UNKNOWN = 99
"""BCRA code for an unknown value (N_Biop, HypPlas, AgeMen, Age1st, N_Rels)."""

NULLIPAROUS = 98
"""BCRA code for ``Age1st`` of a woman who has never given birth."""

LIFETIME_AGE = 90
"""Projection age ``T2`` that BCRAT calls "lifetime" risk; the model's tables end at 90."""

FIRST_AGE = 20
"""Youngest current age ``T1`` the model accepts."""


class Race(enum.IntEnum):
    """BCRA race/ethnicity codes (``Race`` column)."""

    WHITE = 1
    AFRICAN_AMERICAN = 2
    HISPANIC_US_BORN = 3
    OTHER = 4
    """Other or Native American: White model and rates."""
    HISPANIC_FOREIGN_BORN = 5
    CHINESE = 6
    JAPANESE = 7
    FILIPINO = 8
    HAWAIIAN = 9
    OTHER_PACIFIC_ISLANDER = 10
    OTHER_ASIAN = 11


class GailError(enum.IntFlag):
    """Why a row was rejected. Several flags can be set on one row; 0 means valid."""

    T1_OUT_OF_RANGE = 1
    T2_ABOVE_90 = 2
    T2_NOT_AFTER_T1 = 4
    RACE_UNKNOWN = 8
    HYPPLAS_WITHOUT_BIOPSY = 16
    HYPPLAS_CODE = 32
    N_BIOP_INVALID = 64
    AGE_MEN_INVALID = 128
    AGE_1ST_INVALID = 256
    N_RELS_INVALID = 512


ERROR_REASONS: dict[GailError, str] = {
    GailError.T1_OUT_OF_RANGE: "T1 (current age) must satisfy 20 <= T1 < 90",
    GailError.T2_ABOVE_90: "T2 (projection age) must be at most 90",
    GailError.T2_NOT_AFTER_T1: "T2 (projection age) must be greater than T1 (current age)",
    GailError.RACE_UNKNOWN: "Race must be one of the codes 1..11",
    GailError.HYPPLAS_WITHOUT_BIOPSY: (
        "HypPlas must be 99 (not applicable) when N_Biop is 0 or 99 (no or unknown biopsies)"
    ),
    GailError.HYPPLAS_CODE: "HypPlas must be 0 (no), 1 (yes) or 99 (unknown)",
    GailError.N_BIOP_INVALID: "N_Biop must be a whole number >= 0, or 99 (unknown)",
    GailError.AGE_MEN_INVALID: "AgeMen must satisfy 0 < AgeMen <= T1, or be 99 (unknown)",
    GailError.AGE_1ST_INVALID: (
        "Age1st must satisfy AgeMen <= Age1st <= T1, or be 98 (nulliparous) or 99 (unknown)"
    ),
    GailError.N_RELS_INVALID: "N_Rels must be a whole number from 0 to 98, or 99 (unknown)",
}
"""One human-readable sentence per flag, naming the BCRA field and its allowed values."""


def describe(error: int) -> str:
    """Return the reasons for one row's error flags, joined by ``"; "`` ("" when valid).

    >>> describe(GailError.T2_ABOVE_90 | GailError.RACE_UNKNOWN)
    'T2 (projection age) must be at most 90; Race must be one of the codes 1..11'
    """
    return describe_flags(error, ERROR_REASONS)


def describe_all(errors: np.ndarray) -> np.ndarray:
    """Vectorised :func:`describe`: an object array of reason strings, one per row."""
    return describe_flags_all(errors, ERROR_REASONS)
