"""Validation of a model on a cohort file: scoring, follow-up rule, rejected rows, outputs, and a
simulated cohort whose true risks are known."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pebs.io.errors import InputFormatError
from pebs.risk import gail, personalised
from pebs.risk.reference_population import reference_population
from pebs.services.validation import ValidationOptionsError, validate_cohort
from pebs.services.validation_cohort import simulate_validation_cohort, write_validation_cohort
from pebs.services.validation_outputs import write_validation_outputs as write_outputs

HEADER = (
    "id,age,n_biopsies,atypical_hyperplasia,age_menarche,age_first_birth,"
    "n_first_degree_relatives,density,prs_z,follow_up_years,event"
)
ROWS = (
    "A,45,0,,13,25,0,b,0.5,5,0\n"  # full follow-up, no event
    "B,52.5,1,no,12,nulliparous,1,c,,2.5,1\n"  # event at 2.5 years: counted
    "C,61,0,,14,31,2,d,1.2,7,1\n"  # event at 7 years: not counted
    "D,70,2,yes,11,nulliparous,0,a,-1,3,0\n"  # censored at 3 years
    "E,38,0,,13,25,0,b,0,5,1\n"  # personalised: too young; BCRAT scores her
    "F,87,0,,13,25,0,b,0,4,0\n"  # too old for both (BCRAT's window would pass 90)
)
FOLLOW_UP = np.array([5, 2.5, 7, 3, 5, 4])
# Hand thresholds of the MyPeBS levels (five-year risk): 1%, 1.67%, 6%.
THRESHOLDS = np.array([0.01, 0.0167, 0.06])


def _cohort(tmp_path: Path, rows: str = ROWS) -> Path:
    path = tmp_path / "cohort.csv"
    path.write_text(f"{HEADER}\n{rows}", encoding="utf-8")
    return path


def _personalised_risks() -> np.ndarray:
    result = personalised.assess(
        personalised.country_model("FR"), age=[45, 52.5, 61, 70],
        n_biopsies=[0, 1, 0, 2], atypical_hyperplasia=[np.nan, 0, np.nan, 1],
        age_at_menarche=[13, 12, 14, 11], age_at_first_birth=[25, np.nan, 31, np.nan],
        nulliparous=[False, True, False, True], n_relatives=[0, 1, 2, 0],
        density=["b", "c", "d", "a"], prs_z=[0.5, np.nan, 1.2, -1],
    )  # fmt: skip
    return result.risk_5y


def _bcrat(t2_minus_t1) -> np.ndarray:
    """BCRAT risks of rows A-E, with BCRA's codes written by hand."""
    t1 = np.array([45, 52.5, 61, 70, 38])
    result = gail.risk_bcra(
        T1=t1, T2=t1 + np.asarray(t2_minus_t1), N_Biop=[0, 1, 0, 2, 0], HypPlas=[99, 0, 99, 1, 99],
        AgeMen=[13, 12, 14, 11, 13], Age1st=[25, 98, 31, 98, 25], N_Rels=[0, 1, 2, 0, 0],
        Race=1,
    )  # fmt: skip
    assert result.is_valid.all()
    return result.absolute_risk


def test_personalised_expected_observed_and_rejected_rows(tmp_path):
    report = validate_cohort(_cohort(tmp_path), country="fr")
    assert (report.country, report.n_rows, report.n_events) == ("FR", 6, 3)
    assert report.n_events_after_horizon == 1
    assert report.n_short_follow_up == 3
    (v,) = report.models
    assert (v.n_scored, v.n_rejected) == (4, 2)
    assert sum(v.rejected_by_reason.values()) == 2
    assert all(reason.startswith("age") for reason in v.rejected_by_reason)
    risks = _personalised_risks()
    t = np.minimum(FOLLOW_UP[:4], 5)
    expected = 1 - (1 - risks) ** (t / 5)  # the documented follow-up rule
    assert v.overall.expected == pytest.approx(expected.sum(), rel=1e-12)
    assert v.overall.observed == 1  # B only: C's event came after five years
    assert v.overall.ratio == pytest.approx(expected.sum())
    assert v.by_decile.n_women.tolist() == [1, 1, 1, 1]  # fewer women than deciles
    np.testing.assert_allclose(np.sort(v.by_decile.mean_risk), np.sort(risks), rtol=1e-12)
    assert v.by_age.labels == ("45-49", "50-54", "60-64", "70-74")
    assert v.c_statistic is not None
    assert v.c_statistic.n_events == 1
    levels = np.searchsorted(THRESHOLDS, risks, side="right")
    assert list(v.levels.values()) == np.bincount(levels, minlength=4).tolist()


