"""External validation of an absolute-risk model: calibration by group, AUC comparison, NRI.

Inputs are per-woman arrays: ``expected`` (expected number of events over her follow-up window,
a proportion), ``events`` (1 if the event was observed within that window, 0 if not) and the
model's ``risks`` over its horizon (proportions). Everything is pure numpy/scipy.

Follow-up shorter than the horizon
    :func:`window_expected` scales a ``horizon_years`` risk ``r`` to a woman's follow-up ``t``
    assuming a constant hazard within the horizon: ``E = 1 - (1 - r) ** (min(t, h) / h)``.
    :func:`counted_events` keeps only events at ``t <= h`` (later events are not counted).

Calibration by group (:func:`expected_observed_by_group`)
    Per group ``g``: ``E_g = sum E_i``, ``O_g = sum events_i``; ``O_g`` is treated as Poisson with
    the exact (Garwood 1936) interval ``[chi2(a/2; 2 O) / 2, chi2(1 - a/2; 2 O + 2) / 2]``
    (:func:`poisson_interval`); the interval of ``E/O`` is ``E`` divided by those bounds.

Comparing two models' AUCs (:func:`compare_c_statistics`)
    DeLong, DeLong and Clarke-Pearson (Biometrics 1988;44:837-45) structural components
    ``V10`` (per case: share of non-cases it out-ranks, ties 1/2) and ``V01`` (per non-case),
    computed with midranks in O(n log n) (Sun and Xu, IEEE Signal Process Lett 2014;21:1389-93).
    With ``S10``, ``S01`` the 2 x 2 covariance matrices of the components over cases and
    non-cases, ``S = S10 / m + S01 / n``; the difference ``AUC_a - AUC_b`` has variance
    ``S_aa + S_bb - 2 S_ab`` and ``z = difference / sqrt(variance)``.

Reclassification and NRI (:func:`reclassification`)
    Categorical net reclassification improvement of a new model over a reference model
    (Pencina, D'Agostino Sr, D'Agostino Jr and Vasan, Stat Med 2008;27:157-72): with ``up`` /
    ``down`` the women whose category is higher / lower under the new model,
    ``NRI_events = (up_e - down_e) / n_e``, ``NRI_non_events = (down_ne - up_ne) / n_ne`` and
    ``NRI = NRI_events + NRI_non_events``. Its standard error is the one of Pencina et al.
    (McNemar's test for correlated proportions, computed under no net change):
    ``SE^2 = (up_e + down_e) / n_e^2 + (up_ne + down_ne) / n_ne^2``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri
from scipy.stats import chi2, rankdata

from pebs.stats._checks import StatsInputError

AGE_BAND_WIDTH = 5
"""Width in years of the age bands of :func:`age_bands`."""


@dataclass(frozen=True)
class GroupedCalibration:
    """Expected and observed events per group (arrays of length ``n_groups``).

    Groups without any woman are left out; ``labels`` names the groups kept.
    """

    labels: tuple[str, ...]
    n_women: np.ndarray
    mean_risk: np.ndarray
    """Mean model risk over the horizon (proportion), e.g. the five-year risk."""
    expected: np.ndarray
    """Expected events over the women's follow-up windows (sum of ``expected``)."""
    observed: np.ndarray
    """Observed events (int64)."""
    observed_lower: np.ndarray
    observed_upper: np.ndarray
    """Exact Poisson (Garwood) interval of ``observed``."""
    ratio: np.ndarray
    """E/O (``inf`` where no event was observed)."""
    lower: np.ndarray
    upper: np.ndarray
    """Interval of E/O: ``expected / observed_upper`` and ``expected / observed_lower``."""
    confidence: float

    def rows(self) -> list[dict[str, object]]:
        """One dict per group, with the field names above (``group`` for the label)."""
        names = (
            "n_women", "mean_risk", "expected", "observed", "observed_lower", "observed_upper",
            "ratio", "lower", "upper",
        )  # fmt: skip
        return [
            {"group": label, **{name: getattr(self, name)[g].item() for name in names}}
            for g, label in enumerate(self.labels)
        ]


