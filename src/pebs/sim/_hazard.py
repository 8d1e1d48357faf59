"""Piecewise-constant hazards by single year of age: cumulative tables, lookup and inversion.

Many tables (one per country, or per country and entry age) are stacked into one
:class:`HazardTables` so that millions of women, each with her own table, are handled by one
vectorised ``searchsorted``: each table's cumulative hazard is shifted by ``table * _SHIFT``, which
keeps the concatenation increasing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FIRST_AGE = 20
"""Age of the first yearly rate of every table."""
LAST_AGE = 130
"""Tables end here: the rate of the last year is carried to this age; beyond it, no event."""
N_YEARS = LAST_AGE - FIRST_AGE
_SHIFT = 1.0e4
"""Larger than any cumulative hazard of a table (checked)."""


def extend_rates(rates_20_to_100: np.ndarray) -> np.ndarray:
    """Yearly rates for ages 20..100 (81 values) -> ages 20..129 (the 100+ rate carried on)."""
    rates = np.asarray(rates_20_to_100, dtype=np.float64)
    return np.concatenate([rates, np.full(N_YEARS - rates.size, rates[-1])])


@dataclass(frozen=True)
class HazardTables:
    """``n_tables`` yearly hazard tables on ages ``FIRST_AGE .. LAST_AGE``."""

    rates: np.ndarray  # (n_tables, N_YEARS) per year
    cumulative: np.ndarray  # (n_tables, N_YEARS + 1) at ages 20, 21, ..., 130
    _shifted: np.ndarray  # (n_tables * (N_YEARS + 1),) cumulative + table * _SHIFT

    @classmethod
    def from_rates(cls, rates: np.ndarray) -> HazardTables:
        rates = np.atleast_2d(np.asarray(rates, dtype=np.float64))
        if rates.shape[1] != N_YEARS or np.any(rates < 0):
            raise ValueError(
                f"rates: expected (n_tables, {N_YEARS}) non-negative, got {rates.shape}"
            )
        cumulative = np.concatenate(
            [np.zeros((rates.shape[0], 1)), np.cumsum(rates, axis=1)], axis=1
        )
        if cumulative[:, -1].max() >= _SHIFT / 2:
            raise ValueError("rates: cumulative hazard too large for the stacked lookup")
        shifted = (cumulative + np.arange(rates.shape[0])[:, None] * _SHIFT).ravel()
        return cls(rates, cumulative, shifted)

    def at(self, table: np.ndarray, ages: np.ndarray) -> np.ndarray:
        """Cumulative hazard from ``FIRST_AGE`` to each age (ages clipped to the table)."""
        t = np.clip(ages, FIRST_AGE, LAST_AGE - 1e-9) - FIRST_AGE
        year = t.astype(np.intp)
        rates = self.rates[table, year]
        return self.cumulative[table, year] + (t - year) * rates

    def invert(self, table: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Age at which each table's cumulative hazard reaches ``targets`` (inf beyond the table).

        ``targets`` are cumulative hazards from ``FIRST_AGE``; a target of +inf gives +inf.
        """
        table = np.broadcast_to(np.asarray(table, dtype=np.intp), np.shape(targets))
        ages = np.full(np.shape(targets), np.inf)
        inside = np.flatnonzero(targets < self.cumulative[table, -1])  # the others: +inf
        if inside.size == 0:
            return ages
        t, target = table[inside], targets[inside]
        if t[0] == t.min() == t.max() and (self.rates[t[0]] > 0).all():
            # one table with positive rates: its cumulative hazard is strictly increasing and
            # piecewise linear, so linear interpolation is the exact inverse
            knots = FIRST_AGE + np.arange(N_YEARS + 1, dtype=np.float64)
            ages[inside] = np.interp(target, self.cumulative[t[0]], knots)
            return ages
        shifted = target + t * _SHIFT
        flat = np.searchsorted(self._shifted, shifted, side="right") - 1  # (m,)
        year = np.clip(flat - t * (N_YEARS + 1), 0, N_YEARS - 1)
        rate = self.rates[t, year]
        base = self.cumulative[t, year]
        with np.errstate(divide="ignore", invalid="ignore"):
            ages[inside] = FIRST_AGE + year + np.where(rate > 0, (target - base) / rate, 0.0)
        return ages
