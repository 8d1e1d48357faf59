"""The bundled fonts, parsed once per process and lent to each letter's PDF.

fpdf2 parses a TrueType file (fontTools) every time a document adds it. A batch of letters
would parse the same two files thousands of times, so each font is parsed once
(:func:`_prototypes`) and every document gets its own copy of fpdf2's font object
(sharing the read-only parts: character map, widths, descriptor, HarfBuzz face) with a fresh
glyph subset. Writing a PDF subsets the font's fontTools object in
place, so :func:`detach` gives each document a fresh fontTools object (read lazily from the bytes
held in memory) just before it is written.

The fonts are DejaVu Sans 2.37, regular and bold, cut down to the characters the letters need by
``scripts/subset_fonts.py`` (provenance and licence: ``fonts/README.md``).
"""

from __future__ import annotations

import io
from functools import cache
from importlib import resources

from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont

__all__ = ["FAMILY", "FILES", "detach", "install", "widths"]

FAMILY = "dejavu"
FILES = {"": "DejaVuSans-letters.ttf", "B": "DejaVuSans-Bold-letters.ttf"}
"""fpdf2 style -> bundled file."""


_LAYOUT_TABLES = ("GDEF", "GPOS", "GSUB", "MATH")
"""Tables HarfBuzz reads (from the file) but a PDF does not embed: fpdf2 drops them when it
subsets, so the copy written into each PDF starts without them."""


@cache
def _embedding_data() -> dict[str, bytes]:
    """Each font file without its layout tables, as bytes, made once."""
    folder = resources.files("pebs.letters").joinpath("fonts")
    result = {}
    for style, name in FILES.items():
        font = ttLib.TTFont(io.BytesIO(folder.joinpath(name).read_bytes()), recalcTimestamp=False)
        for tag in _LAYOUT_TABLES:
            if tag in font:
                del font[tag]
        buffer = io.BytesIO()
        font.save(buffer)
        result[style] = buffer.getvalue()
    return result


@cache
def _prototypes() -> dict[str, TTFFont]:
    """fpdf2's font object of each style, built once."""
    holder = FPDF()
    folder = resources.files("pebs.letters").joinpath("fonts")
    for style, name in FILES.items():
        with resources.as_file(folder.joinpath(name)) as path:
            holder.add_font(FAMILY, style, str(path))
            holder.fonts[f"{FAMILY}{style}"].hbfont  # noqa: B018 (HarfBuzz face made once, shared)
    return {style: holder.fonts[f"{FAMILY}{style}"] for style in FILES}


@cache
def widths(style: str) -> dict[int, float]:
    """Advance widths (thousandths of the font size) of the characters the font has."""
    font = _prototypes()[style]
    return {code: font.cw[code] for code in font.cmap}


_OWN = frozenset({"i", "subset", "missing_glyphs", "biggest_size_pt"})
_SHARED = tuple(name for name in TTFFont.__slots__ if name not in _OWN)
"""What every document's copy shares with the prototype: read-only once built (the character
widths and glyph ids, the character map, the descriptor, the HarfBuzz face, the fontTools object
until :func:`detach` replaces it)."""


def install(pdf: FPDF) -> None:
    """Give ``pdf`` its own copy of each bundled font (as ``add_font`` would, without parsing)."""
    for style, prototype in _prototypes().items():
        font = TTFFont.__new__(TTFFont)
        for name in _SHARED:
            if hasattr(prototype, name):
                setattr(font, name, getattr(prototype, name))
        font.i = len(pdf.fonts) + 1
        font.subset = SubsetMap(font)
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        pdf.fonts[f"{FAMILY}{style}"] = font


def detach(pdf: FPDF) -> None:
    """Before ``pdf.output()``: give each font a fresh fontTools object to subset in place."""
    data = _embedding_data()
    for style in FILES:
        font = pdf.fonts[f"{FAMILY}{style}"]
        # recalcBBoxes=False: the subset's glyphs are written as read, not re-encoded
        font.ttfont = ttLib.TTFont(
            io.BytesIO(data[style]), recalcTimestamp=False, recalcBBoxes=False, lazy=True
        )
