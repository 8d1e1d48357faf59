"""Check the scalar peer against R's BCRA 2.1.2 outputs (``tests/data/bcra_reference_sample.csv``).

Run on every benchmark so that the peer the speed-up is measured against is itself known to be
right: the same valid/error decision as R on every row and relative differences of ``AbsRisk``,
``AbsRisk_Avg`` (percent) and ``RR_Star1/2`` within the specification's 1e-10.
"""

from __future__ import annotations

import csv
from pathlib import Path

from benchmarks import scalar_gail

REFERENCE_FILE = (
    Path(__file__).resolve().parent.parent / "tests" / "data" / ("bcra_reference_sample.csv")
)
INPUTS = ("T1", "T2", "N_Biop", "HypPlas", "AgeMen", "Age1st", "N_Rels", "Race")


def compare(path: Path = REFERENCE_FILE) -> dict[str, object]:
    """Rows, decision mismatches (case ids) and the largest relative difference per output."""
    worst = {"AbsRisk": 0.0, "AbsRisk_Avg": 0.0, "RR_Star1": 0.0, "RR_Star2": 0.0}
    mismatched: list[str] = []
    n_rows = 0
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            n_rows += 1
            result = scalar_gail.risk_bcra(*(float(row[name]) for name in INPUTS))
            if result.error != (row["Error_Ind"] == "1"):
                mismatched.append(row["case_id"])
                continue
            if result.error:
                continue
            ours = {
                "AbsRisk": 100.0 * result.absolute_risk,
                "AbsRisk_Avg": 100.0 * result.average_risk,
                "RR_Star1": result.rr_under_50,
                "RR_Star2": result.rr_from_50,
            }
            for name, value in ours.items():
                reference = float(row[name])
                worst[name] = max(worst[name], abs(value - reference) / abs(reference))
    return {"file": path.name, "n_rows": n_rows, "mismatched": mismatched, "max_rel_diff": worst}
