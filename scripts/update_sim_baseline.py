"""Regenerate tests/data/sim/baseline.json, the seeded regression baseline of pebs.sim.

Run only after an intended change of the model or its parameters, and say why in the commit:

    .venv/bin/python scripts/update_sim_baseline.py

tests/sim/test_baseline.py re-runs the same small seeded simulations and requires identical
totals, so any unintended change of results (random streams, model, parameters) is caught.
"""

from __future__ import annotations

import json
from pathlib import Path

from pebs.sim import OUTCOMES, default_parameters, load_scenario, run

PATH = Path(__file__).resolve().parents[1] / "tests" / "data" / "sim" / "baseline.json"
RUNS = (
    {"scenario": "us-benchmark", "n_women": 3000, "seed": 20261128, "replicates": 2,
     "chunk_size": 1000},
    {"scenario": "mypebs-trial", "n_women": 3000, "seed": 7, "replicates": 1, "chunk_size": 3000},
    {"scenario": "wisdom-vs-annual", "n_women": 1500, "seed": 11, "replicates": 1,
     "chunk_size": 1500},
    {"scenario": "national-vs-mypebs", "n_women": 1500, "seed": 13, "replicates": 1,
     "chunk_size": 1500},
)  # fmt: skip


def baseline() -> dict:
    """The baseline document: run settings and integer totals per replicate and strategy."""
    runs = []
    for spec in RUNS:
        result = run(load_scenario(spec["scenario"]), **{k: v for k, v in spec.items()
                                                         if k != "scenario"})  # fmt: skip
        totals = {
            strategy: {
                outcome: [int(v) for v in result.values[:, s, k]]
                for k, outcome in enumerate(OUTCOMES)
            }
            for s, strategy in enumerate(result.strategies)
        }
        runs.append({**spec, "totals": totals})
    return {"parameters": default_parameters().label, "runs": runs}


def main() -> None:
    PATH.parent.mkdir(parents=True, exist_ok=True)
    PATH.write_text(json.dumps(baseline(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {PATH}")


if __name__ == "__main__":
    main()
