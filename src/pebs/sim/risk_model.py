"""Individual relative risk and the onset hazard that reproduces a country's incidence.

Relative risk
-------------
A woman's relative risk is fixed at entry (age ``a0``)::

    RR = G(a0) * OR_PRS ** z * RR_density(density at a0) / E[G(a0) * OR_PRS ** z * RR_density]

``G`` is the Gail/BCRAT relative risk of her categories (White coefficients; LP1 before 50, LP2
from 50: :func:`pebs.risk.gail.relative_risk`), ``z`` her standardised PRS, ``RR_density`` the
relative risk of her BI-RADS category (:func:`pebs.risk.density.density_rr`). The denominator is
the population mean at her entry age, computed exactly by quadrature over the independent
factors (Gail categories x density categories x 24-point Gauss-Hermite nodes for ``z``), so the
mean relative risk of the women entering at ``a0`` is 1.

Onset hazard (frailty correction)
---------------------------------
Women with a high RR get cancer first, so among women still cancer-free the mean RR falls with
age; multiplying the registry incidence ``lambda(a)`` by RR would under-produce incidence at older
ages. The baseline hazard ``lambda0`` is therefore solved year by year so that the hazard among
cancer-free women equals the registry rate::

    lambda0(a) = lambda(a) * E[S(a)] / E[RR * S(a)],   S(a) = exp(-RR * Lambda0(a0, a))

(expectations over the quadrature nodes). A woman's clinical diagnosis then has hazard
``RR * lambda0(a)`` and the simulated incidence without screening reproduces the table.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from pebs.risk.country import country_tables
from pebs.risk.density import density_prevalence, density_relative_risks
from pebs.risk.gail import Categories, relative_risk
from pebs.risk.reference_population import factor_distributions_of
from pebs.sim._hazard import FIRST_AGE, N_YEARS, HazardTables, extend_rates

FACTORS = ("menarche", "first_birth", "biopsies", "relatives")
"""Gail factors drawn for each woman, in draw order (categories as in pebs.risk.gail)."""
N_LEVELS = (3, 4, 3, 3)
_N_PRS_NODES = 24
_MAX_AGE_INDEX = 130


@functools.cache
def _gail_table() -> np.ndarray:
    """(2, 3, 4, 3, 3): RR under 50 / from 50 by menarche, first birth, biopsies, relatives."""
    grids = np.meshgrid(*[np.arange(n) for n in N_LEVELS], indexing="ij")
    flat = {name: grid.ravel().astype(np.int8) for name, grid in zip(FACTORS, grids, strict=True)}
    n = flat["menarche"].size
    rr = relative_risk(
        Categories(
            biopsies=flat["biopsies"], menarche=flat["menarche"],
            first_birth=flat["first_birth"], relatives=flat["relatives"],
            hyperplasia_rr=np.ones(n), race=np.ones(n, dtype=np.int8),
            error=np.zeros(n, dtype=np.int32),
        )
    )  # fmt: skip
    table = np.stack([rr.under_50, rr.from_50]).reshape(2, *N_LEVELS)
    table.flags.writeable = False
    return table


@dataclass(frozen=True)
class CountryRisk:
    """Risk-factor distributions, density by age and rates of one country."""

    code: str
    shares: tuple[np.ndarray, ...]  # per factor in FACTORS, proportions
    density_cumulative: np.ndarray  # (131, 3) cumulative shares a, a+b, a+b+c by age 0..130
    density_prevalence: np.ndarray  # (131, 4)
    incidence: np.ndarray  # (N_YEARS,) per woman-year, ages 20..129
    mortality: np.ndarray  # (N_YEARS,) all-cause, per woman-year


@functools.cache
def country_risk(code: str) -> CountryRisk:
    """The packaged distributions and rates of a country (pebs.risk tables)."""
    spec = factor_distributions_of(code)
    tables = country_tables(code)
    ages = np.arange(_MAX_AGE_INDEX + 1, dtype=np.float64)
    prevalence = density_prevalence(ages, spec.density_table)  # (131, 4), NaN where not covered
    first_known = int(np.argmax(~np.isnan(prevalence[:, 0])))
    prevalence[:first_known] = prevalence[first_known]
    prevalence /= prevalence.sum(axis=1, keepdims=True)
    return CountryRisk(
        code=code,
        shares=tuple(np.asarray(spec.shares(f), dtype=np.float64) for f in FACTORS),
        density_cumulative=np.cumsum(prevalence, axis=1)[:, :3],
        density_prevalence=prevalence,
        incidence=extend_rates(tables.incidence),
        mortality=extend_rates(tables.competing_mortality),
    )


def _nodes(risk: CountryRisk, entry_ages: np.ndarray, prs_or: float, density_rr: np.ndarray):
    """Quadrature of the unnormalised RR: values (n_ages, n_nodes) and weights (n_ages, n_nodes)."""
    gail = _gail_table()  # (2, 3, 4, 3, 3)
    w_gail = functools.reduce(np.multiply.outer, risk.shares).ravel()  # (108,)
    z, w_z = hermegauss(_N_PRS_NODES)
    w_z = w_z / w_z.sum()
    prs = prs_or**z  # (24,)
    values, weights = [], []
    for a0 in entry_ages:
        g = gail[int(a0 >= 50)].ravel()  # (108,)
        p_density = risk.density_prevalence[min(int(a0), _MAX_AGE_INDEX)]  # (4,)
        v = np.multiply.outer(np.multiply.outer(g, density_rr), prs).ravel()
        w = np.multiply.outer(np.multiply.outer(w_gail, p_density), w_z).ravel()
        values.append(v)
        weights.append(w)
    return np.array(values), np.array(weights)


@dataclass(frozen=True)
class OnsetModel:
    """Per (country, whole entry age): RR normaliser, baseline hazard table, RR quantiles.

    Table ``k = country_index * n_entry_ages + (a0 - first_entry_age)``.
    """

    countries: tuple[str, ...]
    first_entry_age: int
    n_entry_ages: int
    normaliser: np.ndarray  # (n_countries, n_entry_ages) mean unnormalised RR
    rr_q975: np.ndarray  # (n_countries, n_entry_ages) 97.5th percentile of the normalised RR
    baseline: HazardTables  # frailty-corrected lambda0, one table per (country, a0)
    incidence: HazardTables  # registry incidence, one table per country (from age 20)
    mortality: HazardTables  # all-cause mortality, one table per country

    def table(self, country: np.ndarray, entry_age: np.ndarray) -> np.ndarray:
        """Index of each woman's baseline table."""
        a0 = np.floor(entry_age).astype(np.intp) - self.first_entry_age
        return country.astype(np.intp) * self.n_entry_ages + a0


