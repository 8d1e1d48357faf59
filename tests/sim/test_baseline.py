"""Seeded regression baseline: small runs must give exactly the stored totals.

The file tests/data/sim/baseline.json is written only by scripts/update_sim_baseline.py (after an
intended change of the model, its parameters or its random streams). The numbers are not an
independent oracle of correctness (the calibration tests are); they pin the results so that an
unintended change is noticed.
"""

import json
from pathlib import Path

import numpy as np

from pebs.sim import OUTCOMES, default_parameters, load_scenario, run

BASELINE = Path(__file__).resolve().parents[1] / "data" / "sim" / "baseline.json"


def test_seeded_runs_match_the_stored_baseline():
    stored = json.loads(BASELINE.read_text(encoding="utf-8"))
    assert stored["parameters"] == default_parameters().label
    for spec in stored["runs"]:
        settings = {k: spec[k] for k in ("n_women", "seed", "replicates", "chunk_size")}
        result = run(load_scenario(spec["scenario"]), **settings)
        for s, strategy in enumerate(result.strategies):
            expected = np.array([spec["totals"][strategy][o] for o in OUTCOMES]).T
            np.testing.assert_array_equal(
                result.values[:, s, :], expected, err_msg=f"{spec['scenario']} {strategy}"
            )
