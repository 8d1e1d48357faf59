"""A CONSORT flow diagram (Schulz, Altman and Moher, CONSORT 2010 statement, BMJ 2010;340:c332)
as a standalone SVG document, from counts.

Boxes from top to bottom: registered, assessed for eligibility (with screen failures),
consented, randomised; then one column per arm: allocated, followed (at least one examination),
withdrawn, died, analysed (intention to treat) and per protocol. The text is escaped; the
layout is fixed (no fonts are measured), so the same counts give the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

__all__ = ["consort_svg"]

_BOX_W, _BOX_H, _GAP = 300, 46, 22
_WIDTH = 2 * _BOX_W + 3 * 40


def _box(x: int, y: int, lines: Sequence[str]) -> str:
    text = "".join(
        f'<text x="{x + _BOX_W // 2}" y="{y + 18 + 15 * i}" text-anchor="middle">'
        f"{escape(line)}</text>"
        for i, line in enumerate(lines)
    )
    return (
        f'<rect x="{x}" y="{y}" width="{_BOX_W}" height="{_BOX_H}" fill="white" '
        f'stroke="black"/>{text}'
    )


def _arrow(x: int, y1: int, y2: int) -> str:
    return f'<line x1="{x}" y1="{y1}" x2="{x}" y2="{y2}" stroke="black" marker-end="url(#a)"/>'


def consort_svg(flow: Mapping[str, Any], arms: Mapping[str, Mapping[str, int]]) -> str:
    """The diagram of ``flow`` (``registered``, ``assessed``, ``screen_failures``, ``eligible``,
    ``consented``, ``randomised``) and ``arms`` (arm -> ``randomised``, ``followed``,
    ``withdrawn``, ``died``, ``analysed``, ``per_protocol``)."""
    parts = []
    centre_x = (_WIDTH - _BOX_W) // 2
    y = 20
    top = [
        [f"Registered (n = {flow['registered']:,})"],
        [
            f"Assessed for eligibility (n = {flow['assessed']:,})",
            f"screen failures n = {flow['screen_failures']:,}",
        ],
        [f"Eligible (n = {flow['eligible']:,})", f"consented n = {flow['consented']:,}"],
        [f"Randomised (n = {flow['randomised']:,})"],
    ]
    for i, lines in enumerate(top):
        parts.append(_box(centre_x, y, lines))
        if i < len(top) - 1:
            parts.append(_arrow(_WIDTH // 2, y + _BOX_H, y + _BOX_H + _GAP))
        y += _BOX_H + _GAP
    for k, (arm, counts) in enumerate(arms.items()):
        x = 40 + k * (_BOX_W + 40)
        parts.append(
            f'<line x1="{_WIDTH // 2}" y1="{y - _GAP}" x2="{x + _BOX_W // 2}" '
            f'y2="{y}" stroke="black" marker-end="url(#a)"/>'
        )
        rows = [
            [f"Allocated to {arm} (n = {counts['randomised']:,})"],
            [f"Followed, >= 1 examination (n = {counts['followed']:,})"],
            [f"Withdrew (n = {counts['withdrawn']:,})", f"died (n = {counts['died']:,})"],
            [
                f"Analysed, intention to treat (n = {counts['analysed']:,})",
                f"per protocol n = {counts['per_protocol']:,}",
            ],
        ]
        row_y = y
        for i, lines in enumerate(rows):
            parts.append(_box(x, row_y, lines))
            if i < len(rows) - 1:
                parts.append(_arrow(x + _BOX_W // 2, row_y + _BOX_H, row_y + _BOX_H + _GAP))
            row_y += _BOX_H + _GAP
    height = y + 4 * (_BOX_H + _GAP) + 10
    marker = (
        '<defs><marker id="a" markerWidth="8" markerHeight="8" refX="7" refY="4" '
        'orient="auto"><path d="M0,0 L8,4 L0,8 z"/></marker></defs>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
        f'viewBox="0 0 {_WIDTH} {height}" font-family="sans-serif" font-size="12">'
        f"<title>CONSORT flow</title>{marker}{''.join(parts)}</svg>\n"
    )
