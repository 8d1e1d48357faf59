"""Plots comparing the strategies of a simulation run (PNG and SVG, matplotlib).

Three figures, each written as ``<name>.png`` and ``<name>.svg``:

- ``outcomes``: benefits and harms per 1,000 women, one panel per outcome, one bar per strategy
  with the Monte Carlo interval (2.5th to 97.5th percentile over replicates; no interval with one
  replicate);
- ``benefit_harm``: breast-cancer deaths averted against false-positive recalls, per 1,000 women,
  with both intervals (the CISNET way of showing the trade-off);
- ``stages``: stage at diagnosis (percent of the cancers diagnosed) and mode of detection
  (per 1,000 women) per strategy, replicate means.

Figures are drawn on the Agg canvas of a ``matplotlib.figure.Figure`` (no pyplot, no global
backend switch, nothing at import time); SVGs are reproducible (fixed ids, no date).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pebs.sim import NO_SCREENING, SimulationResult
from pebs.sim.outcomes import MODES
from pebs.sim.parameters import STAGES

FORMATS = ("png", "svg")
FIGURES = ("outcomes", "benefit_harm", "stages")
OUTCOME_PANELS = (
    ("visits", "Screening visits"),
    ("false_positives", "False-positive recalls"),
    ("benign_biopsies", "Benign biopsies"),
    ("screen_detected", "Screen-detected cancers"),
    ("interval_cancers", "Interval cancers"),
    ("overdiagnosed", "Overdiagnosed cancers"),
    ("advanced_cancers", "Advanced cancers (regional/distant)"),
    ("stage2plus", "AJCC stage II+ cancers"),
    ("bc_deaths", "Breast-cancer deaths"),
    ("deaths_averted", "Deaths averted vs no screening"),
    ("life_years_gained", "Life-years gained vs no screening"),
)
"""(outcome, panel title) of the ``outcomes`` figure."""
MODE_LABELS = {"screen": "screen-detected", "interval": "interval", "clinical": "clinical"}
_RC = {"svg.hashsalt": "pebs", "font.size": 9, "axes.titlesize": 9}


def _interval(result: SimulationResult, strategy: str, outcome: str) -> tuple[float, float, float]:
    values = result.per_1000(strategy, outcome)
    return (
        float(values.mean()),
        float(np.percentile(values, 2.5)),
        float(np.percentile(values, 97.5)),
    )


def _colours(n: int) -> list:
    from matplotlib import colormaps

    return [colormaps["tab10"](i % 10) for i in range(n)]


def _new_figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _caption(result: SimulationResult) -> str:
    return (
        f"{result.scenario}: {result.n_women:,} women x {result.n_replicates} replicate(s), "
        f"seed {result.seed}; {result.parameters}"
    )


def _tick(value: float, _position=None) -> str:
    """Tick label: thousands separated, small values with up to 3 significant digits, no -0."""
    value = 0.0 if value == 0 else value
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def outcomes_figure(result: SimulationResult):
    """Figure: outcomes per 1,000 women, one panel per outcome, intervals over replicates."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    strategies = list(result.strategies)
    colours = _colours(len(strategies))
    n_cols = 5
    n_rows = -(-len(OUTCOME_PANELS) // n_cols)
    figure = _new_figure(3.0 * n_cols, 0.45 * len(strategies) * n_rows + 1.2 * n_rows)
    axes = figure.subplots(n_rows, n_cols, sharey=True, squeeze=False).ravel()
    positions = np.arange(len(strategies))
    for ax, (outcome, title) in zip(axes, OUTCOME_PANELS, strict=False):
        stats = np.array([_interval(result, s, outcome) for s in strategies])  # (n_strat, 3)
        errors = np.vstack([stats[:, 0] - stats[:, 1], stats[:, 2] - stats[:, 0]])
        ax.barh(positions, stats[:, 0], color=colours, xerr=errors, capsize=3)
        ax.set_title(title)
        ax.axvline(0.0, color="black", linewidth=0.6)
        ax.set_xlabel("per 1,000 women")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.xaxis.set_major_formatter(FuncFormatter(_tick))
    for ax in axes[len(OUTCOME_PANELS) :]:
        ax.set_visible(False)
    axes[0].set_yticks(positions, strategies)
    axes[0].invert_yaxis()
    figure.suptitle(f"Outcomes per 1,000 women (bars: replicate mean; lines: 2.5-97.5 %)\n"
                    f"{_caption(result)}")  # fmt: skip
    return figure


def benefit_harm_figure(result: SimulationResult):
    """Figure: deaths averted vs false-positive recalls per 1,000 women, one point per strategy."""
    figure = _new_figure(7.0, 5.0)
    ax = figure.subplots()
    for strategy, colour in zip(result.strategies, _colours(len(result.strategies)), strict=True):
        x, x_low, x_high = _interval(result, strategy, "false_positives")
        y, y_low, y_high = _interval(result, strategy, "deaths_averted")
        ax.errorbar(
            [x], [y], xerr=[[x - x_low], [x_high - x]], yerr=[[y - y_low], [y_high - y]],
            fmt="o", color=colour, capsize=3,
        )  # fmt: skip
        ax.annotate(strategy, (x, y), textcoords="offset points", xytext=(6, 4))
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.margins(x=0.15, y=0.08)  # room for the labels right of the points
    ax.set_xlabel("False-positive recalls per 1,000 women (harm)")
    ax.set_ylabel(f"Breast-cancer deaths averted per 1,000 women vs {NO_SCREENING} (benefit)")
    ax.set_title(f"Benefit and harm (points: replicate mean; bars: 2.5-97.5 %)\n{_caption(result)}")
    return figure


def _stage_counts(result: SimulationResult, strategy: str) -> np.ndarray:
    """(n_modes, n_stages) replicate-mean cancers per 1,000 women."""
    return np.array([
        [result.per_1000(strategy, f"stage_{mode}_{stage}").mean() for stage in STAGES]
        for mode in MODES
    ])  # fmt: skip


def stages_figure(result: SimulationResult):
    """Figure: stage distribution (percent of cancers) and mode of detection (per 1,000)."""
    strategies = list(result.strategies)
    counts = np.array([_stage_counts(result, s) for s in strategies])  # (n_strat, modes, stages)
    figure = _new_figure(11.0, 1.6 + 0.5 * len(strategies))
    left, right = figure.subplots(1, 2, sharey=True)
    positions = np.arange(len(strategies))
    by_stage = counts.sum(axis=1)  # (n_strat, n_stages)
    totals = by_stage.sum(axis=1, keepdims=True)
    percent = np.divide(100.0 * by_stage, totals, out=np.zeros_like(by_stage), where=totals > 0)
    _stacked(left, positions, percent, STAGES, ("#4daf4a", "#ff7f00", "#e41a1c"))
    left.set_xlabel("percent of cancers diagnosed")
    left.set_title("Stage at diagnosis (SEER summary stage)")
    labels = [MODE_LABELS[m] for m in MODES]
    _stacked(right, positions, counts.sum(axis=2), labels, ("#377eb8", "#984ea3", "#999999"))
    right.set_xlabel("cancers per 1,000 women")
    right.set_title("Mode of detection")
    left.set_yticks(positions, strategies)
    left.invert_yaxis()
    figure.suptitle(f"Cancers diagnosed (replicate means)\n{_caption(result)}")
    return figure


def _stacked(ax, positions, values, labels: Sequence[str], colours: Sequence[str]) -> None:
    start = np.zeros(values.shape[0])
    for k, (label, colour) in enumerate(zip(labels, colours, strict=True)):
        ax.barh(positions, values[:, k], left=start, color=colour, label=label)
        start = start + values[:, k]
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncols=len(labels), fontsize=8)


