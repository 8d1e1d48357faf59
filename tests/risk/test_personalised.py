"""The open personalised five-year model: levels, calibration to each country, missing inputs,
monotonicity, and agreement of its parts with the models it is built from."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pebs.risk import gail, icare, personalised
from pebs.risk._arrays import ModelInputError
from pebs.risk.country import available_countries
from pebs.risk.personalised import validation
from pebs.risk.reference_population import reference_population

WOMAN = {
    "age": 52.0,
    "n_biopsies": 1,
    "atypical_hyperplasia": 0,
    "age_at_menarche": 12,
    "age_at_first_birth": 27,
    "n_relatives": 1,
}


@pytest.fixture(scope="module")
def france():
    return personalised.country_model("FR")


@pytest.mark.parametrize(
    ("risk", "level"),
    [
        (0.0, "low"), (0.00999, "low"), (0.01, "average"), (0.0166, "average"),
        (0.0167, "high"), (0.0599, "high"), (0.06, "very_high"), (0.5, "very_high"),
        (math.nan, ""),
    ],
)  # fmt: skip
def test_mypebs_levels_at_the_published_thresholds(risk, level):
    # MyPeBS (NCT03672331): low < 1%, average 1% to < 1.67%, high 1.67% to < 6%, very high >= 6%.
    assert personalised.risk_level([risk]).tolist() == [level]


@pytest.mark.parametrize("country", available_countries())
@pytest.mark.parametrize("age", [40, 45, 50, 55, 60, 65, 70, 75, 79])
def test_reference_women_of_each_age_match_the_incidence(country, age):
    """The calibration's own reference women of `age` have a mean five-year risk equal to the
    cumulative incidence of the tables (up to the whole-year sum: measured <= 1.3e-5 relative).
    The independent check with drawn women is test_personalised_calibration.py."""
    check = validation.calibration_check(personalised.country_model(country), age)
    assert check.reference_mean == pytest.approx(check.marginal, rel=5e-5)


def test_marginal_risk_by_hand(france):
    cal = france.calibration.at(50)
    lam, mu = cal.incidence[:5], cal.competing_mortality[:5]  # ages 50..54
    expected = 0.0
    survival = 1.0
    for k in range(5):
        expected += lam[k] * survival
        survival *= math.exp(-(lam[k] + mu[k]))
    assert validation.marginal_risk(cal, 50) == pytest.approx(expected, rel=1e-14)


def test_yearly_terms_keep_survival_and_give_the_yearly_probability(france):
    cal = france.calibration.at(60)
    tables = france.tables
    k = int(np.flatnonzero(tables.ages == 60)[0])
    lam, mu = tables.incidence[k], tables.competing_mortality[k]
    assert cal.incidence[0] + cal.competing_mortality[0] == pytest.approx(lam + mu, rel=1e-15)
    # P(cancer within the year | alive and cancer-free at 60), constant hazards in the year.
    assert cal.incidence[0] == pytest.approx(lam / (lam + mu) * (1 - math.exp(-lam - mu)))


def test_components_follow_their_models(france):
    result = personalised.assess(france, **WOMAN, density="c", prs_z=1.0)
    # Classical part: BCRAT White RR_Star2 (age >= 50) of the same woman.
    bcrat = gail.risk(**WOMAN, race="white")
    assert result.rr_classical[0] == pytest.approx(bcrat.relative_risk.from_50[0], rel=1e-14)
    assert result.rr_prs[0] == pytest.approx(1.61, rel=1e-15)  # Mavaddat 2019: OR per SD
    assert result.rr_density[0] == 3.0  # McCormack 2006: c vs a
    # The risk is the iCARE absolute risk of the combined linear predictor, calibrated at 52.
    lp = math.log(bcrat.relative_risk.from_50[0]) + math.log(1.61) + math.log(3.0)
    cal = france.calibration.at(52)
    expected = icare.absolute_risk(cal, [lp], age_start=52, interval=5)[0]
    assert result.risk_5y[0] == pytest.approx(expected, rel=1e-13)
    assert result.risk_5y_pct[0] == pytest.approx(100 * expected, rel=1e-13)
    assert result.model_name == personalised.MODEL_NAME
    assert result.country == "FR"


def test_under_50_uses_rr_star1(france):
    young = {**WOMAN, "age": 45.5}
    result = personalised.assess(france, **young, density="b", prs_z=0.0)
    bcrat = gail.risk(**young, race="white")
    assert result.rr_classical[0] == pytest.approx(bcrat.relative_risk.under_50[0], rel=1e-15)


def test_missing_prs_and_density_are_assessed_and_shown(france):
    result = personalised.assess(
        france, **{k: [v] * 4 for k, v in WOMAN.items()},
        density=["b", "", "b", None], prs_z=[0.3, 0.3, np.nan, None],
    )  # fmt: skip
    assert result.is_valid.all()
    assert np.isfinite(result.risk_5y).all()
    assert result.missing().tolist() == ["", "density", "prs_z", "density;prs_z"]
    assert result.unknown_inputs(3) == ("density", "prs_z")
    assert np.isnan(result.rr_density[[1, 3]]).all()
    assert np.isnan(result.rr_prs[[2, 3]]).all()
    assert np.isfinite(result.rr_classical).all()


def test_no_classical_factor_known_is_refused(france):
    result = personalised.assess(
        france, age=60, n_biopsies=None, atypical_hyperplasia=None, age_at_menarche=None,
        age_at_first_birth=None, n_relatives=None, density="b", prs_z=0.0,
    )  # fmt: skip
    assert not result.is_valid[0]
    assert np.isnan(result.risk_5y[0])
    assert result.level[0] == ""
    assert result.error[0] & personalised.AssessmentError.NO_CLASSICAL
    for name in personalised.CLASSICAL_INPUTS:
        assert name in result.reasons()[0]


def test_nulliparous_counts_as_a_known_classical_answer(france):
    result = personalised.assess(
        france, age=60, n_biopsies=None, atypical_hyperplasia=None, age_at_menarche=None,
        age_at_first_birth=None, nulliparous=True, n_relatives=None,
    )  # fmt: skip
    assert result.is_valid[0]
    assert "age_first_birth" not in result.missing()[0]


def test_an_unknown_answer_is_not_scored_as_the_lowest_category(france):
    """Relatives unknown: her risk averages the women of her age whose other factors are like
    hers, so it lies between 'no relative' and 'two relatives', above 'no relative'."""
    woman = {**WOMAN, "age": 47.0}
    del woman["n_relatives"]
    risks = {
        k: personalised.assess(france, **woman, n_relatives=k, density="c", prs_z=0.5)
        for k in (0, 2, None)
    }
    unknown = risks[None]
    assert risks[0].risk_5y[0] < unknown.risk_5y[0] < risks[2].risk_5y[0]
    assert np.isnan(unknown.rr_classical[0])  # the component is unknown, not 1.000
    assert unknown.missing().tolist() == ["n_first_degree_relatives"]
    # With the population's share of relatives (about 7 % with one), the unknown answer sits
    # much nearer 'none' than 'two'.
    assert unknown.risk_5y[0] < (risks[0].risk_5y[0] + risks[2].risk_5y[0]) / 2


def test_hyperplasia_unknown_after_a_biopsy_is_listed_and_uses_bcrat_rule(france):
    result = personalised.assess(france, **{**WOMAN, "atypical_hyperplasia": None})
    assert "atypical_hyperplasia" in result.missing()[0]
    bcrat = gail.risk(**{**WOMAN, "atypical_hyperplasia": None}, race="white")
    assert result.rr_classical[0] == pytest.approx(bcrat.relative_risk.from_50[0], rel=1e-14)
    no_biopsy = personalised.assess(
        france, **{**WOMAN, "n_biopsies": 0, "atypical_hyperplasia": None}
    )
    assert "atypical_hyperplasia" not in no_biopsy.missing()[0]


def test_rejected_rows_name_the_friendly_field(france):
    result = personalised.assess(
        france, age=[38, 50, 50, 50], n_biopsies=[0, 0, -1, 0], atypical_hyperplasia=[0, 1, 0, 0],
        age_at_menarche=[13, 13, 13, 55], age_at_first_birth=[25, 25, 25, 25], n_relatives=0,
    )  # fmt: skip
    reasons = result.reasons()
    assert reasons[0].startswith("age must be")
    assert "atypical_hyperplasia" in reasons[1]
    assert "n_biopsies" in reasons[2]
    assert "age_menarche" in reasons[3]
    assert np.isnan(result.risk_5y).all()
    assert (result.level == "").all()


def test_structural_errors_raise(france):
    with pytest.raises(ModelInputError, match="density"):
        personalised.assess(france, **WOMAN, density=["b", "e"])
    with pytest.raises(ModelInputError, match="country"):
        personalised.country_model("XX")


def test_user_cohort_as_reference_population():
    cohort = reference_population("IT", 5_000, rng=np.random.default_rng(3))
    model = personalised.calibrate_country("IT", cohort)
    assert model.reference_description == cohort.description
    # About 143 women per single age: each start age borrows the nearest ages up to 500 women.
    assert min(model.reference_rows) >= personalised.model.MIN_REFERENCE_PER_AGE
    check = validation.calibration_check(model, 55)
    assert check.reference_mean == pytest.approx(check.marginal, rel=5e-5)
    with pytest.raises(ModelInputError, match="reference"):
        personalised.calibrate_country("IT", cohort.select(np.arange(100)))


def test_level_shares_cover_everyone(france):
    shares = validation.level_shares(france, n=20_000)
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-12)
    assert all(0 < shares[name] < 1 for name in ("low", "average", "high"))


# Complete covariates: with a missing PRS or density the risk is the mean of reference women in a
# quantile bin (iCARE's rule), which is monotone only up to sampling noise between bins
# (docs/models/personalised.md).
factors = st.fixed_dictionaries(
    {
        "age": st.floats(40, 79.99),
        "n_biopsies": st.sampled_from([0, 1, 2, 3, np.nan]),
        "age_at_menarche": st.sampled_from([10, 12.5, 15, np.nan]),
        "age_at_first_birth": st.sampled_from([18, 22, 27, 35, np.nan]),
        "prs_z": st.floats(-3, 3),
        "density": st.sampled_from(["a", "b", "c", "d"]),
    }
)


def _risk(model, woman, **changes):
    w = {**woman, **changes}
    first_birth = (
        min(w["age_at_first_birth"], w["age"]) if np.isfinite(w["age_at_first_birth"]) else np.nan
    )
    return personalised.assess(
        model, age=w["age"], n_biopsies=w["n_biopsies"], atypical_hyperplasia=None,
        age_at_menarche=w["age_at_menarche"], age_at_first_birth=first_birth,
        n_relatives=w.get("n_relatives", 0), density=w["density"], prs_z=w["prs_z"],
    ).risk_5y[0]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(woman=factors)
def test_more_relatives_never_lower_the_risk(france, woman):
    risks = [_risk(france, woman, n_relatives=k) for k in (0, 1, 2)]
    assert risks[0] <= risks[1] <= risks[2]


@settings(max_examples=60, deadline=None)
@given(woman=factors)
def test_denser_breasts_never_lower_the_risk(france, woman):
    risks = [_risk(france, woman, density=d) for d in "abcd"]
    assert all(a <= b for a, b in itertools.pairwise(risks))


@settings(max_examples=60, deadline=None)
@given(woman=factors, step=st.floats(0.01, 2))
def test_higher_prs_never_lowers_the_risk(france, woman, step):
    z = woman["prs_z"]
    assert _risk(france, woman, prs_z=z) <= _risk(france, woman, prs_z=z + step)


def test_an_unknown_factor_is_averaged_over_its_shares_at_her_age(france):
    """Relatives unknown = Σ_k P(NR = k) · risk(NR = k), with the shares the reference uses."""
    from pebs.risk.reference_population import factor_distributions_of

    woman = {**WOMAN, "age": 47.0}
    del woman["n_relatives"]
    shares = factor_distributions_of("FR").relatives  # categories 0, 1, 2+ relatives
    known = [
        personalised.assess(france, **woman, n_relatives=k, density="b", prs_z=0.2).risk_5y[0]
        for k in (0, 1, 2)
    ]
    unknown = personalised.assess(france, **woman, n_relatives=None, density="b", prs_z=0.2)
    assert unknown.risk_5y[0] == pytest.approx(float(np.dot(shares, known)), rel=1e-12)


def test_an_unknown_prs_is_integrated_over_the_standard_normal(france):
    """PRS unknown = ∫ risk(z) φ(z) dz, integrated here with scipy's adaptive quadrature."""
    from scipy import integrate, stats

    def risk(z):
        return personalised.assess(france, **WOMAN, density="c", prs_z=z).risk_5y[0]

    expected, _ = integrate.quad(lambda z: risk(z) * stats.norm.pdf(z), -8, 8, epsabs=1e-12)
    unknown = personalised.assess(france, **WOMAN, density="c", prs_z=None)
    assert unknown.risk_5y[0] == pytest.approx(expected, rel=1e-6)


def test_an_unknown_density_uses_the_shares_at_her_age(france):
    from pebs.risk.density import density_prevalence

    shares = density_prevalence([62.0])[0]  # EU table, ages 60-69
    known = [
        personalised.assess(france, **{**WOMAN, "age": 62.0}, density=d, prs_z=0.0).risk_5y[0]
        for d in "abcd"
    ]
    unknown = personalised.assess(france, **{**WOMAN, "age": 62.0}, density=None, prs_z=0.0)
    assert unknown.risk_5y[0] == pytest.approx(float(np.dot(shares, known)), rel=1e-12)
