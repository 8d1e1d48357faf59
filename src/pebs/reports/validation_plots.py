"""Calibration plot of a risk-model validation (PNG and SVG, matplotlib).

``calibration.png`` / ``calibration.svg``, two panels, one colour per model:

- left: observed against expected events per 100 women in each decile of predicted risk (points),
  with the exact Poisson (Garwood) interval of the observed count (bars), and the diagonal
  ``observed = expected``;
- right: E/O by five-year age band with its interval, and the line E/O = 1.

Figures are drawn on the Agg canvas of a ``matplotlib.figure.Figure`` (no pyplot, nothing at
import time); SVGs are reproducible (fixed ids, no date).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from pebs.stats import GroupedCalibration

FORMATS = ("png", "svg")
NAME = "calibration"
_RC = {"svg.hashsalt": "pebs", "font.size": 9, "axes.titlesize": 9}


def _new_figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def calibration_figure(
    curves: Mapping[str, tuple[GroupedCalibration, GroupedCalibration]], *, title: str = ""
):
    """Figure of ``{model label: (by decile, by age band)}`` (see the module docstring)."""
    from matplotlib import colormaps

    figure = _new_figure(11.0, 4.8)
    left, right = figure.subplots(1, 2, width_ratios=(1.0, 1.2))
    highest = 0.0
    n_models = len(curves)
    for k, (label, (deciles, ages)) in enumerate(curves.items()):
        colour = colormaps["tab10"](k % 10)
        x = 100.0 * deciles.expected / deciles.n_women  # expected per 100 women
        y = 100.0 * deciles.observed / deciles.n_women
        low = 100.0 * deciles.observed_lower / deciles.n_women
        high = 100.0 * deciles.observed_upper / deciles.n_women
        left.errorbar(x, y, yerr=[y - low, high - y], fmt="o", color=colour, capsize=2,
                      markersize=4, label=label)  # fmt: skip
        highest = max(highest, float(np.max(x)), float(np.max(high)))
        offset = (k - (n_models - 1) / 2) * 0.18
        positions = np.arange(len(ages.labels)) + offset
        ratio = np.where(np.isfinite(ages.ratio), ages.ratio, np.nan)
        upper = np.where(np.isfinite(ages.upper), ages.upper, np.nan)
        right.errorbar(positions, ratio, yerr=[ratio - ages.lower, upper - ratio], fmt="s",
                       color=colour, capsize=2, markersize=4, label=label)  # fmt: skip
        right.set_xticks(np.arange(len(ages.labels)), ages.labels)
    limit = highest * 1.08
    left.plot([0.0, limit], [0.0, limit], color="grey", linewidth=0.8, linestyle="--",
              label="observed = expected")  # fmt: skip
    left.set_xlim(0.0, limit)
    left.set_ylim(0.0, limit)
    left.set_xlabel("expected events per 100 women (deciles of predicted 5-year risk)")
    left.set_ylabel("observed events per 100 women")
    left.set_title("Calibration by decile (bars: exact 95% Poisson interval)")
    left.legend(loc="upper left", fontsize=8)
    right.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
    right.set_xlabel("age at assessment (years)")
    right.set_ylabel("E/O (expected / observed)")
    right.set_title("E/O by age band (bars: 95% interval)")
    if title:
        figure.suptitle(title)
    return figure


def write_calibration_plot(
    curves: Mapping[str, tuple[GroupedCalibration, GroupedCalibration]],
    directory: Path,
    *,
    title: str = "",
    formats: Sequence[str] = FORMATS,
) -> tuple[Path, ...]:
    """Write ``calibration.<format>`` for each of ``formats`` into ``directory``; return the paths.

    Raises ``OSError`` if a file cannot be written.
    """
    from matplotlib import rc_context

    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"formats: unknown {unknown}; allowed: {', '.join(FORMATS)}")
    written = []
    with rc_context(_RC):
        figure = calibration_figure(curves, title=title)
        for fmt in formats:
            path = Path(directory) / f"{NAME}.{fmt}"
            metadata = {"Date": None} if fmt == "svg" else None
            figure.savefig(path, format=fmt, dpi=150, metadata=metadata)
            written.append(path)
    return tuple(written)
