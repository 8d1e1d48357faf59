"""Country tables: breast cancer incidence and competing mortality by single year of age.

The packaged tables (``data/epi/``, provenance in ``data/epi/PROVENANCE.md`` and
``docs/models/country-data.md``) give, per country, rates per 100,000 woman-years in five-year age
groups:

- **incidence**: invasive female breast cancer (ICD-10 C50, in situ excluded), from cancer
  registries (IARC CI5 2013-2017; SEER-22 2016-2020 for the US);
- **competing mortality**: *all-cause* female mortality (UN World Population Prospects 2024).
  Breast-cancer-specific mortality by age is not available for these countries, so it is not
  subtracted: competing mortality is slightly overstated, most at older ages.

:func:`country_tables` expands them to single years of age on the grid ``20, 21, ..., 100`` and
converts them to rates per woman-year (a **proportion per year**, not per 100,000). Expansion is a
step function: each single age takes the rate of the five-year group that contains it, and open top
groups (incidence 85+, mortality 100+) extend to the end of the grid. Both series are central rates
``m`` (events / person-years), used directly as constant hazards within each year of age.
"""

from __future__ import annotations

import csv
import functools
import math
from dataclasses import dataclass
from importlib.resources import files

import numpy as np

from pebs.risk._arrays import ModelInputError

FIRST_AGE = 20
"""First single year of age of the tables (the Gail/BCRAT and iCARE reference grids start here)."""

LAST_AGE = 100
"""Last single year of age of the tables (the 100+ mortality group; incidence uses 85+)."""

PER_100K = 100_000.0

COUNTRIES: dict[str, str] = {
    "BE": "Belgium",
    "ES": "Spain",
    "FR": "France",
    "IL": "Israel",
    "IT": "Italy",
    "UK": "United Kingdom",
    "UK_ENG": "England (incidence; United Kingdom mortality)",
    "US": "United States",
}
"""Country codes with packaged tables, and their names."""

MORTALITY_PERIODS: dict[str, str] = {
    "2020-2024": "",
    "2015-2019": "_2015_2019",
}
"""WPP 2024 mortality periods (first and last calendar year) and their file-name suffixes.

``"2020-2024"`` (the default, WPP "2020-2025") is the current period; it includes the COVID-19
years and a projected 2024. ``"2015-2019"`` (WPP "2015-2020") is pre-COVID and closer to the
2013-2017 incidence period.
"""

DEFAULT_MORTALITY_PERIOD = "2020-2024"

_MORTALITY_COUNTRY = {"UK_ENG": "UK"}  # WPP has no England-only series


@dataclass(frozen=True)
class CountryTables:
    """Incidence and competing mortality of one country by single year of age.

    ``incidence[i]`` and ``competing_mortality[i]`` are the rates for the year of age
    ``[ages[i], ages[i] + 1)``. Arrays are read-only (they are shared between calls).
    """

    code: str
    """Country code, e.g. ``"FR"``."""
    name: str
    """Country name."""
    ages: np.ndarray
    """Single years of age ``20, 21, ..., 100``, shape (81,), int64."""
    incidence: np.ndarray
    """Invasive breast cancer incidence per woman-year (a proportion per year), shape (81,)."""
    competing_mortality: np.ndarray
    """All-cause mortality per woman-year (a proportion per year), shape (81,)."""
    incidence_sources: tuple[str, ...]
    """``source_id`` values of the incidence rows used (see ``data/epi/PROVENANCE.md``)."""
    mortality_sources: tuple[str, ...]
    """``source_id`` values of the mortality rows used."""
    mortality_period: str
    """WPP period of the mortality table, ``"2020-2024"`` or ``"2015-2019"``."""

    @property
    def source_ids(self) -> tuple[str, ...]:
        """All source ids, incidence first."""
        return self.incidence_sources + self.mortality_sources

    def __len__(self) -> int:
        return int(self.ages.size)


@dataclass(frozen=True)
class _GroupedTable:
    age_lo: np.ndarray  # (n_groups,) first year of each group
    age_hi: np.ndarray  # (n_groups,) last year included; inf for the open top group
    rate_per_100k: np.ndarray
    source_ids: tuple[str, ...]  # one per row


def expand_to_single_ages(age_lo, age_hi, rates, ages) -> np.ndarray:
    """Expand rates given by age group to single years of age (step function).

    Each single age takes the rate of the group ``age_lo <= age <= age_hi`` that contains it
    (``age_hi`` is the last year included, so 50-54 covers 50.0-54.99); an open top group
    (``age_hi = inf``) covers every later age.

    Parameters
    ----------
    age_lo, age_hi : array_like, shape (n_groups,)
        Group bounds in years, contiguous (``age_lo[k + 1] == age_hi[k] + 1``).
    rates : array_like, shape (n_groups,)
        One rate per group, in any unit (returned in the same unit).
    ages : array_like, shape (n,)
        Single years of age (whole numbers) to look up.

    Returns
    -------
    numpy.ndarray, shape (n,)
        The rate of each age's group.

    Raises
    ------
    ModelInputError
        If the groups are not contiguous and increasing, or an age is outside them.

    Examples
    --------
    >>> expand_to_single_ages([40, 45, 50], [44, 49, float("inf")], [1.0, 2.0, 3.0], [44, 45, 99])
    array([1., 2., 3.])
    """
    lo = np.asarray(age_lo, dtype=np.float64)
    hi = np.asarray(age_hi, dtype=np.float64)
    values = np.asarray(rates, dtype=np.float64)
    years = np.asarray(ages, dtype=np.float64)
    if not (lo.ndim == hi.ndim == values.ndim == 1 and lo.size == hi.size == values.size > 0):
        raise ModelInputError("age_lo, age_hi, rates: expected 1-D arrays of the same length")
    if not (np.all(hi >= lo) and np.array_equal(lo[1:], hi[:-1] + 1)):
        raise ModelInputError(
            "age_lo, age_hi: groups must be contiguous and increasing "
            f"(age_lo[k + 1] == age_hi[k] + 1), got {list(zip(lo, hi, strict=True))}"
        )
    outside = (years < lo[0]) | (years > hi[-1]) | (np.floor(years) != years)
    if np.any(outside):
        raise ModelInputError(
            f"ages: whole years from {lo[0]:g} to {hi[-1]:g} are covered, "
            f"got {years[outside][:5].tolist()}"
        )
    group = np.searchsorted(lo, years, side="right") - 1  # (n,) index of each age's group
    return values[group]


