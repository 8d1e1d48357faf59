"""The European targets file: schema, citations, kinds, and the measures it names."""

import re

import numpy as np
import pytest

from pebs.sim.measures import MEASURES, evaluate
from pebs.sim.parameters import default_parameters
from pebs.sim.targets import KINDS, TargetError, list_target_sets, load_targets, parse_targets

YEAR = re.compile(r"(19|20)\d\d")


def test_shipped_europe_targets_are_complete():
    targets = load_targets("europe")
    assert "europe" in list_target_sets()
    assert targets.calibration
    assert targets.validation
    for t in targets.targets:
        assert t.kind in KINDS
        assert t.measure in MEASURES
        assert t.low <= t.value <= t.high
        # a full citation: authors or body, a year, and a journal or publisher
        assert YEAR.search(t.source), t.id
        assert len(t.source) > 40, t.id
        assert len(t.definition) > 40, t.id
        assert all((t.unit, t.interval, t.country)), t.id
        if t.kind == "calibration":
            assert t.sd > 0, t.id
            assert t.sd_basis, t.id


def test_calibration_and_validation_are_separate():
    targets = load_targets("europe")
    fitted = {t.measure for t in targets.calibration}
    checked = {t.measure for t in targets.validation}
    assert not fitted & checked  # a number used to fit is not evidence of fit


MINIMAL = """
[[target]]
id = "a"
kind = "calibration"
measure = "recall_initial"
value = 0.05
low = 0.03
high = 0.07
interval = "range"
unit = "proportion"
sd = 0.005
sd_basis = "10 %"
definition = "recalls per woman screened at the first round, women 50-69"
country = "Europe"
source = "Author A. Title. Journal 2010;1:1-2."
"""


def test_parse_minimal_file():
    parsed = parse_targets(MINIMAL, measures=frozenset(MEASURES))
    assert parsed.targets[0].contains(0.05)
    assert not parsed.targets[0].contains(0.08)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('kind = "calibration"', 'kind = "fit"', "kind"),
        ('measure = "recall_initial"', 'measure = "recall"', "measure"),
        ('source = "Author A. Title. Journal 2010;1:1-2."', "", "missing keys"),
        ("sd = 0.005", "sd = 0", "sd > 0"),
        ("value = 0.05", "value = 0.09", "low <= value <= high"),
    ],
)
def test_bad_targets_are_refused_with_the_key(old, new, message):
    with pytest.raises(TargetError, match=message):
        parse_targets(MINIMAL.replace(old, new), measures=frozenset(MEASURES))


def test_measures_do_not_depend_on_chunking():
    names = [t.measure for t in load_targets("europe").targets]
    params = default_parameters()
    whole = evaluate(names, params, n_women=3000, seed=5, chunk_size=3000)
    split = evaluate(names, params, n_women=3000, seed=5, chunk_size=700)
    for name in names:
        np.testing.assert_array_equal(whole[name], split[name])


def test_two_county_study_screens_for_seven_years_and_the_control_once_at_the_end():
    from pebs.sim.chunk import chunk_records
    from pebs.sim.measures import TWO_COUNTY_YEARS, study_counts, study_scenario

    params = default_parameters()
    r = chunk_records(study_scenario("two-county"), 4, 0, 3000, parameters=params)
    end = r["entry"] + TWO_COUNTY_YEARS
    control = r["control.n_screens"]
    assert set(np.unique(control)) == {0, 1}  # one invitation, 85 % attendance
    # attended by 85 % of the women still alive and without a clinical cancer at the end
    due = (r["death_other"] > end) & (r["clinical"] > end)
    assert not control[~due].any()
    assert 0.82 < control[due].mean() < 0.88
    np.testing.assert_allclose(r["control.last_screen"][control == 1], end[control == 1])
    invited = r["invited.n_screens"] > 0
    assert np.all(r["invited.last_screen"][invited] < end[invited])  # no invitation after
    assert r["invited.n_screens"].max() <= 4  # 7 years of 24- or 33-month intervals
    # the measure's counts by hand: deaths from cancers diagnosed up to the control's screen
    counts = study_counts("two-county", params, 4, 0, 3000)
    for strategy, key in (("invited", "deaths_invited"), ("control", "deaths_control")):
        by_hand = r[f"{strategy}.bc_death"] & (r[f"{strategy}.diagnosis_age"] <= end + 1e-6)
        assert counts[key] == int(by_hand.sum())
