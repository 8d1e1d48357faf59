"""Calibration smoke test on a small population: the objective decreases, the parameter set is
written, reloads, and carries the fitted values."""

import math

import numpy as np
import pytest

from pebs.sim.fit import FIXED, FREE, calibrate, fit_rows, write_outputs
from pebs.sim.parameters import load_parameters
from pebs.sim.targets import load_targets

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_fit():
    targets = load_targets("europe")
    result = calibrate(targets, n_women=3000, seed=3, rounds=1, max_evaluations=15,
                       incidence_women=4000)  # fmt: skip
    return targets, result


def test_objective_decreases(small_fit):
    _, result = small_fit
    (start, end), *_ = result.rounds
    assert end < start
    assert result.history[0] == pytest.approx(start)
    for p in FREE:
        assert p.low <= result.estimates[p.name] <= p.high


def test_output_is_written_and_reloadable(small_fit, tmp_path):
    targets, result = small_fit
    paths = write_outputs(result, targets, tmp_path, "calibrated-test")
    assert all(p.is_file() for p in paths)
    params = load_parameters(tmp_path / "parameters.toml")
    assert params.label == "pebs-sim calibrated-test"
    assert params.non_progressive_ratio == pytest.approx(
        result.estimates["non_progressive_ratio"], abs=1e-4
    )
    assert params.fp_first["europe"] == pytest.approx(result.estimates["fp_first_europe"], 1e-4)
    assert params.fp_first["us"] == load_parameters().fp_first["us"]  # US values untouched
    base = load_parameters()
    np.testing.assert_allclose(
        params.sojourn_mean_years,
        base.sojourn_mean_years * result.estimates["sojourn_scale"], atol=1e-4,
    )  # fmt: skip
    assert params.stage_exponent == pytest.approx(result.estimates["stage_exponent"], abs=1e-4)
    assert params.dcis_precursor_dwell == pytest.approx(
        result.estimates["dcis_precursor_dwell"], abs=1e-4
    )
    # the DCIS structure, set without fitting
    assert params.dcis_precursor_share == FIXED["natural_history.dcis.precursor_share"]
    assert params.non_progressive_in_situ is FIXED["natural_history.non_progressive.in_situ"]
    symptomatic = FIXED["natural_history.non_progressive.symptomatic_share"]
    assert params.non_progressive_symptomatic == symptomatic
    assert set(params.incidence_adjustment) >= {"FR", "IT", "UK"}
    assert params.incidence_adjustment["FR"].size == params.incidence_age_edges.size + 1
    rows = fit_rows(result, targets)
    assert len(rows) == len(targets.targets)
    assert all(math.isfinite(r["model"]) for r in rows)