@dataclass(frozen=True)
class AucDifference:
    """Two correlated C-statistics on the same women and DeLong's test of their difference."""

    auc_a: float
    auc_b: float
    std_error_a: float
    std_error_b: float
    difference: float
    """``auc_a - auc_b``."""
    std_error: float
    lower: float
    upper: float
    z: float
    p_value: float
    """Two-sided."""
    correlation: float
    """Correlation of the two AUC estimates."""
    confidence: float
    n_events: int
    n_non_events: int


@dataclass(frozen=True)
class Reclassification:
    """Cross-classification of women by a reference and a new model, and the categorical NRI.

    ``events`` and ``non_events`` are ``(k, k)`` counts: row = category under the reference
    model, column = category under the new model.
    """

    events: np.ndarray
    non_events: np.ndarray
    nri_events: float
    """``(up - down) / n`` among events (NaN without events)."""
    nri_non_events: float
    """``(down - up) / n`` among non-events (NaN without non-events)."""
    nri: float
    std_error_events: float
    std_error_non_events: float
    std_error: float
    lower: float
    upper: float
    z: float
    p_value: float
    """Two-sided, McNemar-type test of NRI = 0 (Pencina et al. 2008)."""
    confidence: float

    @property
    def n_women(self) -> np.ndarray:
        """(k, k) women in each cell."""
        return self.events + self.non_events


