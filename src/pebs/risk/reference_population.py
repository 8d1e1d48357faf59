"""Reference populations for iCARE calibration: women of a country with their risk factors.

A reference population is a weighted sample of women representing the joint distribution of the
model's risk factors in the target population (Pal Choudhury et al., PLoS One 2020). pebs builds
one per country with :func:`reference_population`, or takes a user's cohort with
:meth:`ReferencePopulation.from_arrays` / :meth:`ReferencePopulation.from_categories`.

Generated populations (distributions and citations in ``data/reference_populations.toml``,
choices per country in ``docs/models/country-data.md``):

- ages: spread evenly over the single years 40..74 (or the ``ages`` given), weight 1 each;
- Gail categories NB, AM, AF, NR: drawn independently from the country's configured shares
  (published figures where found, otherwise a documented common default);
- atypical hyperplasia unknown, so ``hyperplasia_rr`` = 1.0 (BCRAT's value for unknown status);
- BI-RADS density: drawn by age from the country's density table (EU SiMRiSC for the European
  countries and Israel, BCSC for the US);
- ``prs_z`` ~ N(0, 1), independent of everything else.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace

import numpy as np

from pebs.risk._arrays import ModelInputError, as_float_vectors
from pebs.risk._population_config import N_CATEGORIES, FactorDistributions, factor_distributions
from pebs.risk.country import _check_code
from pebs.risk.density import MISSING, PREVALENCE_TABLES, density_codes, density_prevalence

DEFAULT_N = 20_000
"""Default number of rows: a population mean (e.g. of the relative risk) then has a Monte Carlo
standard error of sd / sqrt(20,000), about 0.007 standard deviations."""

_MAX_N = 50_000_000

__all__ = [
    "DEFAULT_N",
    "FactorDistributions",
    "ReferencePopulation",
    "factor_distributions_of",
    "reference_grid",
    "reference_population",
]


@dataclass(frozen=True)
class ReferencePopulation:
    """Women of a reference population, one entry per row (arrays of equal length ``n``).

    The Gail categories use the codes of :class:`pebs.risk.gail.Categories`.
    """

    ages: np.ndarray
    """Age in years, shape (n,), float64."""
    biopsies: np.ndarray
    """NB: 0, 1 or 2 (int8)."""
    menarche: np.ndarray
    """AM: 0, 1 or 2 (int8)."""
    first_birth: np.ndarray
    """AF: 0, 1, 2 or 3 (int8)."""
    relatives: np.ndarray
    """NR: 0, 1 or 2 (int8)."""
    hyperplasia_rr: np.ndarray
    """R_Hyp multiplier, shape (n,), float64 (1.0 where NB is 0)."""
    density: np.ndarray
    """BI-RADS density code 0..3 = a..d (int8); never missing."""
    prs_z: np.ndarray
    """Standardised polygenic risk score, shape (n,), float64; never missing."""
    weights: np.ndarray
    """Sampling weight of each row, positive, shape (n,), float64."""
    description: str = ""
    """Where the rows come from (country and configuration, or the user's cohort)."""
    imputed: dict[str, int] = field(default_factory=dict)
    """Column -> number of rows whose missing value was drawn at random (user cohorts)."""

    def __len__(self) -> int:
        return int(self.ages.size)

    def select(self, rows) -> ReferencePopulation:
        """The rows picked by a boolean mask or an index array (e.g. one age band)."""
        arrays = {name: getattr(self, name)[rows] for name in _ARRAY_FIELDS}
        if arrays["ages"].size == 0:
            raise ModelInputError("rows: the selection is empty")
        return replace(self, **arrays)

    @classmethod
    def from_arrays(
        cls,
        ages,
        biopsies,
        menarche,
        first_birth,
        relatives,
        *,
        hyperplasia_rr=1.0,
        density=None,
        prs_z=None,
        weights=None,
        rng: np.random.Generator | None = None,
        density_table: str = "EU_SiMRiSC",
        description: str = "user cohort",
    ) -> ReferencePopulation:
        """A user's cohort (already in Gail categories) as the reference population.

        Parameters
        ----------
        ages : array_like, shape (n,)
            Ages in years.
        biopsies, menarche, first_birth, relatives : array_like of int, shape (n,)
            Gail categories NB (0-2), AM (0-2), AF (0-3), NR (0-2), e.g. from
            :func:`pebs.risk.gail.recode`; every row must be valid.
        hyperplasia_rr : array_like, shape (n,) or scalar, optional
            R_Hyp (positive); default 1.0 (status unknown).
        density : array_like, shape (n,), optional
            BI-RADS letters (``"a"``-``"d"``, empty/None missing) or codes 0..3 (-1 missing).
            None: all missing.
        prs_z : array_like, shape (n,), optional
            Standardised PRS (NaN missing). None: all missing.
        weights : array_like, shape (n,), optional
            Positive sampling weights; default 1 for every row.
        rng : numpy.random.Generator, optional
            Needed only when density or PRS has missing values: they are then drawn, density
            from ``density_table`` at the woman's age and PRS from N(0, 1) (independently of her
            other factors, an assumption), and counted in :attr:`imputed`.
        density_table : str, optional
            Table for drawing missing density (``"EU_SiMRiSC"`` or ``"US_BCSC"``).
        description : str, optional
            Stored with the population.

        Raises
        ------
        ModelInputError
            Wrong shapes, categories outside their range, non-positive weights, or missing
            density/PRS without ``rng``; the message names the argument.
        """
        n = np.asarray(ages).size
        named = {
            "biopsies": biopsies, "menarche": menarche, "first_birth": first_birth,
            "relatives": relatives, "hyperplasia_rr": hyperplasia_rr, "weights": weights,
            "prs_z": prs_z,
        }  # fmt: skip
        for name, value in named.items():
            if value is not None and np.ndim(value) == 1 and len(value) != n:
                raise ModelInputError(f"{name}: has {len(value)} values but ages has {n}")
        numbers = as_float_vectors(
            ages=ages, biopsies=biopsies, menarche=menarche, first_birth=first_birth,
            relatives=relatives, hyperplasia_rr=hyperplasia_rr,
            weights=np.ones(n) if weights is None else weights,
            prs_z=np.full(n, np.nan) if prs_z is None else prs_z,
        )  # fmt: skip
        codes = _density_codes(np.full(n, MISSING) if density is None else density, n)
        _check_categories(numbers)
        if not np.all(np.isfinite(numbers["ages"])):
            raise ModelInputError("ages: must be finite numbers (years)")
        for name in ("hyperplasia_rr", "weights"):
            values = numbers[name]
            if not np.all(np.isfinite(values) & (values > 0)):
                raise ModelInputError(f"{name}: must be finite and > 0")
        if np.any(np.isinf(numbers["prs_z"])):
            raise ModelInputError("prs_z: must be finite or NaN (missing)")

        prs = numbers["prs_z"].copy()
        imputed: dict[str, int] = {}
        is_missing = {"density": codes == MISSING, "prs_z": np.isnan(prs)}
        counts = {name: int(mask.sum()) for name, mask in is_missing.items() if mask.any()}
        if counts:
            if not isinstance(rng, np.random.Generator):
                name, count = next(iter(counts.items()))
                raise ModelInputError(
                    f"{name}: missing in {count} of {n} rows; give complete values, or rng "
                    "(a numpy.random.Generator) to draw the missing ones"
                )
            _check_table(density_table)
            rows = is_missing["density"]
            codes[rows] = _draw_density(numbers["ages"][rows], density_table, rng)
            prs[is_missing["prs_z"]] = rng.standard_normal(int(is_missing["prs_z"].sum()))
            imputed = counts
        biopsy_category = numbers["biopsies"].astype(np.int8)
        return cls(
            ages=numbers["ages"].copy(),
            biopsies=biopsy_category,
            menarche=numbers["menarche"].astype(np.int8),
            first_birth=numbers["first_birth"].astype(np.int8),
            relatives=numbers["relatives"].astype(np.int8),
            hyperplasia_rr=np.where(biopsy_category == 0, 1.0, numbers["hyperplasia_rr"]),
            density=codes,
            prs_z=prs,
            weights=numbers["weights"].copy(),
            description=description,
            imputed=imputed,
        )

    @classmethod
    def from_categories(cls, categories, ages, **options) -> ReferencePopulation:
        """A cohort recoded by :func:`pebs.risk.gail.recode` as the reference population.

        ``categories`` is a :class:`pebs.risk.gail.Categories`; rows it rejected (``error != 0``)
        raise :class:`~pebs.risk._arrays.ModelInputError`. Other options as in
        :meth:`from_arrays`.
        """
        rejected = np.flatnonzero(np.asarray(categories.error) != 0)
        if rejected.size:
            raise ModelInputError(
                f"categories: {rejected.size} rows were rejected by recode "
                f"(first rows {rejected[:5].tolist()}); remove them from the reference cohort"
            )
        return cls.from_arrays(
            ages,
            categories.biopsies,
            categories.menarche,
            categories.first_birth,
            categories.relatives,
            hyperplasia_rr=categories.hyperplasia_rr,
            **options,
        )


_ARRAY_FIELDS = (
    "ages", "biopsies", "menarche", "first_birth", "relatives", "hyperplasia_rr", "density",
    "prs_z", "weights",
)  # fmt: skip


def _check_categories(numbers: dict[str, np.ndarray]) -> None:
    for name, n_categories in N_CATEGORIES.items():
        values = numbers[name]
        is_bad = ~np.isin(values, np.arange(n_categories))
        if np.any(is_bad):
            raise ModelInputError(
                f"{name}: Gail categories must be 0..{n_categories - 1}; got "
                f"{np.unique(values[is_bad])[:5].tolist()} in {int(is_bad.sum())} rows"
            )


def _density_codes(density, n: int) -> np.ndarray:
    array = np.asarray(density)
    is_text = array.dtype.kind in "US" or (
        array.dtype.kind == "O" and any(isinstance(value, str) for value in array.ravel())
    )
    if is_text:
        codes = density_codes(array)
    else:
        values = as_float_vectors(density=array)["density"]
        values = np.where(np.isnan(values), MISSING, values)
        if not np.all(np.isin(values, [MISSING, 0, 1, 2, 3])):
            raise ModelInputError("density: codes must be 0..3 (a..d) or -1/NaN for missing")
        codes = values.astype(np.int8)
    if codes.size != n:
        raise ModelInputError(f"density: has {codes.size} values but ages has {n}")
    return codes.copy()


def _check_table(table: str) -> None:
    if table not in PREVALENCE_TABLES:
        raise ModelInputError(
            f"density_table: unknown table {table!r}; available: {', '.join(PREVALENCE_TABLES)}"
        )


def _draw_density(ages: np.ndarray, table: str, rng: np.random.Generator) -> np.ndarray:
    """One BI-RADS code per age, drawn from the table's shares at that age."""
    shares = density_prevalence(ages, table)  # (n, 4)
    if np.any(np.isnan(shares)):
        raise ModelInputError(
            f"ages: density table {table} does not cover ages "
            f"{np.unique(ages[np.isnan(shares[:, 0])])[:5].tolist()}"
        )
    cumulative = np.cumsum(shares, axis=1)[:, :-1]  # (n, 3) upper bounds of a, b, c
    draws = rng.random(ages.size)
    return (draws[:, None] >= cumulative).sum(axis=1).astype(np.int8)


def factor_distributions_of(country: str) -> FactorDistributions:
    """The configured risk-factor distributions of a country's reference population.

    >>> factor_distributions_of("FR").density_table
    'EU_SiMRiSC'
    """
    return factor_distributions(_check_code(country))


def reference_population(
    country: str, n: int = DEFAULT_N, *, rng: np.random.Generator, ages=None
) -> ReferencePopulation:
    """Generate a reference population representing a country's women.

    Parameters
    ----------
    country : str
        Country code (as for :func:`pebs.risk.country.country_tables`).
    n : int, optional
        Number of rows (default 20,000).
    rng : numpy.random.Generator
        Source of randomness; the same seed gives the same population.
    ages : array_like of int, optional
        Single years of age to spread the rows over (evenly, in order); default the configured
        range 40..74.

    Returns
    -------
    ReferencePopulation
        ``n`` rows of weight 1. Draw order (fixed): menarche, first birth, biopsies, relatives,
        density, PRS.

    Examples
    --------
    >>> population = reference_population("IT", 1_000, rng=np.random.default_rng(1))
    >>> len(population), float(population.ages.min()), float(population.ages.max())
    (1000, 40.0, 74.0)
    >>> again = reference_population("IT", 1_000, rng=np.random.default_rng(1))
    >>> bool(np.array_equal(population.density, again.density))  # same seed, same women
    True
    """
    spec = factor_distributions_of(country)
    if not isinstance(rng, np.random.Generator):
        raise ModelInputError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 1 <= n <= _MAX_N:
        raise ModelInputError(f"n: expected a whole number from 1 to {_MAX_N:,}, got {n!r}")
    grid = np.arange(spec.first_age, spec.last_age + 1) if ages is None else ages
    grid = as_float_vectors(ages=grid)["ages"]
    if grid.size == 0 or not np.all(np.isfinite(grid)):
        raise ModelInputError("ages: expected at least one finite age")
    row_ages = grid[np.arange(n) % grid.size]  # (n,) balanced over the given ages
    drawn = {
        factor: rng.choice(spec.shares(factor).size, size=n, p=spec.shares(factor)).astype(np.int8)
        for factor in N_CATEGORIES
    }
    density = _draw_density(row_ages, spec.density_table, rng)
    return ReferencePopulation(
        ages=row_ages.copy(),
        **drawn,
        hyperplasia_rr=np.full(n, spec.hyperplasia_rr),
        density=density,
        prs_z=rng.standard_normal(n),
        weights=np.ones(n),
        description=(
            f"pebs reference population for {spec.country}: "
            + ", ".join(f"{k}={v}" for k, v in spec.distribution_ids.items())
            + f", density={spec.density_table}"
        ),
    )


PRS_POINTS = 16
"""Gauss-Hermite points standing for the N(0, 1) PRS in :func:`reference_grid`."""


@functools.cache
def gauss_hermite(points: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the ``points``-point Gauss-Hermite rule for the standard normal
    density (:func:`numpy.polynomial.hermite_e.hermegauss`: weights summing to sqrt(2 pi)),
    computed once per process; read-only."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(points)
    for array in (nodes, weights):
        array.setflags(write=False)
    return nodes, weights


@functools.cache
def _grid_index(sizes: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    """Every combination of one category per axis of these ``sizes`` (the first axis varies
    slowest), as one (n,) index array per axis; computed once per process, read-only."""
    index = np.meshgrid(*(np.arange(size) for size in sizes), indexing="ij")
    flat = tuple(i.ravel() for i in index)
    for array in flat:
        array.setflags(write=False)
    return flat


def reference_grid(
    country: str, age: float, *, prs_points: int = PRS_POINTS
) -> ReferencePopulation:
    """The distribution :func:`reference_population` samples from at one age, as weighted rows.

    One row per combination of the Gail categories NB, AM, AF, NR, the BI-RADS density at
    ``age`` and ``prs_points`` Gauss-Hermite points of the N(0, 1) PRS; each row's weight is the
    product of the shares (and the quadrature weight). Means over it are the generator's
    expectations without Monte Carlo error (exact for the discrete factors; for the PRS, exact
    for polynomials up to degree ``2 * prs_points - 1``).

    >>> grid = reference_grid("FR", 45)
    >>> len(grid), round(float(grid.weights.sum()), 12)
    (6912, 1.0)
    """
    spec = factor_distributions_of(country)
    if isinstance(prs_points, bool) or not isinstance(prs_points, int) or prs_points < 1:
        raise ModelInputError(f"prs_points: expected a whole number >= 1, got {prs_points!r}")
    year = as_float_vectors(age=age)["age"]
    if year.size != 1 or not np.isfinite(year[0]):
        raise ModelInputError(f"age: expected one finite age in years, got {age!r}")
    density_shares = density_prevalence(year, spec.density_table)[0]
    if np.any(np.isnan(density_shares)):
        raise ModelInputError(f"age: density table {spec.density_table} does not cover {age!r}")
    nodes, node_weights = gauss_hermite(prs_points)
    axes = [spec.shares(factor) for factor in N_CATEGORIES] + [density_shares, node_weights]
    index = _grid_index(tuple(a.size for a in axes))
    weights = np.prod([axis[i] for axis, i in zip(axes, index, strict=True)], axis=0)
    categories = dict(zip(N_CATEGORIES, (i.astype(np.int8) for i in index), strict=False))
    n = weights.size
    return ReferencePopulation(
        ages=np.full(n, float(year[0])),
        **categories,
        hyperplasia_rr=np.full(n, spec.hyperplasia_rr),
        density=index[len(N_CATEGORIES)].astype(np.int8),
        prs_z=nodes[index[-1]],
        weights=weights / weights.sum(),
        description=(
            f"pebs reference grid for {spec.country} at age {year[0]:g}: "
            + ", ".join(f"{k}={v}" for k, v in spec.distribution_ids.items())
            + f", density={spec.density_table}, PRS N(0, 1) by {prs_points} Gauss-Hermite points"
        ),
    )