def write_plots(
    result: SimulationResult, directory: Path, *,
    figures: Sequence[str] = FIGURES, formats: Sequence[str] = FORMATS,
) -> tuple[Path, ...]:  # fmt: skip
    """Write ``figures`` (default: all of :data:`FIGURES`) in ``formats`` (PNG and SVG) into
    ``directory``; return the paths.

    Example: ``write_plots(pebs.sim.run(...), Path("out"))`` -> ``out/outcomes.png``, ...
    Raises ``OSError`` if a file cannot be written.
    """
    from matplotlib import rc_context

    directory = Path(directory)
    makers = {"outcomes": outcomes_figure, "benefit_harm": benefit_harm_figure,
              "stages": stages_figure}  # fmt: skip
    for name, allowed, values in (("figures", FIGURES, figures), ("formats", FORMATS, formats)):
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise ValueError(f"{name}: unknown {unknown}; allowed: {', '.join(allowed)}")
    written = []
    with rc_context(_RC):
        for name in figures:
            figure = makers[name](result)
            for fmt in formats:
                path = directory / f"{name}.{fmt}"
                metadata = {"Date": None} if fmt == "svg" else None
                figure.savefig(path, format=fmt, dpi=150, metadata=metadata)
                written.append(path)
    return tuple(written)
