"""The visual order of a right-to-left line, worked out by hand with UAX #9."""

from __future__ import annotations

import pytest

from pebs.letters.pdf import _mirrors, _visual


@pytest.mark.parametrize(
    ("logical", "visual"),
    [
        # all right-to-left: the line reversed
        ("שלום רב", "בר םולש"),
        # a Latin run and a number after it (W7: the number takes the Latin run's direction)
        # form one left-to-right run at level 2 inside the level-1 line: reversed twice
        ("שלום ABC 123", "ABC 123 םולש"),
        # a number alone inside Hebrew keeps its digits' order; the full stop ends the line (left)
        ("הסיכון הוא 2.56%.", ".2.56% אוה ןוכיסה"),
        # left-to-right marks around a phone number keep it one run, and are not drawn
        ("טלפון: \u200e+33 4 78\u200e", "+33 4 78 :ןופלט"),
    ],
)
def test_visual_order(logical: str, visual: str) -> None:
    assert _visual(logical) == visual


def test_lines_with_brackets_are_told_apart() -> None:
    assert _mirrors("ממוגרפיה (צילום רנטגן)")
    assert _mirrors("a < b")
    assert not _mirrors("שלום ABC 123, 2.56%.")