def test_progress_is_reported_per_chunk_up_to_the_whole_file(tmp_path):
    path = _cohort(tmp_path)
    seen: list[int] = []
    validate_cohort(path, country="FR", chunk_rows=2, on_progress=seen.append)
    assert len(seen) == 3  # six rows, two per chunk
    assert seen == sorted(seen)
    assert seen[-1] == path.stat().st_size


def test_gail_uses_its_own_window_and_the_comparison_uses_women_scored_by_both(tmp_path):
    report = validate_cohort(_cohort(tmp_path), country="FR", model="gail", compare="personalised")
    g, p = report.models
    assert (g.model, g.n_scored, p.n_scored) == ("gail", 5, 4)
    assert list(g.rejected_by_reason) == ["age must be below 85: BCRAT's tables end at 90"]
    window = _bcrat(np.minimum(FOLLOW_UP[:5], 5))
    assert g.overall.expected == pytest.approx(window.sum(), rel=1e-12)
    assert g.overall.observed == 2  # B and E
    five = _bcrat(5.0)
    np.testing.assert_allclose(np.sort(g.by_decile.mean_risk), np.sort(five), rtol=1e-12)

    comparison = report.comparison
    assert (comparison.new, comparison.reference) == ("gail", "personalised")
    assert (comparison.n_women, comparison.n_events) == (4, 1)
    new = np.searchsorted(THRESHOLDS, five[:4], side="right")
    reference = np.searchsorted(THRESHOLDS, _personalised_risks(), side="right")
    table = np.zeros((4, 4), dtype=int)
    np.add.at(table, (reference, new), 1)
    np.testing.assert_array_equal(comparison.reclassification.n_women, table)
    assert comparison.reclassification.events.sum() == 1
    assert comparison.auc.n_events == 1


def test_outputs_are_written_and_the_json_is_strict(tmp_path):
    report = validate_cohort(_cohort(tmp_path), country="FR", compare="gail")
    files = write_outputs(report, tmp_path / "out")
    names = sorted(path.name for path in files)
    assert names == [
        "calibration.png", "calibration.svg", "eo_by_age.csv", "eo_by_decile.csv",
        "reclassification.csv", "summary.json",
    ]  # fmt: skip
    text = (tmp_path / "out" / "summary.json").read_text()

    def refuse(constant):
        raise AssertionError(f"non-standard JSON constant {constant}")

    document = json.loads(text, parse_constant=refuse)
    assert document["models"]["personalised"]["observed"] == 1
    assert document["models"]["gail"]["n_scored"] == 5
    assert document["comparison"]["n_women"] == 4
    with (tmp_path / "out" / "reclassification.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 16
    assert sum(int(row["n_women"]) for row in rows) == 4
    ages = pd.read_csv(tmp_path / "out" / "eo_by_age.csv")
    assert set(ages["model"]) == {"personalised", "gail"}
    assert (tmp_path / "out" / "calibration.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("G,50,0,,13,25,0,b,0,0,0\n", "line 8: column 'follow_up_years' has '0'"),
        ("G,50,0,,13,25,0,b,0,abc,0\n", "'follow_up_years' has 'abc'"),
        ("G,50,0,,13,25,0,b,0,5,yes\n", "line 8: column 'event' has 'yes'"),
        ("G,50,0,,13,25,0,b,0,5,\n", "column 'event' has ''"),
    ],
)
def test_bad_follow_up_or_event_values_name_line_and_column(tmp_path, row, message):
    with pytest.raises(InputFormatError, match=message):
        validate_cohort(_cohort(tmp_path, ROWS + row), country="FR")


