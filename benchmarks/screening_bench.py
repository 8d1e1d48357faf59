"""Next screening exam for a large population, one core: seconds, women/s, peak memory.

``python -m benchmarks.screening_bench`` prints a markdown section (run by ``make bench``).
Goal: the next exam of **10,000,000 women in under 2 seconds** on one core, for every
shipped policy, with :func:`pebs.screening.vectorised.next_exam`. Peer: the per-woman planner
(:func:`pebs.screening.plan`, first exam of each woman's plan) on a small sample, in the same run.

Women (fixed seed): ages uniform on [35, 80) years (fractional); level uniform over the policy's
levels with 10% unknown; BI-RADS density a/b/c/d 10/40/40/10% with 5% unknown; 5-year risk
log-uniform on [0.2%, 10%] with 10% unknown; no previous screen for 20%, otherwise a last screen
0 to 4 years ago; for study policies the study ends 0 to 4 years from now (``study_end_age``).
Inputs are built once and not timed; the timed call includes input validation.
"""

from __future__ import annotations

import argparse
import sys
import time

from benchmarks import one_core

GOAL_N = 10_000_000
GOAL_SECONDS = 2.0
PEER_N = 2_000
SEED = 20261128


def _women(np, compiled, n: int, rng) -> dict:
    ages = rng.uniform(35.0, 80.0, n)
    levels = rng.integers(0, max(len(compiled.levels), 1), n, dtype=np.int8)
    levels[rng.random(n) < 0.1] = -1
    if not compiled.levels:
        levels[:] = -1
    densities = rng.choice(np.arange(4, dtype=np.int8), n, p=[0.1, 0.4, 0.4, 0.1])
    densities[rng.random(n) < 0.05] = -1
    risks = np.exp(rng.uniform(np.log(0.002), np.log(0.1), n))
    risks[rng.random(n) < 0.1] = np.nan
    since = rng.uniform(0.0, 4.0, n)
    since[rng.random(n) < 0.2] = np.nan
    women = {"age": ages, "level": levels, "density": densities, "risk_5y": risks,
             "years_since_last": since}  # fmt: skip
    if compiled.has_study:
        women["study_end_age"] = ages + rng.uniform(0.0, 4.0, n)
    return women


def _times(function, repeats: int) -> tuple[float, float]:
    """(best, median) CPU seconds over ``repeats`` calls."""
    runs = []
    for _ in range(repeats):
        cpu = time.process_time()
        function()
        runs.append(time.process_time() - cpu)
    runs.sort()
    return runs[0], runs[len(runs) // 2]


def _peer(np, policy, n: int, rng) -> float:
    """Women per second of the per-woman planner (first exam of each plan), CPU time."""
    from dataclasses import replace
    from datetime import date, timedelta

    from pebs.screening import Woman, birthday, plan

    arm = "standard" if policy.arm == "any" else policy.arm
    routine = replace(policy, study=None)  # routine schedule to the end of her bands
    women = []
    for _ in range(n):
        start = date(2026, 1, 15)
        birth = start - timedelta(days=int(rng.uniform(35, 80) * 365.25))
        last = None if rng.random() < 0.2 else start - timedelta(days=int(rng.uniform(0, 4 * 365)))
        level = str(rng.choice(policy.levels)) if policy.levels else None
        density = str(rng.choice(list("abcd")))
        women.append((Woman(birth, arm, level, density=density, last_screen=last), start))
    cpu = time.process_time()
    for woman, start in women:
        plan(routine, woman, start, until=birthday(woman.birth_date, 121)).exams[:1]
    return n / (time.process_time() - cpu)


def run(n: int, repeats: int, names: list[str]) -> tuple[str, bool]:
    import numpy as np

    from benchmarks import memory
    from pebs.screening import load_policy, shipped_policies
    from pebs.screening.vectorised import compile_policy, next_exam

    names = names or list(shipped_policies())
    rng = np.random.default_rng(SEED)
    lines = [
        "## Screening: next exam for a population, one core",
        "",
        f"`pebs.screening.vectorised.next_exam` on {n:,} synthetic women per policy (seed {SEED};"
        " ages 35-80, levels, densities, 5-year risks, last screens, study ends), CPU seconds, "
        f"best and median of {repeats} calls, thread variables = 1, one CPU. Goal: "
        f"{GOAL_N:,} women in < {GOAL_SECONDS:g} s. Peer: the per-woman planner "
        f"(`pebs.screening.plan`, first exam) on {PEER_N:,} women. Peak memory of one call: "
        "resident-set increase and tracemalloc peak (inputs not counted; results counted).",
        "",
        "| policy | rules / streams | best (s) | median (s) | women/s (best) | goal met | "
        "planner (women/s) | speed-up | peak RSS increase | tracemalloc peak |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    all_met = True
    for name in names:
        policy = load_policy(name)
        compiled = compile_policy(policy)
        women = _women(np, compiled, n, rng)
        best, median = _times(lambda c=compiled, w=women: next_exam(c, **w), repeats)
        met = best * GOAL_N / n < GOAL_SECONDS
        all_met &= met
        peer = _peer(np, policy, PEER_N, rng)
        rss = memory.peak_rss_increase(lambda c=compiled, w=women: next_exam(c, **w))
        traced = memory.tracemalloc_peak(lambda c=compiled, w=women: next_exam(c, **w))
        lines.append(
            f"| {name} | {len(compiled.rule_ids)} / {len(compiled.streams)} | {best:.3f} | "
            f"{median:.3f} | {n / best:,.0f} | {'yes' if met else 'NO'} | {peer:,.0f} | "
            f"{n / best / peer:,.0f}x | {rss['peak_rss_increase_mib']:.0f} MiB | "
            f"{traced:.0f} MiB |"
        )
        del women
    if n != GOAL_N:
        lines += ["", f"Goal met: scaled linearly from {n:,} to {GOAL_N:,} women."]
    return "\n".join(lines) + "\n", all_met


def main(argv: list[str] | None = None) -> int:
    one_core.limit_threads()  # before numpy is imported
    one_core.pin_to_one_core()
    parser = argparse.ArgumentParser(prog="python -m benchmarks.screening_bench")
    parser.add_argument("--n", type=int, default=GOAL_N, help="women per policy")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--policy", action="append", default=[], help="only these (repeatable)")
    args = parser.parse_args(argv)
    text, _ = run(args.n, args.repeats, args.policy)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
