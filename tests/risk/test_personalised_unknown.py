"""Women with unknown inputs: each one's risk is her own, whoever is assessed with her."""

from __future__ import annotations

import numpy as np
import pytest

from pebs.risk import personalised
from pebs.risk.personalised import unknown
from pebs.risk.reference_population import PRS_POINTS, factor_distributions_of

N_WOMEN = 400


@pytest.fixture(scope="module")
def france():
    return personalised.country_model("FR")


def _women(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Valid answers, each input unknown (NaN; density -1) for about a third of the women."""

    def sometimes_unknown(values) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        return np.where(rng.random(n) < 0.35, np.nan, values)

    n_biopsies = sometimes_unknown(rng.integers(0, 3, n))
    return {
        "age": rng.uniform(40.0, 79.99, n),
        "n_biopsies": n_biopsies,
        "atypical_hyperplasia": np.where(
            n_biopsies > 0, sometimes_unknown(rng.integers(0, 2, n)), np.nan
        ),
        "age_at_menarche": sometimes_unknown(rng.integers(10, 16, n)),
        "age_at_first_birth": sometimes_unknown(rng.integers(16, 36, n)),
        "n_relatives": sometimes_unknown(rng.integers(0, 3, n)),
        "density": np.where(rng.random(n) < 0.35, -1, rng.integers(0, 4, n)),
        "prs_z": sometimes_unknown(rng.standard_normal(n)),
    }


def _one(women: dict[str, np.ndarray], i: int) -> dict[str, np.ndarray]:
    return {name: values[i : i + 1] for name, values in women.items()}


def test_a_woman_gets_the_same_risk_alone_and_among_women_with_other_unknowns(france):
    women = _women(np.random.default_rng(11), N_WOMEN)
    together = personalised.assess(france, **women)
    partial = together.is_valid & (together.unknown_code != 0)
    assert np.unique(together.unknown_code[partial]).size >= 20  # many sets of unknown inputs
    alone = np.array(
        [personalised.assess(france, **_one(women, i)).risk_5y[0] for i in range(N_WOMEN)]
    )
    assert (np.isnan(alone) == ~together.is_valid).all()
    np.testing.assert_array_equal(together.risk_5y, alone)  # to the last bit


def _bits(values: np.ndarray) -> np.ndarray:
    """The floats' bit patterns (NaN equal to NaN, -0.0 apart from 0.0)."""
    return np.ascontiguousarray(values, dtype=np.float64).view(np.int64)


@pytest.mark.parametrize("chunk", [1, 3, 64, 250, 999])
def test_every_risk_is_the_same_to_the_bit_in_any_chunking_and_order(france, chunk):
    women = _women(np.random.default_rng(13), 1_000)
    whole = personalised.assess(france, **women)
    assert np.unique(whole.unknown_code[whole.is_valid]).size >= 20
    order = np.random.default_rng(chunk).permutation(1_000)
    shuffled = {name: values[order] for name, values in women.items()}
    risks = np.empty(1_000)
    for lo in range(0, 1_000, chunk):
        part = {name: values[lo : lo + chunk] for name, values in shuffled.items()}
        risks[order[lo : lo + chunk]] = personalised.assess(france, **part).risk_5y
    np.testing.assert_array_equal(_bits(risks), _bits(whole.risk_5y))


def test_risks_do_not_depend_on_which_combinations_were_enumerated_before(france):
    women = _women(np.random.default_rng(12), N_WOMEN)
    unknown._combinations.cache_clear()
    first = personalised.assess(france, **women).risk_5y
    unknown._combinations.cache_clear()
    personalised.assess(france, **{name: values[::-1] for name, values in women.items()})
    personalised.assess(france, **_one(women, 0))
    again = personalised.assess(france, **women).risk_5y
    np.testing.assert_array_equal(again, first)


def test_the_combinations_of_unknown_inputs_are_enumerated_first_input_slowest():
    combinations = unknown._combinations("FR", ("menarche", "density", "prs"))
    assert combinations.size == 3 * 4 * PRS_POINTS
    np.testing.assert_array_equal(
        combinations.values["menarche"], np.repeat([0, 1, 2], 4 * PRS_POINTS)
    )
    np.testing.assert_array_equal(
        combinations.values["density"], np.tile(np.repeat([0, 1, 2, 3], PRS_POINTS), 3)
    )
    nodes, weights = np.polynomial.hermite_e.hermegauss(PRS_POINTS)
    np.testing.assert_array_equal(combinations.values["prs"], np.tile(nodes, 12))
    # density's shares depend on her age: they are not in the static part
    menarche = factor_distributions_of("FR").shares("menarche")
    expected = np.repeat(menarche, 4 * PRS_POINTS) * np.tile(weights / weights.sum(), 12)
    np.testing.assert_allclose(combinations.static, expected, rtol=1e-15)
    with pytest.raises(ValueError, match="read-only"):
        combinations.static[0] = 1.0
