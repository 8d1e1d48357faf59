"""Mantel-Haenszel analysis of a binary endpoint over strata (countries): the stratified
sensitivity analysis of the non-inferiority comparison.

With, in stratum ``k``, ``a_k`` events among ``n1_k`` women of the new arm and ``c_k`` among
``n0_k`` of the reference arm (``N_k = n1_k + n0_k``):

- risk ratio (Mantel and Haenszel 1959; Nurminen 1981):
  ``RR_MH = Σ a_k n0_k / N_k  /  Σ c_k n1_k / N_k``, with the variance of ``log RR_MH`` of
  Greenland and Robins (1985):
  ``Σ (n1_k n0_k m_k - a_k c_k N_k) / N_k²  /  (Σ a_k n0_k / N_k · Σ c_k n1_k / N_k)``,
  ``m_k = a_k + c_k``; the interval is ``exp(log RR_MH ± z·SE)``;
- odds ratio, its Robins-Breslow-Greenland interval, the Cochran-Mantel-Haenszel test of no
  association and the Breslow-Day test of homogeneous odds ratios: computed by statsmodels
  (:class:`statsmodels.stats.contingency_tables.StratifiedTable`).

Non-inferiority on the ratio scale: the upper bound of the two-sided ``1 - 2·alpha`` interval
of ``RR_MH`` below the margin. Strata without a woman in one arm, or without an event in
either arm, carry no information and are left out (counted in ``n_strata_dropped``).

>>> r = mantel_haenszel([2, 6], [10, 20], [1, 4], [10, 20], margin=1.25)
>>> round(r.risk_ratio, 3), round(r.odds_ratio, 4), r.n_strata_used
(1.6, 1.8333, 2)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from pebs.stats._checks import StatsInputError

__all__ = ["MantelHaenszel", "mantel_haenszel"]


@dataclass(frozen=True)
class MantelHaenszel:
    """Pooled estimates over strata (module docstring); ratios are new / reference."""

    risk_ratio: float
    lower: float
    """Lower bound of the two-sided ``1 - 2·alpha`` interval of the risk ratio."""
    upper: float
    odds_ratio: float
    odds_ratio_lower: float
    odds_ratio_upper: float
    cmh_statistic: float
    """Cochran-Mantel-Haenszel chi-square (1 degree of freedom, no continuity correction)."""
    cmh_p_value: float
    homogeneity_p_value: float
    """Breslow-Day test of equal odds ratios across strata (NaN with one stratum)."""
    margin: float
    noninferior: bool
    n_strata_used: int
    n_strata_dropped: int


def _counts(name: str, values) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or array.size == 0 or not np.all(np.isfinite(array)) or np.any(array < 0):
        raise StatsInputError(f"{name}: must be a non-empty list of counts >= 0, got {values!r}")
    return array


def mantel_haenszel(events_new, n_new, events_ref, n_ref, *, margin: float,
                    alpha: float = 0.025) -> MantelHaenszel:  # fmt: skip
    """Mantel-Haenszel risk and odds ratios over strata (one entry per stratum; module
    docstring).

    Parameters
    ----------
    events_new, n_new, events_ref, n_ref
        Events and women per stratum in the new and the reference arm (equal lengths).
    margin
        Non-inferiority margin on the ratio scale (> 1).
    alpha
        One-sided level; the intervals are two-sided ``1 - 2·alpha``.
    """
    from statsmodels.stats.contingency_tables import StratifiedTable

    a, n1, c, n0 = (_counts(name, v) for name, v in (("events_new", events_new), ("n_new", n_new),
                    ("events_ref", events_ref), ("n_ref", n_ref)))  # fmt: skip
    if not a.size == n1.size == c.size == n0.size:
        raise StatsInputError("events_new, n_new, events_ref, n_ref: must have equal lengths")
    if np.any(a > n1) or np.any(c > n0):
        raise StatsInputError("events_new, events_ref: more events than women in a stratum")
    if not margin > 1 or not 0 < alpha < 0.5:
        raise StatsInputError(f"margin {margin!r} must be > 1 and alpha {alpha!r} in (0, 0.5)")
    used = (n1 > 0) & (n0 > 0) & (a + c > 0)
    if not used.any():
        raise StatsInputError("no stratum has women in both arms and at least one event")
    a, n1, c, n0 = a[used], n1[used], c[used], n0[used]
    total = n1 + n0  # (n_strata,)
    r = np.sum(a * n0 / total)
    s = np.sum(c * n1 / total)
    z = stats.norm.ppf(1 - alpha)
    risk_ratio = r / s if s > 0 else np.inf
    if r > 0 and s > 0:
        variance = np.sum((n1 * n0 * (a + c) - a * c * total) / total**2) / (r * s)
        half = z * np.sqrt(variance)
        lower, upper = risk_ratio * np.exp(-half), risk_ratio * np.exp(half)
    else:  # no event in one arm: the log-scale interval is not defined
        lower, upper = (0.0, np.inf)
    tables = np.stack([np.stack([a, n1 - a]), np.stack([c, n0 - c])])  # (2, 2, n_strata)
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero cell: odds ratio 0 or inf
        table = StratifiedTable(tables)
        null = table.test_null_odds(correction=False)
        homogeneity = table.test_equal_odds().pvalue if used.sum() > 1 else float("nan")
        or_lower, or_upper = table.oddsratio_pooled_confint(alpha=2 * alpha)
    return MantelHaenszel(
        risk_ratio=float(risk_ratio), lower=float(lower), upper=float(upper),
        odds_ratio=float(table.oddsratio_pooled), odds_ratio_lower=float(or_lower),
        odds_ratio_upper=float(or_upper), cmh_statistic=float(null.statistic),
        cmh_p_value=float(null.pvalue), homogeneity_p_value=float(homogeneity),
        margin=float(margin), noninferior=bool(upper < margin),
        n_strata_used=int(used.sum()), n_strata_dropped=int((~used).sum()),
    )  # fmt: skip
