"""Markdown report of a benchmark run: goals next to the measured numbers, plus checks."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

GOALS_PER_S = {"5y": 3_000_000, "lifetime": 1_000_000}
"""Speed goals for the Gail model (project lead), women per second on one core."""
AGREEMENT_TOLERANCE = 1e-10
"""Largest relative difference allowed between the scalar and the vectorised implementation."""
HORIZON_LABELS = {"5y": "5-year", "lifetime": "lifetime (to 90)"}


@dataclass
class Report:
    """Collects markdown lines and the names of failed checks."""

    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def check(self, ok: bool, what: str) -> str:
        if not ok:
            self.failures.append(what)
        return "ok" if ok else "**FAILED**"

    def text(self) -> str:
        return "\n".join(self.lines).rstrip() + "\n"


def _rate(per_s: float) -> str:
    return f"{per_s:,.0f}"


def header(report: Report, info: dict[str, str]) -> None:
    report.add("# pebs benchmarks", "")
    for key, value in info.items():
        report.add(f"- {key}: {value}")
    report.add("")


def reference_check(report: Report, result: dict) -> None:
    """The scalar peer against R's BCRA numbers (:func:`benchmarks.reference.compare`)."""
    worst = max(result["max_rel_diff"].values())
    ok = not result["mismatched"] and worst <= AGREEMENT_TOLERANCE
    mismatched = ", ".join(result["mismatched"][:10]) or "none"
    report.add(
        "",
        "### Scalar peer vs R BCRA 2.1.2 reference numbers",
        "",
        f"`{result['file']}`: {result['n_rows']:,} rows; valid/error decision differs from R "
        f"on: {mismatched}; max relative difference of AbsRisk, AbsRisk_Avg, RR_Star1/2: "
        f"{worst:.1e} ({report.check(ok, 'scalar peer vs R reference')}).",
    )


def throughput(report: Report, speed: dict, memory: dict | None) -> None:
    """Gail throughput section from the two ``benchmarks.gail_throughput`` parts."""
    n = speed["n"]
    n_invalid = speed["5y"]["n_invalid"]
    report.add(
        "## Gail (BCRAT) throughput, one core",
        "",
        f"`gail.risk_bcra` (absolute + average-woman risk) on {n:,} synthetic women (seed "
        f"{speed['seed']}; races 1-11, ages 20-85, unknown codes; {n_invalid:,} rejected rows), "
        f"{speed['repeats']} calls per horizon, CPU {speed['core']} only, thread variables = 1. "
        f"Scalar peer: `benchmarks/scalar_gail.py` on the first "
        f"{speed['5y']['scalar']['n']:,} of the same women.",
        "",
        "| horizon | vectorised best (women/s) | median | goal | goal met | scalar best "
        "| speed-up (best/best) |",
        "|---|---:|---:|---:|---|---:|---:|",
    )
    for horizon, label in HORIZON_LABELS.items():
        h = speed[horizon]
        best = h["vectorised"]["best_per_s"]
        goal = GOALS_PER_S[horizon]
        report.add(
            f"| {label} | {_rate(best)} | {_rate(h['vectorised']['median_per_s'])} "
            f"| >= {_rate(goal)} | {'yes' if best >= goal else '**no**'} "
            f"| {_rate(h['scalar']['best_per_s'])} "
            f"| {best / h['scalar']['best_per_s']:,.0f}x |"
        )
    report.add("")
    for horizon in HORIZON_LABELS:
        cpu = speed[horizon]["vectorised"]["cpu_seconds"][1:]  # the first call: fresh pages
        per_cpu_s = n / statistics.median(cpu or speed[horizon]["vectorised"]["cpu_seconds"])
        name = f"gail-{horizon}-million-women-per-cpu-s"
        report.add(goal_line(name, per_cpu_s / 1e6, GOALS_PER_S[horizon] / 1e6))
    report.add(
        "",
        "The goals are checked on women per CPU-second (median of the calls after the first), "
        "which depends less than wall time on the machine's other load; the table gives wall time.",
    )
    report.add(
        "",
        "R's BCRA, the reference implementation, is timed on the same women in the section "
        "below (`benchmarks/bcra_peer.py`).",
        "",
        "Seconds per call (wall; CPU time in brackets):",
        "",
    )
    for horizon, label in HORIZON_LABELS.items():
        v = speed[horizon]["vectorised"]
        calls = ", ".join(
            f"{w:.3f} ({c:.3f})" for w, c in zip(v["seconds"], v["cpu_seconds"], strict=True)
        )
        report.add(f"- {label}: {calls}")
    _agreement(report, speed)
    if memory is not None:
        _memory(report, memory)