def test_a_model_that_scores_no_row_is_an_input_error(tmp_path):
    path = _cohort(tmp_path, "E,38,0,,13,25,0,b,0,5,1\n")
    with pytest.raises(InputFormatError, match="no row could be scored by personalised"):
        validate_cohort(path, country="FR")


@pytest.mark.parametrize(
    ("model", "compare", "match"),
    [("boadicea", None, "model: unknown"), ("gail", "gail", "compare: must differ")],
)
def test_options_are_checked(tmp_path, model, compare, match):
    with pytest.raises(ValidationOptionsError, match=match):
        validate_cohort(_cohort(tmp_path), country="FR", model=model, compare=compare)


def test_simulated_answers_recode_to_the_drawn_categories_and_risks(tmp_path):
    n, seed = 3_000, 12
    population = reference_population("FR", n, rng=np.random.default_rng(seed), ages=range(40, 75))
    path = tmp_path / "simulated.csv"
    cohort = write_validation_cohort(path, "FR", n, seed=seed)
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    nulliparous = table["age_first_birth"] == "nulliparous"
    first_birth = pd.to_numeric(table["age_first_birth"].where(~nulliparous, "98"))
    assert table["atypical_hyperplasia"].eq("").all()
    categories = gail.recode(
        T1=table["age"].astype(float), T2=table["age"].astype(float) + 5,
        N_Biop=table["n_biopsies"].astype(float), HypPlas=99,
        AgeMen=table["age_menarche"].astype(float),
        Age1st=first_birth.astype(float), N_Rels=table["n_first_degree_relatives"].astype(float),
        Race=1,
    )  # fmt: skip
    assert (categories.error == 0).all()
    for name in ("biopsies", "menarche", "first_birth", "relatives"):
        np.testing.assert_array_equal(getattr(categories, name), getattr(population, name))
    af2 = population.first_birth == 2
    assert 0.3 < nulliparous[af2].mean() < 0.6  # 44% of AF-2 answers say nulliparous
    assert not nulliparous[~af2].any()
    np.testing.assert_array_equal(table["density"], np.array(list("abcd"))[population.density])
    # Read back through the validation's own reader: the model gives the true risks exactly.
    risks = np.array([float(x) for x in table["true_risk_5y"]])
    np.testing.assert_array_equal(risks, cohort.true_risk_5y)
    report = validate_cohort(path, country="FR")
    assert report.models[0].n_scored == n
    expected = 1 - (1 - risks) ** (np.minimum(table["follow_up_years"].astype(float), 5) / 5)
    assert report.models[0].overall.expected == pytest.approx(expected.sum(), rel=1e-12)


def test_simulated_outcomes_follow_the_risks():
    cohort = simulate_validation_cohort("FR", 20_000, rng=np.random.default_rng(5))
    t = cohort.columns["follow_up_years"]
    event = cohort.columns["event"]
    r = cohort.true_risk_5y
    assert t.min() > 0
    assert 0.2 < np.mean(t < 5) < 0.3  # 25% leave early, plus the events before five years
    assert np.count_nonzero((event == 1) & (t > 5)) > 0  # some events after the horizon
    # P(event by min(C, 5)) with a constant hazard h = -ln(1 - r) / 5: r if C >= 5 (75%);
    # for C ~ U(0, 5) (25%), 1 - E[exp(-h C)] = 1 - r / (-ln(1 - r)).
    p = 0.75 * r + 0.25 * (1 - r / -np.log1p(-r))
    observed = np.count_nonzero((event == 1) & (t <= 5))
    assert abs(observed - p.sum()) < 4 * math.sqrt(np.sum(p * (1 - p)))


def test_e_over_o_on_a_cohort_with_known_risks_is_within_its_interval_of_one(tmp_path):
    path = tmp_path / "known.csv"
    write_validation_cohort(path, "FR", 40_000, seed=20261128)
    report = validate_cohort(path, country="FR", compare="gail")
    overall = report.models[0].overall
    assert overall.observed > 400
    assert overall.lower <= 1.0 <= overall.upper
    assert 0.5 < report.models[0].c_statistic.estimate < 0.8