def poisson_interval(observed, *, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood 1936) interval of a Poisson count, vectorised.

    ``lower = chi2.ppf(a/2, 2 O) / 2`` (0 when ``O = 0``) and
    ``upper = chi2.ppf(1 - a/2, 2 O + 2) / 2`` with ``a = 1 - confidence``.

    Examples
    --------
    >>> low, high = poisson_interval([0, 8])
    >>> low.round(4).tolist(), high.round(4).tolist()
    ([0.0, 3.4538], [3.6889, 15.7632])
    """
    counts = np.asarray(observed, dtype=np.float64)
    if not np.all(np.isfinite(counts)) or np.any(counts < 0) or np.any(counts != np.round(counts)):
        raise StatsInputError("observed: expected non-negative whole numbers of events")
    tail = (1.0 - _confidence(confidence)) / 2.0
    with np.errstate(invalid="ignore"):
        lower = np.where(counts > 0, chi2.ppf(tail, 2.0 * counts) / 2.0, 0.0)
    upper = chi2.ppf(1.0 - tail, 2.0 * counts + 2.0) / 2.0
    return lower, upper


def window_expected(risks, follow_up_years, *, horizon_years: float = 5.0) -> np.ndarray:
    """Expected events over each woman's follow-up: ``1 - (1 - r) ** (min(t, h) / h)``.

    ``risks`` are absolute risks over ``horizon_years`` (proportions); the hazard is taken as
    constant within the horizon. Follow-up beyond the horizon counts as the horizon.

    >>> window_expected([0.02, 0.02, 0.02], [5.0, 2.5, 9.0]).round(6).tolist()
    [0.02, 0.010051, 0.02]
    """
    r = _proportions(risks, "risks")
    t = _follow_up(follow_up_years, r.shape)
    if not horizon_years > 0:
        raise StatsInputError(f"horizon_years: expected a positive number, got {horizon_years!r}")
    share = np.minimum(t, horizon_years) / horizon_years
    return -np.expm1(share * np.log1p(-r))


def counted_events(events, follow_up_years, *, horizon_years: float = 5.0) -> np.ndarray:
    """Events that count for a ``horizon_years`` model: 1 where ``event == 1`` and ``t <= h``.

    >>> counted_events([1, 1, 0], [4.2, 6.0, 3.0]).tolist()
    [1, 0, 0]
    """
    y = _events(events)
    t = _follow_up(follow_up_years, y.shape)
    return (y * (t <= horizon_years)).astype(np.int64)


def risk_groups(risks, groups: int = 10) -> np.ndarray:
    """Group index 0..groups-1 by rank of risk (ties keep input order), sizes differing by <= 1.

    The grouping of :func:`pebs.stats.hosmer_lemeshow` (deciles by default).

    >>> risk_groups([0.3, 0.1, 0.2, 0.4], groups=2).tolist()
    [1, 0, 0, 1]
    """
    p = np.asarray(risks, dtype=np.float64)
    if p.ndim != 1 or not 1 <= groups <= p.size:
        raise StatsInputError(f"groups: expected 1 <= groups <= {p.size} women, got {groups!r}")
    order = np.argsort(p, kind="stable")
    labels = np.empty(p.size, dtype=np.int64)
    labels[order] = np.arange(p.size) * groups // p.size
    return labels


def age_bands(ages, *, first: int = 40, last: int = 75) -> tuple[np.ndarray, tuple[str, ...]]:
    """Five-year age bands: index per woman and the labels ``"<40", "40-44", ..., "75+"``.

    Bands start at ``first`` and end at ``last`` (``last - first`` a multiple of 5); younger
    women fall in ``"<first"``, older in ``"last+"``.

    >>> codes, labels = age_bands([39.5, 40, 44.9, 71, 80])
    >>> [labels[c] for c in codes]
    ['<40', '40-44', '40-44', '70-74', '75+']
    """
    a = np.asarray(ages, dtype=np.float64)
    if (last - first) % AGE_BAND_WIDTH or last <= first:
        raise StatsInputError(f"last: expected first + a multiple of 5, got {first}, {last}")
    if not np.all(np.isfinite(a)):
        raise StatsInputError("ages: expected finite numbers of years")
    starts = np.arange(first, last, AGE_BAND_WIDTH)
    labels = (
        f"<{first}",
        *(f"{s}-{s + AGE_BAND_WIDTH - 1}" for s in starts),
        f"{last}+",
    )
    codes = np.searchsorted(np.append(starts, last), a, side="right")  # (n,) 0..len(starts)+1
    return codes.astype(np.int64), labels


def expected_observed_by_group(
    expected,
    events,
    groups,
    labels: Sequence[str],
    *,
    risks=None,
    confidence: float = 0.95,
) -> GroupedCalibration:
    """E, O and E/O with exact Poisson intervals per group.

    Parameters
    ----------
    expected : array_like, shape (n,)
        Expected events per woman over her follow-up window (proportions).
    events : array_like, shape (n,)
        Observed events (0/1) in the same windows.
    groups : array_like of int, shape (n,)
        Group index per woman, ``0 <= groups < len(labels)``.
    labels : sequence of str
        Group names; groups without women are left out of the result.
    risks : array_like, shape (n,), optional
        Model risks over the horizon, averaged per group in ``mean_risk`` (default ``expected``).
    confidence : float
        Two-sided confidence level of the intervals.

    Examples
    --------
    >>> table = expected_observed_by_group([0.1] * 100, [1] * 8 + [0] * 92, [0] * 100, ["all"])
    >>> [round(float(x[0]), 3) for x in (table.ratio, table.lower, table.upper)]
    [1.25, 0.634, 2.895]
    """
    e = _proportions(expected, "expected")
    y = _events(events)
    if y.shape != e.shape:
        raise StatsInputError(f"events: expected shape {e.shape}, got {y.shape}")
    g = np.asarray(groups)
    k = len(labels)
    if g.shape != e.shape or g.dtype.kind not in "iu" or np.any((g < 0) | (g >= k)):
        raise StatsInputError(f"groups: expected {e.size} whole numbers from 0 to {k - 1}")
    p = e if risks is None else _proportions(risks, "risks")
    if p.shape != e.shape:
        raise StatsInputError(f"risks: expected shape {e.shape}, got {p.shape}")
    n_women = np.bincount(g, minlength=k)
    kept = np.flatnonzero(n_women)
    n_women = n_women[kept]
    expected_g = np.bincount(g, weights=e, minlength=k)[kept]
    observed_g = np.bincount(g, weights=y, minlength=k)[kept].round().astype(np.int64)
    mean_risk = np.bincount(g, weights=p, minlength=k)[kept] / n_women
    low, high = poisson_interval(observed_g, confidence=confidence)
    with np.errstate(divide="ignore"):
        ratio = np.where(observed_g > 0, expected_g / np.maximum(observed_g, 1), np.inf)
        upper = np.where(low > 0, expected_g / np.where(low > 0, low, 1.0), np.inf)
    return GroupedCalibration(
        labels=tuple(labels[i] for i in kept),
        n_women=n_women,
        mean_risk=mean_risk,
        expected=expected_g,
        observed=observed_g,
        observed_lower=low,
        observed_upper=high,
        ratio=ratio,
        lower=expected_g / high,
        upper=upper,
        confidence=confidence,
    )


def delong_components(scores, events) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AUCs and DeLong structural components of ``k`` scores on the same women.

    Parameters
    ----------
    scores : array_like, shape (k, n)
        One row per model (higher = more likely an event).
    events : array_like, shape (n,)
        0/1; at least one of each.

    Returns
    -------
    auc : (k,)
    v10 : (k, n_events)
        Per case: share of non-cases with a lower score (ties count one half).
    v01 : (k, n_non_events)
        Per non-case: share of cases with a higher score (ties count one half).
    """
    x = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    y = _events(events)
    if x.ndim != 2 or x.shape[1] != y.size:
        raise StatsInputError(f"scores: expected shape (k, {y.size}), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise StatsInputError("scores: expected finite numbers")
    is_case = y == 1
    m, n = int(is_case.sum()), int((~is_case).sum())
    if m == 0 or n == 0:
        raise StatsInputError("events: the C-statistic needs at least one event and one non-event")
    cases, controls = x[:, is_case], x[:, ~is_case]  # (k, m), (k, n)
    ranks_all = rankdata(np.concatenate((cases, controls), axis=1), axis=1)  # midranks
    ranks_cases = rankdata(cases, axis=1)
    ranks_controls = rankdata(controls, axis=1)
    v10 = (ranks_all[:, :m] - ranks_cases) / n  # (k, m)
    v01 = 1.0 - (ranks_all[:, m:] - ranks_controls) / m  # (k, n)
    return v10.mean(axis=1), v10, v01


def compare_c_statistics(risks_a, risks_b, events, *, confidence: float = 0.95) -> AucDifference:
    """DeLong test of the difference between two C-statistics computed on the same women.

    Examples
    --------
    >>> result = compare_c_statistics([0.1, 0.4, 0.3, 0.8], [0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1])
    >>> result.auc_a, result.auc_b, result.difference
    (1.0, 0.75, 0.25)
    """
    a = np.asarray(risks_a, dtype=np.float64)
    b = np.asarray(risks_b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise StatsInputError(f"risks_b: expected the shape of risks_a {a.shape}, got {b.shape}")
    auc, v10, v01 = delong_components(np.vstack((a, b)), events)
    m, n = v10.shape[1], v01.shape[1]
    s10 = np.cov(v10) if m > 1 else np.zeros((2, 2))  # (2, 2)
    s01 = np.cov(v01) if n > 1 else np.zeros((2, 2))
    s = s10 / m + s01 / n
    variance = float(s[0, 0] + s[1, 1] - 2.0 * s[0, 1])
    std_error = float(np.sqrt(max(variance, 0.0)))
    difference = float(auc[0] - auc[1])
    z_level = float(ndtri(0.5 + _confidence(confidence) / 2.0))
    if std_error > 0:
        z = difference / std_error
        p_value = float(2.0 * ndtr(-abs(z)))
    else:
        z, p_value = (0.0, 1.0) if difference == 0 else (float(np.sign(difference) * np.inf), 0.0)
    denominator = np.sqrt(s[0, 0] * s[1, 1])
    return AucDifference(
        auc_a=float(auc[0]),
        auc_b=float(auc[1]),
        std_error_a=float(np.sqrt(s[0, 0])),
        std_error_b=float(np.sqrt(s[1, 1])),
        difference=difference,
        std_error=std_error,
        lower=difference - z_level * std_error,
        upper=difference + z_level * std_error,
        z=float(z),
        p_value=p_value,
        correlation=float(s[0, 1] / denominator) if denominator > 0 else float("nan"),
        confidence=confidence,
        n_events=m,
        n_non_events=n,
    )


def reclassification(
    reference, new, events, *, n_categories: int, confidence: float = 0.95
) -> Reclassification:
    """Reclassification table and categorical NRI of ``new`` over ``reference``.

    Parameters
    ----------
    reference, new : array_like of int, shape (n,)
        Ordered category of each woman (0 = lowest risk) under each model.
    events : array_like, shape (n,)
        0/1.
    n_categories : int
        Number of categories ``k`` (tables are ``(k, k)``).

    Examples
    --------
    Ten events: 3 move up, 1 down; twenty non-events: 4 down, 2 up.

    >>> ref = [0] * 9 + [1] + [1] * 20
    >>> new = [1, 1, 1] + [0] * 7 + [0] * 4 + [2] * 2 + [1] * 14
    >>> events = [1] * 10 + [0] * 20
    >>> r = reclassification(ref, new, events, n_categories=3)
    >>> round(r.nri_events, 3), round(r.nri_non_events, 3), round(r.nri, 3)
    (0.2, 0.1, 0.3)
    """
    ref = _categories(reference, "reference", n_categories)
    upd = _categories(new, "new", n_categories)
    y = _events(events)
    if not ref.shape == upd.shape == y.shape:
        raise StatsInputError(
            f"reference, new, events: expected equal shapes, got {ref.shape}, {upd.shape}, "
            f"{y.shape}"
        )
    cells = ref * n_categories + upd  # (n,) flat cell index
    size = n_categories * n_categories
    tables = [
        np.bincount(cells[y == value], minlength=size).reshape(n_categories, n_categories)
        for value in (1, 0)
    ]
    parts = []
    for table, sign in zip(tables, (1.0, -1.0), strict=True):
        total = int(table.sum())
        up, down = int(np.triu(table, 1).sum()), int(np.tril(table, -1).sum())
        if total == 0:
            parts.append((float("nan"), float("nan")))
            continue
        parts.append((sign * (up - down) / total, float(np.sqrt(up + down) / total)))
    (nri_e, se_e), (nri_ne, se_ne) = parts
    nri = nri_e + nri_ne
    std_error = float(np.hypot(se_e, se_ne))
    z_level = float(ndtri(0.5 + _confidence(confidence) / 2.0))
    if std_error > 0:
        z = nri / std_error
        p_value = float(2.0 * ndtr(-abs(z)))
    else:
        z, p_value = (float("nan"), float("nan")) if np.isnan(nri) else (0.0, 1.0)
    return Reclassification(
        events=tables[0],
        non_events=tables[1],
        nri_events=nri_e,
        nri_non_events=nri_ne,
        nri=nri,
        std_error_events=se_e,
        std_error_non_events=se_ne,
        std_error=std_error,
        lower=nri - z_level * std_error,
        upper=nri + z_level * std_error,
        z=float(z),
        p_value=p_value,
        confidence=confidence,
    )


def _proportions(values, name: str) -> np.ndarray:
    p = np.asarray(values, dtype=np.float64)
    if p.ndim != 1 or p.size == 0:
        raise StatsInputError(f"{name}: expected a non-empty 1-D array, got shape {p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p < 0) or np.any(p > 1):
        raise StatsInputError(f"{name}: expected finite proportions in [0, 1] (not percent)")
    return p


def _events(values) -> np.ndarray:
    y = np.asarray(values, dtype=np.float64)
    if y.ndim != 1 or y.size == 0:
        raise StatsInputError(f"events: expected a non-empty 1-D array, got shape {y.shape}")
    if not np.all((y == 0) | (y == 1)):
        raise StatsInputError("events: expected 0 or 1 for every woman")
    return y.astype(np.int64)


def _follow_up(values, shape: tuple[int, ...]) -> np.ndarray:
    t = np.asarray(values, dtype=np.float64)
    if t.shape != shape:
        raise StatsInputError(f"follow_up_years: expected shape {shape}, got {t.shape}")
    if not np.all(np.isfinite(t) & (t > 0)):
        raise StatsInputError("follow_up_years: expected finite numbers of years > 0")
    return t


def _categories(values, name: str, n_categories: int) -> np.ndarray:
    c = np.asarray(values)
    if c.ndim != 1 or c.dtype.kind not in "iu" or np.any((c < 0) | (c >= n_categories)):
        raise StatsInputError(f"{name}: expected whole numbers from 0 to {n_categories - 1}")
    return c.astype(np.int64)


def _confidence(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise StatsInputError(f"confidence: expected a proportion in (0, 1), got {confidence!r}")
    return float(confidence)