def _agreement(report: Report, speed: dict) -> None:
    report.add(
        "",
        "### Scalar vs vectorised agreement (rows both accept)",
        "",
        "| horizon | rows compared | decision mismatches | absolute risk | average risk "
        "| RR < 50 | RR >= 50 | check |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    )
    for horizon, label in HORIZON_LABELS.items():
        a = speed[horizon]["agreement"]
        values = [a["absolute_risk"], a["average_risk"], a["rr_under_50"], a["rr_from_50"]]
        ok = a["n_decision_mismatch"] == 0 and max(values) <= AGREEMENT_TOLERANCE
        status = report.check(ok, f"scalar/vectorised agreement, {label}")
        report.add(
            f"| {label} | {a['n_compared']:,} | {a['n_decision_mismatch']} | "
            + " | ".join(f"{value:.1e}" for value in values)
            + f" | {status} |"
        )
    report.add("", f"Maximum relative differences; tolerance {AGREEMENT_TOLERANCE:.0e}.")


def _memory(report: Report, memory: dict) -> None:
    n = memory["n"]
    report.add(
        "",
        f"### Peak memory of one {n:,}-woman call",
        "",
        f"Inputs ({memory['input_mib']:.0f} MiB of float64 arrays) are not counted. Measured in "
        f"a fresh process with `MALLOC_MMAP_THRESHOLD_={memory['malloc_mmap_threshold']}` so "
        "that freed arrays leave the resident set.",
        "",
        "| horizon | peak RSS increase | tracemalloc peak | bytes per woman (tracemalloc) |",
        "|---|---:|---:|---:|",
    )
    for horizon, label in HORIZON_LABELS.items():
        m = memory[horizon]
        note = "" if m["peak_was_reset"] else " (process peak; reset not allowed)"
        report.add(
            f"| {label} | {m['peak_rss_increase_mib']:.0f} MiB{note} "
            f"| {m['tracemalloc_peak_mib']:.0f} MiB "
            f"| {m['tracemalloc_peak_mib'] * 2**20 / n:.0f} |"
        )


def cli(report: Report, result: dict | None, reason: str = "") -> None:
    """CLI streaming section from :func:`benchmarks.cli_stream.measure`."""
    report.add("", "## CLI streaming: `pebs risk gail` and `pebs risk assess`, one core", "")
    if result is None:
        report.add(f"Not run: {reason}.")
        return
    n = result["n_rows"]
    lines_ok = result.get("output_lines") == n + 1
    report.add(
        f"{n:,} synthetic rows (`id` + the 8 BCRA columns, half 5-year and half lifetime "
        f"windows; {result['input_mib']:.0f} MiB CSV, written in {result['generate_seconds']:.0f} "
        "s, not timed).",
        "",
        "| rows | wall | CPU | rows/s | child peak RSS | exit code | output lines | check |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
        f"| {n:,} | {result['wall_seconds']:.1f} s | {result['cpu_seconds']:.1f} s "
        f"| {_rate(result['rows_per_s'])} | {result['peak_rss_mib']:.0f} MiB "
        f"| {result['exit_code']} | {result.get('output_lines') or 0:,} "
        f"| {report.check(result['exit_code'] == 0 and lines_ok, 'CLI output line count')} |",
        "",
        f"Command: `{result['command']}`",
    )
    spot = result.get("spot_check")
    if spot:
        worst = max(spot["max_rel_diff"].values())
        ok = spot["n_decision_mismatch"] == 0 and worst <= AGREEMENT_TOLERANCE
        report.add(
            "",
            f"Spot check of the first {spot['n_checked']:,} valid output rows against "
            f"`scalar_gail`: max relative difference {worst:.1e}, "
            f"{spot['n_decision_mismatch']} valid/rejected mismatches "
            f"({report.check(ok, 'CLI spot check')}).",
        )
    if result.get("versus_peer"):
        report.add("", *result["versus_peer"])
        assess_ok = result.get("assess_lines") == n + 1
        report.check(assess_ok, "pebs risk assess output line count")
    if result.get("log"):
        report.add("", "CLI summary (stderr):", "", "```", result["log"], "```")


def goal_line(name: str, value: float, target: float, *, at_most: bool = False) -> str:
    """``GOAL <name>: <value> (target <target>) PASS|MISS``, the one form every section prints.

    ``value`` passes at or above ``target`` (a ratio against a peer), or, with ``at_most``,
    below it (a latency).

    >>> goal_line("http-list", 0.61, 0.5), goal_line("p99-ms", 61.0, 50, at_most=True)
    ('GOAL http-list: 0.61 (target 0.5) PASS', 'GOAL p99-ms: 61.00 (target < 50) MISS')
    """
    met = value < target if at_most else value >= target
    bound = f"< {target:g}" if at_most else f"{target:g}"
    return f"GOAL {name}: {value:.2f} (target {bound}) {'PASS' if met else 'MISS'}"