def _read_grouped(name: str) -> _GroupedTable:
    text = files("pebs.risk").joinpath("data", "epi", name).read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    if not rows or set(rows[0]) != {"age_lo", "age_hi", "rate_per_100k", "source_id"}:
        raise RuntimeError(f"packaged table {name}: unexpected columns")
    return _GroupedTable(
        age_lo=np.array([float(r["age_lo"]) for r in rows]),
        age_hi=np.array([float(r["age_hi"]) for r in rows]),  # "Inf" parses as inf
        rate_per_100k=np.array([float(r["rate_per_100k"]) for r in rows]),
        source_ids=tuple(r["source_id"] for r in rows),
    )


def _sources_used(table: _GroupedTable, ages: np.ndarray) -> tuple[str, ...]:
    used = expand_to_single_ages(table.age_lo, table.age_hi, np.arange(table.age_lo.size), ages)
    return tuple(dict.fromkeys(table.source_ids[int(k)] for k in used))


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def _check_code(code: object) -> str:
    key = code.strip().upper() if isinstance(code, str) else None
    if key not in COUNTRIES:
        raise ModelInputError(
            f"country: unknown code {code!r}; available: {', '.join(sorted(COUNTRIES))}"
        )
    return key


@functools.cache
def _load(code: str, mortality_period: str) -> CountryTables:
    ages = _read_only(np.arange(FIRST_AGE, LAST_AGE + 1, dtype=np.int64))
    incidence = _read_grouped(f"incidence_{code}.csv")
    suffix = MORTALITY_PERIODS[mortality_period]
    mortality = _read_grouped(
        f"mortality_allcause_{_MORTALITY_COUNTRY.get(code, code)}{suffix}.csv"
    )
    if not (math.isinf(incidence.age_hi[-1]) and math.isinf(mortality.age_hi[-1])):
        raise RuntimeError(f"packaged tables for {code}: the top age group must be open")
    return CountryTables(
        code=code,
        name=COUNTRIES[code],
        ages=ages,
        incidence=_read_only(
            expand_to_single_ages(incidence.age_lo, incidence.age_hi, incidence.rate_per_100k, ages)
            / PER_100K
        ),
        competing_mortality=_read_only(
            expand_to_single_ages(mortality.age_lo, mortality.age_hi, mortality.rate_per_100k, ages)
            / PER_100K
        ),
        incidence_sources=_sources_used(incidence, ages),
        mortality_sources=_sources_used(mortality, ages),
        mortality_period=mortality_period,
    )


def country_tables(code: str, mortality_period: str = DEFAULT_MORTALITY_PERIOD) -> CountryTables:
    """Return a country's incidence and competing mortality by single year of age 20..100.

    Parameters
    ----------
    code : str
        Country code, one of :data:`COUNTRIES` (case-insensitive): BE, ES, FR, IL, IT, UK,
        UK_ENG (England incidence with UK-wide mortality), US.
    mortality_period : str, optional
        WPP 2024 period of the all-cause mortality table: ``"2020-2024"`` (default) or
        ``"2015-2019"`` (pre-COVID).

    Returns
    -------
    CountryTables
        Rates per woman-year (proportions per year, **not** per 100,000) on ages 20..100. They
        are central rates used directly as constant hazards within each year of age;
        ``competing_mortality`` is all-cause mortality (breast cancer deaths included).

    Raises
    ------
    ModelInputError
        For an unknown country code or mortality period; the message lists the allowed values.

    Examples
    --------
    >>> fr = country_tables("FR")
    >>> fr.ages[[0, -1]], fr.incidence[fr.ages == 52], fr.mortality_period
    (array([ 20, 100]), array([0.0028009]), '2020-2024')
    """
    key = _check_code(code)
    if mortality_period not in MORTALITY_PERIODS:
        raise ModelInputError(
            f"mortality_period: unknown period {mortality_period!r}; "
            f"available: {', '.join(MORTALITY_PERIODS)}"
        )
    return _load(key, mortality_period)


def available_countries() -> tuple[str, ...]:
    """Country codes with packaged tables, sorted.

    >>> available_countries()
    ('BE', 'ES', 'FR', 'IL', 'IT', 'UK', 'UK_ENG', 'US')
    """
    return tuple(sorted(COUNTRIES))
