"""Property tests (hypothesis) of pebs.risk.gail.

Invariants of the model rather than fixed numbers: risk in [0, 100] %, non-decreasing in the
projection age, vectorised = row by row, permutation-equivariance, the average woman's risk, the
split of a window at an inner age (derivation in ``test_window_splits_at_an_inner_age``), and
agreement with the independent per-year oracle of ``conftest.py`` (itself checked against R in
``test_gail_reference.py::test_oracle_reproduces_r``) on windows R's sample does not contain.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pebs.risk import gail

PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
ULPS = 1e-12
"""Relative slack for the monotonicity properties: sums of floats may differ in the last bits."""
INPUTS = ("T1", "T2", "N_Biop", "HypPlas", "AgeMen", "Age1st", "N_Rels", "Race")
RACES = st.integers(1, 11)
# Relative risks for the stage function: BCRAT's own patterns reach about 32; up to 60 covers
# them with margin (see test_gail_known_issues.py for much larger values).
RELATIVE_RISKS = st.floats(0.05, 60.0)


def start_ages(low: float = 20.0, high: float = 90.0):
    """Whole and fractional start ages in [low, high)."""
    return st.one_of(
        st.integers(math.ceil(low), math.ceil(high) - 1).map(float),
        st.floats(low, high, exclude_max=True),
    )


@st.composite
def windows(draw, low: float = 20.0):
    t1 = draw(start_ages(low))
    t2 = draw(st.one_of(st.just(90.0), st.floats(t1, 90.0, exclude_min=True)))
    return t1, t2


@st.composite
def women(draw) -> dict[str, float]:
    """One valid woman in BCRA codes (any race, window, unknowns, nulliparity)."""
    t1, t2 = draw(windows())
    n_biop = draw(st.sampled_from([0, 1, 2, 3, 6, 99]))
    hyp = 99 if n_biop in (0, 99) else draw(st.sampled_from([0, 1, 99]))
    age_men = draw(st.one_of(st.just(99.0), st.floats(5.0, min(t1, 18.0))))
    first_possible = 10.0 if age_men == 99 else age_men
    age_1st = draw(st.one_of(st.sampled_from([98.0, 99.0]), st.floats(first_possible, t1)))
    n_rels = draw(st.sampled_from([0, 1, 2, 3, 98, 99]))
    race = draw(RACES)
    values = (t1, t2, n_biop, hyp, age_men, age_1st, n_rels, race)
    return dict(zip(INPUTS, map(float, values), strict=True))


def columns(rows: list[dict[str, float]]) -> dict[str, np.ndarray]:
    return {name: np.array([row[name] for row in rows]) for name in INPUTS}


def single_rows(rows, function):
    """Call ``function`` once per row; stack its proportions."""
    return np.array([function(**{k: [v] for k, v in row.items()})[0] for row in rows])


# --- Range and validity -------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(st.lists(women(), min_size=1, max_size=25))
def test_valid_women_get_a_risk_between_0_and_100_percent(rows):
    result = gail.risk_bcra(**columns(rows))
    assert (result.error == 0).all(), result.reasons()
    for pct in (result.absolute_risk_pct, result.average_risk_pct):
        assert np.isfinite(pct).all()
        assert (pct >= 0).all()
        assert (pct <= 100).all()
    assert (result.relative_risk.under_50 > 0).all()
    assert (result.relative_risk.from_50 > 0).all()


ANY_NUMBER = st.one_of(
    st.sampled_from([-1.0, 0.0, 1.0, 1.5, 2.0, 12.0, 20.0, 45.0, 90.0, 98.0, 99.0, 100.0]),
    st.floats(allow_nan=True, allow_infinity=True),
)


@PROPERTY_SETTINGS
@given(st.lists(st.one_of(women(), st.fixed_dictionaries(dict.fromkeys(INPUTS, ANY_NUMBER)))))
def test_any_numbers_give_nan_exactly_on_flagged_rows(rows):
    """Arbitrary floats (NaN, inf, negatives) never raise or warn; NaN iff flagged."""
    x = columns(rows)
    result = gail.risk_bcra(**x)
    flagged = result.error != 0
    assert (result.error & ~sum(gail.GailError)).tolist() == [0] * len(rows)
    for values in (
        result.absolute_risk,
        result.average_risk,
        result.relative_risk.under_50,
        result.relative_risk.from_50,
    ):
        assert (np.isnan(values) == flagged).all()
    valid = ~flagged
    assert ((result.absolute_risk[valid] >= 0) & (result.absolute_risk[valid] <= 1)).all()
    # Window rule of the spec: 20 <= T1 < T2 <= 90 and race 1..11 (not checked: factor flags).
    window_ok = (x["T1"] >= 20) & (x["T1"] < x["T2"]) & (x["T2"] <= 90)
    assert not (valid & ~window_ok).any()
    assert not (valid & ~np.isin(x["Race"], np.arange(1, 12))).any()


@PROPERTY_SETTINGS
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "age": start_ages(20, 85),
                "n_biopsies": st.sampled_from([0, 1, 2, 4, math.nan]),
                "atypical_hyperplasia": st.sampled_from([0, 1, math.nan]),
                "age_at_menarche": st.one_of(st.just(math.nan), st.floats(8, 16)),
                "age_at_first_birth": st.one_of(st.just(math.nan), st.floats(16, 20)),
                "n_relatives": st.sampled_from([0, 1, 2, 5, math.nan]),
                "race": st.sampled_from([*gail.Race, "white", "chinese", "other", 4]),
                "nulliparous": st.booleans(),
            }
        ),
        min_size=1,
        max_size=20,
    )
)
def test_friendly_api_risk_is_non_negative_and_nan_only_when_flagged(rows):
    args = {name: [row[name] for row in rows] for name in rows[0]}
    result = gail.risk(**args)
    flagged = result.error != 0
    assert (np.isnan(result.absolute_risk) == flagged).all()
    assert (result.absolute_risk[~flagged] >= 0).all()
    assert (result.absolute_risk[~flagged] <= 1).all()
    # The only way to be rejected here: a biopsy-less woman with atypical hyperplasia = 1.
    no_biopsy = np.isin(args["n_biopsies"], [0]) | np.isnan(args["n_biopsies"])
    contradiction = no_biopsy & (np.array(args["atypical_hyperplasia"]) == 1)
    assert (flagged == contradiction).all()


# --- Monotonicity in the projection age ---------------------------------------------------------


@PROPERTY_SETTINGS
@given(women(), st.data())
def test_risk_is_non_decreasing_in_projection_age(woman, data):
    t1 = woman["T1"]
    t2a = data.draw(st.floats(t1, 90.0, exclude_min=True), label="t2a")
    t2b = data.draw(st.one_of(st.just(90.0), st.floats(t2a, 90.0)), label="t2b")
    result = gail.risk_bcra(**{**woman, "T2": [t2a, t2b]})
    assert (result.error == 0).all()
    # up to rounding: one ulp apart in T2 (89.99999999999999 vs 90) may differ in the last bit
    assert result.absolute_risk[0] <= result.absolute_risk[1] * (1 + ULPS), (t2a, t2b)
    assert result.average_risk[0] <= result.average_risk[1] * (1 + ULPS), (t2a, t2b)


@PROPERTY_SETTINGS
@given(women(), st.lists(st.floats(20.0, 90.0), min_size=2, max_size=12))
def test_risk_over_a_grid_of_projection_ages_is_sorted(woman, ends):
    t2 = np.sort(np.array([e for e in ends if e > woman["T1"]] + [90.0]))
    result = gail.risk_bcra(**{**woman, "T2": t2})
    assert (result.absolute_risk[:-1] <= result.absolute_risk[1:] * (1 + ULPS)).all()


# --- Vectorisation and row order ----------------------------------------------------------------


@PROPERTY_SETTINGS
@given(st.lists(women(), min_size=1, max_size=12))
def test_vectorised_equals_row_by_row(rows):
    together = gail.risk_bcra(**columns(rows))
    one_by_one = single_rows(rows, lambda **kw: gail.risk_bcra(**kw).absolute_risk)
    np.testing.assert_allclose(together.absolute_risk, one_by_one, rtol=1e-14, atol=0)
    averages = single_rows(rows, lambda **kw: gail.risk_bcra(**kw).average_risk)
    np.testing.assert_allclose(together.average_risk, averages, rtol=1e-14, atol=0)


@PROPERTY_SETTINGS
@given(
    st.lists(st.tuples(windows(), RACES, RELATIVE_RISKS, RELATIVE_RISKS), min_size=1, max_size=12)
)
def test_stage_functions_vectorised_equal_row_by_row(rows):
    t1 = np.array([w[0] for w, *_ in rows])
    t2 = np.array([w[1] for w, *_ in rows])
    race = np.array([r for _, r, _, _ in rows])
    rr1 = np.array([a for *_, a, _ in rows])
    rr2 = np.array([b for *_, b in rows])
    together = gail.absolute_risk(t1, t2, race, rr1, rr2)
    singles = [gail.absolute_risk(*args)[0] for args in zip(t1, t2, race, rr1, rr2, strict=True)]
    np.testing.assert_allclose(together, singles, rtol=1e-14, atol=0)
    together = gail.average_risk(t1, t2, race)
    singles = [gail.average_risk(*args)[0] for args in zip(t1, t2, race, strict=True)]
    np.testing.assert_allclose(together, singles, rtol=1e-14, atol=0)


@PROPERTY_SETTINGS
@given(st.lists(women(), min_size=2, max_size=25).flatmap(
    lambda rows: st.tuples(st.just(rows), st.permutations(range(len(rows))))
))  # fmt: skip
def test_permuting_rows_permutes_results(rows_and_order):
    rows, order = rows_and_order
    order = np.array(order)
    x = columns(rows)
    result = gail.risk_bcra(**x)
    shuffled = gail.risk_bcra(**{k: v[order] for k, v in x.items()})
    np.testing.assert_allclose(shuffled.absolute_risk, result.absolute_risk[order], rtol=1e-14)
    np.testing.assert_allclose(shuffled.average_risk, result.average_risk[order], rtol=1e-14)
    np.testing.assert_array_equal(
        shuffled.relative_risk.under_50, result.relative_risk.under_50[order]
    )
    np.testing.assert_array_equal(shuffled.error, result.error[order])
    stage = gail.absolute_risk(
        x["T1"][order],
        x["T2"][order],
        x["Race"][order],
        result.relative_risk.under_50[order],
        result.relative_risk.from_50[order],
    )
    np.testing.assert_allclose(stage, result.absolute_risk[order], rtol=1e-13)


# --- Agreement between stages and with the independent oracle -----------------------------------


@PROPERTY_SETTINGS
@given(st.lists(women(), min_size=1, max_size=20))
def test_pipeline_agrees_with_the_oracle_on_arbitrary_windows(gail_oracle, rows):
    x = columns(rows)
    result = gail.risk_bcra(**x)
    rr1, rr2 = result.relative_risk.under_50, result.relative_risk.from_50
    expected = [
        gail_oracle.absolute_risk(x["T1"][i], x["T2"][i], int(x["Race"][i]), rr1[i], rr2[i])
        for i in range(len(rows))
    ]
    np.testing.assert_allclose(result.absolute_risk, expected, rtol=1e-10, atol=0)
    expected_avg = [
        gail_oracle.absolute_risk(x["T1"][i], x["T2"][i], int(x["Race"][i]), 1, 1, average=True)
        for i in range(len(rows))
    ]
    np.testing.assert_allclose(result.average_risk, expected_avg, rtol=1e-10, atol=0)
    # The pipeline's precomputed pattern tables and the stage function agree.
    stage = gail.absolute_risk(x["T1"], x["T2"], x["Race"], rr1, rr2)
    np.testing.assert_allclose(result.absolute_risk, stage, rtol=1e-12, atol=0)


@PROPERTY_SETTINGS
@given(windows(), RACES, RELATIVE_RISKS, RELATIVE_RISKS)
def test_stage3_agrees_with_the_oracle_for_any_relative_risk(gail_oracle, window, race, rr1, rr2):
    t1, t2 = window
    expected = gail_oracle.absolute_risk(t1, t2, race, rr1, rr2)
    actual = gail.absolute_risk(t1, t2, race, rr1, rr2)[0]
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=0)


@PROPERTY_SETTINGS
@given(st.lists(women(), min_size=1, max_size=20))
def test_average_risk_is_consistent(gail_oracle, rows):
    x = columns(rows)
    result = gail.risk_bcra(**x)
    average = gail.average_risk(x["T1"], x["T2"], x["Race"])
    np.testing.assert_array_equal(result.average_risk, average)
    # It ignores the risk factors: the lowest-category woman has the same average risk.
    lowest = gail.risk_bcra(
        x["T1"], x["T2"], N_Biop=0, HypPlas=99, AgeMen=14, Age1st=19, N_Rels=0, Race=x["Race"]
    )
    np.testing.assert_array_equal(lowest.average_risk, average)
    # Races 1 and 4 share the Wh_Avg rates.
    np.testing.assert_array_equal(
        gail.average_risk(x["T1"], x["T2"], 1), gail.average_risk(x["T1"], x["T2"], 4)
    )
    # Other races use their own rates with RR = 1 and no (1 - AR): the stage function with
    # RR = 1 / (1 - AR) has the same hazards.
    races = x["Race"].astype(int)
    own = ~np.isin(races, [1, 4])
    for i in np.flatnonzero(own):
        ar_lt, ar_ge = gail_oracle.one_minus_attributable_risk(races[i])
        same = gail.absolute_risk(x["T1"][i], x["T2"][i], races[i], 1 / ar_lt, 1 / ar_ge)[0]
        np.testing.assert_allclose(same, average[i], rtol=1e-12)


# --- Splitting a window -------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    st.floats(20.0, 89.0),
    st.floats(0.25, 30.0),
    st.floats(0.25, 30.0),
    RACES,
    RELATIVE_RISKS,
    RELATIVE_RISKS,
)
def test_window_splits_at_an_inner_age(gail_oracle, t1, gap1, gap2, race, rr1, rr2):
    """r(t1, t3) = r(t1, t2) + S(t1, t2) * r(t2, t3) for t1 < t2 < t3.

    Derivation: for a woman alive and free of breast cancer at t1, cancer in [t1, t3) happens
    either in [t1, t2), or after reaching t2 alive and free -- probability
    S(t1, t2) = exp(-integral of (h1 + h2)) = 1 - r(t1, t2) - P(death from other causes first in
    [t1, t2)) -- and then in [t2, t3), which by the Markov property has probability r(t2, t3).
    The BCRAT sum is exactly this (a year cut at t2 splits 1 - e^{-T(a+b)} into
    (1 - e^{-Ta}) + e^{-Ta}(1 - e^{-Tb})). S comes from the oracle's hazards.
    """
    t2 = min(t1 + gap1, 89.75)
    t3 = min(t2 + gap2, 90.0)
    r = gail.absolute_risk([t1, t1, t2], [t2, t3, t3], race, rr1, rr2)
    r12, r13, r23 = r
    survival = gail_oracle.survival(t1, t2, race, rr1, rr2)
    assert 0 < survival <= 1 - r12 + 1e-15  # P(death from other causes) >= 0
    np.testing.assert_allclose(r13, r12 + survival * r23, rtol=1e-11, atol=0)
    # And without the oracle: r13 > r12 and the implied survival is in (0, 1 - r12].
    implied = (r13 - r12) / r23
    assert r13 > r12
    assert 0 < implied <= (1 - r12) * (1 + 1e-9)
