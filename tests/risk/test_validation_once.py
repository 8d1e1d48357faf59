"""Each public entry point of the risk models checks its array arguments once; the stages below it
take the checked arrays.

The check is :func:`pebs.risk._arrays.as_float_vectors`. Every ``pebs.risk`` module that holds it
(by ``from ... import`` or as ``_arrays.as_float_vectors``) gets a counting wrapper, so a second
check anywhere below a public call, in a module that exists today or a new one, is counted.
"""

from __future__ import annotations

import sys
from types import ModuleType

import numpy as np
import pytest

from pebs.risk import _arrays, gail, personalised
from pebs.risk.inputs import RiskInputs
from pebs.risk.reference_population import reference_population

KNOWN = {
    "age": [45.0, 52.5, 61.0], "n_biopsies": [0, 1, 2], "atypical_hyperplasia": [None, 0, 1],
    "age_at_menarche": [13, 12, 11], "age_at_first_birth": [25, None, 31],
    "nulliparous": [False, True, False], "n_relatives": [0, 1, 2], "density": ["b", "c", "d"],
    "prs_z": [0.5, -1.0, 1.2],
}  # fmt: skip
"""Three women with every input known (ages within 40-79, as the personalised model needs)."""
UNKNOWN = {
    **KNOWN, "n_biopsies": [0, None, 2], "age_at_menarche": [None, 12, 11],
    "density": ["", "c", None], "prs_z": [np.nan, -1.0, None],
}  # fmt: skip
"""The same women with classical factors, density and PRS unknown (the missing-covariate rule)."""
CODES = {"T1": [40, 55.5], "T2": [45, 90], "N_Biop": [1, 99], "HypPlas": [0, 99],
         "AgeMen": [12, 99], "Age1st": [98, 22], "N_Rels": [1, 2], "Race": [1, 6]}  # fmt: skip
FRIENDLY = {key: value for key, value in KNOWN.items() if key not in ("density", "prs_z")}


def _risk_modules() -> list[ModuleType]:
    return [
        module for name, module in sorted(sys.modules.items())
        if name == "pebs.risk" or name.startswith("pebs.risk.")
    ]  # fmt: skip


@pytest.fixture
def checks(monkeypatch) -> list[tuple[str, ...]]:
    """The argument names of every call of the check, in call order."""
    original = _arrays.as_float_vectors
    calls: list[tuple[str, ...]] = []

    def counting(**arguments):
        calls.append(tuple(arguments))
        return original(**arguments)

    holders = []
    for module in _risk_modules():
        for attribute, value in list(vars(module).items()):
            if value is original:
                monkeypatch.setattr(module, attribute, counting)
                holders.append(module.__name__)
    # the wrapper reaches the models' modules (the count below would otherwise be 0, not 1)
    assert {"pebs.risk._arrays", "pebs.risk.inputs", "pebs.risk.gail.inputs",
            "pebs.risk.gail.model"} <= set(holders)  # fmt: skip
    return calls


@pytest.fixture(scope="module")
def france():
    return personalised.country_model("FR")


@pytest.fixture(scope="module")
def cohort_model():
    """Calibrated on a user cohort: unknown inputs use iCARE's quantile-bin rule."""
    cohort = reference_population("IT", 3_000, rng=np.random.default_rng(5))
    return personalised.calibrate_country("IT", cohort)


def test_the_check_itself_counts(checks):
    _arrays.as_float_vectors(age=[40, 50])
    assert checks == [("age",)]


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("risk_bcra", lambda: gail.risk_bcra(**CODES)),
        ("recode", lambda: gail.recode(**CODES)),
        ("BCRAT.assess", lambda: gail.BCRAT.assess(gail.BcraInputs(**CODES))),
        ("risk", lambda: gail.risk(**FRIENDLY, race=["white", "chinese", 1])),
        ("risk with projection", lambda: gail.risk(**FRIENDLY, race=1, projection_age=90)),
        ("bcra_codes", lambda: gail.bcra_codes(**FRIENDLY, race=1)),
    ],
)  # fmt: skip
def test_gail_entry_points_check_once(checks, name, call):
    result = call()
    assert len(checks) == 1, f"{name}: checked {len(checks)} times: {checks}"
    assert result is not None


@pytest.mark.parametrize("women", [KNOWN, UNKNOWN], ids=["known", "unknown"])
def test_personalised_assess_checks_once(checks, france, women):
    result = personalised.assess(france, **women)
    assert len(checks) == 1, checks
    assert result.is_valid.all()


def test_the_protocol_entry_checks_once(checks, france):
    result = france.assess(RiskInputs(**UNKNOWN))
    assert len(checks) == 1, checks
    assert result.is_valid.all()


def test_a_user_cohort_model_checks_once(checks, cohort_model):
    result = personalised.assess(cohort_model, **UNKNOWN)
    assert len(checks) == 1, checks
    assert result.is_valid.all()


@pytest.fixture(scope="module")
def population():
    return reference_population("FR", 50, rng=np.random.default_rng(2), ages=[45, 60])


def test_assessing_a_checked_population_checks_nothing_again(checks, france, population):
    result = personalised.assess_population(france, population)
    assert checks == []
    assert result.is_valid.all()
