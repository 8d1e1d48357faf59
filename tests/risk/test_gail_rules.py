"""Rule-level tests of pebs.risk.gail that the R reference sample covers thinly.

Expected values come from the BCRAT specification (Gail et al., JNCI 1989; R package BCRA 2.1.2) and
from hand calculations with the published parameter values, written out next to each test
(parameters: ``src/pebs/risk/gail/data/*.csv``, i.e. R BCRA 2.1.2's ``BrCa_beta``, ``BrCa_lambda1``,
``BrCa_lambda2``, ``BrCa_1_AR``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from pebs.risk import gail
from pebs.risk._arrays import ModelInputError
from pebs.risk.gail import GailError

# A valid White woman; each test overrides what it needs.
BASE = {
    "T1": 45.0,
    "T2": 50.0,
    "N_Biop": 0,
    "HypPlas": 99,
    "AgeMen": 13,
    "Age1st": 19,
    "N_Rels": 0,
    "Race": 1,
}

# White (Wh.Gail) log relative risks, beta_log_rr.csv.
WH_B1, WH_B2, WH_B3, WH_B4, WH_B5, WH_B6 = (
    0.5292641686,
    0.0940103059,
    0.2186262218,
    0.9583027845,
    -0.288042483,
    -0.1908113865,
)
WH_ONE_MINUS_AR = 0.5788413  # both age bands, one_minus_attributable_risk.csv


def bcra(**overrides) -> gail.GailResult:
    return gail.risk_bcra(**{**BASE, **overrides})


def one(values) -> float:
    array = np.asarray(values)
    assert array.shape == (1,)
    return float(array[0])


# --- Error flags and reasons --------------------------------------------------------------------

FLAG_CASES = [
    # (flag, field named in the reason, overrides)
    (GailError.T1_OUT_OF_RANGE, "T1", {"T1": 19.5, "T2": 25}),
    (GailError.T1_OUT_OF_RANGE, "T1", {"T1": 19.999, "T2": 20.5}),
    (GailError.T2_ABOVE_90, "T2", {"T1": 85, "T2": 90.5}),
    (GailError.T2_NOT_AFTER_T1, "T2", {"T2": 45}),
    (GailError.T2_NOT_AFTER_T1, "T2", {"T2": 40}),
    (GailError.RACE_UNKNOWN, "Race", {"Race": 0}),
    (GailError.RACE_UNKNOWN, "Race", {"Race": 12}),
    (GailError.RACE_UNKNOWN, "Race", {"Race": 2.5}),
    (GailError.RACE_UNKNOWN, "Race", {"Race": np.nan}),
    (GailError.HYPPLAS_WITHOUT_BIOPSY, "HypPlas", {"N_Biop": 0, "HypPlas": 0}),
    (GailError.HYPPLAS_WITHOUT_BIOPSY, "HypPlas", {"N_Biop": 0, "HypPlas": 1}),
    (GailError.HYPPLAS_WITHOUT_BIOPSY, "HypPlas", {"N_Biop": 99, "HypPlas": 0}),
    (GailError.HYPPLAS_WITHOUT_BIOPSY, "HypPlas", {"N_Biop": 99, "HypPlas": 1}),
    (GailError.HYPPLAS_CODE, "HypPlas", {"N_Biop": 1, "HypPlas": 2}),
    (GailError.HYPPLAS_CODE, "HypPlas", {"N_Biop": 2, "HypPlas": 98}),
    (GailError.HYPPLAS_CODE, "HypPlas", {"N_Biop": 3, "HypPlas": np.nan}),
    (GailError.N_BIOP_INVALID, "N_Biop", {"N_Biop": -1}),
    (GailError.N_BIOP_INVALID, "N_Biop", {"N_Biop": 1.5}),
    (GailError.N_BIOP_INVALID, "N_Biop", {"N_Biop": np.nan}),
    (GailError.AGE_MEN_INVALID, "AgeMen", {"AgeMen": 0}),
    (GailError.AGE_MEN_INVALID, "AgeMen", {"AgeMen": -1}),
    (GailError.AGE_MEN_INVALID, "AgeMen", {"AgeMen": 45.5, "Age1st": 98}),  # > T1
    (GailError.AGE_MEN_INVALID, "AgeMen", {"AgeMen": np.nan}),
    (GailError.AGE_1ST_INVALID, "Age1st", {"Age1st": 12}),  # before menarche (13)
    (GailError.AGE_1ST_INVALID, "Age1st", {"Age1st": 45.5}),  # after T1
    (GailError.AGE_1ST_INVALID, "Age1st", {"Age1st": 97}),
    (GailError.AGE_1ST_INVALID, "Age1st", {"Age1st": 100}),
    (GailError.AGE_1ST_INVALID, "Age1st", {"Age1st": np.nan}),
    (GailError.N_RELS_INVALID, "N_Rels", {"N_Rels": -1}),
    (GailError.N_RELS_INVALID, "N_Rels", {"N_Rels": 2.5}),  # R accepts 2.5; pebs is stricter
    (GailError.N_RELS_INVALID, "N_Rels", {"N_Rels": 100}),
    (GailError.N_RELS_INVALID, "N_Rels", {"N_Rels": np.nan}),
]


@pytest.mark.parametrize(("flag", "field", "overrides"), FLAG_CASES)
def test_each_flag_is_triggered_alone_with_a_reason_naming_the_field(flag, field, overrides):
    result = bcra(**overrides)
    assert one(result.error) == flag, f"{overrides}: got {GailError(int(result.error[0]))!r}"
    assert not result.is_valid[0]
    assert np.isnan(result.absolute_risk[0])
    assert np.isnan(result.average_risk[0])
    assert np.isnan(result.relative_risk.under_50[0])
    assert np.isnan(result.relative_risk.from_50[0])
    text = gail.describe(flag)
    assert field in text
    assert text == gail.ERROR_REASONS[flag]
    assert result.reasons()[0] == text


def test_base_woman_is_valid():
    result = bcra()
    assert one(result.error) == 0
    assert result.reasons()[0] == ""
    assert gail.describe(0) == ""


def test_every_flag_has_a_case_and_a_reason():
    assert {flag for flag, _, _ in FLAG_CASES} == set(GailError)
    assert set(gail.ERROR_REASONS) == set(GailError)
    fields = {
        GailError.T1_OUT_OF_RANGE: "T1",
        GailError.T2_ABOVE_90: "T2",
        GailError.T2_NOT_AFTER_T1: "T2",
        GailError.RACE_UNKNOWN: "Race",
        GailError.HYPPLAS_WITHOUT_BIOPSY: "HypPlas",
        GailError.HYPPLAS_CODE: "HypPlas",
        GailError.N_BIOP_INVALID: "N_Biop",
        GailError.AGE_MEN_INVALID: "AgeMen",
        GailError.AGE_1ST_INVALID: "Age1st",
        GailError.N_RELS_INVALID: "N_Rels",
    }
    for flag, field in fields.items():
        assert field in gail.ERROR_REASONS[flag], flag
    flags = [int(f) for f in GailError]
    assert sorted(flags) == [1 << k for k in range(len(flags))], "flags must be distinct bits"


def test_several_flags_combine_and_are_all_described():
    result = bcra(T1=85, T2=91, Race=12, AgeMen=0, N_Rels=-1)
    expected = (
        GailError.T2_ABOVE_90
        | GailError.RACE_UNKNOWN
        | GailError.AGE_MEN_INVALID
        | GailError.N_RELS_INVALID
    )
    assert one(result.error) == expected
    text = result.reasons()[0]
    assert text == "; ".join(
        gail.ERROR_REASONS[f]
        for f in (
            GailError.T2_ABOVE_90,
            GailError.RACE_UNKNOWN,
            GailError.AGE_MEN_INVALID,
            GailError.N_RELS_INVALID,
        )
    )
    for field in ("T2", "Race", "AgeMen", "N_Rels"):
        assert field in text


def test_flags_are_per_row_in_a_vector():
    result = gail.risk_bcra(
        T1=[45, 45, 19, 45],
        T2=[50, 50, 25, 50],
        N_Biop=[0, -1, 0, 1],
        HypPlas=[99, 99, 99, 7],
        AgeMen=[13, 13, 13, 13],
        Age1st=[19, 19, 19, 19],
        N_Rels=[0, 0, 0, 0],
        Race=[1, 1, 1, 13],
    )
    assert result.error.tolist() == [
        0,
        GailError.N_BIOP_INVALID,
        GailError.T1_OUT_OF_RANGE,
        GailError.HYPPLAS_CODE | GailError.RACE_UNKNOWN,
    ]
    assert result.error.dtype == np.int32
    assert np.isfinite(result.absolute_risk[0])
    assert np.isnan(result.absolute_risk[1:]).all()
    assert result.reasons()[0] == ""
    assert "N_Biop" in result.reasons()[1]
    assert "T1" in result.reasons()[2]


# --- Recoding boundaries (spec table) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("age_men", "expected"),
    [(99, 0), (14, 0), (45, 0), (13.99, 1), (12, 1), (11.99, 2), (7, 2), (0.5, 2)],
)
def test_menarche_categories(age_men, expected):
    c = gail.recode(**{**BASE, "AgeMen": age_men, "Age1st": 99})
    assert one(c.error) == 0
    assert one(c.menarche) == expected


@pytest.mark.parametrize(
    ("age_1st", "expected"),
    [
        (99, 0),
        (13, 0),
        (19.9, 0),
        (20, 1),
        (24.9, 1),
        (25, 2),
        (29.9, 2),
        (98, 2),
        (30, 3),
        (45, 3),
    ],
)
def test_first_birth_categories(age_1st, expected):
    c = gail.recode(**{**BASE, "Age1st": age_1st})
    assert one(c.error) == 0
    assert one(c.first_birth) == expected


def test_first_birth_check_skipped_when_menarche_unknown():
    c = gail.recode(**{**BASE, "AgeMen": 99, "Age1st": 10})
    assert one(c.error) == 0
    assert one(c.first_birth) == 0


@pytest.mark.parametrize(
    ("n_biop", "hyp", "nb", "r_hyp"),
    [
        (0, 99, 0, 1.0),
        (99, 99, 0, 1.0),
        (1, 99, 1, 1.0),
        (1, 0, 1, 0.93),
        (1, 1, 1, 1.82),
        (2, 0, 2, 0.93),
        (5, 1, 2, 1.82),
        (98, 0, 2, 0.93),  # as R: 98 is a count here, not a code
    ],
)
def test_biopsy_categories_and_hyperplasia_multiplier(n_biop, hyp, nb, r_hyp):
    c = gail.recode(**{**BASE, "N_Biop": n_biop, "HypPlas": hyp})
    assert one(c.error) == 0
    assert one(c.biopsies) == nb
    assert one(c.hyperplasia_rr) == r_hyp


@pytest.mark.parametrize(("n_rels", "expected"), [(0, 0), (99, 0), (1, 1), (2, 2), (5, 2), (98, 2)])
def test_relatives_categories(n_rels, expected):
    c = gail.recode(**{**BASE, "N_Rels": n_rels})
    assert one(c.error) == 0
    assert one(c.relatives) == expected


def test_pattern_number_formula_by_hand():
    # NB 2, AM 1 (AgeMen 12.5), AF 3 (Age1st 31), NR 1: 2*36 + 1*12 + 3*3 + 1 + 1 = 95
    c = gail.recode(
        **{**BASE, "N_Biop": 4, "HypPlas": 0, "AgeMen": 12.5, "Age1st": 31, "N_Rels": 1}
    )
    assert one(c.pattern_number) == 95
    assert one(gail.recode(**{**BASE, "AgeMen": 14}).pattern_number) == 1  # every factor lowest
    assert one(gail.recode(**{**BASE, "N_Rels": -1}).pattern_number) == 0  # invalid factor


# --- Race-specific regrouping -------------------------------------------------------------------

PROFILE_P = {"N_Biop": 2, "HypPlas": 1, "AgeMen": 11, "Age1st": 27, "N_Rels": 2}  # 2, 2, 2, 2
PROFILE_Q = {"N_Biop": 1, "HypPlas": 0, "AgeMen": 12.5, "Age1st": 32, "N_Rels": 1}  # 1, 1, 3, 1
PROFILE_R = {"N_Biop": 0, "HypPlas": 99, "AgeMen": 14, "Age1st": 98, "N_Rels": 0}  # 0, 0, 2, 0
PROFILE_S = {"N_Biop": 3, "HypPlas": 99, "AgeMen": 9, "Age1st": 22, "N_Rels": 5}  # 2, 2, 1, 2
ASIAN = (6, 7, 8, 9, 10, 11)

REGROUPING = [
    # (profile, race, (NB, AM, AF, NR)) -- from BCRA 2.1.2's regrouping rules
    *[(PROFILE_P, race, (2, 2, 2, 2)) for race in (1, 4)],
    (PROFILE_P, 2, (2, 1, 0, 2)),  # AA: AF -> 0, AM 2 -> 1
    (PROFILE_P, 3, (1, 0, 1, 1)),  # HU: NB 2 -> 1, AM -> 0, AF 2 -> 1 (parous), NR 2 -> 1
    (PROFILE_P, 5, (1, 2, 1, 1)),  # HF: as HU but AM kept
    *[(PROFILE_P, race, (2, 2, 2, 1)) for race in ASIAN],  # NR 2 -> 1 only
    *[(PROFILE_Q, race, (1, 1, 3, 1)) for race in (1, 4, *ASIAN)],
    (PROFILE_Q, 2, (1, 1, 0, 1)),
    (PROFILE_Q, 3, (1, 0, 2, 1)),  # AF 3 -> 2
    (PROFILE_Q, 5, (1, 1, 2, 1)),
    *[(PROFILE_R, race, (0, 0, 2, 0)) for race in (1, 3, 4, 5, *ASIAN)],  # nulliparous stays 2
    (PROFILE_R, 2, (0, 0, 0, 0)),
    *[(PROFILE_S, race, (2, 2, 1, 2)) for race in (1, 4)],
    (PROFILE_S, 2, (2, 1, 0, 2)),
    (PROFILE_S, 3, (1, 0, 1, 1)),  # AF 1 stays 1
    (PROFILE_S, 5, (1, 2, 1, 1)),
    *[(PROFILE_S, race, (2, 2, 1, 1)) for race in ASIAN],
]


@pytest.mark.parametrize(("profile", "race", "expected"), REGROUPING)
def test_race_specific_regrouping(profile, race, expected):
    c = gail.recode(**{**BASE, **profile, "Race": race})
    assert one(c.error) == 0
    got = (one(c.biopsies), one(c.menarche), one(c.first_birth), one(c.relatives))
    assert got == expected
    assert one(c.race) == race


def test_regrouping_vectorised_over_all_races():
    races = np.arange(1, 12)
    c = gail.recode(**{**BASE, **PROFILE_P, "Race": races})
    expected = {race: cats for profile, race, cats in REGROUPING if profile is PROFILE_P}
    got = list(zip(c.biopsies, c.menarche, c.first_birth, c.relatives, strict=True))
    assert [tuple(map(int, g)) for g in got] == [expected[r] for r in races]


@pytest.mark.parametrize("age_1st", [12, 45.5, 97, 100, -5, np.nan])
def test_african_american_age_at_first_birth_never_errors(age_1st):
    for_white = gail.recode(**{**BASE, "Age1st": age_1st})
    assert one(for_white.error) == GailError.AGE_1ST_INVALID
    c = gail.recode(**{**BASE, "Age1st": age_1st, "Race": 2})
    assert one(c.error) == 0
    assert one(c.first_birth) == 0
    result = gail.risk_bcra(**{**BASE, "Age1st": age_1st, "Race": 2})
    assert np.isfinite(result.absolute_risk).all()


def test_african_american_menarche_is_still_checked():
    c = gail.recode(**{**BASE, "AgeMen": 46, "Age1st": 12, "Race": 2})
    assert one(c.error) == GailError.AGE_MEN_INVALID


def test_african_american_risk_does_not_depend_on_age_at_first_birth():
    result = gail.risk_bcra(**{**BASE, "Age1st": [12, 19, 25, 32, 98, 99], "Race": 2})
    assert (result.error == 0).all()
    assert np.unique(result.absolute_risk).size == 1


def test_hispanic_nulliparous_is_not_merged_with_25_to_29():
    # Hispanic: AF 2 -> 1 unless nulliparous; a nulliparous woman keeps AF 2.
    c = gail.recode(**{**BASE, "Age1st": [27, 98, 35], "Race": 5})
    assert c.first_birth.tolist() == [1, 2, 2]


# --- Relative risk by hand ----------------------------------------------------------------------


def test_relative_risk_white_by_hand():
    # NB 1 (HypPlas 0 -> 0.93), AM 1, AF 2, NR 1:
    # LP1 = b1 + b2 + 2 b3 + b4 + 2*1*b6 + ln 0.93; LP2 = LP1 + 1*b5
    lp1 = WH_B1 + WH_B2 + 2 * WH_B3 + WH_B4 + 2 * WH_B6 + math.log(0.93)
    lp2 = lp1 + WH_B5
    rr = gail.relative_risk(gail.recode(**{**BASE, **PROFILE_Q, "Age1st": 27}))
    assert one(rr.under_50) == pytest.approx(math.exp(lp1), rel=1e-14)
    assert one(rr.from_50) == pytest.approx(math.exp(lp2), rel=1e-14)


@pytest.mark.parametrize(
    ("race", "lp1", "lp2"),
    [
        # Profile P after regrouping, with R_Hyp 1.82 (HypPlas 1):
        # AA (AA.CARE) NB 2, AM 1, AF 0, NR 2
        (
            2,
            2 * 0.1822121131 + 0.2672530336 + 2 * 0.4757242578 + math.log(1.82),
            2 * 0.1822121131 + 0.2672530336 + 2 * 0.4757242578 + math.log(1.82) + 2 * -0.1119411682,
        ),
        # HU (HU.Gail) NB 1, AM 0, AF 1, NR 1; beta5 = beta6 = 0
        (3, 0.0970783641 + 0.2318368334 + 0.166685441 + math.log(1.82), None),
        # HF (HF.Gail) NB 1, AM 2, AF 1, NR 1
        (5, 0.4798624017 + 2 * 0.2593922322 + 0.4669246218 + 0.9076679727 + math.log(1.82), None),
        # Asian (Asian.AABCS) NB 2, AM 2, AF 2, NR 1
        (
            7,
            2 * 0.55263612260619
            + 2 * 0.07499257592975
            + 2 * 0.27638268294593
            + 0.79185633720481
            + math.log(1.82),
            None,
        ),
    ],
)
def test_relative_risk_other_models_by_hand(race, lp1, lp2):
    rr = gail.relative_risk(gail.recode(**{**BASE, **PROFILE_P, "Race": race}))
    assert one(rr.under_50) == pytest.approx(math.exp(lp1), rel=1e-14)
    assert one(rr.from_50) == pytest.approx(math.exp(lp1 if lp2 is None else lp2), rel=1e-14)


def test_other_race_uses_the_white_model_and_rates():
    # Race 4 (Other/Native American): NA.Gail betas and NA.1983_87 rates equal the White ones.
    white = gail.risk_bcra(**{**BASE, **PROFILE_P, "T2": 90})
    other = gail.risk_bcra(**{**BASE, **PROFILE_P, "T2": 90, "Race": 4})
    assert one(other.absolute_risk) == one(white.absolute_risk)
    assert one(other.average_risk) == one(white.average_risk)
    assert one(other.relative_risk.under_50) == one(white.relative_risk.under_50)


def test_lowest_categories_give_relative_risk_one_for_every_race():
    rr = gail.relative_risk(gail.recode(**{**BASE, "AgeMen": 14, "Race": np.arange(1, 12)}))
    np.testing.assert_array_equal(rr.under_50, np.ones(11))
    np.testing.assert_array_equal(rr.from_50, np.ones(11))


# --- Absolute risk over partial years, by hand --------------------------------------------------


def within_year(h1: float, h2: float, length: float) -> float:
    """Risk within one year of constant hazards, for someone alive and free at its start."""
    return h1 / (h1 + h2) * (1.0 - math.exp(-(h1 + h2) * length))


def test_average_white_woman_half_year_window_by_hand():
    # [45.25, 45.75): one piece of length 0.5 in age group 45-49, Wh_Avg.1992_96 rates:
    # lambda1 = 0.0019525, lambda2 = 0.001957; no RR, no (1 - AR).
    expected = within_year(0.0019525, 0.001957, 0.5)
    assert one(gail.average_risk(45.25, 45.75, 1)) == pytest.approx(expected, rel=1e-13)
    assert one(gail.average_risk(45.25, 45.75, 4)) == pytest.approx(expected, rel=1e-13)


def test_individual_half_year_window_by_hand(bcra_reference):
    # Reference case 63: [45.25, 45.75), White, N_Biop 1 HypPlas 0 AgeMen 12 Age1st 25 N_Rels 1
    # -> NB 1, AM 1, AF 2, NR 1, R_Hyp 0.93 (age < 50 throughout: RR_Star1 only).
    rr1 = math.exp(WH_B1 + WH_B2 + 2 * WH_B3 + WH_B4 + 2 * WH_B6 + math.log(0.93))
    h1 = 0.001866 * WH_ONE_MINUS_AR * rr1  # Wh.1983_87, 45-49
    h2 = 0.002181
    expected = within_year(h1, h2, 0.5)
    r_value = bcra_reference.numeric["AbsRisk"][bcra_reference.case_id == 63]
    assert expected * 100 == pytest.approx(one(r_value), rel=1e-10), "hand calculation vs R"
    result = gail.risk_bcra(45.25, 45.75, 1, 0, 12, 25, 1, 1)
    assert one(result.absolute_risk) == pytest.approx(expected, rel=1e-12)


def crossing_50_by_hand(rr1: float, rr2: float) -> float:
    # [49.5, 50.5): half of year 49 (group 45-49, RR_Star1), then half of year 50 (group 50-54,
    # RR_Star2), the second half weighted by survival through the first.
    h1_49, h2_49 = 0.001866 * WH_ONE_MINUS_AR * rr1, 0.002181
    h1_50, h2_50 = 0.002211 * WH_ONE_MINUS_AR * rr2, 0.003655
    survive_49 = math.exp(-(h1_49 + h2_49) * 0.5)
    return within_year(h1_49, h2_49, 0.5) + survive_49 * within_year(h1_50, h2_50, 0.5)


def test_window_crossing_50_switches_relative_risk_by_hand(bcra_reference):
    # Reference case 60: White, N_Biop 2 HypPlas 1 AgeMen 11 Age1st 32 N_Rels 2
    # -> NB 2, AM 2, AF 3, NR 2, R_Hyp 1.82.
    lp1 = 2 * WH_B1 + 2 * WH_B2 + 3 * WH_B3 + 2 * WH_B4 + 3 * 2 * WH_B6 + math.log(1.82)
    rr1, rr2 = math.exp(lp1), math.exp(lp1 + 2 * WH_B5)
    expected = crossing_50_by_hand(rr1, rr2)
    r_value = bcra_reference.numeric["AbsRisk"][bcra_reference.case_id == 60]
    assert expected * 100 == pytest.approx(one(r_value), rel=1e-10), "hand calculation vs R"
    result = gail.risk_bcra(49.5, 50.5, 2, 1, 11, 32, 2, 1)
    assert one(result.absolute_risk) == pytest.approx(expected, rel=1e-12)
    assert one(result.relative_risk.under_50) == pytest.approx(rr1, rel=1e-14)
    assert one(result.relative_risk.from_50) == pytest.approx(rr2, rel=1e-14)
    # The switch matters: RR_Star1 throughout would be more than 10 % off.
    wrong = crossing_50_by_hand(rr1, rr1)
    assert abs(wrong - expected) > 0.1 * expected
    stage3 = gail.absolute_risk(49.5, 50.5, 1, rr1, rr2)
    assert one(stage3) == pytest.approx(expected, rel=1e-12)


def test_years_before_50_ignore_rr_star2_and_after_ignore_rr_star1():
    # Mathematically exact; numerically the cumulative tables of different RR profiles may differ
    # in the last bits, hence rtol 1e-13 rather than equality.
    before = gail.absolute_risk([49, 45.5, 20], [50, 49.75, 50], 1, 2.0, [1.0, 3.0, 50.0])
    np.testing.assert_allclose(
        before, gail.absolute_risk([49, 45.5, 20], [50, 49.75, 50], 1, 2.0, 1.0), rtol=1e-13
    )
    after = gail.absolute_risk([50, 50.5, 50], [51, 60.25, 90], 1, [1.0, 3.0, 50.0], 2.0)
    np.testing.assert_allclose(
        after, gail.absolute_risk([50, 50.5, 50], [51, 60.25, 90], 1, 9.0, 2.0), rtol=1e-13
    )
    # ... and the windows do depend on the RR of their own side of 50.
    assert (gail.absolute_risk([49, 50], [50, 51], 1, 4.0, 4.0) > 1.9 * before[0]).all()


def test_window_ending_on_a_whole_year_by_hand():
    # [45.5, 46): one piece of length 0.5; average White woman.
    expected = within_year(0.0019525, 0.001957, 0.5)
    assert one(gail.average_risk(45.5, 46, 1)) == pytest.approx(expected, rel=1e-13)
    # [44.5, 45.5): half of year 44 (group 40-44), then half of year 45 (group 45-49).
    h44 = (0.0011645, 0.0012534)
    h45 = (0.0019525, 0.001957)
    expected = within_year(*h44, 0.5) + math.exp(-sum(h44) * 0.5) * within_year(*h45, 0.5)
    assert one(gail.average_risk(44.5, 45.5, 1)) == pytest.approx(expected, rel=1e-13)


def test_zero_relative_risk_gives_zero_risk_and_invalid_rr_gives_nan():
    assert one(gail.absolute_risk(40, 90, 1, 0.0, 0.0)) == 0.0
    risks = gail.absolute_risk(40, 45, 1, [np.nan, 1.0, np.inf], [1.0, np.nan, 1.0])
    assert np.isnan(risks).all()


def test_stage_functions_reject_bad_windows_and_races_with_nan():
    t1 = [19.9, 45, 45, 85, 45, 45]
    t2 = [25, 45, 40, 90.5, 50, 50]
    race = [1, 1, 1, 1, 0, 12]
    assert np.isnan(gail.absolute_risk(t1, t2, race, 1.0, 1.0)).all()
    assert np.isnan(gail.average_risk(t1, t2, race)).all()


def test_lifetime_window_boundaries():
    result = gail.risk_bcra(**{**BASE, "T1": [20, 89.9, 89], "T2": 90})
    assert (result.error == 0).all()
    assert (result.absolute_risk > 0).all()
    assert result.absolute_risk[0] > result.absolute_risk[2] > result.absolute_risk[1]


# --- Structural errors --------------------------------------------------------------------------


def test_model_input_error_is_a_value_error():
    assert issubclass(ModelInputError, ValueError)


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"T1": [40.0, 45.0, 50.0], "N_Rels": [0, 1]}, "N_Rels"),
        ({"T1": [40.0, 45.0], "T2": [45.0, 50.0, 55.0]}, "T1"),
        ({"AgeMen": np.full((2, 2), 13.0)}, "AgeMen"),
        ({"Race": [[1]]}, "Race"),
        ({"HypPlas": "yes"}, "HypPlas"),
        ({"Race": ["white"]}, "Race"),
        ({"Age1st": [22, "twenty"]}, "Age1st"),
        ({"N_Biop": {"a": 1}}, "N_Biop"),
    ],
)
def test_structural_problems_raise_naming_the_argument(overrides, named):
    with pytest.raises(ModelInputError, match=rf"^{named}:"):
        gail.risk_bcra(**{**BASE, **overrides})
    with pytest.raises(ModelInputError, match=rf"^{named}:"):
        gail.recode(**{**BASE, **overrides})


def test_stage_functions_raise_naming_the_argument():
    with pytest.raises(ModelInputError, match=r"^rr_from_50:"):
        gail.absolute_risk(45, 50, 1, 1.0, np.ones((2, 1)))
    with pytest.raises(ModelInputError, match=r"^rr_under_50:"):
        gail.absolute_risk([45, 46, 47], [50, 51, 52], 1, [1.0, 1.0], 1.0)
    with pytest.raises(ModelInputError, match=r"^Race:"):
        gail.average_risk(45, 50, "white")
    with pytest.raises(ModelInputError, match=r"^T2:"):
        gail.average_risk(45, [[50]], 1)


def test_scalars_broadcast_and_empty_input_gives_empty_output():
    result = gail.risk_bcra(**{**BASE, "T1": [40.0, 45.0, 50.0]})
    assert result.absolute_risk.shape == (3,)
    empty = np.array([], dtype=float)
    result = gail.risk_bcra(*[empty] * 8)
    assert result.absolute_risk.shape == (0,)
    assert result.error.shape == (0,)
    assert gail.absolute_risk(empty, empty, empty, empty, empty).shape == (0,)
    assert gail.average_risk(empty, empty, empty).shape == (0,)
