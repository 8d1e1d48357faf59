"""Personalised five-year model: calibration cost and women assessed per second on one core.

``python -m benchmarks.personalised_bench`` prints a markdown section (run by ``make bench``).
Women: a synthetic French population aged 40-75 (classical factors, PRS z-score and density all
known), assessed through the friendly API :func:`pebs.risk.personalised.assess` and through
:func:`~pebs.risk.personalised.assess_population` (Gail categories already known).
"""

from __future__ import annotations

import argparse
import sys
import time

from benchmarks import one_core

ASSESS_GOAL = 2_500_000
"""Women per CPU-second that ``assess`` must reach on one core."""


def _best(function, repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        function()
        times.append(time.process_time() - start)
    times.sort()
    return times[0], times[len(times) // 2]


def run(n: int, repeats: int) -> str:
    import numpy as np

    from pebs.risk import personalised
    from pebs.risk.reference_population import reference_population

    lines = [
        "## Personalised five-year model, one core",
        "",
        "CPU seconds (best and median of "
        f"{repeats}); country FR; women aged 40-75 with PRS z and density known.",
        "",
        "| work | size | best (s) | median (s) | throughput (best) |",
        "|---|---:|---:|---:|---:|",
    ]
    best, median = _best(lambda: personalised.calibrate_country("FR"), repeats)
    lines.append(
        f"| calibrate (iCARE per start age 40-79) | reference grids | {best:.3f} | {median:.3f} | |"
    )
    for size in (20_000, 100_000):
        cohort = reference_population("FR", size, rng=np.random.default_rng(1))
        best, median = _best(lambda c=cohort: personalised.calibrate_country("FR", c), repeats)
        lines.append(
            f"| calibrate (iCARE per start age 40-79) | {size:,} reference women | {best:.3f} "
            f"| {median:.3f} | |"
        )
    model = personalised.country_model("FR")
    women = reference_population("FR", n, rng=np.random.default_rng(2), ages=range(40, 76))
    # Friendly inputs equivalent to the drawn categories (ages in years, codes as the CLI gives).
    friendly = {
        "age": women.ages + 0.5,
        "n_biopsies": women.biopsies.astype(float),
        "atypical_hyperplasia": np.full(n, np.nan),
        "age_at_menarche": np.select(
            [women.menarche == 0, women.menarche == 1], [14.0, 12.5], 11.0
        ),
        "age_at_first_birth": np.select(
            [women.first_birth == 0, women.first_birth == 1, women.first_birth == 2],
            [18.0, 22.0, 27.0],
            32.0,
        ),
        "n_relatives": women.relatives.astype(float),
        "density": women.density,
        "prs_z": women.prs_z,
    }
    best, median = _best(lambda: personalised.assess(model, **friendly), repeats)
    lines.append(
        f"| assess (named factors) | {n:,} women | {best:.3f} | {median:.3f} | "
        f"{n / best:,.0f} women/s |"
    )
    goal = n / best >= ASSESS_GOAL
    best, median = _best(lambda: personalised.assess_population(model, women), repeats)
    lines.append(
        f"| assess_population (categories) | {n:,} women | {best:.3f} | {median:.3f} | "
        f"{n / best:,.0f} women/s |"
    )
    missing = dict(friendly, prs_z=np.where(np.arange(n) % 5 == 0, np.nan, women.prs_z))
    best, median = _best(lambda: personalised.assess(model, **missing), repeats)
    lines.append(
        f"| assess, PRS missing for 20% | {n:,} women | {best:.3f} | {median:.3f} | "
        f"{n / best:,.0f} women/s |"
    )
    unknown = dict(
        friendly, n_relatives=np.where(np.arange(n) % 10 == 0, np.nan, friendly["n_relatives"])
    )
    best, median = _best(lambda: personalised.assess(model, **unknown), repeats)
    lines.append(
        f"| assess, relatives unknown for 10% | {n:,} women | {best:.3f} | {median:.3f} | "
        f"{n / best:,.0f} women/s |"
    )
    lines += [
        "",
        f"Goal: `assess` (named factors, all known) >= {ASSESS_GOAL:,.0f} women per CPU-second: "
        f"**{'PASS' if goal else 'MISS'}**.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    one_core.limit_threads()  # before numpy is imported
    one_core.pin_to_one_core()
    parser = argparse.ArgumentParser(prog="python -m benchmarks.personalised_bench")
    parser.add_argument("--n", type=int, default=1_000_000, help="women to assess")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print(run(args.n, args.repeats), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
