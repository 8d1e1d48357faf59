"""Group-sequential designs, rates sample size and power, interim analyses: equal to rpact.

Reference values: ``tests/data/rpact/*.csv``, written by ``tests/data/rpact/generate.R`` with
rpact 3.3.4 (see its ``PROVENANCE.md``), and the canonical joint distribution from mvtnorm's
Miwa algorithm. Tolerance rule for every quantity: ``|pebs - rpact| <= 1e-6 |rpact| + 1e-9``,
i.e. 1e-6 relative, and 1e-9 absolute for values near 0 (below 1e-3) where rpact's own
probabilities, differences of normal distribution functions, carry absolute errors of up to
about 1e-10.

One exception, decided from the data: rpact integrates on a fixed grid of 91 points per look,
and where looks are close together (information rates 0.9, 0.95, 1) or many (ten looks), its
boundaries spend alpha with relative errors above 1e-6 (up to 2.3e-4), as mvtnorm shows for
rpact's own boundaries. For those designs pebs is compared with rpact at 1e-3 relative, and
its exactness is shown instead by its kernel agreeing with mvtnorm at rpact's boundaries and
by its boundaries spending exactly ``alpha(t)``.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from scipy.special import ndtr, ndtri

from pebs.stats import StatsInputError, sample_size_ratio
from pebs.stats import _recursive_integration as walk
from pebs.stats.group_sequential import (
    DESIGN_KINDS,
    alpha_spending,
    conditional_power,
    design_at_fractions,
    group_sequential_design,
    interim_analysis,
    rejection_probabilities,
)
from pebs.stats.sample_size import power_ratio
from pebs.stats.sequential_rates import (
    interim_analysis_rates,
    sequential_power,
    sequential_sample_size,
)

DATA = Path(__file__).parents[1] / "data" / "rpact"
RTOL, ATOL = 1e-6, 1e-9
RTOL_RPACT_GRID = 1e-3  # designs on which rpact's own grid is less accurate than 1e-6


def _rows(name: str) -> dict[str, dict[str, str]]:
    with open(DATA / name, newline="") as handle:
        return {row["case"]: row for row in csv.DictReader(handle)}


def _values(name: str) -> dict[str, dict[str, np.ndarray]]:
    """``{case: {quantity: values by look}}``; a scalar (look 0) becomes a 0-d array."""
    collected: dict[str, dict[str, list[tuple[int, float]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    with open(DATA / name, newline="") as handle:
        for row in csv.DictReader(handle):
            collected[row["case"]][row["quantity"]].append((int(row["look"]), float(row["value"])))
    return {
        case: {
            quantity: np.array([v for _, v in sorted(pairs)])
            if pairs[0][0]
            else np.array(pairs[0][1])
            for quantity, pairs in quantities.items()
        }
        for case, quantities in collected.items()
    }


def _floats(text: str) -> np.ndarray:
    return np.array([float(x) for x in text.split(";")]) if text else np.empty(0)


DESIGNS = _rows("designs.csv")
DESIGN_VALUES = _values("design_values.csv")
RATES = _rows("rates.csv")
RATES_VALUES = _values("rates_values.csv")
INTERIMS = _rows("interim.csv")
INTERIM_VALUES = _values("interim_values.csv")
MVN = _rows("mvn.csv")
MVN_VALUES = _values("mvn_values.csv")


def _rpact_grid_error(case: str) -> float:
    """Largest relative error of rpact's own alpha spent per look, against mvtnorm (Miwa)."""
    values = DESIGN_VALUES[case]
    own = values["alphaSpent"].copy()
    own[-1] = float(DESIGNS[case]["alpha"])  # rpact floors the last value to 8 decimals
    exact = np.diff(np.concatenate(([0.0], values["alphaSpentMiwa"])))
    own = np.diff(np.concatenate(([0.0], own)))
    big = exact > 1e-6  # smaller first-look values are exact in both (one normal tail)
    return float(np.max(np.abs(own[big] - exact[big]) / exact[big]))


