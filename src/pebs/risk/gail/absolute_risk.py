"""Stage 3 of BCRAT: absolute risk of invasive breast cancer over an age window [T1, T2).

Hazards are constant within each single year of age ``j`` (the rate of the five-year group that
``j`` falls in). With ``L_j`` the part of year ``j`` inside the window,
``h1_j = lambda1_j * (1 - AR) * RR`` (the < 50 or >= 50 values, by the year's age) and
``h2_j = lambda2_j``::

    AbsRisk = sum_j h1_j / (h1_j + h2_j) * exp(-sum_{k<j} (h1_k + h2_k) L_k)
                    * (1 - exp(-(h1_j + h2_j) L_j))

The "average woman" has RR = 1 and no (1 - AR) factor, on the average-woman rates of her race.

Implementation: for every hazard profile (rate set and RR pair) the whole-year terms are summed
once into cumulative tables from age 20 (:class:`HazardTables`); a woman's risk is then read off in
constant time: her partial first year, the difference of two cumulative sums for the whole years,
her partial last year, all divided by her survival to T1. Results are proportions (0..1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pebs.risk._arrays import as_float_vectors
from pebs.risk.gail import _parameters
from pebs.risk.gail.codes import FIRST_AGE, LIFETIME_AGE

_N_AGES = _parameters.N_YEARS + 1  # ages 20, 21, ..., 90 (table columns)
_IS_50_PLUS = np.arange(FIRST_AGE, LIFETIME_AGE) >= 50  # (70,)


@dataclass(frozen=True)
class HazardTables:
    """Per-profile single-year quantities, shape (n_profiles, 71) for ages 20..90.

    Column ``y`` is age ``20 + y``; column 70 (age 90) only closes the cumulative tables.
    """

    total: np.ndarray
    """h1 + h2 in the year starting at that age (0 at 90)."""
    share: np.ndarray
    """h1 / (h1 + h2) in that year (0 at 90)."""
    survival: np.ndarray
    """Probability of reaching that age alive and free of breast cancer, from age 20."""
    incidence: np.ndarray
    """Probability of breast cancer between age 20 and that age."""

    @classmethod
    def from_hazards(cls, cancer: np.ndarray, competing: np.ndarray) -> HazardTables:
        """Build tables from hazards per woman-year, each of shape (n_profiles, 70)."""
        n_profiles = cancer.shape[0]
        total = np.zeros((n_profiles, _N_AGES))
        share = np.zeros((n_profiles, _N_AGES))
        total[:, :-1] = cancer + competing
        share[:, :-1] = cancer / total[:, :-1]
        cumulative_hazard = np.zeros((n_profiles, _N_AGES))
        np.cumsum(total[:, :-1], axis=1, out=cumulative_hazard[:, 1:])
        survival = np.exp(-cumulative_hazard)
        per_year = share[:, :-1] * survival[:, :-1] * -np.expm1(-total[:, :-1])  # (n_profiles, 70)
        incidence = np.zeros((n_profiles, _N_AGES))
        np.cumsum(per_year, axis=1, out=incidence[:, 1:])
        return cls(total=total, share=share, survival=survival, incidence=incidence)

    def window_risk(self, profile: np.ndarray, t1: np.ndarray, t2: np.ndarray) -> np.ndarray:
        """Absolute risk (proportion) over [t1, t2) for women of the given profile index.

        Requires 20 <= t1 < t2 <= 90 on every row; callers mask invalid rows first. Rows where the
        difference of cumulative sums would lose more than a few digits (very large relative
        risks at old ages, where survival from age 20 is tiny) are summed year by year instead.
        """
        first_year = np.floor(t1)
        last_year = np.floor(t2)
        row = profile.astype(np.intp) * _N_AGES
        at_first = row + (first_year - FIRST_AGE).astype(np.intp)
        at_last = row + (last_year - FIRST_AGE).astype(np.intp)
        one_year = at_last == at_first

        into_first = t1 - first_year
        total_first = self.total.ravel()[at_first]
        # Within the first (partial) year, conditional on being alive and free at t1.
        first_end = np.where(one_year, t2 - first_year, 1.0)
        risk = self.share.ravel()[at_first] * -np.expm1(-total_first * (first_end - into_first))
        # Whole years in between and the partial last year, from age-20 tables.
        incidence = self.incidence.ravel()
        whole_years = incidence[at_last] - incidence[at_first + 1]
        last_part = (
            self.share.ravel()[at_last]
            * self.survival.ravel()[at_last]
            * -np.expm1(-self.total.ravel()[at_last] * (t2 - last_year))
        )
        survival_t1 = self.survival.ravel()[at_first] * np.exp(-total_first * into_first)
        with np.errstate(divide="ignore", invalid="ignore"):
            later = np.where(one_year, 0.0, (whole_years + last_part) / survival_t1)
        risk += later
        # Rounding in the difference is ~1e-16 * incidence[at_last]; amplified by 1/(S(t1) risk).
        unsafe = ~(incidence[at_last] < _MAX_AMPLIFICATION * survival_t1 * risk) & ~one_year
        if unsafe.any():
            risk[unsafe] = self._year_by_year(profile[unsafe], t1[unsafe], t2[unsafe])
        return risk

    def _year_by_year(self, profile: np.ndarray, t1: np.ndarray, t2: np.ndarray) -> np.ndarray:
        """The defining sum, one year of age at a time (vectorised over the given women)."""
        risk = np.zeros(t1.shape)
        hazard_so_far = np.zeros(t1.shape)  # cumulative total hazard from t1
        row = profile.astype(np.intp) * _N_AGES
        for year in range(int(np.floor(t1.min())), int(np.ceil(t2.max()))):
            length = np.clip(np.minimum(t2, year + 1) - np.maximum(t1, year), 0.0, None)
            at = row + (year - FIRST_AGE)
            total = self.total.ravel()[at]
            risk += self.share.ravel()[at] * np.exp(-hazard_so_far) * -np.expm1(-total * length)
            hazard_so_far += total * length
        return risk


_MAX_AMPLIFICATION = 1e3
"""Above this, :meth:`HazardTables.window_risk` falls back to the year-by-year sum (the
cumulative-table result could then be wrong beyond ~1e-13 relative)."""


def cancer_hazards(race: np.ndarray, rr_under_50: np.ndarray, rr_from_50: np.ndarray):
    """BCRAT hazards per single year 20..89 for each (race, RR pair): shapes (n, 70) each.

    ``h1 = lambda1 * (1 - AR) * RR`` by the year's age band; ``h2 = lambda2``.
    """
    params = _parameters.load()
    race = np.asarray(race, dtype=np.intp)
    rate_set = _parameters.RATE_SET_OF_RACE[race]
    one_minus_ar = params.one_minus_ar[_parameters.MODEL_OF_RACE[race]]  # (n, 2)
    multiplier = np.where(
        _IS_50_PLUS,
        (one_minus_ar[:, 1] * rr_from_50)[:, None],
        (one_minus_ar[:, 0] * rr_under_50)[:, None],
    )  # (n, 70)
    return params.incidence[rate_set] * multiplier, params.competing_mortality[rate_set]


def average_hazards(race: np.ndarray):
    """Average-woman hazards (RR = 1, no attributable-risk factor) per race: shapes (n, 70)."""
    params = _parameters.load()
    rate_set = _parameters.AVERAGE_RATE_SET_OF_RACE[np.asarray(race, dtype=np.intp)]
    return params.incidence[rate_set], params.competing_mortality[rate_set]


def _valid_window(t1: np.ndarray, t2: np.ndarray) -> np.ndarray:
    return (t1 >= FIRST_AGE) & (t1 < t2) & (t2 <= LIFETIME_AGE)


def absolute_risk(T1, T2, Race, rr_under_50, rr_from_50) -> np.ndarray:
    """Absolute risk (proportion, 0..1) over [T1, T2) from given relative risks.

    This is the stage on its own, for any relative risks; :func:`pebs.risk.gail.risk_bcra` uses
    the same tables, precomputed for every BCRAT category pattern. NaN where the window, race or
    relative risks are invalid.

    Examples
    --------
    R BCRA 2.1.2 gives 0.45306663726848206% for this White woman's relative risk:

    >>> rr = 1.2443660728405717
    >>> round(float(absolute_risk(40, 45, 1, rr, rr)[0]) * 100, 10)
    0.4530666373
    """
    x = as_float_vectors(T1=T1, T2=T2, Race=Race, rr_under_50=rr_under_50, rr_from_50=rr_from_50)
    race = x["Race"]
    valid = (
        _valid_window(x["T1"], x["T2"])
        & np.isin(race, np.arange(1, 12))
        & np.isfinite(x["rr_under_50"])
        & np.isfinite(x["rr_from_50"])
    )
    keys = np.stack([race, x["rr_under_50"], x["rr_from_50"]], axis=1)[valid]  # (n_valid, 3)
    profiles, profile = np.unique(keys, axis=0, return_inverse=True)
    tables = HazardTables.from_hazards(*cancer_hazards(*profiles.T))
    risk = np.full(race.shape, np.nan)
    risk[valid] = tables.window_risk(profile.ravel(), x["T1"][valid], x["T2"][valid])
    return risk


def average_risk(T1, T2, Race) -> np.ndarray:
    """Absolute risk (proportion) of the "average woman" of each race over [T1, T2)."""
    x = as_float_vectors(T1=T1, T2=T2, Race=Race)
    valid = _valid_window(x["T1"], x["T2"]) & np.isin(x["Race"], np.arange(1, 12))
    tables = HazardTables.from_hazards(*average_hazards(np.arange(1, 12)))
    risk = np.full(x["Race"].shape, np.nan)
    risk[valid] = tables.window_risk(x["Race"][valid] - 1, x["T1"][valid], x["T2"][valid])
    return risk
