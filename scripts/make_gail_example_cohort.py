"""Write the bundled synthetic example cohort ``src/pebs/examples/gail_cohort.csv``.

Synthetic women (no real person), BCRA-coded, drawn from a fixed seed so the file is reproducible:
``python scripts/make_gail_example_cohort.py``. The distributions are rough, plausible shapes for a
screening-age population, not estimates of any real one; a few deliberately invalid rows show how
rejected rows are reported.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

N_WOMEN = 1_000
SEED = 20261128
OUTPUT = Path(__file__).resolve().parents[1] / "src" / "pebs" / "examples" / "gail_cohort.csv"


def main() -> None:
    rng = np.random.default_rng(SEED)
    age = np.round(rng.uniform(35, 75, N_WOMEN), 1)
    race = rng.choice(np.arange(1, 12), N_WOMEN, p=[0.70] + [0.03] * 10)
    n_biop = rng.choice([0, 1, 2, 3, 99], N_WOMEN, p=[0.76, 0.14, 0.05, 0.02, 0.03])
    hyp = np.where(
        (n_biop == 0) | (n_biop == 99), 99, rng.choice([0, 1, 99], N_WOMEN, p=[0.70, 0.05, 0.25])
    )
    menarche = np.where(
        rng.random(N_WOMEN) < 0.05, 99, np.clip(np.round(rng.normal(12.8, 1.4, N_WOMEN)), 9, 17)
    )
    first_birth = np.clip(np.round(rng.normal(27, 5, N_WOMEN)), menarche.clip(max=17) + 1, age)
    draw = rng.random(N_WOMEN)
    first_birth = np.where(draw < 0.18, 98, np.where(draw < 0.22, 99, first_birth))
    relatives = rng.choice([0, 1, 2, 99], N_WOMEN, p=[0.84, 0.11, 0.02, 0.03])
    rows = [
        [f"W{i + 1:04d}", a, round(min(a + 5, 90), 1), b, h, m, f, r, c]
        for i, (a, b, h, m, f, r, c) in enumerate(
            zip(age, n_biop, hyp, menarche, first_birth, relatives, race, strict=True)
        )
    ]
    # Deliberately invalid rows: too young for the model, hyperplasia without a biopsy,
    # an unknown race code.
    rows[10][1:3] = [18.0, 23.0]
    rows[20][3:5] = [0, 1]
    rows[30][8] = 12
    with OUTPUT.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(
            ["id", "T1", "T2", "N_Biop", "HypPlas", "AgeMen", "Age1st", "N_Rels", "Race"]
        )
        for row in rows:
            writer.writerow([v if isinstance(v, str) else f"{float(v):g}" for v in row])


if __name__ == "__main__":
    main()
