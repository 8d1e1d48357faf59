"""Regenerate docs/simulation-validation.md and its plots (docs/images/sim-validation-*.png).

    .venv/bin/python scripts/sim_validation_report.py [--women N] [--replicates R]
        [--trial-replicates R] [--output DIR] [--previous JSON]

Every European target (calibration and validation, kept apart) with its source, definition,
model value and Monte Carlo interval; incidence by age with and without screening per country;
the trial in silico's stage II+ rates next to the design assumption, with the power for 85,000
and 53,000 women. ``make sim-validation`` runs it with the defaults (a few minutes).

The model values are also written as ``simulation-validation.json`` (target id -> model mean,
and the trial rows); ``--previous`` names such a file from an earlier parameter set, whose
values are shown next to the new ones (before / after).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from pebs.sim.validation import DESIGN_STAGE2PLUS_PER_100K, TRIAL_SIZES, validation_data

ROOT = Path(__file__).resolve().parents[1]


def _fmt(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _target_table(rows, kind: str, previous: dict | None = None) -> list[str]:
    before = f" {previous['parameters']} |" if previous else ""
    lines = [
        "| target | definition | country | figure [interval] |" + before
        + " model mean [2.5-97.5 %] | in range |",
        "|---|---|---|---|---|---|" + ("---|" if previous else ""),
    ]  # fmt: skip
    for r in rows:
        if r.kind != kind:
            continue
        old = ""
        if previous:
            value = previous["targets"].get(r.id)
            old = " — |" if value is None else f" {_fmt(value)} |"
        lines.append(
            f"| **{r.id}** ({r.unit}) | {r.definition} | {r.country} | {_fmt(r.value)} "
            f"[{_fmt(r.low)}-{_fmt(r.high)}; {r.interval}] |{old} {_fmt(r.model_mean)} "
            f"[{_fmt(r.model_low)}-{_fmt(r.model_high)}] | {'yes' if r.inside else '**no**'} |"
        )
    return lines


def _values(data) -> dict:
    """The model values of a report, for a later report's before / after columns."""
    return {
        "parameters": data.parameters,
        "targets": {r.id: round(r.model_mean, 6) for r in data.rows},
        "inside": {k: sum(r.inside for r in data.rows if r.kind == k)
                   for k in ("calibration", "validation")},
        "trial": {t.parameters: {"standard": round(t.per_100k[0], 1),
                                 "risk-based": round(t.per_100k[1], 1)} for t in data.trials},
    }  # fmt: skip


def _sources(rows) -> list[str]:
    seen, lines = set(), []
    for r in rows:
        if r.source not in seen:
            seen.add(r.source)
            lines.append(f"- {r.id}: {r.source}")
    return lines


def _incidence_plot(data, path: Path) -> None:
    fig = Figure(figsize=(11, 6.5))
    FigureCanvasAgg(fig)
    edges = data.age_edges
    mids = (edges[:-1] + edges[1:]) / 2
    for k, (country, rates) in enumerate(data.incidence.items()):
        ax = fig.add_subplot(2, 3, k + 1)
        for key, style, label in (("registry", "k-", "registry (2013-2020)"),
                                  ("no-screening", "b--", "model, without screening"),
                                  ("programme", "r:", "model, with the programme")):  # fmt: skip
            ax.plot(mids, 1e5 * np.asarray(rates[key]), style, marker="o", ms=3, label=label)
        ax.set_title(country)
        ax.set_xlabel("age (group midpoint)")
        if k % 3 == 0:
            ax.set_ylabel("per 100,000 woman-years")
        if k == 0:
            ax.legend(fontsize=7)
    fig.suptitle("Invasive incidence by age: registry vs model")
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})