RPACT_GRID_LIMITED = {case for case in DESIGNS if _rpact_grid_error(case) > 1e-6}


@cache
def _design(case: str):
    row = DESIGNS[case]
    return group_sequential_design(
        row["type"],
        information_rates=_floats(row["informationRates"]),
        alpha=float(row["alpha"]),
        power=1.0 - float(row["beta"]),
    )


def _check(actual, expected, label: str, rtol: float = RTOL) -> None:
    np.testing.assert_allclose(
        np.asarray(actual, dtype=np.float64), expected, rtol=rtol, atol=ATOL, err_msg=label
    )


DESIGN_QUANTITIES = {
    "criticalValues": lambda d: d.critical_values,
    "alphaSpent": lambda d: d.alpha_spent,
    "stageLevels": lambda d: d.stage_levels,
    "shift": lambda d: d.drift**2,
    "inflationFactor": lambda d: d.inflation_factor,
    "power": lambda d: d.cumulative_power,
    "rejectionProbabilities": lambda d: d.rejection_probabilities,
    "averageSampleNumber0": lambda d: d.expected_h0,
    "averageSampleNumber01": lambda d: d.expected_h01,
    "averageSampleNumber1": lambda d: d.expected_h1,
}


def test_the_reference_grid_covers_the_required_designs():
    kinds = {(row["type"], int(row["kMax"]), float(row["alpha"])) for row in DESIGNS.values()}
    for kind in DESIGN_KINDS:
        for k_max in range(2, 6):
            assert {(kind, k_max, 0.025), (kind, k_max, 0.05)} <= kinds
    assert len(DESIGNS) >= 40
    assert {row["riskRatio"] for row in RATES.values()} == {"TRUE", "FALSE"}


def test_rpact_grid_is_limited_only_for_close_or_many_looks():
    limited = {
        (DESIGNS[case]["type"], DESIGNS[case]["informationRates"]) for case in RPACT_GRID_LIMITED
    }
    close, ten = "0.90000000000000002;0.94999999999999996;1", "0.10000000000000001;"
    assert all(rates == close or rates.startswith(ten) for _, rates in limited)
    assert {kind for kind, rates in limited if rates == close} == set(DESIGN_KINDS)


@pytest.mark.parametrize("case", sorted(DESIGNS))
def test_design_equals_rpact(case):
    design = _design(case)
    rtol = RTOL_RPACT_GRID if case in RPACT_GRID_LIMITED else RTOL
    for quantity, expected in DESIGN_VALUES[case].items():
        if quantity != "alphaSpentMiwa":
            _check(DESIGN_QUANTITIES[quantity](design), expected, f"{case} {quantity}", rtol)


@pytest.mark.parametrize("case", sorted(DESIGNS))
def test_recursive_integration_equals_mvtnorm_at_rpact_boundaries(case):
    values = DESIGN_VALUES[case]
    rates = _floats(DESIGNS[case]["informationRates"])
    increments = np.diff(np.concatenate(([0.0], rates)))
    bounds = values["criticalValues"] * np.sqrt(rates)
    crossings = walk.upper_crossings(bounds, np.zeros_like(rates), increments)
    # mvtnorm's probabilities of staying below are near 1: absolute accuracy about 1e-12
    np.testing.assert_allclose(
        np.cumsum(crossings), values["alphaSpentMiwa"], rtol=1e-8, atol=1e-11
    )


SIZE_QUANTITIES = {
    "nFixed": lambda s: s.n_fixed,
    "maxNumberOfSubjects": lambda s: s.n_max,
    "numberOfSubjects": lambda s: s.n_cumulative,
    "numberOfSubjects1": lambda s: s.n_new_cumulative,
    "numberOfSubjects2": lambda s: s.n_ref_cumulative,
    "expectedNumberOfSubjectsH0": lambda s: s.expected_h0,
    "expectedNumberOfSubjectsH01": lambda s: s.expected_h01,
    "expectedNumberOfSubjectsH1": lambda s: s.expected_h1,
    "rejectPerStage": lambda s: s.rejection_probabilities,
}
POWER_QUANTITIES = {
    "powerOverallReject": lambda p: p.power,
    "powerRejectPerStage": lambda p: p.rejection_probabilities,
    "powerExpectedNumberOfSubjects": lambda p: p.expected_n,
}


