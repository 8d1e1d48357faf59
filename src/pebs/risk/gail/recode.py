"""Stage 1 of BCRAT: check the BCRA-coded inputs and recode them into risk-factor categories.

Rules (R package BCRA 2.1.2, ``recode.check``; ``docs/models/gail.md``):

========== ========================================================================
category   coding
========== ========================================================================
NB         N_Biop 0 or 99 -> 0; 1 -> 1; 2 or more -> 2
AM         AgeMen 99 or 14 <= AgeMen <= T1 -> 0; 12 <= AgeMen < 14 -> 1; 0 < AgeMen < 12 -> 2
AF         Age1st < 20 or 99 -> 0; [20, 25) -> 1; [25, 30) or 98 -> 2; [30, 98) -> 3
NR         N_Rels 0 or 99 -> 0; 1 -> 1; 2..98 -> 2
R_Hyp      NB 0 -> 1.0; otherwise HypPlas 0 -> 0.93, 1 -> 1.82, 99 -> 1.0
========== ========================================================================

then the race-specific regrouping: African-American (2): AF -> 0 (Age1st is not used and not
checked), AM 2 -> 1. Hispanic (3, 5): NB 2 -> 1; AF 2 -> 1 unless nulliparous, then AF 3 -> 2;
NR 2 -> 1; US-born Hispanic (3) only: AM -> 0. Asian and Pacific Islander (6-11): NR 2 -> 1.

Deliberately stricter than R: ``N_Biop`` must be a whole number >= 0 (R files -1 and 1.5 under
"2 or more biopsies") and ``N_Rels`` a whole number (R files 2.5 under "2 or more").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pebs.risk.gail.codes import FIRST_AGE, LIFETIME_AGE, NULLIPAROUS, UNKNOWN, GailError
from pebs.risk.gail.codes import Race as RaceCode
from pebs.risk.gail.inputs import BcraInputs

HYPERPLASIA_RR = {0: 0.93, 1: 1.82, UNKNOWN: 1.0}
"""Multiplier for atypical hyperplasia among women with at least one biopsy."""

N_PATTERNS = 3 * 3 * 4 * 3
"""Number of (NB, AM, AF, NR) combinations; BCRA numbers them 1..108."""


@dataclass(frozen=True)
class Categories:
    """Recoded risk factors, one entry per woman (-1 where the factor is invalid)."""

    biopsies: np.ndarray
    """NB: 0, 1 or 2 (int8)."""
    menarche: np.ndarray
    """AM: 0, 1 or 2 (int8)."""
    first_birth: np.ndarray
    """AF: 0, 1, 2 or 3 (int8)."""
    relatives: np.ndarray
    """NR: 0, 1 or 2 (int8)."""
    hyperplasia_rr: np.ndarray
    """R_Hyp: 1.0, 0.93 or 1.82 (float64)."""
    race: np.ndarray
    """Race code 1..11, 0 where the code is not one of them (int8)."""
    error: np.ndarray
    """:class:`~pebs.risk.gail.codes.GailError` flags (int32); 0 for a valid row."""

    @property
    def pattern_number(self) -> np.ndarray:
        """BCRA's ``PatternNumber`` = NB*36 + AM*12 + AF*3 + NR + 1 (1..108), 0 if invalid."""
        number = (
            self.biopsies.astype(np.int16) * 36
            + self.menarche * 12
            + self.first_birth * 3
            + self.relatives
            + 1
        )
        has_all = (
            (self.biopsies >= 0)
            & (self.menarche >= 0)
            & (self.first_birth >= 0)
            & (self.relatives >= 0)
        )
        return np.where(has_all, number, 0)


def _flag(condition: np.ndarray, flag: GailError) -> np.ndarray:
    return np.where(condition, np.int32(flag), np.int32(0))


def _is_whole(values: np.ndarray) -> np.ndarray:
    return np.isfinite(values) & (np.floor(values) == values)  # False for NaN and +-inf


def recode(T1, T2, N_Biop, HypPlas, AgeMen, Age1st, N_Rels, Race) -> Categories:
    """Check BCRA-coded inputs and recode them into BCRAT risk-factor categories.

    Parameters
    ----------
    T1, T2 : array_like, shape (n,)
        Current age and projection age in years (fractional allowed; T2 = 90 is "lifetime").
    N_Biop, HypPlas, AgeMen, Age1st, N_Rels, Race : array_like, shape (n,)
        BCRA codes (see :mod:`pebs.risk.gail.codes`; 99 = unknown, Age1st 98 = nulliparous).

    Returns
    -------
    Categories
        Categories after the race-specific regrouping, and per-row error flags. A rejected row
        is data, not an exception; structural problems raise
        :class:`~pebs.risk._arrays.ModelInputError`.

    Examples
    --------
    >>> c = recode(40, 45, N_Biop=1, HypPlas=0, AgeMen=12, Age1st=27, N_Rels=1, Race=1)
    >>> c.biopsies, c.menarche, c.first_birth, c.relatives, c.hyperplasia_rr
    (array([1], dtype=int8), array([1], dtype=int8), array([2], dtype=int8), \
array([1], dtype=int8), array([0.93]))
    """
    inputs = BcraInputs(T1, T2, N_Biop, HypPlas, AgeMen, Age1st, N_Rels, Race)
    return _recode(inputs.checked())


