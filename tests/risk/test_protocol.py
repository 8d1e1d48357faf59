"""The risk-model protocol: the Gail and personalised models satisfy it, give the same numbers as
their function APIs, report unknown inputs and the inputs of a rejection; the registry of
five-year models.

The ids and versions are those written with stored results (docs/models/cards.md,
docs/trial/risk-assessment.md); unknown inputs follow the codes of docs/models/gail.md §2 and
the rules of docs/models/personalised.md §3.
"""

from __future__ import annotations

import numpy as np
import pytest

from pebs.risk import gail, personalised, registry
from pebs.risk._arrays import ModelInputError
from pebs.risk.inputs import RiskInputs
from pebs.risk.protocol import FiveYearModel, FiveYearResult, Rejection, RiskModel, RiskResult

CODES = {"T1": [40, 55.5, 62, 45], "T2": [45, 90, 67, 50], "N_Biop": [1, 99, 0, 2],
         "HypPlas": [0, 99, 99, 99], "AgeMen": [12, 99, 13, 14], "Age1st": [98, 22, 99, 25],
         "N_Rels": [1, 2, 0, 99], "Race": [1, 6, 2, 1]}  # fmt: skip
WOMEN = {
    "age": [45.0, 52.5, 61.0], "n_biopsies": [0, None, 2], "atypical_hyperplasia": [None, None, 1],
    "age_at_menarche": [13, 12, None], "age_at_first_birth": [25, None, 31],
    "nulliparous": [False, True, False], "n_relatives": [0, 1, 2], "density": ["b", "", "d"],
    "prs_z": [0.5, -1.0, None],
}  # fmt: skip


@pytest.fixture(scope="module")
def france():
    return personalised.country_model("FR")


def test_gail_satisfies_the_protocol_with_the_numbers_of_risk_bcra():
    assert isinstance(gail.BCRAT, RiskModel)
    assert (gail.BCRAT.id, gail.BCRAT.name) == ("gail", "NCI BCRAT (Gail model)")
    assert gail.BCRAT.version == "BCRA 2.1.2 algorithm and parameters; pebs implementation 1"
    result = gail.BCRAT.assess(gail.BcraInputs(**CODES))
    assert isinstance(result, RiskResult)
    expected = gail.risk_bcra(**CODES)
    np.testing.assert_array_equal(result.absolute_risk, expected.absolute_risk)
    np.testing.assert_array_equal(result.error, expected.error)


def test_gail_unknown_inputs_are_the_99_codes():
    result = gail.BCRAT.assess(gail.BcraInputs(**CODES))
    assert gail.BCRAT.inputs == ("N_Biop", "HypPlas", "AgeMen", "Age1st", "N_Rels")
    assert result.unknown.shape == (4, 5)
    assert result.unknown_inputs(0) == ()  # Age1st 98 is nulliparous, an answer
    assert result.unknown_inputs(1) == ("N_Biop", "AgeMen")  # HypPlas 99: no known biopsy
    assert result.unknown_inputs(2) == ("Age1st",)  # HypPlas 99 after no biopsy: not applicable
    assert result.unknown_inputs(3) == ("HypPlas", "N_Rels")  # two biopsies, atypia unknown


def test_the_personalised_model_satisfies_the_five_year_protocol(france):
    assert isinstance(france, FiveYearModel)
    assert (france.id, france.version) == ("pebs-personalised-5y", personalised.MODEL_VERSION)
    assert france.name == personalised.MODEL_NAME
    assert france.inputs == (
        "n_biopsies", "atypical_hyperplasia", "age_menarche", "age_first_birth",
        "n_first_degree_relatives", "density", "prs_z",
    )  # fmt: skip
    result = france.assess(RiskInputs(**WOMEN))
    assert isinstance(result, FiveYearResult)
    expected = personalised.assess(france, **WOMEN)
    np.testing.assert_array_equal(result.risk_5y, expected.risk_5y)
    np.testing.assert_array_equal(result.level, expected.level)
    assert result.unknown_inputs(0) == ()  # hyperplasia is not asked without a biopsy
    assert result.unknown_inputs(1) == ("n_biopsies", "density")
    assert result.unknown_inputs(2) == ("age_menarche", "prs_z")
    assert [result.rejections(i) for i in range(3)] == [(), (), ()]


def test_a_rejection_names_its_inputs(france):
    result = france.assess(RiskInputs(
        age=[38, 50, 50], n_biopsies=[0, None, 0], atypical_hyperplasia=[None, None, 1],
        age_at_menarche=[13, None, 13], age_at_first_birth=[25, None, 25],
        n_relatives=[0, None, 0],
    ))  # fmt: skip
    (too_young,) = result.rejections(0)
    assert too_young == Rejection(personalised.model.REASONS[personalised.AssessmentError.AGE],
                                  ("age",))  # fmt: skip
    (no_classical,) = result.rejections(1)
    assert no_classical.inputs == ("n_biopsies", "age_menarche", "age_first_birth",
                                   "n_first_degree_relatives")  # fmt: skip
    (hyperplasia,) = result.rejections(2)  # atypia "yes" without a biopsy
    assert hyperplasia.inputs == ("atypical_hyperplasia",)
    assert result.reasons()[2] == hyperplasia.reason


def test_checked_inputs_are_float_vectors_of_one_length_and_checking_again_changes_nothing():
    inputs = RiskInputs(age=[45, 50], n_biopsies=0, atypical_hyperplasia=None, age_at_menarche=13,
                        age_at_first_birth=None, n_relatives=[1, 0], nulliparous=True,
                        density="B")  # fmt: skip
    checked = inputs.checked()
    np.testing.assert_array_equal(checked.density, [1, 1])
    assert checked.density.dtype == np.int8
    np.testing.assert_array_equal(checked.prs_z, [np.nan, np.nan])
    np.testing.assert_array_equal(checked.nulliparous, [1.0, 1.0])
    again = checked.checked()
    for name in ("age", "n_biopsies", "density", "prs_z"):
        np.testing.assert_array_equal(getattr(again, name), getattr(checked, name))
    np.testing.assert_array_equal(RiskInputs(**{**WOMEN, "density": [1, -1, 3]}).checked().density,
                                  [1, -1, 3])  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"density": ["b", "e", "a"]}, "BI-RADS density must be one of a, b, c, d"),
        ({"density": [0, 4, 1]}, "density: codes must be 0..3"),
        ({"density": ["a", "b"]}, "density: has 2 values but other arguments have 3"),
        ({"prs_z": [0.1, 0.2]}, "prs_z: has 2 values"),
        ({"age": "forty"}, "age: expected numbers"),
    ],
)  # fmt: skip
def test_structural_problems_raise_naming_the_argument(change, message):
    with pytest.raises(ModelInputError, match=message):
        RiskInputs(**{**WOMEN, **change}).checked()


def test_the_registry_gives_the_calibrated_model_and_refuses_other_ids():
    assert registry.model_ids() == ("pebs-personalised-5y",)
    assert registry.DEFAULT_MODEL == "pebs-personalised-5y"
    for model_id in registry.model_ids():  # listed under the id it stores
        assert registry.five_year_model(model_id, "FR").id == model_id
    assert registry.five_year_model("pebs-personalised-5y", "IT") is personalised.country_model(
        "IT"
    )
    with pytest.raises(registry.UnknownModelError) as refused:
        registry.five_year_model("Gail", "IT")
    assert str(refused.value) == ("model: unknown risk model 'Gail'; allowed: pebs-personalised-5y")
    with pytest.raises(ModelInputError):
        registry.five_year_model("pebs-personalised-5y", "XX")