@pytest.mark.parametrize("case", sorted(RATES))
def test_rates_sample_size_and_power_equal_rpact(case):
    row = RATES[case]
    design = _design(row["design"])
    arguments = {
        "scale": "ratio" if row["riskRatio"] == "TRUE" else "difference",
        "margin": float(row["thetaH0"]),
        "allocation": float(row["allocationRatioPlanned"]),
    }
    proportions = float(row["pi1"]), float(row["pi2"])
    size = sequential_sample_size(design, *proportions, **arguments)
    power = sequential_power(design, *proportions, float(row["maxNumberOfSubjects"]), **arguments)
    for quantity, expected in RATES_VALUES[case].items():
        if quantity in SIZE_QUANTITIES:
            _check(SIZE_QUANTITIES[quantity](size), expected, f"{case} {quantity}")
        else:
            _check(POWER_QUANTITIES[quantity](power), expected, f"{case} {quantity}")


def _interim(case: str):
    row = INTERIMS[case]
    return interim_analysis_rates(
        _design(row["design"]),
        _floats(row["events1"]),
        _floats(row["n1"]),
        _floats(row["events2"]),
        _floats(row["n2"]),
        scale="difference",
        margin=float(row["thetaH0"]),
        n_max=float(row["nMax"]),
        proportion_new_h1=float(row["pi1H1"]),
        proportion_ref_h1=float(row["pi2H1"]),
        allocation=float(row["allocationRatioPlanned"]),
        n_planned=_floats(row["nPlanned"]) if row["nPlanned"] else None,
    )


INTERIM_QUANTITIES = {
    "informationRates": lambda r: r.design.information_rates,
    "criticalValues": lambda r: r.design.critical_values,
    # rpact's statistics are oriented as p_new - p_ref - m; pebs's favour non-inferiority
    "overallTestStatistics": lambda r: -r.z_statistics,
    "testStatistics": lambda r: -r.stage_z_statistics,
    "rejected": lambda r: r.crossed,
    "conditionalRejectionProbability": lambda r: r.conditional_rejection_probability,
    "conditionalPowerTrend": lambda r: r.conditional_power_trend,
    "conditionalPowerH1": lambda r: r.conditional_power_h1,
}


@pytest.mark.parametrize("case", sorted(INTERIMS))
def test_interim_analysis_of_rates_equals_rpact(case):
    result = _interim(case)
    for quantity, expected in INTERIM_VALUES[case].items():
        _check(INTERIM_QUANTITIES[quantity](result), expected, f"{case} {quantity}")


@pytest.mark.parametrize("case", sorted(MVN))
def test_recursive_integration_equals_mvtnorm(case):
    row = MVN[case]
    rates, bounds = _floats(row["informationRates"]), _floats(row["bounds"])
    increments = np.diff(np.concatenate(([0.0], rates)))
    crossings = walk.upper_crossings(
        bounds * np.sqrt(rates), float(row["drift"]) * increments, increments
    )
    np.testing.assert_allclose(crossings, MVN_VALUES[case]["crossing"], rtol=1e-8, atol=1e-11)


# --- properties -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", DESIGN_KINDS)
@pytest.mark.parametrize("rates", [[0.5, 1.0], [0.1, 0.25, 0.7, 1.0], list(np.arange(1, 11) / 10)])
def test_alpha_spent_sums_to_alpha(kind, rates):
    design = group_sequential_design(kind, information_rates=rates, alpha=0.025)
    assert rejection_probabilities(design, 0.0).sum() == pytest.approx(0.025, rel=1e-12)
    assert design.alpha_spent[-1] == pytest.approx(0.025, rel=1e-12)
    assert np.all(np.diff(design.alpha_spent) > 0)
    if kind in ("asOF", "asP"):
        spent = alpha_spending(kind, 0.025, rates)
        np.testing.assert_allclose(design.alpha_spent, spent, rtol=1e-11)


