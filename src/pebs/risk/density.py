"""Mammographic breast density (BI-RADS a/b/c/d): codes, relative risks, prevalence by age.

Categories (BI-RADS 5th edition letters) are coded as integers:

====  ====  ==========================================
code  BI-RADS  description
====  ====  ==========================================
0     a     almost entirely fatty
1     b     scattered areas of fibroglandular density
2     c     heterogeneously dense
3     d     extremely dense
-1    --    missing
====  ====  ==========================================

Packaged tables (``data/epi/``, provenance in ``data/epi/PROVENANCE.md``):

- ``density_rr.csv``: published relative risks by category, each with its reference category. The
  default is :data:`DEFAULT_RR_SOURCE`, the meta-analysis of McCormack & dos Santos Silva (Cancer
  Epidemiol Biomarkers Prev 2006;15:1159-69), general population, incidence studies, BI-RADS, as
  reproduced in Table 1 of the review in Breast Cancer Res 2007;9(6):217: a 1.0 (reference),
  b 2.2, c 3.0, d 4.0 (printed to one decimal).
- ``density_prevalence_EU_SiMRiSC.csv``: a/b/c/d shares by age group from the default
  configuration of the SiMRiSC 15.00.00 screening simulator. Its empirical source is not stated
  (probably Dutch screening data, **unverified**); it is the only European a-d-by-age table found
  and is used for every European country and Israel (an assumption).
- ``density_prevalence_US.csv``: BCSC share of c + d by five-year age group (Sprague et al.,
  JNCI 2014, via ASCO Post, whole percent) and the pooled a/b/c/d shares at ages 40-74 (BCSC,
  JAMA Intern Med 2019, Table 1). The split of c + d into c and d, and of a + b into a and b, by
  age is not published; :func:`density_prevalence` splits them in the pooled 40-74 proportions
  (an assumption).

Inside an iCARE calibration the reference population's density distribution makes the average RR
consistent with incidence, so the RRs need no rescaling to a reference category.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib.resources import files

import numpy as np

from pebs.risk._arrays import ModelInputError, as_float_vectors

CATEGORIES = ("a", "b", "c", "d")
"""BI-RADS density letters, in code order 0..3."""

MISSING = -1
"""Code of a missing density."""

DEFAULT_RR_SOURCE = "McCormack2006_via_Vachon2007"
"""Default relative-risk set: a 1.0, b 2.2, c 3.0, d 4.0 (reference a); see the module docstring."""

PREVALENCE_TABLES = ("EU_SiMRiSC", "US_BCSC")
"""Names accepted by :func:`density_prevalence`."""

_CODE_OF = {letter: code for code, letter in enumerate(CATEGORIES)}


@dataclass(frozen=True)
class DensityRelativeRisks:
    """One published set of relative risks for BI-RADS a/b/c/d."""

    source_id: str
    """``source_id`` in ``density_rr.csv``."""
    rr: np.ndarray
    """Relative risk of a, b, c, d against :attr:`reference`, shape (4,)."""
    ci_low: np.ndarray
    """Lower 95% confidence limit, shape (4,); NaN for the reference category."""
    ci_high: np.ndarray
    """Upper 95% confidence limit, shape (4,); NaN for the reference category."""
    reference: str
    """Reference category letter (``"a"`` or ``"b"``)."""
    population: str
    """Population and design, as described in the source table."""


def _read_csv(name: str) -> list[dict[str, str]]:
    text = files("pebs.risk").joinpath("data", "epi", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _float(value: str) -> float:
    return float(value) if value else np.nan


@functools.cache
def _relative_risk_sets() -> dict[str, DensityRelativeRisks | None]:
    """Every source in ``density_rr.csv``; None for sources that lack one of a/b/c/d."""
    by_source: dict[str, list[dict[str, str]]] = {}
    for row in _read_csv("density_rr.csv"):
        by_source.setdefault(row["source_id"], []).append(row)
    sets: dict[str, DensityRelativeRisks | None] = {}
    for source, rows in by_source.items():
        letters = [row["density"] for row in rows]
        if sorted(letters) != list(CATEGORIES):  # incomplete (or several estimates per letter)
            sets[source] = None
            continue
        ordered = sorted(rows, key=lambda row: _CODE_OF[row["density"]])
        arrays = {
            column: np.array([_float(row[column]) for row in ordered])
            for column in ("rr", "ci_lo", "ci_hi")
        }
        for array in arrays.values():
            array.setflags(write=False)
        sets[source] = DensityRelativeRisks(
            source_id=source,
            rr=arrays["rr"],
            ci_low=arrays["ci_lo"],
            ci_high=arrays["ci_hi"],
            reference=ordered[0]["reference"],
            population=ordered[0]["population"],
        )
    return sets


def density_relative_risks(source: str = DEFAULT_RR_SOURCE) -> DensityRelativeRisks:
    """Return a published set of relative risks for BI-RADS a, b, c and d.

    Parameters
    ----------
    source : str, optional
        A ``source_id`` of ``density_rr.csv`` that gives all four categories:
        ``"McCormack2006_via_Vachon2007"`` (default; reference a), ``"Cummings2009_Table2"``
        (reference a) or ``"BCSC_Tice2013_Table4"`` (women with non-proliferative benign breast
        disease; reference b).

    Raises
    ------
    ModelInputError
        If the source is unknown or does not give all four categories (``Bodewes2022``: b and d
        only); the message lists the usable sources.

    Examples
    --------
    >>> density_relative_risks().rr
    array([1. , 2.2, 3. , 4. ])
    """
    sets = _relative_risk_sets()
    usable = sorted(name for name, value in sets.items() if value is not None)
    chosen = sets.get(source) if isinstance(source, str) else None
    if chosen is None:
        raise ModelInputError(
            f"source: {source!r} is not a complete a/b/c/d relative-risk set; "
            f"available: {', '.join(usable)}"
        )
    return chosen


def density_codes(values) -> np.ndarray:
    """Parse BI-RADS density letters into codes 0..3 (a..d), -1 where missing.

    Letters are case-insensitive and surrounding spaces are ignored. Missing: ``None``, NaN and
    the empty (or blank) string.

    Parameters
    ----------
    values : array_like of str, shape (n,)
        For example a CSV column.

    Returns
    -------
    numpy.ndarray, shape (n,), int8

    Raises
    ------
    ModelInputError
        If any value is neither a letter a-d nor missing (numbers such as BI-RADS 1-4 of the 4th
        edition are rejected rather than guessed); the message shows the first bad values.

    Examples
    --------
    >>> density_codes(["a", " B", "c", "D", "", None])
    array([ 0,  1,  2,  3, -1, -1], dtype=int8)
    """
    array = np.asarray(values, dtype=object)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise ModelInputError(f"values: expected a 1-D array, got shape {array.shape}")
    is_missing = np.equal(array, None) | (array != array)  # None or NaN (NaN != NaN)
    text = np.where(is_missing, "", array).astype(str)
    keys = np.char.lower(np.char.strip(text))  # (n,) normalised letters
    codes = np.full(keys.shape, MISSING, dtype=np.int8)
    for letter, code in _CODE_OF.items():
        codes[keys == letter] = code
    is_bad = (codes == MISSING) & (keys != "")
    if np.any(is_bad):
        bad = list(dict.fromkeys(array[is_bad].tolist()))[:5]
        raise ModelInputError(
            f"values: BI-RADS density must be one of a, b, c, d (any case) or empty/None for "
            f"missing; got {bad!r} ({int(is_bad.sum())} values)"
        )
    return codes


def _check_codes(codes) -> np.ndarray:
    array = as_float_vectors(codes=codes)["codes"]
    is_valid = np.isin(array, [MISSING, 0, 1, 2, 3])
    if not np.all(is_valid):
        bad = np.unique(array[~is_valid])[:5].tolist()
        raise ModelInputError(f"codes: density codes must be -1 (missing) or 0..3, got {bad}")
    return array.astype(np.int8)


def density_rr(codes, source: str = DEFAULT_RR_SOURCE) -> np.ndarray:
    """Relative risk of each woman's density category.

    Parameters
    ----------
    codes : array_like of int, shape (n,)
        Density codes 0..3 (a..d), -1 for missing (see :func:`density_codes`).
    source : str, optional
        Relative-risk set (see :func:`density_relative_risks`).

    Returns
    -------
    numpy.ndarray, shape (n,), float64
        RR against the set's reference category; NaN where density is missing.

    Examples
    --------
    >>> density_rr([0, 1, 2, 3, -1])
    array([1. , 2.2, 3. , 4. , nan])
    """
    return _density_rr(_check_codes(codes), source)


def _density_rr(codes: np.ndarray, source: str) -> np.ndarray:
    """:func:`density_rr`'s kernel: ``codes`` are checked int8 codes (-1 missing, 0..3)."""
    rr = density_relative_risks(source).rr
    return np.where(codes == MISSING, np.nan, rr[np.maximum(codes, 0)])


