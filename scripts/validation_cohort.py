"""Write a simulated validation cohort whose true five-year risks are known.

Women of a country aged 40-74 (the pebs reference-population generator), their true five-year risk
from the personalised model, and outcomes drawn from that risk with some follow-up shorter than
five years (:mod:`pebs.services.validation_cohort`). The file has the ``pebs validate`` columns
plus ``true_risk_5y``::

    python scripts/validation_cohort.py --country FR --women 200000 -o cohort-fr.csv
    pebs validate cohort-fr.csv --country FR --compare gail -o validation-fr
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from pebs.services.validation_cohort import write_validation_cohort

SEED = 20261128


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--country", default="FR", help="country code (default FR)")
    parser.add_argument("--women", type=int, default=200_000, help="number of women")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    parser.add_argument("--early-exit-share", type=float, default=0.25,
                        help="share of women whose follow-up ends before five years")  # fmt: skip
    parser.add_argument("-o", "--output", type=Path, required=True, help="cohort CSV to write")
    args = parser.parse_args(argv)
    cohort = write_validation_cohort(
        args.output, args.country, args.women, seed=args.seed,
        early_exit_share=args.early_exit_share,
    )  # fmt: skip
    follow_up = cohort.columns["follow_up_years"]
    event = cohort.columns["event"]
    print(
        f"{args.output}: {len(cohort):,} women of {cohort.country} (personalised model "
        f"v{cohort.model_version}, seed {args.seed}); mean true 5-year risk "
        f"{100 * cohort.true_risk_5y.mean():.3f}%; {int(event.sum()):,} events, "
        f"{int(np.count_nonzero((event == 1) & (follow_up <= 5))):,} within 5 years; "
        f"{int(np.count_nonzero(follow_up < 5)):,} women followed < 5 years"
    )


if __name__ == "__main__":
    main()