@pytest.mark.parametrize("kind", DESIGN_KINDS)
def test_one_look_is_the_fixed_design(kind):
    design = group_sequential_design(kind, looks=1, alpha=0.025, power=0.8)
    z_alpha, z_beta = -ndtri(0.025), ndtri(0.8)
    assert design.critical_values[0] == pytest.approx(1.959963984540054, rel=1e-15)
    assert design.drift == pytest.approx(z_alpha + z_beta, rel=1e-15)
    assert (design.inflation_factor, design.expected_h0, design.expected_h1) == (1.0, 1.0, 1.0)
    # The sample size and power of one look are those of the fixed-design score test.
    plan = sequential_sample_size(design, 0.0043, 0.0048, scale="ratio", margin=1.25)
    fixed = sample_size_ratio(0.0048, margin=1.25, ratio=0.0043 / 0.0048, power=0.8)
    assert math.ceil(plan.n_fixed / 2) == fixed.n_ref
    power = sequential_power(design, 0.0043, 0.0048, 85_000, scale="ratio", margin=1.25)
    expected = power_ratio(0.0048, 42_500, 42_500, margin=1.25, ratio=0.0043 / 0.0048)
    assert power.power == pytest.approx(expected, rel=1e-12)


def test_obrien_fleming_and_pocock_boundaries_have_their_shapes():
    of = group_sequential_design("OF", information_rates=[0.2, 0.7, 1.0])
    np.testing.assert_allclose(
        of.critical_values * np.sqrt([0.2, 0.7, 1.0]), of.critical_values[-1]
    )
    pocock = group_sequential_design("P", looks=4)
    np.testing.assert_allclose(pocock.critical_values, pocock.critical_values[0])
    # Pocock (1977), table 1: two-sided 5 % (one-sided 2.5 %), five looks: 2.413.
    assert group_sequential_design("P", looks=5).critical_values[0] == pytest.approx(
        2.413, abs=5e-4
    )
    # O'Brien-Fleming, five looks, one-sided 2.5 %: C = 2.040 (Jennison and Turnbull 2000,
    # table 2.3).
    assert group_sequential_design("OF", looks=5).critical_values[-1] == pytest.approx(
        2.040, abs=5e-4
    )


def test_integration_has_converged():
    rates = np.array([0.9, 0.95, 1.0])
    increments = np.diff(np.concatenate(([0.0], rates)))
    bounds = np.array([2.2, 2.1, 2.0]) * np.sqrt(rates)
    coarse = walk.upper_crossings(bounds, 1.5 * increments, increments)
    finer = walk._PANEL_SCALE
    try:
        walk._PANEL_SCALE = finer / 4
        fine = walk.upper_crossings(bounds, 1.5 * increments, increments)
    finally:
        walk._PANEL_SCALE = finer
    np.testing.assert_allclose(coarse, fine, rtol=1e-13)


def test_spending_designs_keep_earlier_boundaries_when_looks_move():
    design = group_sequential_design("asOF", looks=4)
    moved = design_at_fractions(design, [0.25, 0.55])
    assert moved.critical_values[0] == pytest.approx(design.critical_values[0], rel=1e-14)
    np.testing.assert_allclose(moved.information_rates, [0.25, 0.55, 0.75, 1.0])
    assert moved.alpha_spent[-1] == pytest.approx(0.025, rel=1e-12)


@pytest.mark.parametrize("kind", DESIGN_KINDS)
def test_conditional_power_with_one_look_left_is_a_normal_tail(kind):
    design = group_sequential_design(kind, information_rates=[0.3, 1.0])
    z, drift, t = 1.4, 2.5, 0.3
    by_hand = ndtr(
        -(design.critical_values[1] - z * math.sqrt(t) - drift * (1 - t)) / math.sqrt(1 - t)
    )
    assert conditional_power(design, 1, z, drift) == pytest.approx(by_hand, rel=1e-13)


