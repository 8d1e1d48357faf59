"""Group-sequential designs with one-sided efficacy boundaries: Lan-DeMets alpha spending and the
classical O'Brien-Fleming and Pocock boundaries.

At information fractions ``0 < t_1 < ... < t_K = 1`` the trial stops and rejects H0 at the
first look with ``Z_k > c_k`` (``Z_k`` the z statistic oriented so that large values favour
the alternative; for the non-inferiority of a harmful endpoint it is minus the score statistic
of :mod:`pebs.stats.noninferiority`). There are no futility boundaries (no beta spending, no
binding futility). Design types (rpact's ``typeOfDesign`` spellings):

- ``"asOF"`` - alpha spending ``alpha(t) = 2 (1 - Phi(Phi^-1(1 - alpha/2) / sqrt(t)))``
  (O'Brien-Fleming type; Lan and DeMets 1983);
- ``"asP"`` - alpha spending ``alpha(t) = alpha log(1 + (e - 1) t)`` (Pocock type);
- ``"OF"`` - ``c_k = C / sqrt(t_k)`` (O'Brien and Fleming 1979);
- ``"P"`` - ``c_k = C`` (Pocock 1977);

with ``C`` such that the total probability of rejecting under H0 is ``alpha``. Probabilities of
the canonical joint distribution (``Z_k sqrt(t_k)`` a Brownian motion with drift ``theta``, so
``E Z_k = theta sqrt(t_k)``) come from recursive numerical integration
(:mod:`pebs.stats._recursive_integration`). The design's characteristics follow rpact's
``getDesignCharacteristics``: the drift ``theta_1`` that gives the target power, the inflation
factor ``theta_1^2 / (z_alpha + z_beta)^2`` (maximum information relative to a single-look
design with the same power) and the expected sample size, as a multiple of the single-look
design's, under ``theta = 0`` (H0), ``theta_1 / 2`` (H01) and ``theta_1`` (H1).

References: Lan KKG, DeMets DL. Biometrika 1983;70:659-63. O'Brien PC, Fleming TR. Biometrics
1979;35:549-56. Pocock SJ. Biometrika 1977;64:191-9. Jennison C, Turnbull BW. Group Sequential
Methods with Applications to Clinical Trials. Chapman & Hall/CRC 2000. Wassmer G, Brannath W.
Group Sequential and Confirmatory Adaptive Designs in Clinical Trials. Springer 2016.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

from pebs.stats import _recursive_integration as _walk
from pebs.stats._checks import StatsInputError, check_alpha, check_choice

DESIGN_KINDS = ("asOF", "asP", "OF", "P")
SPENDING_KINDS = ("asOF", "asP")
MAX_LOOKS = 10


@dataclass(frozen=True)
class GroupSequentialDesign:
    """Boundaries and characteristics of a one-sided group-sequential design.

    Arrays have one entry per look (shape ``(K,)``); probabilities are proportions.

    Attributes
    ----------
    kind : {"asOF", "asP", "OF", "P"}
    alpha, power : float
        One-sided significance level and the power the characteristics are computed for.
    information_rates : ndarray
        Information fractions ``t_k`` of the looks, increasing, ending at 1.
    critical_values : ndarray
        Efficacy boundaries ``c_k`` on the z scale.
    alpha_spent : ndarray
        Cumulative probability of rejecting H0 by look k under H0.
    stage_levels : ndarray
        Nominal one-sided significance levels ``1 - Phi(c_k)``.
    drift : float
        ``theta_1``: the expected z statistic at full information that gives ``power``.
    inflation_factor : float
        Maximum information relative to the single-look design with the same alpha and power.
    rejection_probabilities, cumulative_power : ndarray
        Probability of rejecting at look k (first crossing) and by look k, under ``theta_1``.
    expected_h0, expected_h01, expected_h1 : float
        Expected sample size as a multiple of the single-look design's, under ``theta = 0``,
        ``theta_1 / 2`` and ``theta_1`` (rpact's ``averageSampleNumber0/01/1``).
    """

    kind: str
    alpha: float
    power: float
    information_rates: np.ndarray
    critical_values: np.ndarray
    alpha_spent: np.ndarray
    stage_levels: np.ndarray
    drift: float
    inflation_factor: float
    rejection_probabilities: np.ndarray
    cumulative_power: np.ndarray
    expected_h0: float
    expected_h01: float
    expected_h1: float

    @property
    def k_max(self) -> int:
        """Number of looks."""
        return len(self.information_rates)


@dataclass(frozen=True)
class InterimAnalysis:
    """The test decision and conditional power at look ``look`` of a group-sequential design.

    Attributes
    ----------
    look : int
        The look just analysed (1-based).
    design : GroupSequentialDesign
        The design recomputed at the observed information fractions (:func:`design_at_fractions`).
    z_statistics : ndarray
        The z statistics of looks ``1..look`` (large values favour the alternative).
    crossed : ndarray of bool
        Whether each look's z statistic exceeded its critical value.
    conditional_rejection_probability : float
        Probability of rejecting at a later look under ``theta = 0`` (NaN at the final look).
    conditional_power_trend, conditional_power_h1 : ndarray
        Cumulative probability of having rejected by each later look (shape ``(K - look,)``),
        under the current trend and under the planned alternative.
    """

    look: int
    design: GroupSequentialDesign
    z_statistics: np.ndarray
    crossed: np.ndarray
    conditional_rejection_probability: float
    conditional_power_trend: np.ndarray
    conditional_power_h1: np.ndarray

    @property
    def rejected_at(self) -> int:
        """The first look (1-based) whose z statistic exceeded its critical value, 0 if none."""
        looks = np.flatnonzero(self.crossed)
        return int(looks[0]) + 1 if looks.size else 0

    @property
    def rejected(self) -> bool:
        """Whether H0 is rejected at this look or was at an earlier one."""
        return bool(np.any(self.crossed))


def alpha_spending(kind: str, alpha: float, information_rates) -> np.ndarray:
    """Cumulative alpha spent at the information fractions (spending designs only).

    Examples
    --------
    >>> alpha_spending("asOF", 0.025, [0.5, 1.0]).round(6).tolist()
    [0.001525, 0.025]
    """
    check_choice(kind, "kind", SPENDING_KINDS)
    alpha = check_alpha(alpha)
    rates = check_information_rates(information_rates)
    return _spending(kind, alpha, rates)


def group_sequential_design(
    kind: str = "asOF",
    *,
    looks: int | None = None,
    information_rates=None,
    alpha: float = 0.025,
    power: float = 0.8,
) -> GroupSequentialDesign:
    """Boundaries of a one-sided group-sequential design and its characteristics.

    Parameters
    ----------
    kind : {"asOF", "asP", "OF", "P"}
        Design type (see the module docstring).
    looks : int, optional
        Number of looks, 1 to 10, equally spaced in information when ``information_rates`` is
        not given.
    information_rates : sequence of float, optional
        Increasing information fractions in (0, 1], the last equal to 1.
    alpha : float
        One-sided significance level, in (0, 0.5).
    power : float
        Power for the characteristics (drift, inflation factor, expected sample sizes).

    Examples
    --------
    >>> design = group_sequential_design("asOF", looks=3, alpha=0.025)
    >>> design.critical_values.round(4).tolist()
    [3.7103, 2.5114, 1.993]
    >>> round(design.inflation_factor, 4)
    1.0128
    """
    check_choice(kind, "kind", DESIGN_KINDS)
    alpha = check_alpha(alpha)
    power = _check_power(power, alpha)
    rates = _rates_from(looks, information_rates)
    critical = _critical_values(kind, alpha, rates)
    return _design(kind, alpha, power, rates, critical)


def rejection_probabilities(design: GroupSequentialDesign, drift: float) -> np.ndarray:
    """Probability of first crossing the boundary at each look when ``E Z_k = drift sqrt(t_k)``.

    Examples
    --------
    >>> design = group_sequential_design("P", looks=2)
    >>> round(float(rejection_probabilities(design, 0.0).sum()), 6)
    0.025
    """
    return _crossings(design.critical_values, design.information_rates, float(drift))


def expected_fraction(design: GroupSequentialDesign, drift: float) -> float:
    """Expected information (or sample size) as a fraction of the maximum, at ``drift``."""
    rejections = rejection_probabilities(design, drift)
    return _expected_fraction(design.information_rates, rejections)


def design_at_fractions(design: GroupSequentialDesign, observed_rates) -> GroupSequentialDesign:
    """The design recomputed with its first looks at the observed information fractions.

    Looks ``1..k`` (``k = len(observed_rates)``) move to the observed fractions, later looks keep
    their planned fractions, and the boundaries are recomputed. For the spending designs the
    boundaries of looks already analysed stay what they were (the spending function gives
    ``alpha(t)`` at any ``t``); for ``"OF"`` and ``"P"`` the constant ``C`` changes, and with
    it every boundary, so use a spending design when the looks may fall off plan.

    Examples
    --------
    >>> design = group_sequential_design("asOF", looks=3)
    >>> design_at_fractions(design, [0.3]).critical_values.round(4).tolist()
    [3.9286, 2.5102, 1.993]
    """
    observed = _observed_fractions(observed_rates)
    planned = design.information_rates
    if observed.ndim != 1 or not 1 <= observed.size <= design.k_max:
        raise StatsInputError(
            f"observed_rates: expected 1 to {design.k_max} fractions, got {observed_rates!r:.80}"
        )
    rates = np.concatenate((observed, planned[observed.size :]))
    if not (np.all(np.isfinite(rates)) and rates[0] > 0 and np.all(np.diff(rates) > 0)):
        raise StatsInputError(
            "observed_rates: the looks must stay in order, each below the planned fraction of "
            f"the next look; fractions would be {rates.tolist()}"
        )
    if rates[-1] != 1.0 or np.any(rates > 1.0):
        raise StatsInputError(
            f"observed_rates: fractions must be in (0, 1) before the final look and 1 at it, "
            f"got {observed.tolist()}"
        )
    critical = _critical_values(design.kind, design.alpha, rates)
    return _design(design.kind, design.alpha, design.power, rates, critical)


def conditional_rejections(
    design: GroupSequentialDesign, look: int, z: float, increment_means
) -> np.ndarray:
    """Probability of first crossing each later boundary given ``Z_look = z``.

    The score process continues from ``S = z sqrt(t_look)`` with independent increments
    ``N(increment_means[j], t_j - t_{j-1})`` for the looks after ``look`` (1-based); the result
    has shape ``(K - look,)``. With ``increment_means = theta (t_j - t_{j-1})`` this is the
    conditional power at drift ``theta`` (:func:`conditional_power`).
    """
    rates = design.information_rates
    later = rates[look:]
    increments = np.diff(rates[look - 1 :])
    bounds = design.critical_values[look:] * np.sqrt(later)
    start = float(z) * math.sqrt(rates[look - 1])
    return _walk.upper_crossings(bounds, np.asarray(increment_means, float), increments, start)


def conditional_power(design: GroupSequentialDesign, look: int, z: float, drift: float) -> float:
    """Probability of rejecting H0 at a later look given ``Z_look = z`` and the drift ``theta``.

    ``drift`` is the expected z statistic at full information (``design.drift`` under the
    planned alternative, ``z / sqrt(t_look)`` under the current trend). Jennison and Turnbull
    (2000), ch. 10.

    Examples
    --------
    >>> design = group_sequential_design("asOF", looks=2)
    >>> round(conditional_power(design, 1, 1.0, drift=design.drift), 4)
    0.5795
    """
    look = _check_look(design, look, before_final=True)
    increments = np.diff(design.information_rates[look - 1 :])
    return float(conditional_rejections(design, look, z, float(drift) * increments).sum())


def interim_analysis(
    design: GroupSequentialDesign, z_statistics, observed_rates
) -> InterimAnalysis:
    """Test decision and conditional power after ``len(z_statistics)`` looks.

    ``z_statistics`` are the (cumulative) z statistics of the looks so far and
    ``observed_rates`` their information fractions; at the final look the fraction is 1 by
    definition. The conditional power under the current trend uses the drift
    ``z_k / sqrt(t_k)``, under H1 the design's ``drift``.

    Examples
    --------
    >>> design = group_sequential_design("asOF", looks=3)
    >>> result = interim_analysis(design, [2.1], [0.35])
    >>> result.rejected, round(float(result.conditional_power_trend[-1]), 4)
    (False, 0.9754)
    """
    z = _check_z(z_statistics, design.k_max)
    observed = _observed_fractions(observed_rates)
    if observed.shape != z.shape:
        raise StatsInputError(
            f"observed_rates: expected {z.size} fractions, one per z statistic, got "
            f"{observed_rates!r:.80}"
        )
    if z.size == design.k_max:
        observed = np.concatenate((observed[:-1], [1.0]))  # the final look spends what is left
    current = design_at_fractions(design, observed)
    look = z.size
    increments = np.diff(current.information_rates[look - 1 :])
    if look == current.k_max:
        crp, trend, h1 = math.nan, np.empty(0), np.empty(0)
    else:
        crp = float(conditional_rejections(current, look, z[-1], 0.0 * increments).sum())
        trend_drift = z[-1] / math.sqrt(current.information_rates[look - 1])
        trend = np.cumsum(conditional_rejections(current, look, z[-1], trend_drift * increments))
        h1 = np.cumsum(conditional_rejections(current, look, z[-1], design.drift * increments))
    return InterimAnalysis(
        look=look,
        design=current,
        z_statistics=z,
        crossed=z > current.critical_values[:look],
        conditional_rejection_probability=crp,
        conditional_power_trend=trend,
        conditional_power_h1=h1,
    )


def check_information_rates(information_rates) -> np.ndarray:
    """Increasing fractions in (0, 1] ending at 1, at most ``MAX_LOOKS`` of them."""
    try:
        rates = np.asarray(information_rates, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise StatsInputError(
            f"information_rates: expected numbers, got {information_rates!r:.80}"
        ) from exc
    if rates.ndim != 1 or not 1 <= rates.size <= MAX_LOOKS:
        raise StatsInputError(
            f"information_rates: expected 1 to {MAX_LOOKS} fractions, got {information_rates!r:.80}"
        )
    if not (np.all(np.isfinite(rates)) and rates[0] > 0 and np.all(np.diff(rates) > 0)):
        raise StatsInputError(
            "information_rates: expected strictly increasing fractions in (0, 1], "
            f"got {rates.tolist()}"
        )
    if rates[-1] != 1.0:
        raise StatsInputError(
            f"information_rates: the last look must be at fraction 1, got {rates[-1]!r}"
        )
    return rates


def _observed_fractions(observed_rates) -> np.ndarray:
    try:
        return np.atleast_1d(np.asarray(observed_rates, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise StatsInputError(
            f"observed_rates: expected fractions, got {observed_rates!r:.80}"
        ) from exc


def _check_z(z_statistics, k_max: int) -> np.ndarray:
    try:
        z = np.atleast_1d(np.asarray(z_statistics, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise StatsInputError(f"z_statistics: expected numbers, got {z_statistics!r:.80}") from exc
    if z.ndim != 1 or not 1 <= z.size <= k_max or not np.all(np.isfinite(z)):
        raise StatsInputError(
            f"z_statistics: expected 1 to {k_max} finite values, got {z_statistics!r:.80}"
        )
    return z


def _check_look(design: GroupSequentialDesign, look, *, before_final: bool) -> int:
    last = design.k_max - 1 if before_final else design.k_max
    if isinstance(look, bool) or not isinstance(look, (int, np.integer)) or not 1 <= look <= last:
        raise StatsInputError(f"look: expected a whole number 1 to {last}, got {look!r}")
    return int(look)


def _rates_from(looks, information_rates) -> np.ndarray:
    if information_rates is None:
        if looks is None:
            raise StatsInputError("looks: give the number of looks or information_rates")
        if isinstance(looks, bool) or not isinstance(looks, (int, np.integer)):
            raise StatsInputError(f"looks: expected a whole number 1 to {MAX_LOOKS}, got {looks!r}")
        if not 1 <= looks <= MAX_LOOKS:
            raise StatsInputError(f"looks: expected 1 to {MAX_LOOKS}, got {looks!r}")
        return np.arange(1, looks + 1) / looks
    rates = check_information_rates(information_rates)
    if looks is not None and looks != rates.size:
        raise StatsInputError(
            f"looks: {looks!r} does not match the {rates.size} information_rates given"
        )
    return rates


def _check_power(power: float, alpha: float) -> float:
    power = float(power)
    if not alpha < power < 1.0:
        raise StatsInputError(f"power: expected a proportion in (alpha={alpha}, 1), got {power!r}")
    return power


def _spending(kind: str, alpha: float, rates: np.ndarray) -> np.ndarray:
    if kind == "asOF":
        spent = 2.0 * ndtr(ndtri(alpha / 2.0) / np.sqrt(rates))
    else:
        spent = alpha * np.log1p((math.e - 1.0) * rates)
    spent[rates == 1.0] = alpha  # exactly alpha at the final look
    return spent


def _critical_values(kind: str, alpha: float, rates: np.ndarray) -> np.ndarray:
    increments = np.diff(np.concatenate(([0.0], rates)))
    if rates.size == 1:
        return np.array([-ndtri(alpha)])
    if kind in SPENDING_KINDS:
        spent = np.diff(np.concatenate(([0.0], _spending(kind, alpha, rates))))
        bounds = _walk.bounds_spending(spent, np.zeros_like(increments), increments)
        return bounds / np.sqrt(rates)
    shape = 1.0 / np.sqrt(rates) if kind == "OF" else np.ones_like(rates)

    def excess(constant: float) -> float:
        return _crossings(constant * shape, rates, 0.0).sum() - alpha

    constant = brentq(excess, -ndtri(alpha), -ndtri(alpha / rates.size) + 1.0, xtol=1e-15)
    return constant * shape


def _crossings(critical: np.ndarray, rates: np.ndarray, drift: float) -> np.ndarray:
    increments = np.diff(np.concatenate(([0.0], rates)))
    return _walk.upper_crossings(critical * np.sqrt(rates), drift * increments, increments)


def _expected_fraction(rates: np.ndarray, rejections: np.ndarray) -> float:
    return float(1.0 - np.sum(rejections[:-1] * (1.0 - rates[:-1])))


def _design(kind, alpha, power, rates, critical) -> GroupSequentialDesign:
    at_h0 = _crossings(critical, rates, 0.0)
    fixed = -ndtri(alpha) + ndtri(power)  # drift of the single-look design

    def shortfall(drift: float) -> float:
        return _crossings(critical, rates, drift).sum() - power

    drift = fixed if rates.size == 1 else brentq(shortfall, fixed, 2.0 * fixed + 2.0, xtol=1e-14)
    at_h1 = _crossings(critical, rates, drift)
    inflation = float((drift / fixed) ** 2)
    return GroupSequentialDesign(
        kind=kind,
        alpha=alpha,
        power=power,
        information_rates=rates,
        critical_values=critical,
        alpha_spent=np.cumsum(at_h0),
        stage_levels=ndtr(-critical),
        drift=float(drift),
        inflation_factor=float(inflation),
        rejection_probabilities=at_h1,
        cumulative_power=np.cumsum(at_h1),
        expected_h0=inflation * _expected_fraction(rates, at_h0),
        expected_h01=inflation * _expected_fraction(rates, _crossings(critical, rates, drift / 2)),
        expected_h1=inflation * _expected_fraction(rates, at_h1),
    )
