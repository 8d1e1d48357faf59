"""Plots of the trial analysis (PNG and SVG, matplotlib): cumulative incidence by arm.

``cumulative_incidence.png`` / ``.svg``: the Aalen-Johansen cumulative incidence of the primary
endpoint (death a competing event; solid) and ``1 - Kaplan-Meier`` with deaths censored
(dashed) per arm, per 100,000 women, against years since randomisation, up to the horizon or
the arm's longest follow-up if shorter.
Figures are drawn on the Agg canvas of a ``matplotlib.figure.Figure`` (no pyplot); SVGs are
reproducible (fixed ids, no date).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

FORMATS = ("png", "svg")
NAME = "cumulative_incidence"
_RC = {"svg.hashsalt": "pebs", "font.size": 9, "axes.titlesize": 9}
PER = 100_000


def cumulative_incidence_figure(time_to_event: Mapping[str, Any], *, title: str = ""):
    """Figure of the ``time_to_event`` section of an analysis's results (module docstring)."""
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 4.2), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    horizon = time_to_event["horizon_years"]
    for k, (arm, curve) in enumerate(time_to_event["arms"].items()):
        colour = colormaps["tab10"](k % 10)
        times = [0.0, *curve["times"], curve["max_follow_up_years"]]  # no line past the data
        for key, style, label in (
            ("aalen_johansen", "-", "Aalen-Johansen"),
            ("one_minus_km", "--", "1 - Kaplan-Meier"),
        ):
            values = [0.0, *curve[key]]
            values = [PER * v for v in [*values, values[-1]]]
            axes.step(
                times, values, where="post", linestyle=style, color=colour, label=f"{arm} ({label})"
            )
    axes.set_xlim(0, horizon)
    axes.set_xlabel("years since randomisation")
    axes.set_ylabel(f"cumulative incidence per {PER:,} women")
    axes.set_title(title)
    if time_to_event["arms"]:  # no randomised woman yet: empty axes
        axes.legend(loc="upper left", fontsize=8)
    return figure


def save_figure(figure, folder: Path, name: str = NAME) -> tuple[Path, ...]:
    """Write ``name.png`` and ``name.svg`` into ``folder``; return their paths."""
    from matplotlib import rc_context

    paths = []
    with rc_context(_RC):
        for extension in FORMATS:
            path = Path(folder) / f"{name}.{extension}"
            figure.savefig(path, format=extension, dpi=150, metadata=_metadata(extension))
            paths.append(path)
    return tuple(paths)


def _metadata(extension: str) -> dict[str, Any]:
    return {"Date": None} if extension == "svg" else {}
