"""iCARE engine (:mod:`pebs.risk.icare`) on one core: calibration cost and scoring throughput.

Run from the repository root; prints a markdown section::

    .venv/bin/python -m benchmarks.icare_bench            # full: 1,000,000 women
    .venv/bin/python -m benchmarks.icare_bench --n 200000 # quicker

Model: ``log RR = ln 1.8·famhist + ln 1.61·prs + density`` (BI-RADS b, c, d against a: ln 2.2,
ln 3.0, ln 4.0; five coefficients) on BCRAT White 1983-87 rates expanded to single ages 20-90.
Synthetic reference populations and women from a fixed seed (``numpy.random.Generator``):
famhist 10 %, prs ~ N(0, 1), density a/b/c/d 10/40/40/10 %.

Measured (best of ``--repeats`` calls, wall and CPU seconds; CPU ~ wall confirms one core):

- ``calibrate`` for reference populations of 10,000 and 100,000 rows (71 ages, tolerance 0.001);
- ``absolute_risk`` for ``--n`` women with 5-year windows (integer start ages 40-74);
- ``risk`` (design matrix) for the same women, complete covariates, and with prs missing for
  20 % and density for 30 % (iCARE's missing-covariate rule, 100,000 reference rows);
- ``absolute_risk`` to age 90 (windows of 16-50 years);
- a scalar peer: the discrete sum in a plain per-woman Python loop (first 20,000 women), and the
  largest relative difference between the two.

The process limits BLAS threads to 1 before numpy is imported and pins itself to one CPU
(:mod:`benchmarks.one_core`).
"""

from __future__ import annotations

import argparse
import math
import platform
import sys
import time

from benchmarks import one_core

SEED = 20250101
LOG_RR = (math.log(1.8), math.log(1.61), math.log(2.2), math.log(3.0), math.log(4.0))
DENSITY_SHARES = (0.1, 0.4, 0.4, 0.1)
REFERENCE_SIZES = (10_000, 100_000)


def _white_rates(name: str) -> list[float]:
    import csv
    from importlib.resources import files

    text = files("pebs.risk.gail").joinpath("data", name).read_text(encoding="utf-8")
    groups = [float(row["Wh.1983_87"]) for row in csv.DictReader(text.splitlines())]
    single = [rate for rate in groups for _ in range(5)]
    return [*single, single[-1]]  # ages 20..90


def _population(np, rng, n: int):
    """(n, 5) design: famhist, prs, density b, c, d dummies."""
    density = rng.choice(4, size=n, p=DENSITY_SHARES)
    return np.column_stack(
        [
            rng.random(n) < 0.1,
            rng.standard_normal(n),
            density == 1,
            density == 2,
            density == 3,
        ]
    ).astype(np.float64)


def _best(function, repeats: int) -> tuple[float, float, object]:
    """(best wall seconds, CPU seconds of that call, last result)."""
    best_wall, best_cpu, result = math.inf, math.inf, None
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        result = function()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if wall < best_wall:
            best_wall, best_cpu = wall, cpu
    return best_wall, best_cpu, result


def _scalar_risks(baseline, mortality, lps, starts, intervals) -> list[float]:
    """The iCARE sum, one woman at a time (the peer)."""
    out = []
    for lp, start, interval in zip(lps, starts, intervals, strict=True):
        r, total, exponent = math.exp(lp), 0.0, 0.0
        for k in range(start - 20, start - 20 + interval):
            total += baseline[k] * r * math.exp(-exponent)
            exponent += baseline[k] * r + mortality[k]
        out.append(total)
    return out