def test_generic_interim_analysis():
    design = group_sequential_design("asOF", looks=3)
    result = interim_analysis(design, [1.2, 2.7], [0.3, 0.7])
    assert result.rejected
    assert result.rejected_at == 2
    np.testing.assert_array_equal(result.crossed, [False, True])
    t = result.design.information_rates
    c = result.design.critical_values
    trend = 2.7 / math.sqrt(0.7)
    by_hand = ndtr(-(c[2] - 2.7 * math.sqrt(t[1]) - trend * (1 - t[1])) / math.sqrt(1 - t[1]))
    assert result.conditional_power_trend[0] == pytest.approx(by_hand, rel=1e-13)
    crp = ndtr(-(c[2] - 2.7 * math.sqrt(t[1])) / math.sqrt(1 - t[1]))
    assert result.conditional_rejection_probability == pytest.approx(crp, rel=1e-13)
    final = interim_analysis(design, [1.2, 1.5, 2.1], [0.3, 0.7, 0.99])
    assert final.design.information_rates[-1] == 1.0
    assert final.rejected_at == 3
    assert math.isnan(final.conditional_rejection_probability)
    assert final.conditional_power_h1.size == 0


def test_ratio_scale_conditional_power_follows_the_documented_formula():
    design = group_sequential_design("asP", information_rates=[0.4, 1.0])
    result = interim_analysis_rates(
        design, [140], [25_000], [150], [25_000], scale="ratio", margin=1.25, n_max=120_000,
        proportion_new_h1=0.0048, proportion_ref_h1=0.0048,
    )  # fmt: skip
    t = result.design.information_rates[0]
    c2 = result.design.critical_values[1]
    n_later = 120_000 - 50_000
    # Under H1 (p = 0.0048 in both arms, r = 1): sigma1^2 = p q (1 + M^2); sigma0 at the
    # Farrington-Manning limits of p_new = M p_ref with expected counts, by the quadratic.
    p, m = 0.0048, 1.25
    a, b, c = 2 * m, -(m * (1 + p) + p + 1), 2 * p
    q_ref = (-b - math.sqrt(b * b - 4 * a * c)) / (2 * a)
    q_new = m * q_ref
    sigma0 = math.sqrt(q_new * (1 - q_new) + m**2 * q_ref * (1 - q_ref))
    sigma1 = math.sqrt(p * (1 - p) * (1 + m**2))
    crp = result.conditional_rejection_probability
    theta = (m - 1) * p * math.sqrt(2) / sigma1 - ndtri(crp) * (
        1 - sigma0 / sigma1
    ) * 2 / math.sqrt(n_later)
    mean = theta * math.sqrt(n_later) / 2 * math.sqrt(1 - t)
    z_star = result.stage_z_statistics[0]
    by_hand = ndtr(-(c2 - z_star * math.sqrt(t) - mean) / math.sqrt(1 - t))
    assert result.conditional_power_h1[0] == pytest.approx(by_hand, rel=1e-12)
    assert result.combined_z == pytest.approx(result.z_statistics[0], rel=1e-14)


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"kind": "HP", "looks": 3}, "kind: expected one of asOF, asP, OF, P"),
        ({"looks": 0}, "looks: expected 1 to 10"),
        ({"looks": 11}, "looks: expected 1 to 10"),
        ({"looks": 2.5}, "looks: expected a whole number"),
        ({}, "looks: give the number of looks or information_rates"),
        ({"information_rates": [0.5, 0.4, 1.0]}, "information_rates: expected strictly increasing"),
        (
            {"information_rates": [0.5, 0.9]},
            "information_rates: the last look must be at fraction 1",
        ),
        ({"information_rates": np.arange(1, 12) / 11}, "information_rates: expected 1 to 10"),
        ({"information_rates": ["a", 1]}, "information_rates: expected numbers"),
        ({"looks": 3, "information_rates": [0.5, 1.0]}, "looks: 3 does not match"),
        ({"looks": 2, "alpha": 0.6}, "alpha: one-sided level must be in (0, 0.5)"),
        ({"looks": 2, "power": 0.02}, "power: expected a proportion in (alpha=0.025, 1)"),
    ],
)
def test_bad_design_input_names_the_argument(arguments, message):
    with pytest.raises(StatsInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        group_sequential_design(**arguments)


def test_bad_rates_input_names_the_argument():
    design = group_sequential_design("asOF", looks=3)
    cases = [
        ({"scale": "odds", "margin": 1.25}, "scale: expected one of ratio, difference"),
        ({"scale": "ratio", "margin": 0.8}, "margin: a relative margin must be > 1"),
        ({"scale": "difference", "margin": 1.2}, "margin: an absolute margin must be in"),
        ({"scale": "ratio", "margin": 1.25, "allocation": 0}, "allocation: n_new / n_ref"),
    ]
    for arguments, message in cases:
        with pytest.raises(StatsInputError, match=message):
            sequential_sample_size(design, 0.0048, 0.0048, **arguments)
    with pytest.raises(StatsInputError, match="proportion_new: must be below margin"):
        sequential_sample_size(design, 0.007, 0.0048, scale="ratio", margin=1.25)
    with pytest.raises(StatsInputError, match="n_max: expected at least 2 women"):
        sequential_power(design, 0.0048, 0.0048, 1, scale="ratio", margin=1.25)


def test_bad_interim_input_names_the_argument():
    design = group_sequential_design("asOF", looks=3)
    common = {
        "scale": "difference", "margin": 0.0012, "n_max": 130_000,
        "proportion_new_h1": 0.0048, "proportion_ref_h1": 0.0048,
    }  # fmt: skip
    cases = [
        (([150, 1], [30_000] * 3, [140], [30_000]), {}, "incompatible shapes"),
        (([150], [30_000], [40_000], [30_000]), {}, "events_ref: cannot exceed n_ref"),
        (([1] * 4, [10] * 4, [1] * 4, [10] * 4), {}, "expected one count per look, 1 to 3"),
        (([150], [60_000], [140], [40_000]), {}, "observed_rates: the looks must stay in order"),
        (([150], [30_000], [140], [30_000]), {"n_planned": [1.0]}, "n_planned: expected 2"),
        (([150], [30_000], [140], [30_000]), {"n_max": -5}, "n_max: expected a positive"),
        (([150], [30_000], [140], [30_000]), {"proportion_new_h1": 0.1}, "proportion_new_h1"),
    ]
    for counts, extra, message in cases:
        with pytest.raises(StatsInputError, match=message):
            interim_analysis_rates(design, *counts, **{**common, **extra})


def test_no_events_leave_the_trend_undefined():
    design = group_sequential_design("asOF", looks=3)
    result = interim_analysis_rates(
        design, [0], [3_000], [0], [3_000], scale="difference", margin=0.0012, n_max=13_000,
        proportion_new_h1=0.0048, proportion_ref_h1=0.0048,
    )  # fmt: skip
    assert np.all(np.isnan(result.conditional_power_trend))
    assert np.all((result.conditional_power_h1 > 0) & (result.conditional_power_h1 < 1))


def test_bad_generic_interim_input_names_the_argument():
    design = group_sequential_design("asOF", looks=3)
    with pytest.raises(StatsInputError, match="z_statistics: expected 1 to 3 finite values"):
        interim_analysis(design, [np.nan], [0.3])
    with pytest.raises(StatsInputError, match="observed_rates: expected 2 fractions"):
        interim_analysis(design, [1.0, 2.0], [0.3])
    with pytest.raises(StatsInputError, match="observed_rates: expected fractions"):
        interim_analysis(design, [1.0], ["a third"])
    with pytest.raises(StatsInputError, match="observed_rates: fractions must be in"):
        design_at_fractions(design, [0.4, 0.8, 0.9])
    with pytest.raises(StatsInputError, match="look: expected a whole number 1 to 2"):
        conditional_power(design, 3, 1.0, 2.0)
    with pytest.raises(StatsInputError, match="kind: expected one of asOF, asP"):
        alpha_spending("OF", 0.025, [0.5, 1.0])
