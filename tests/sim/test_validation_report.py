"""The validation report's data and the script that writes it, on a small population."""

import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

from pebs.sim.validation import TRIAL_SIZES, validation_data
from pebs.stats import power_ratio

pytestmark = pytest.mark.slow
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "sim_validation_report.py"


@pytest.fixture(scope="module")
def small():
    return validation_data(n_women=2000, replicates=2, trial_replicates=2, trial_women=4000)


def test_every_target_has_a_model_value_and_interval(small):
    assert len(small.rows) == len(small.targets.targets)
    for row in small.rows:
        assert np.isfinite(row.model_mean), row.id
        assert row.model_low <= row.model_mean <= row.model_high, row.id


def test_power_is_the_stats_function_at_the_simulated_rate(small):
    for trial in small.trials:
        assert trial.per_100k[0] > 0
        for size in TRIAL_SIZES:
            per_arm = size * (1 - trial.excluded) / 2
            expected = power_ratio(trial.per_100k[0] / 1e5, per_arm, per_arm, margin=1.25)
            assert trial.power[size]["ratio 1"] == pytest.approx(expected)
        # more women, more power
        assert trial.power[85_000]["ratio 1"] > trial.power[53_000]["ratio 1"]


def test_script_writes_the_report_and_plots(tmp_path, monkeypatch):
    argv = [str(SCRIPT), "--women", "1000", "--replicates", "1", "--trial-replicates", "1",
            "--output", str(tmp_path)]  # fmt: skip
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.setattr("pebs.sim.validation.load_scenario", _small_trial())
    runpy.run_path(str(SCRIPT), run_name="__main__")
    text = (tmp_path / "simulation-validation.md").read_text(encoding="utf-8")
    assert "## Validation targets (not fitted)" in text
    assert "euroscreen-deaths-averted" in text
    for name in ("sim-validation-incidence.png", "sim-validation-targets.png"):
        assert (tmp_path / "images" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _small_trial():
    """load_scenario returning the trial scenario with 3,000 women (its trial size)."""
    import dataclasses

    from pebs.sim.scenario import load_scenario

    def load(name):
        scenario = load_scenario(name)
        return dataclasses.replace(
            scenario, trial=dataclasses.replace(scenario.trial, n_women=3000)
        )

    return load
