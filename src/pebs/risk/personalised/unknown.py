"""Unknown inputs averaged over their distribution among women of her age.

With the packaged reference grids (:func:`~pebs.risk.reference_population.reference_grid`) the
calibration's reference women of each age are the exact joint distribution of the factors, which
are independent of each other. For a woman whose inputs ``U`` are unknown, the risk is then the
expectation of the full-model risk over ``U`` given what she answered::

    risk = Σ_u P(U = u | her age) · risk(her known factors, u)

over every combination ``u`` of the unknown categories (Gail NB, AM, AF, NR; BI-RADS density at
her age; the PRS at the grid's Gauss-Hermite points), weighted by the shares the reference
population uses. This is the quantity iCARE's missing-covariate rule estimates by averaging the
reference women in a quantile bin of the known factors' predictor (Pal Choudhury et al., PLoS One
2020), computed exactly rather than by bins: it is smooth and never falls when a known factor
rises.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from pebs.risk import icare
from pebs.risk.density import _density_prevalence, _density_rr
from pebs.risk.gail import Categories
from pebs.risk.reference_population import PRS_POINTS, factor_distributions_of

_CHUNK_ELEMENTS = 1 << 20
"""Woman-by-combination risks evaluated at once (8 MiB per float64 array)."""


@functools.cache
def _prs_points() -> tuple[np.ndarray, np.ndarray]:
    nodes, weights = np.polynomial.hermite_e.hermegauss(PRS_POINTS)
    return nodes, weights / weights.sum()


_SIZES = {"biopsies": 3, "menarche": 3, "first_birth": 4, "relatives": 3, "density": 4}
_GAIL_FIELDS = ("biopsies", "menarche", "first_birth", "relatives")


@dataclass(frozen=True)
class _Combinations:
    """Every combination of one set of unknown inputs, and its shares apart from density."""

    values: dict[str, np.ndarray]
    """Each unknown input's value in each combination (categories; PRS: its points), (n,)."""
    static: np.ndarray
    """Product of the shares of the unknown inputs but density (whose shares depend on her age),
    in the order of the inputs, (n,)."""

    @property
    def size(self) -> int:
        return self.static.size


@functools.cache
def _combinations(country: str, unknown: tuple[str, ...]) -> _Combinations:
    """The combinations of ``unknown`` (the first input varies slowest), once per process."""
    spec = factor_distributions_of(country)
    axes = {
        name: _prs_points()[0] if name == "prs" else np.arange(_SIZES[name]) for name in unknown
    }
    grids = np.meshgrid(*(np.arange(a.size) for a in axes.values()), indexing="ij")
    combo = {name: axes[name][g.ravel()] for name, g in zip(axes, grids, strict=True)}
    static = np.ones(grids[0].size)  # shares of every unknown input but density (age-dependent)
    for name, g in zip(axes, grids, strict=True):
        if name == "prs":
            static = static * _prs_points()[1][g.ravel()]
        elif name != "density":
            static = static * spec.shares(name)[g.ravel()]
    for array in (*combo.values(), static):
        array.setflags(write=False)
    return _Combinations(combo, static)


def expected_risks(model, categories: Categories, start, density_code, prs_z, unknown, terms):
    """Risks (proportions) of women who share one set of unknown inputs.

    Parameters
    ----------
    model : CountryModel
        Calibrated on the packaged reference grids.
    categories : Categories
        Her Gail categories (unknown ones are ignored), (m,) each.
    start : numpy.ndarray
        Whole start ages (years), (m,).
    density_code, prs_z : numpy.ndarray
        BI-RADS codes 0..3 and PRS z-scores (ignored where unknown), (m,).
    unknown : tuple of str
        Unknown inputs among ``biopsies``, ``menarche``, ``first_birth``, ``relatives``,
        ``density``, ``prs``.
    terms : callable
        :func:`~pebs.risk.personalised.model.classical_terms`.
    """
    spec = factor_distributions_of(model.country)
    combinations = _combinations(model.country, tuple(unknown))
    combo, static, n_combos = combinations.values, combinations.static, combinations.size
    beta_prs = float(model.calibration.log_rr[5])
    m = start.size
    out = np.empty(m)
    step = max(1, _CHUNK_ELEMENTS // n_combos)
    for lo in range(0, m, step):
        rows = slice(lo, min(m, lo + step))
        k = rows.stop - lo

        def column(name, own, rows=rows, k=k):
            """(rows x combos,) her value, or the combination's where the input is unknown."""
            if name in combo:
                return np.tile(combo[name], k)
            return np.repeat(own[rows], n_combos)

        gail = {name: column(name, getattr(categories, name)) for name in _GAIL_FIELDS}
        hyperplasia = (
            np.full(k * n_combos, spec.hyperplasia_rr)
            if "biopsies" in combo
            else np.repeat(categories.hyperplasia_rr[rows], n_combos)
        )
        ages = np.repeat(start[rows], n_combos)
        grid = Categories(
            **gail, hyperplasia_rr=hyperplasia, race=np.ones(ages.size, dtype=np.int8),
            error=np.zeros(ages.size, dtype=np.int32),
        )  # fmt: skip
        codes = column("density", density_code).astype(np.int8)
        lp = (
            sum(terms(grid, ages))
            + beta_prs * column("prs", prs_z)
            + np.log(_density_rr(codes, model.density_rr_source))
        )
        risks = icare.complete_risks(model.calibration, lp, ages - model.calibration.first_start)
        weights = np.broadcast_to(static, (k, n_combos))
        if "density" in combo:
            shares = _density_prevalence(start[rows], spec.density_table)  # (rows, 4)
            weights = weights * shares[:, combo["density"]]
        out[rows] = (risks.reshape(k, n_combos) * weights).sum(axis=1) / weights.sum(axis=1)
    return out
