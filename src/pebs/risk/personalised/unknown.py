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

from pebs.risk.density import _density_prevalence, _density_rr
from pebs.risk.gail import Categories
from pebs.risk.icare.absolute_risk import fixed_window_risks
from pebs.risk.icare.by_age import window_rates
from pebs.risk.reference_population import PRS_POINTS, factor_distributions_of, gauss_hermite

_CHUNK_ELEMENTS = 1 << 16
"""Woman-by-combination risks evaluated at once (512 KiB per float64 array: in the cache)."""


@functools.cache
def _prs_points() -> tuple[np.ndarray, np.ndarray]:
    nodes, weights = gauss_hermite(PRS_POINTS)
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

    Each woman's risk is computed from her own values alone, by the same operations in the same
    order whoever is computed with her: the sums over the combinations run in a fixed order
    (:func:`_fixed_order_sum`), never by a reduction whose order depends on the array's shape.

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
    combo, n_combos = combinations.values, combinations.size
    static = combinations.static[:, None]  # (combos, 1)
    beta_prs = float(model.calibration.log_rr[5])
    calibration = model.calibration
    m = start.size
    out = np.empty(m)
    step = max(1, _CHUNK_ELEMENTS // n_combos)
    for lo in range(0, m, step):
        rows = slice(lo, min(m, lo + step))

        def column(name, own, rows=rows):
            """Her value (1, k), or the combinations' (combos, 1) where the input is unknown."""
            return combo[name][:, None] if name in combo else own[None, rows]

        ages = start[None, rows]  # (1, k)
        grid = Categories(
            **{name: column(name, getattr(categories, name)) for name in _GAIL_FIELDS},
            hyperplasia_rr=(
                spec.hyperplasia_rr if "biopsies" in combo
                else categories.hyperplasia_rr[None, rows]
            ),
            race=None, error=None,
        )  # fmt: skip
        codes = column("density", density_code).astype(np.int8)
        lp = (
            sum(terms(grid, ages))
            + beta_prs * column("prs", prs_z)
            + np.log(_density_rr(codes, model.density_rr_source))
        )  # (combos, k)
        lp = np.broadcast_to(lp, (n_combos, ages.size))
        index = start[rows] - calibration.first_start
        risks = fixed_window_risks(*window_rates(calibration, index), np.exp(lp))  # (combos, k)
        weights = static
        if "density" in combo:
            shares = _density_prevalence(start[rows], spec.density_table)  # (k, 4)
            weights = static * shares.T[combo["density"]]  # (combos, k)
        out[rows] = _fixed_order_sum(risks * weights) / _fixed_order_sum(weights)
    return out


def _fixed_order_sum(values: np.ndarray) -> np.ndarray:
    """Sum over the first axis of (c, k) ``values`` -> (k,), each column added in one fixed
    order (pairs of rows, then pairs of those sums...) that depends on ``c`` alone: elementwise
    additions, whose results do not depend on ``k`` or on a column's position."""
    while values.shape[0] > 1:
        half = values.shape[0] // 2
        paired = values[:half] + values[half : 2 * half]
        if values.shape[0] % 2:
            paired = np.concatenate([paired, values[2 * half :]])
        values = paired
    return values[0]
