"""Plots of the DSMB reports (PNG and SVG bytes, matplotlib on the Agg canvas, no pyplot).

- ``recruitment``: women randomised (cumulative, by month) per country and in total, with each
  one's target as a dotted line of its colour;
- ``boundaries`` (closed report): the efficacy boundary ``c_k`` (z scale) against the
  information fraction, as planned (dashed) and recomputed at the observed fractions (solid,
  with its looks), and the observed z statistic of each look reported (filled points).

SVGs are reproducible (fixed ids, no date); PNGs carry no time stamp.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

__all__ = ["boundaries_figure", "figure_bytes", "recruitment_figure"]

_RC = {"svg.hashsalt": "pebs", "font.size": 9, "axes.titlesize": 9}


def _figure():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 4.0), layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.subplots()


def recruitment_figure(recruitment: Mapping[str, Any]):
    """Cumulative randomised women per country and in total (the ``recruitment`` table)."""
    from matplotlib import colormaps

    figure, axes = _figure()
    columns = recruitment["columns"]
    series: dict[str, tuple[int, list[str], list[int]]] = {}
    for row in recruitment["rows"]:
        item = dict(zip(columns, row, strict=True))
        if item["by"] != "country":
            continue
        target, months, counts = series.setdefault(item["key"], (item["target"], [], []))
        months.append(item["month"])
        counts.append(item["randomised"])
    for k, (key, (target, months, counts)) in enumerate(sorted(series.items())):
        colour = "black" if key == "all" else colormaps["tab10"](k % 10)
        x = list(range(len(months)))
        axes.step(x, counts, where="post", color=colour, label=f"{key} (target {target:,})")
        if target:
            axes.axhline(target, color=colour, linestyle=":", linewidth=0.8)
        if months:
            step = max(1, len(months) // 8)
            axes.set_xticks(x[::step], months[::step], rotation=45, ha="right")
    axes.set_yscale("symlog", linthresh=10)
    axes.set_ylim(bottom=0)
    axes.set_ylabel("women randomised (cumulative)")
    axes.set_title("Recruitment against target (dotted) by country")
    if series:
        axes.legend(loc="upper left", fontsize=7)
    return figure


def boundaries_figure(monitoring: Mapping[str, Any]):
    """Boundaries and observed z statistics (the ``monitoring`` section of the closed report)."""
    figure, axes = _figure()
    planned = monitoring.get("plan", {}).get("information_rates", [])
    axes.plot(planned, monitoring.get("planned_critical_values", []), "o--", color="grey",
              label="boundary as planned")  # fmt: skip
    looks = [row for row in monitoring.get("looks", []) if "critical_value" in row]
    if looks:
        axes.plot([r["information_fraction"] for r in looks], [r["critical_value"] for r in looks],
                  "s-", color="tab:blue", label="boundary at the observed information")  # fmt: skip
        seen = [r for r in looks if r.get("observed")]
        axes.plot([r["information_fraction"] for r in seen], [r["z"] for r in seen], "o",
                  color="tab:red", markersize=8, label="observed z")  # fmt: skip
    axes.axhline(0.0, color="black", linewidth=0.5)
    zs = [r["z"] for r in looks if r.get("observed") and r.get("z") is not None]
    top = max([4.5, *(z + 0.5 for z in zs)])
    axes.set_ylim(min([-1.0, *(z - 0.5 for z in zs)]), top)  # a boundary above: cut at the top
    axes.set_xlim(0, 1.05)
    axes.set_xlabel("information fraction")
    axes.set_ylabel("z (large values favour non-inferiority)")
    axes.set_title("Group-sequential efficacy boundary and observed z")
    axes.legend(loc="upper right", fontsize=7)
    return figure


def figure_bytes(figure, extension: str) -> bytes:
    """The figure as PNG or SVG bytes (reproducible: no date)."""
    from matplotlib import rc_context

    buffer = io.BytesIO()
    metadata = {"Date": None} if extension == "svg" else {"Software": None}
    with rc_context(_RC):
        figure.savefig(buffer, format=extension, dpi=150, metadata=metadata)
    return buffer.getvalue()
