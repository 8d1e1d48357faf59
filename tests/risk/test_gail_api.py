"""The friendly ``pebs.risk.gail.risk`` API: same numbers as ``risk_bcra`` with BCRA's codes.

Expected values are either R's (reference file, translated into the friendly arguments) or the
``risk_bcra`` result for the equivalent BCRA codes (the code mapping is the thing under test:
unknown -> 99, nulliparous -> Age1st 98, hyperplasia "not applicable" -> 99 without biopsy).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pebs.risk import gail
from pebs.risk._arrays import ModelInputError

FRIENDLY = {
    "age": 40.0,
    "n_biopsies": 1,
    "atypical_hyperplasia": 0,
    "age_at_menarche": 12,
    "age_at_first_birth": 27,
    "n_relatives": 1,
    "race": "white",
}
CODES = {
    "T1": 40.0,
    "T2": 45.0,
    "N_Biop": 1,
    "HypPlas": 0,
    "AgeMen": 12,
    "Age1st": 27,
    "N_Rels": 1,
    "Race": 1,
}
RACE_NAMES = {
    "white": 1,
    "african_american": 2,
    "hispanic_us_born": 3,
    "other": 4,
    "hispanic_foreign_born": 5,
    "chinese": 6,
    "japanese": 7,
    "filipino": 8,
    "hawaiian": 9,
    "other_pacific_islander": 10,
    "other_asian": 11,
}


def assert_same_result(friendly: gail.GailResult, coded: gail.GailResult) -> None:
    np.testing.assert_array_equal(friendly.error, coded.error)
    np.testing.assert_array_equal(friendly.absolute_risk, coded.absolute_risk)
    np.testing.assert_array_equal(friendly.average_risk, coded.average_risk)
    np.testing.assert_array_equal(friendly.relative_risk.under_50, coded.relative_risk.under_50)
    np.testing.assert_array_equal(friendly.relative_risk.from_50, coded.relative_risk.from_50)
    for field in ("biopsies", "menarche", "first_birth", "relatives", "race"):
        np.testing.assert_array_equal(
            getattr(friendly.categories, field), getattr(coded.categories, field)
        )


def test_known_values_map_to_the_same_codes():
    assert_same_result(gail.risk(**FRIENDLY), gail.risk_bcra(**CODES))


@pytest.mark.parametrize("unknown", [np.nan, None])
def test_unknown_values_become_code_99(unknown):
    friendly = gail.risk(
        **{
            **FRIENDLY,
            "n_biopsies": unknown,
            "atypical_hyperplasia": unknown,
            "age_at_menarche": unknown,
            "age_at_first_birth": unknown,
            "n_relatives": unknown,
        }
    )
    coded = gail.risk_bcra(**{**CODES, "N_Biop": 99, "HypPlas": 99, "AgeMen": 99, "Age1st": 99})
    coded_rels = gail.risk_bcra(
        **{**CODES, "N_Biop": 99, "HypPlas": 99, "AgeMen": 99, "Age1st": 99, "N_Rels": 99}
    )
    assert_same_result(friendly, coded_rels)
    assert friendly.is_valid.all()
    # Unknown relatives (99) is NR 0, not NR 1: the two codings must differ.
    assert coded.absolute_risk[0] > coded_rels.absolute_risk[0]


def test_nulliparous_becomes_code_98_and_overrides_age_at_first_birth():
    coded = gail.risk_bcra(**{**CODES, "Age1st": 98})
    for age_1st in (np.nan, 27, 35):
        friendly = gail.risk(**{**FRIENDLY, "age_at_first_birth": age_1st, "nulliparous": True})
        assert_same_result(friendly, coded)
    assert gail.risk(**{**FRIENDLY, "nulliparous": True}).categories.first_birth[0] == 2


def test_nulliparous_per_woman():
    friendly = gail.risk(
        **{**FRIENDLY, "age_at_first_birth": [22, 22], "nulliparous": [False, True]},
    )
    coded = gail.risk_bcra(**{**CODES, "Age1st": [22, 98]})
    assert_same_result(friendly, coded)


@pytest.mark.parametrize("n_biopsies", [0, np.nan])
@pytest.mark.parametrize("hyperplasia", [0, False, np.nan, None])
def test_hyperplasia_not_applicable_without_biopsy(n_biopsies, hyperplasia):
    friendly = gail.risk(
        **{**FRIENDLY, "n_biopsies": n_biopsies, "atypical_hyperplasia": hyperplasia}
    )
    n_biop = 0 if n_biopsies == 0 else 99
    assert_same_result(friendly, gail.risk_bcra(**{**CODES, "N_Biop": n_biop, "HypPlas": 99}))
    assert friendly.is_valid.all()


@pytest.mark.parametrize("n_biopsies", [0, np.nan])
def test_hyperplasia_without_biopsy_is_a_contradiction(n_biopsies):
    friendly = gail.risk(**{**FRIENDLY, "n_biopsies": n_biopsies, "atypical_hyperplasia": True})
    assert friendly.error[0] == gail.GailError.HYPPLAS_WITHOUT_BIOPSY
    assert np.isnan(friendly.absolute_risk[0])


@pytest.mark.parametrize(("hyperplasia", "code"), [(True, 1), (1, 1), (False, 0), (np.nan, 99)])
def test_hyperplasia_with_biopsies(hyperplasia, code):
    friendly = gail.risk(**{**FRIENDLY, "n_biopsies": 2, "atypical_hyperplasia": hyperplasia})
    assert_same_result(friendly, gail.risk_bcra(**{**CODES, "N_Biop": 2, "HypPlas": code}))


def test_default_projection_is_five_years():
    friendly = gail.risk(**{**FRIENDLY, "age": [42.5, 20.0, 60.25]})
    coded = gail.risk_bcra(**{**CODES, "T1": [42.5, 20.0, 60.25], "T2": [47.5, 25.0, 65.25]})
    assert_same_result(friendly, coded)


def test_default_projection_is_capped_at_lifetime():
    # age + 5 would pass 90; the default stops at the end of the tables (T2 = 90).
    friendly = gail.risk(**{**FRIENDLY, "age": [87.0, 85.0]})
    coded = gail.risk_bcra(**{**CODES, "T1": [87.0, 85.0], "T2": 90})
    assert_same_result(friendly, coded)
    assert friendly.is_valid.all()


def test_missing_projection_age_entries_use_the_default():
    friendly = gail.risk(
        **{**FRIENDLY, "age": [40.0, 87.0, 50.0], "projection_age": [np.nan, None, 60]}
    )
    coded = gail.risk_bcra(**{**CODES, "T1": [40.0, 87.0, 50.0], "T2": [45.0, 90.0, 60.0]})
    assert_same_result(friendly, coded)


@pytest.mark.parametrize("race", ["white", 1, gail.Race.WHITE])
def test_scalar_race_broadcasts_over_vector_inputs(race):
    friendly = gail.risk(**{**FRIENDLY, "age": [40.0, 55.0, 87.0], "race": race})
    coded = gail.risk_bcra(**{**CODES, "T1": [40.0, 55.0, 87.0], "T2": [45.0, 60.0, 90.0]})
    assert_same_result(friendly, coded)


def test_explicit_projection_age_and_lifetime():
    friendly = gail.risk(**{**FRIENDLY, "projection_age": [50, 90, 91]}, nulliparous=False)
    assert friendly.absolute_risk.shape == (3,)
    coded = gail.risk_bcra(**{**CODES, "T2": [50, 90, 91]})
    assert_same_result(friendly, coded)
    assert friendly.error[2] == gail.GailError.T2_ABOVE_90


@pytest.mark.parametrize(("name", "code"), RACE_NAMES.items())
def test_race_names(name, code):
    friendly = gail.risk(**{**FRIENDLY, "race": name})
    assert friendly.categories.race[0] == code
    assert_same_result(friendly, gail.risk_bcra(**{**CODES, "Race": code}))


@pytest.mark.parametrize(
    "race",
    [
        "White",
        " WHITE ",
        1,
        1.0,
        gail.Race.WHITE,
        ["white"],
        np.array(["white"]),
        pd.Series(["white"]),
    ],
)
def test_race_spellings(race):
    assert_same_result(gail.risk(**{**FRIENDLY, "race": race}), gail.risk_bcra(**CODES))


def test_race_names_with_dashes_and_spaces():
    races = ["African-American", "hispanic us born", gail.Race.OTHER_ASIAN]
    friendly = gail.risk(**{**FRIENDLY, "age": [40, 40, 40], "race": races})
    assert friendly.categories.race.tolist() == [2, 3, 11]


def test_race_names_cover_the_enum():
    assert {member.name.lower(): int(member) for member in gail.Race} == RACE_NAMES


@pytest.mark.parametrize("name", ["martian", "hispanic", "asian", ""])
def test_unknown_race_name_raises_listing_allowed_names(name):
    with pytest.raises(ValueError, match="race") as info:
        gail.risk(**{**FRIENDLY, "race": name})
    for allowed in RACE_NAMES:
        assert allowed in str(info.value)


@pytest.mark.parametrize("race", [0, 12, np.nan, None])
def test_invalid_race_codes_are_rejected_rows(race):
    friendly = gail.risk(**{**FRIENDLY, "race": race})
    assert friendly.error[0] == gail.GailError.RACE_UNKNOWN
    assert np.isnan(friendly.absolute_risk[0])


def test_structural_errors_name_the_friendly_argument():
    with pytest.raises(ModelInputError, match=r"^age:"):
        gail.risk(**{**FRIENDLY, "age": "forty"})
    with pytest.raises(ModelInputError, match=r"^n_relatives:"):
        gail.risk(**{**FRIENDLY, "age": [40, 50, 60], "race": ["white"] * 3, "n_relatives": [0, 1]})
    with pytest.raises(ModelInputError, match=r"^age_at_menarche:"):
        gail.risk(**{**FRIENDLY, "age_at_menarche": [[12, 13]]})


def test_pandas_columns_work():
    frame = pd.DataFrame(
        {
            "age": [35.0, 52.0],
            "n_biopsies": [0, 2],
            "atypical_hyperplasia": [np.nan, 1],
            "age_at_menarche": [11, np.nan],
            "age_at_first_birth": [np.nan, 31],
            "n_relatives": [2, 0],
            "race": ["chinese", "hispanic_foreign_born"],
        }
    )
    friendly = gail.risk(**{column: frame[column] for column in frame})
    coded = gail.risk_bcra(
        T1=[35.0, 52.0],
        T2=[40.0, 57.0],
        N_Biop=[0, 2],
        HypPlas=[99, 1],
        AgeMen=[11, 99],
        Age1st=[99, 31],
        N_Rels=[2, 0],
        Race=[6, 5],
    )
    assert_same_result(friendly, coded)


def test_friendly_api_reproduces_r(bcra_reference):
    """Every row R accepted, translated to friendly arguments, gives R's AbsRisk (rtol 1e-10)."""
    ref = bcra_reference
    x = ref.numeric
    keep = ~ref.rejected & (x["N_Biop"] >= 0) & (x["N_Biop"] == np.floor(x["N_Biop"]))
    assert int(keep.sum()) == 6474  # all R-accepted rows except the documented stricter 57, 58

    def unknown_as_nan(values: np.ndarray) -> np.ndarray:
        return np.where(values == 99, np.nan, values)

    age_1st = x["Age1st"][keep]
    friendly = gail.risk(
        age=x["T1"][keep],
        projection_age=x["T2"][keep],
        n_biopsies=unknown_as_nan(x["N_Biop"][keep]),
        atypical_hyperplasia=unknown_as_nan(x["HypPlas"][keep]),
        age_at_menarche=unknown_as_nan(x["AgeMen"][keep]),
        age_at_first_birth=np.where(age_1st >= 98, np.nan, age_1st),
        nulliparous=age_1st == 98,
        n_relatives=unknown_as_nan(x["N_Rels"][keep]),
        race=x["Race"][keep].astype(int),
    )
    bad = ~(friendly.error == 0)
    assert not bad.any(), f"rejected case_ids {ref.ids(np.flatnonzero(keep)[bad])}"
    np.testing.assert_allclose(friendly.absolute_risk_pct, x["AbsRisk"][keep], rtol=1e-10, atol=0)
    np.testing.assert_allclose(
        friendly.average_risk_pct, x["AbsRisk_Avg"][keep], rtol=1e-10, atol=0
    )


def test_result_metadata():
    result = gail.risk(**FRIENDLY)
    assert result.model_name == gail.MODEL_NAME
    assert "BCRA 2.1.2" in result.model_version
    np.testing.assert_array_equal(result.absolute_risk_pct, result.absolute_risk * 100)
    np.testing.assert_array_equal(result.average_risk_pct, result.average_risk * 100)