def _targets_plot(data, path: Path) -> None:
    rows = data.rows
    fig = Figure(figsize=(9, 0.32 * len(rows) + 1.2))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for i, r in enumerate(rows):
        scale = r.value if r.value else 1.0
        y = len(rows) - i
        ax.plot([r.low / scale, r.high / scale], [y, y], color="0.6", lw=4)
        ax.plot([r.value / scale], [y], "k|", ms=12)
        color = "tab:blue" if r.kind == "calibration" else "tab:red"
        below = max(r.model_mean - r.model_low, 0) / scale
        above = max(r.model_high - r.model_mean, 0) / scale
        ax.errorbar([r.model_mean / scale], [y], xerr=[[below], [above]], fmt="o", color=color,
                    ms=4)  # fmt: skip
    ax.set_yticks(range(len(rows), 0, -1), [f"{r.id} ({r.kind[:3]})" for r in rows], fontsize=7)
    ax.axvline(1.0, color="0.8", lw=0.8)
    ax.set_xlabel("model / published figure (grey: the source's interval or range)")
    ax.set_xscale("log")
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--women", type=int, default=100_000)
    parser.add_argument("--replicates", type=int, default=5)
    parser.add_argument("--trial-replicates", type=int, default=10)
    parser.add_argument("--output", type=Path, default=ROOT / "docs")
    parser.add_argument(
        "--previous",
        type=Path,
        default=None,
        help="simulation-validation.json of an earlier parameter set",
    )
    args = parser.parse_args()
    previous = None
    if args.previous is not None:
        previous = json.loads(args.previous.read_text(encoding="utf-8"))
    data = validation_data(n_women=args.women, replicates=args.replicates,
                           trial_replicates=args.trial_replicates)  # fmt: skip
    images = args.output / "images"
    images.mkdir(parents=True, exist_ok=True)
    _incidence_plot(data, images / "sim-validation-incidence.png")
    _targets_plot(data, images / "sim-validation-targets.png")
    s = data.settings
    inside = {
        k: sum(r.inside for r in data.rows if r.kind == k) for k in ("calibration", "validation")
    }
    total = {k: sum(r.kind == k for r in data.rows) for k in ("calibration", "validation")}
    lines = [
        "# Simulator validation for Europe",
        "",
        "Generated by `scripts/sim_validation_report.py` (`make sim-validation`): "
        f"parameters **{data.parameters}**, targets `{data.targets.name}` version "
        f"{data.targets.version}, {s['n_women']:,} women per study x {s['replicates']} replicates "
        f"(seed {s['seed']}), trial {s['trial_replicates']} replicates; {s['seconds']} s on a "
        "shared 2-core machine. Model intervals are the 2.5th-97.5th percentiles over replicates "
        "(Monte Carlo only, not parameter uncertainty). Method and discussion: "
        "[simulation.md](simulation.md) section 5.",
        "",
        f"In the source's range: **{inside['calibration']} of {total['calibration']}** "
        f"calibration targets (fitted), **{inside['validation']} of {total['validation']}** "
        "validation targets (never fitted)."
        + (
            f" Previous set ({previous['parameters']}, its own targets then): "
            f"{previous['inside']['calibration']} calibration and "
            f"{previous['inside']['validation']} validation targets in range; its values are "
            "in the column before the model's (— where the target is new)."
            if previous
            else ""
        ),
        "",
        "![model / published figure](images/sim-validation-targets.png)",
        "",
        "## Calibration targets (fitted by `pebs simulate calibrate`)",
        "",
        *_target_table(data.rows, "calibration", previous),
        "",
        "## Validation targets (not fitted)",
        "",
        *_target_table(data.rows, "validation", previous),
        "",
        "## Incidence by age, with and without screening",
        "",
        "Registry incidence (pebs.risk country tables) against the model's incidence without "
        "screening (registry x the back-calculated multipliers of the parameter set) and with the "
        "country's programme at its attendance (`[history] attendance`), women followed from 30. "
        "The programme curve should lie on the registry: that is how the multipliers are found "
        "(`pebs.sim.incidence`). Per 100,000 woman-years, invasive diagnoses (registries count "
        "invasive cancers; in-situ lesions are left out).",
        "",
        "![incidence by age](images/sim-validation-incidence.png)",
        "",
        "| country | rate | "
        + " | ".join(
            f"{int(lo)}-{int(hi) - 1}"
            for lo, hi in zip(data.age_edges[:-1], data.age_edges[1:], strict=True)
        )
        + " |",
        "|---|---|" + "---|" * (len(data.age_edges) - 1),
    ]
    for country, rates in data.incidence.items():
        for key in ("registry", "no-screening", "programme"):
            lines.append(f"| {country} | {key} | "
                         + " | ".join(f"{1e5 * v:.0f}" for v in rates[key]) + " |")  # fmt: skip
    lines += [
        "",
        "## Trial in silico (`mypebs-trial`)",
        "",
        f"AJCC stage II+ cumulative incidence over 4 years per 100,000 women (mean "
        "[2.5-97.5 % of replicates]); the design assumption of the standard arm is "
        f"~{DESIGN_STAGE2PLUS_PER_100K:.0f}. Power of the non-inferiority test (margin 1.25, "
        "one-sided alpha 0.025; `pebs.stats.power_ratio`, normal approximation) at the simulated "
        "standard-arm rate, for a true ratio of 1 and for the simulated ratio, with the "
        "randomised women split 1:1 after the exclusions.",
        "",
        "| parameters | standard arm | risk-based arm | ratio | excluded before entry | "
        + " | ".join(f"power, {n:,} (ratio 1 / simulated)" for n in TRIAL_SIZES)
        + " | share of replicates non-inferior (85,000) |",
        "|---|---|---|---|---|" + "---|" * len(TRIAL_SIZES) + "---|",
    ]
    for t in data.trials:
        (sl, sh), (rl, rh) = t.per_100k_interval
        powers = " | ".join(
            f"{t.power[n]['ratio 1']:.2f} / {t.power[n]['simulated ratio']:.2f}"
            for n in TRIAL_SIZES
        )
        lines.append(
            f"| {t.parameters} | {t.per_100k[0]:.0f} [{sl:.0f}-{sh:.0f}] | {t.per_100k[1]:.0f} "
            f"[{rl:.0f}-{rh:.0f}] | {t.ratio:.2f} | {100 * t.excluded:.2f} % | {powers} | "
            f"{t.power_replicates:.2f} ({t.replicates} replicates) |"
        )
    lines += ["", "## Sources", "", *_sources(data.rows), ""]
    (args.output / "simulation-validation.md").write_text("\n".join(lines), encoding="utf-8")
    (args.output / "simulation-validation.json").write_text(
        json.dumps(_values(data), indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    print(f"wrote {args.output / 'simulation-validation.md'} and 2 plots in {images}")


if __name__ == "__main__":
    main()