def _recode(x: BcraInputs) -> Categories:
    """:func:`recode`'s kernel: ``x`` is checked (:meth:`BcraInputs.checked`)."""
    t1, t2, race = x.T1, x.T2, x.Race

    is_race = _is_whole(race) & (race >= min(RaceCode)) & (race <= max(RaceCode))
    race_code = np.where(is_race, race, 0).astype(np.int8)
    error = (
        _flag(~((t1 >= FIRST_AGE) & (t1 < LIFETIME_AGE)), GailError.T1_OUT_OF_RANGE)
        | _flag(~(t2 <= LIFETIME_AGE), GailError.T2_ABOVE_90)
        | _flag(~(t1 < t2), GailError.T2_NOT_AFTER_T1)
        | _flag(~is_race, GailError.RACE_UNKNOWN)
    )
    is_black = race_code == RaceCode.AFRICAN_AMERICAN
    is_hispanic = (race_code == RaceCode.HISPANIC_US_BORN) | (
        race_code == RaceCode.HISPANIC_FOREIGN_BORN
    )
    is_asian = race_code >= RaceCode.CHINESE

    nb, r_hyp, nb_error = _recode_biopsies(x.N_Biop, x.HypPlas)
    am, am_error = _recode_menarche(x.AgeMen, t1)
    af, af_error = _recode_first_birth(x.Age1st, x.AgeMen, t1)
    nr, nr_error = _recode_relatives(x.N_Rels)

    # Race-specific regrouping (the models for these groups pool some categories).
    af = np.where(is_black, 0, af)
    af_error = np.where(is_black, 0, af_error)
    am = np.where(is_black & (am == 2), 1, am)
    nb = np.where(is_hispanic & (nb == 2), 1, nb)
    af = np.where(is_hispanic & (af == 2) & (x.Age1st != NULLIPAROUS), 1, af)
    af = np.where(is_hispanic & (af == 3), 2, af)
    nr = np.where((is_hispanic | is_asian) & (nr == 2), 1, nr)
    am = np.where(race_code == RaceCode.HISPANIC_US_BORN, 0, am)

    def category(values: np.ndarray, factor_error: np.ndarray) -> np.ndarray:
        return np.where(factor_error == 0, values, -1).astype(np.int8)

    return Categories(
        biopsies=category(nb, nb_error),
        menarche=category(am, am_error),
        first_birth=category(af, af_error),
        relatives=category(nr, nr_error),
        hyperplasia_rr=np.where(nb_error == 0, r_hyp, np.nan),
        race=race_code,
        error=(error | nb_error | am_error | af_error | nr_error).astype(np.int32),
    )


def _recode_biopsies(n_biop: np.ndarray, hyp_plas: np.ndarray):
    none_or_unknown = (n_biop == 0) | (n_biop == UNKNOWN)
    is_count = _is_whole(n_biop) & (n_biop >= 0)
    hyp_known = np.isin(hyp_plas, list(HYPERPLASIA_RR))
    error = (
        _flag(none_or_unknown & (hyp_plas != UNKNOWN), GailError.HYPPLAS_WITHOUT_BIOPSY)
        | _flag(~is_count, GailError.N_BIOP_INVALID)
        | _flag(is_count & ~none_or_unknown & ~hyp_known, GailError.HYPPLAS_CODE)
    )
    nb = np.where(none_or_unknown, 0, np.where(n_biop == 1, 1, 2))
    r_hyp = np.select(
        [none_or_unknown, hyp_plas == 0, hyp_plas == 1],
        [1.0, HYPERPLASIA_RR[0], HYPERPLASIA_RR[1]],
        default=HYPERPLASIA_RR[UNKNOWN],
    )
    return nb, r_hyp, error


def _recode_menarche(age_men: np.ndarray, t1: np.ndarray):
    unknown = age_men == UNKNOWN
    error = _flag(~unknown & ~((age_men > 0) & (age_men <= t1)), GailError.AGE_MEN_INVALID)
    am = np.where(unknown | (age_men >= 14), 0, np.where(age_men >= 12, 1, 2))
    return am, error


def _recode_first_birth(age_1st: np.ndarray, age_men: np.ndarray, t1: np.ndarray):
    nulliparous = age_1st == NULLIPAROUS
    unknown = age_1st == UNKNOWN
    is_age = age_1st < NULLIPAROUS
    before_menarche = (age_men != UNKNOWN) & (age_1st < age_men)
    error = _flag(
        ~(is_age | nulliparous | unknown) | (is_age & (before_menarche | (age_1st > t1))),
        GailError.AGE_1ST_INVALID,
    )
    af = np.select(
        [unknown | (age_1st < 20), age_1st < 25, (age_1st < 30) | nulliparous],
        [0, 1, 2],
        default=3,
    )
    return af, error


def _recode_relatives(n_rels: np.ndarray):
    valid = _is_whole(n_rels) & (n_rels >= 0) & (n_rels <= UNKNOWN)
    nr = np.where((n_rels == 0) | (n_rels == UNKNOWN), 0, np.where(n_rels == 1, 1, 2))
    return nr, _flag(~valid, GailError.N_RELS_INVALID)
