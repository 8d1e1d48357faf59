"""Charts drawn on the server as SVG: line charts, horizontal (grouped) bar charts, and the
CONSORT flow. No JavaScript, no external resources, no inline styles (the content security
policy forbids them): colours and dash patterns come from classes in ``static/pebs.css``.

Each chart is an ``<svg role="img">`` labelled by its ``<title>`` and ``<desc>``; the pages put
the same numbers in a table next to it, for screen readers and for copying. Series differ by dash
pattern and marker as well as colour, so they can be told apart without colour vision. Numbers
(ticks, bar values, counts) are written in the page language (``language``, via
:mod:`pebs.i18n.formats`).

>>> nice_step(37.0), nice_step(0.0), nice_step(1200.0)
(10.0, 1.0, 250.0)
>>> svg = bar_chart("t", "d", ["low", "high"], [("n", [1, 3])])
>>> svg.count('class="bar series-0"'), 'width="' in svg
(2, True)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from pebs.i18n import DEFAULT_LANGUAGE, formats

__all__ = ["bar_chart", "consort_chart", "line_chart", "nice_step"]

_WIDTH = 640
_ids = itertools.count(1)


def nice_step(maximum: float, ticks: int = 5) -> float:
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) giving about ``ticks`` ticks up
    to ``maximum``."""
    if maximum <= 0 or not math.isfinite(maximum):
        return 1.0
    raw = maximum / ticks
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= factor * power:
            return factor * power
    return 10.0 * power  # pragma: no cover - the loop always returns


def _fmt(value: float, language: str) -> str:
    """A tick or a value in ``language``'s format, with the decimals it needs (at most 2).

    >>> _fmt(2.5, "fr"), _fmt(12500.0, "en"), _fmt(1 / 3, "it")
    ('2,5', '12,500', '0,33')
    """
    digits = next((d for d in range(3) if abs(value - round(value, d)) < 1e-9), 2)
    return formats.decimal(value, language, digits)


def _open(title: str, desc: str, height: int) -> tuple[str, list[str]]:
    uid = f"chart{next(_ids)}"
    head = (
        f'<svg class="chart" viewBox="0 0 {_WIDTH} {height}" role="img" '
        f'aria-labelledby="{uid}-t {uid}-d" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{uid}-t">{escape(title)}</title><desc id="{uid}-d">{escape(desc)}</desc>'
    )
    return uid, [head]


def _legend(names: Sequence[str], y: float) -> list[str]:
    parts, x = [], 56.0
    for index, name in enumerate(names):
        if x > _WIDTH - 120:
            x, y = 56.0, y + 18
        parts.append(
            f'<line class="line series-{index % 6}" x1="{x:.0f}" y1="{y - 4:.0f}" '
            f'x2="{x + 22:.0f}" y2="{y - 4:.0f}"/>'
            f'<text class="legend" x="{x + 28:.0f}" y="{y:.0f}">{escape(name)}</text>'
        )
        x += 40 + 7.5 * len(name)
    return parts