def run(n: int, repeats: int, scalar_n: int) -> str:
    import numpy as np

    import pebs
    from pebs.risk import icare

    rng = np.random.default_rng(SEED)
    incidence = _white_rates("lambda1_incidence.csv")
    mortality = _white_rates("lambda2_competing_mortality.csv")
    lines = [
        "## iCARE engine (`pebs.risk.icare`), one core",
        "",
        f"- machine: {one_core.cpu_model()}; Python {platform.python_version()}, numpy "
        f"{np.__version__}, pebs {pebs.__version__}",
        "- model: famhist + prs + BI-RADS density (5 log RRs); BCRAT White 1983-87 rates, "
        "single ages 20-90 (71 ages)",
        f"- command: `python -m benchmarks.icare_bench --n {n} --repeats {repeats}`",
        "",
        "| calibration | reference rows | iterations | best wall s | CPU s |",
        "|---|---:|---:|---:|---:|",
    ]
    calibrations = {}
    for size in REFERENCE_SIZES:
        design = _population(np, rng, size)

        def calibrate(design=design):
            return icare.calibrate(
                incidence, mortality, first_age=20, reference_design=design, log_rr=LOG_RR
            )

        wall, cpu, cal = _best(calibrate, repeats)
        calibrations[size] = cal
        lines.append(f"| `calibrate` | {size:,} | {cal.n_iterations} | {wall:.3f} | {cpu:.3f} |")

    cal = calibrations[REFERENCE_SIZES[-1]]
    women = _population(np, rng, n)
    lp = icare.linear_predictor(women, LOG_RR)
    starts = rng.integers(40, 75, size=n)
    to_90 = 90 - starts
    missing = women.copy()
    missing[rng.random(n) < 0.2, 1] = np.nan
    missing[rng.random(n) < 0.3, 2:] = np.nan
    missing_label = "`risk`, 20 % prs / 30 % density missing, 5-year"
    lifetime_label = "`absolute_risk`, to age 90 (16-50 years)"
    cases = [
        ("`absolute_risk`, 5-year", lambda: icare.absolute_risk(cal, lp, starts, 5)),
        ("`risk`, complete covariates, 5-year", lambda: icare.risk(cal, women, starts, 5)),
        (missing_label, lambda: icare.risk(cal, missing, starts, 5)),
        (lifetime_label, lambda: icare.absolute_risk(cal, lp, starts, to_90)),
    ]  # fmt: skip
    lines += [
        "",
        f"Scoring {n:,} women (reference population {REFERENCE_SIZES[-1]:,} rows):",
        "",
        "| call | best wall s | CPU s | women/s |",
        "|---|---:|---:|---:|",
    ]
    results = {}
    for label, function in cases:
        wall, cpu, result = _best(function, repeats)
        results[label] = result
        lines.append(f"| {label} | {wall:.3f} | {cpu:.3f} | {n / wall:,.0f} |")
    ruled = results[missing_label]
    lines.append("")
    lines.append(
        f"Missing-covariate rule: {ruled.n_used_missing_rule:,} women, "
        f"{ruled.missing_patterns.shape[0]} patterns, {np.unique(starts).size} windows."
    )

    m = min(scalar_n, n)
    base, mort = cal.baseline_hazard.tolist(), cal.competing_mortality.tolist()
    args = (lp[:m].tolist(), starts[:m].tolist(), [5] * m)
    wall, _, scalar = _best(lambda: _scalar_risks(base, mort, *args), 1)
    vector = results[cases[0][0]][:m]
    worst = float(np.max(np.abs(vector - np.array(scalar)) / np.array(scalar)))
    fast = n / _best(cases[0][1], 1)[0]
    lines += [
        "",
        f"Scalar peer (plain Python loop per woman, {m:,} women, 5-year): {m / wall:,.0f} "
        f"women/s; vectorised is {fast / (m / wall):,.0f}x faster; largest relative difference "
        f"{worst:.1e}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    one_core.limit_threads()  # before numpy is imported
    one_core.pin_to_one_core()
    parser = argparse.ArgumentParser(prog="python -m benchmarks.icare_bench", description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000, help="women to score")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per case")
    parser.add_argument("--scalar-n", type=int, default=20_000, help="women for the scalar peer")
    args = parser.parse_args(argv)
    print(run(args.n, args.repeats, args.scalar_n), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
