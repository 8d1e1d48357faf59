"""Write a simulated validation cohort whose true five-year risks are known.

Women of a country aged 40-74 with outcomes and some follow-up shorter than five years
(:mod:`pebs.services.validation_cohort`), from one of two sources:

- ``--source personalised`` (default): the pebs reference-population generator, the true
  five-year risk from the personalised model, outcomes drawn from that risk;
- ``--source sim``: the pebs.sim natural history without screening (clinical diagnosis, other-cause
  death), the true five-year risk the simulator's own.

The file has the ``pebs validate`` columns plus ``true_risk_5y``; the E/O and C-statistic of the
true risks (by the rules of ``pebs validate``) are printed::

    python scripts/validation_cohort.py --country FR --women 200000 -o cohort-fr.csv
    python scripts/validation_cohort.py --source sim --country FR --women 200000 -o sim-fr.csv
    pebs validate sim-fr.csv --country FR --compare gail -o validation-sim-fr
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from pebs.services.validation_cohort import SOURCES, write_validation_cohort
from pebs.stats import (
    age_bands,
    c_statistic,
    counted_events,
    expected_observed_by_group,
    window_expected,
)

SEED = 20261128


def _true_risk_summary(cohort) -> list[str]:
    """E/O overall and by age band, and the C-statistic, of the true five-year risks."""
    risk = cohort.true_risk_5y
    t = cohort.columns["follow_up_years"]
    expected = window_expected(risk, t)
    observed = counted_events(cohort.columns["event"], t)
    codes, labels = age_bands(cohort.columns["age"])
    lines = []
    for groups, names in ((np.zeros(risk.size, np.int64), ("all",)), (codes, labels)):
        table = expected_observed_by_group(expected, observed, groups, names, risks=risk)
        lines += [
            f"  {row['group']:>5}: E {row['expected']:,.1f}, O {row['observed']:,}, "
            f"E/O {row['ratio']:.3f} ({row['lower']:.3f}-{row['upper']:.3f})"
            for row in table.rows()
        ]
    c = c_statistic(risk, observed)
    lines.append(f"  C-statistic {c.estimate:.3f} ({c.lower:.3f}-{c.upper:.3f}) (DeLong)")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=SOURCES, default="personalised",
                        help="where the outcomes come from (default personalised)")  # fmt: skip
    parser.add_argument("--country", default="FR", help="country code (default FR)")
    parser.add_argument("--women", type=int, default=200_000, help="number of women")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    parser.add_argument("--early-exit-share", type=float, default=0.25,
                        help="share of women whose follow-up ends before five years")  # fmt: skip
    parser.add_argument("-o", "--output", type=Path, required=True, help="cohort CSV to write")
    args = parser.parse_args(argv)
    cohort = write_validation_cohort(
        args.output, args.country, args.women, seed=args.seed,
        early_exit_share=args.early_exit_share, source=args.source,
    )  # fmt: skip
    follow_up = cohort.columns["follow_up_years"]
    event = cohort.columns["event"]
    origin = (
        f"personalised model v{cohort.model_version}"
        if cohort.source == "personalised"
        else f"{cohort.model_version}, no screening"
    )
    print(
        f"{args.output}: {len(cohort):,} women of {cohort.country} ({origin}, seed {args.seed}); "
        f"mean true 5-year risk {100 * cohort.true_risk_5y.mean():.3f}%; "
        f"{int(event.sum()):,} events, "
        f"{int(np.count_nonzero((event == 1) & (follow_up <= 5))):,} within 5 years; "
        f"{int(np.count_nonzero(follow_up < 5)):,} women followed < 5 years"
    )
    if cohort.women is not None:
        women = cohort.women
        died = (event == 0) & (follow_up < 5)
        died &= np.isclose(women.death_other, women.entry + follow_up, rtol=0.0, atol=1e-9)
        print(f"  of which {int(np.count_nonzero(died)):,} ended by other-cause death")
    print("true five-year risks (true_risk_5y):")
    print("\n".join(_true_risk_summary(cohort)))


if __name__ == "__main__":
    main()