def line_chart(
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    y_label: str = "",
    language: str = DEFAULT_LANGUAGE,
) -> Markup:
    """Lines over the x ``labels`` (one value per label per series), y axis from 0."""
    left, right, top, bottom = 56.0, 16.0, 16.0, 48.0
    n_legend_rows = 1 + sum(7.5 * len(n) + 40 for n, _ in series) // (_WIDTH - 120)
    height = int(260 + 18 * n_legend_rows)
    plot_h = 260 - top - bottom
    plot_w = _WIDTH - left - right
    maximum = max((v for _, values in series for v in values), default=0.0)
    step = nice_step(float(maximum))
    top_value = step * max(1, math.ceil(maximum / step))
    _, parts = _open(title, desc, height)

    def x_of(i: int) -> float:
        return left + (plot_w * i / (len(labels) - 1) if len(labels) > 1 else plot_w / 2)

    def y_of(v: float) -> float:
        return top + plot_h * (1 - v / top_value)

    for k in range(round(top_value / step) + 1):
        y = y_of(k * step)
        parts.append(f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{_WIDTH - right}" '
                     f'y2="{y:.1f}"/><text class="tick" x="{left - 6}" y="{y + 4:.1f}" '
                     f'text-anchor="end">{_fmt(k * step, language)}</text>')  # fmt: skip
    every = max(1, math.ceil(len(labels) / 8))
    for i, label in enumerate(labels):
        last = len(labels) - 1
        if (i % every == 0 and last - i >= every) or i == last:
            anchor = "end" if i == len(labels) - 1 and i else "middle"
            parts.append(f'<text class="tick" x="{x_of(i):.1f}" y="{top + plot_h + 18}" '
                         f'text-anchor="{anchor}">{escape(label)}</text>')  # fmt: skip
    if y_label:
        parts.append(f'<text class="axis" x="{left}" y="{top - 4}">{escape(y_label)}</text>')
    for index, (_, values) in enumerate(series):
        points = " ".join(f"{x_of(i):.1f},{y_of(float(v)):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline class="line series-{index % 6}" points="{points}"/>')
        for i, v in enumerate(values):
            parts.append(f'<circle class="dot series-{index % 6}" cx="{x_of(i):.1f}" '
                         f'cy="{y_of(float(v)):.1f}" r="2.5"/>')  # fmt: skip
    parts += _legend([name for name, _ in series], 260 - 8)
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(
    title: str,
    desc: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    unit: str = "",
    language: str = DEFAULT_LANGUAGE,
) -> Markup:
    """Horizontal bars: one group per category, one bar per series, from 0 to the maximum."""
    left, right, top = 150.0, 56.0, 8.0
    bar_h, gap = 14.0, 10.0
    group_h = bar_h * len(series) + gap
    legend_h = 26.0 if len(series) > 1 else 0.0
    height = int(top + group_h * len(categories) + 24 + legend_h)
    plot_w = _WIDTH - left - right
    maximum = max((v for _, values in series for v in values), default=0.0)
    top_value = float(maximum) if maximum > 0 else 1.0
    _, parts = _open(title, desc, height)
    for c, category in enumerate(categories):
        y0 = top + c * group_h
        parts.append(f'<text class="tick" x="{left - 8}" y="{y0 + group_h / 2:.1f}" '
                     f'text-anchor="end">{escape(category)}</text>')  # fmt: skip
        for s, (_, values) in enumerate(series):
            value = float(values[c])
            width = plot_w * value / top_value
            y = y0 + s * bar_h
            parts.append(f'<rect class="bar series-{s % 6}" x="{left}" y="{y:.1f}" '
                         f'width="{width:.1f}" height="{bar_h - 2}"/>'
                         f'<text class="value" x="{left + width + 4:.1f}" y="{y + bar_h - 4:.1f}">'
                         f"{_fmt(value, language)}{escape(unit)}</text>")  # fmt: skip
    axis_y = top + group_h * len(categories)
    parts.append(f'<line class="axisline" x1="{left}" y1="{top}" x2="{left}" y2="{axis_y}"/>')
    if len(series) > 1:
        parts += _legend([name for name, _ in series], axis_y + 30)
    parts.append("</svg>")
    return Markup("".join(parts))


def consort_chart(
    title: str,
    desc: str,
    steps: Sequence[tuple[str, int]],
    arms: Sequence[Sequence[tuple[str, int]]],
    *,
    language: str = DEFAULT_LANGUAGE,
) -> Markup:
    """The CONSORT flow: boxes of the common ``steps`` one under the other, then one column of
    boxes per arm (its lines, the first being the arm and its number randomised)."""
    box_w, box_h, v_gap = 260.0, 34.0, 18.0
    arm_line_h = 18.0
    arm_h = 12 + arm_line_h * max((len(a) for a in arms), default=1)
    height = int(8 + (box_h + v_gap) * len(steps) + arm_h + 12)
    _, parts = _open(title, desc, height)
    x0 = (_WIDTH - box_w) / 2
    for i, (label, n) in enumerate(steps):
        y = 8 + i * (box_h + v_gap)
        parts.append(f'<rect class="box" x="{x0}" y="{y}" width="{box_w}" height="{box_h}" rx="4"/>'
                     f'<text class="boxtext" x="{_WIDTH / 2}" y="{y + 22}" text-anchor="middle">'
                     f"{escape(label)}: {_fmt(n, language)}</text>")  # fmt: skip
        if i < len(steps) - 1 or arms:
            parts.append(f'<line class="arrow" x1="{_WIDTH / 2}" y1="{y + box_h}" '
                         f'x2="{_WIDTH / 2}" y2="{y + box_h + v_gap}"/>')  # fmt: skip
    y_arms = 8 + len(steps) * (box_h + v_gap)
    column_w = (_WIDTH - 16) / max(1, len(arms))
    for a, lines in enumerate(arms):
        x = 8 + a * column_w
        parts.append(f'<rect class="box series-box-{a % 6}" x="{x + 4:.1f}" y="{y_arms}" '
                     f'width="{column_w - 8:.1f}" height="{arm_h}" rx="4"/>')  # fmt: skip
        for k, (label, n) in enumerate(lines):
            css = "boxhead" if k == 0 else "boxtext"
            y = y_arms + 20 + k * arm_line_h
            parts.append(f'<text class="{css}" x="{x + 14:.1f}" y="{y:.1f}">'
                         f"{escape(label)}: {_fmt(n, language)}</text>")  # fmt: skip
    parts.append("</svg>")
    return Markup("".join(parts))
