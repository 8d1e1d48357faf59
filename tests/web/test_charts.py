"""Server-drawn SVG charts: accessible names, geometry proportional to the numbers, escaping."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

import pytest

from pebs.web.charts import bar_chart, consort_chart, line_chart, nice_step

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def test_bar_lengths_are_proportional_to_values() -> None:
    values = [3, 0, 12, 6]
    root = _parse(bar_chart("Risk levels", "Women by level", ["a", "b", "c", "d"],
                            [("women", values)]))  # fmt: skip
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert len(widths) == 4
    longest = max(widths)
    # independent oracle: each bar is value / max of the full length
    assert widths == pytest.approx([longest * v / 12 for v in values])
    texts = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "value"]
    assert texts == ["3", "0", "12", "6"]


def test_grouped_bars_have_one_bar_per_series_and_a_legend() -> None:
    root = _parse(bar_chart("Balance", "per stratum", ["IT-TO:50-59", "IT-MI:50-59"],
                            [("standard", [4, 2]), ("risk-based", [3, 2])]))  # fmt: skip
    classes = [r.get("class") for r in root.iter(f"{SVG}rect")]
    assert classes.count("bar series-0") == 2
    assert classes.count("bar series-1") == 2
    legend = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "legend"]
    assert legend == ["standard", "risk-based"]


def test_charts_are_labelled_for_assistive_technology() -> None:
    for markup in (
        bar_chart("T1", "D1", ["x"], [("s", [1])]),
        line_chart("T2", "D2", ["2024-01", "2024-02"], [("IT", [0.0, 1.5])]),
        consort_chart("T3", "D3", [("Registered", 5)], [[("standard", 2)], [("risk-based", 1)]]),
    ):
        root = _parse(markup)
        assert root.get("role") == "img"
        title_id, desc_id = root.get("aria-labelledby").split()
        assert root.find(f"{SVG}title").get("id") == title_id
        assert root.find(f"{SVG}desc").get("id") == desc_id
        assert "style" not in str(markup)  # the CSP forbids inline styles


def test_line_chart_points_follow_the_values() -> None:
    root = _parse(line_chart("t", "d", ["p1", "p2", "p3"], [("A", [0, 5, 10]), ("B", [10, 10, 0])]))
    lines = [p for p in root.iter(f"{SVG}polyline")]
    assert len(lines) == 2
    a = [tuple(map(float, xy.split(","))) for xy in lines[0].get("points").split()]
    b = [tuple(map(float, xy.split(","))) for xy in lines[1].get("points").split()]
    assert a[0][0] < a[1][0] < a[2][0]  # x increases with the period
    assert a[1][0] - a[0][0] == pytest.approx(a[2][0] - a[1][0])
    assert a[0][1] > a[1][1] > a[2][1]  # y decreases as the value grows (SVG y points down)
    assert a[1][1] == pytest.approx((a[0][1] + a[2][1]) / 2)  # 5 is half-way from 0 to 10
    assert b[0][1] == pytest.approx(a[2][1])


def test_labels_are_escaped() -> None:
    markup = str(bar_chart("<script>", "a & b", ["<b>x</b>"], [("s", [1])]))
    assert "<script>" not in markup
    assert "<b>" not in markup
    assert "&lt;script&gt;" in markup
    _parse(markup)  # still well-formed


def test_empty_data_draws_an_empty_chart() -> None:
    root = _parse(line_chart("t", "d", [], []))
    assert not list(root.iter(f"{SVG}polyline"))
    root = _parse(bar_chart("t", "d", [], [("s", [])]))
    assert not [r for r in root.iter(f"{SVG}rect")]


@pytest.mark.parametrize(("maximum", "step"), [(37, 10), (5, 1), (0.3, 0.1), (1200, 250),
                                                (48, 10), (100, 20), (7, 2)])  # fmt: skip
def test_nice_steps(maximum: float, step: float) -> None:
    assert nice_step(maximum) == pytest.approx(step)


def test_consort_boxes_carry_the_numbers() -> None:
    markup = str(consort_chart("c", "d", [("Registered", 12), ("Randomised", 8)],
                               [[("standard", 4), ("followed", 3)],
                                [("risk-based", 4), ("followed", 2)]]))  # fmt: skip
    texts = re.findall(r">([^<>]+: \d+)</text>", markup)
    assert texts == ["Registered: 12", "Randomised: 8", "standard: 4", "followed: 3",
                     "risk-based: 4", "followed: 2"]  # fmt: skip


def test_period_labels_never_crowd_the_last_one() -> None:
    labels = [f"2025-{m:02d}" for m in range(1, 13)] + ["2026-01", "2026-02"]
    root = _parse(line_chart("t", "d", labels, [("A", list(range(len(labels))))]))
    ticks = [t for t in root.iter(f"{SVG}text") if t.text in labels]
    xs = [float(t.get("x")) for t in ticks]
    assert ticks[-1].text == "2026-02"
    assert ticks[0].text == "2025-01"
    gaps = [b - a for a, b in itertools.pairwise(xs)]
    assert min(gaps) >= gaps[0] * 0.99  # the last label keeps at least one full step


def test_numbers_are_written_in_the_page_language() -> None:
    # French writes a decimal comma and groups thousands with a narrow no-break space (CLDR);
    # the steps of a maximum of 12 are 2.5 apart (nice_step), so 2.5 is the first tick above 0.
    root = _parse(line_chart("t", "d", ["a", "b"], [("A", [0.0, 12.0])], language="fr"))
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "tick"]
    assert "2,5" in ticks
    assert "2.5" not in ticks
    bars = str(bar_chart("t", "d", ["x"], [("n", [12500])], language="fr"))
    assert ">12\u202f500</text>" in bars
    hebrew = str(consort_chart("c", "d", [("נרשמו", 1234)], [], language="he"))
    assert "נרשמו: 1,234" in hebrew