def _frailty_baseline(
    incidence: np.ndarray, entry_ages: np.ndarray, rr: np.ndarray, w: np.ndarray
) -> np.ndarray:
    """(n_ages, N_YEARS) baseline hazards (see the module docstring); registry rate before a0."""
    baseline = np.tile(incidence, (entry_ages.size, 1))
    cum = np.zeros_like(rr)  # (n_ages, n_nodes) RR * Lambda0 since a0
    first = int(entry_ages.min()) - FIRST_AGE
    for year in range(first, N_YEARS):
        started = (entry_ages - FIRST_AGE) <= year  # (n_ages,)
        s = np.exp(-cum)
        ratio = (w * s).sum(axis=1) / (w * rr * s).sum(axis=1)
        baseline[:, year] = np.where(started, incidence[year] * ratio, incidence[year])
        cum += np.where(started[:, None], rr * baseline[:, year : year + 1], 0.0)
    return baseline


@functools.cache
def onset_model(
    countries: tuple[str, ...], first_entry_age: int, last_entry_age: int, prs_or: float,
    density_rr_source: str, multipliers: tuple[tuple[float, ...] | None, ...] | None = None,
) -> OnsetModel:  # fmt: skip
    """Build (and cache per process) the onset tables for whole entry ages first..last.

    ``multipliers``: per country, yearly factors (ages 20..129) turning its registry incidence
    into the incidence without screening (None: the registry incidence as is).
    """
    entry_ages = np.arange(first_entry_age, last_entry_age + 1)
    density_rr = np.asarray(density_relative_risks(density_rr_source).rr, dtype=np.float64)
    factors = multipliers if multipliers is not None else (None,) * len(countries)
    incidences = [
        country_risk(code).incidence * (1.0 if f is None else np.asarray(f))
        for code, f in zip(countries, factors, strict=True)
    ]
    normaliser, q975, baselines = [], [], []
    for code, incidence in zip(countries, incidences, strict=True):
        risk = country_risk(code)
        values, weights = _nodes(risk, entry_ages, prs_or, density_rr)
        mean = (values * weights).sum(axis=1)  # (n_ages,)
        rr = values / mean[:, None]
        normaliser.append(mean)
        q975.append([_quantile(v, w, 0.975) for v, w in zip(rr, weights, strict=True)])
        baselines.append(_frailty_baseline(incidence, entry_ages, rr, weights))
    return OnsetModel(
        countries=countries,
        first_entry_age=first_entry_age,
        n_entry_ages=entry_ages.size,
        normaliser=np.array(normaliser),
        rr_q975=np.array(q975),
        baseline=HazardTables.from_rates(np.concatenate(baselines)),
        incidence=HazardTables.from_rates(np.array(incidences)),
        mortality=HazardTables.from_rates(np.array([country_risk(c).mortality for c in countries])),
    )


def _quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, q * cumulative[-1])])


def five_year_risk(model: OnsetModel, table: np.ndarray, rr: np.ndarray, ages: np.ndarray):
    """Absolute risk of clinical breast cancer over [age, age + 5), proportion.

    ``1 - exp(-RR * (Lambda0(age + 5) - Lambda0(age)))`` with the woman's own baseline table
    (competing mortality over the 5 years is ignored: it changes the risk by well under 5% of its
    value before 75).
    """
    dh = model.baseline.at(table, ages + 5.0) - model.baseline.at(table, ages)
    return -np.expm1(-rr * dh)