@functools.cache
def _prevalence_table(table: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(age_lo, age_hi, shares (n_groups, 4)) of a packaged prevalence table."""
    if table == "EU_SiMRiSC":
        rows = _read_csv("density_prevalence_EU_SiMRiSC.csv")
        shares = np.array([[float(row[f"p_{c}"]) for c in CATEGORIES] for row in rows])
    else:  # US_BCSC
        all_rows = _read_csv("density_prevalence_US.csv")
        pooled = next(r for r in all_rows if r["source_id"] == "BCSC_JAMAIM2019_Table1")
        rows = [r for r in all_rows if r["source_id"] == "BCSC_Sprague2014_via_ASCOPost"]
        p = {c: float(pooled[f"p_{c}"]) for c in CATEGORIES}
        dense = np.array([float(row["p_cd"]) for row in rows])  # (n_groups,)
        shares = np.column_stack(
            [
                (1 - dense) * p["a"] / (p["a"] + p["b"]),
                (1 - dense) * p["b"] / (p["a"] + p["b"]),
                dense * p["c"] / (p["c"] + p["d"]),
                dense * p["d"] / (p["c"] + p["d"]),
            ]
        )
    age_lo = np.array([float(row["age_lo"]) for row in rows])
    age_hi = np.array([float(row["age_hi"]) for row in rows])
    shares = shares / shares.sum(axis=1, keepdims=True)  # published shares are rounded
    for array in (age_lo, age_hi, shares):
        array.setflags(write=False)
    return age_lo, age_hi, shares


def density_prevalence(ages, table: str = "EU_SiMRiSC") -> np.ndarray:
    """Share of women in BI-RADS a, b, c and d at each age.

    Parameters
    ----------
    ages : array_like, shape (n,)
        Ages in years (fractions allowed); an age belongs to the group ``age_lo <= age <
        age_hi + 1``.
    table : str, optional
        ``"EU_SiMRiSC"`` (default; groups [0, 40), [40, 50), [50, 60), [60, 70), 70+) or
        ``"US_BCSC"`` (five-year groups from 40, 85+ open; c + d published by age, split into
        c and d, and a + b into a and b, in the pooled BCSC 40-74 proportions).

    Returns
    -------
    numpy.ndarray, shape (n, 4)
        Proportions (0-1) of a, b, c, d; each row sums to 1 (published shares are rounded and
        renormalised). NaN rows for ages the table does not cover (US below 40) or NaN ages.

    Examples
    --------
    >>> density_prevalence([45, 72])
    array([[0.06, 0.34, 0.47, 0.13],
           [0.18, 0.54, 0.26, 0.02]])
    """
    if table not in PREVALENCE_TABLES:
        raise ModelInputError(
            f"table: unknown density prevalence table {table!r}; "
            f"available: {', '.join(PREVALENCE_TABLES)}"
        )
    return _density_prevalence(as_float_vectors(ages=ages)["ages"], table)


def _density_prevalence(years: np.ndarray, table: str) -> np.ndarray:
    """:func:`density_prevalence`'s kernel: ``years`` a checked 1-D float64 array, ``table`` one
    of :data:`PREVALENCE_TABLES`."""
    age_lo, age_hi, shares = _prevalence_table(table)
    group = np.searchsorted(age_lo, years, side="right") - 1  # (n,) -1 below the first group
    is_covered = (group >= 0) & (years < age_hi[-1] + 1)  # False for NaN
    result = np.full((years.size, len(CATEGORIES)), np.nan)  # (n, 4)
    result[is_covered] = shares[group[is_covered]]
    return result
