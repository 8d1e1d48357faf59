"""A resolved letter as a PDF (fpdf2, A4, the bundled DejaVu Sans fonts).

Right-to-left letters (Hebrew) are aligned right, their tables' columns mirrored (the first
column on the right), and each line is put in visual order here (:func:`_visual`): the Unicode
bidirectional algorithm (UAX #9, fpdf2's ``fpdf.bidi``) with a right-to-left paragraph direction,
so that numbers, percents and Latin kit IDs inside Hebrew sentences keep their reading order, and
the line's characters are then drawn left to right as they are seen. PDF readers (poppler's
``pdftotext``, pypdf) give such right-to-left runs back in reading order. The visual order of a
line is kept in a bounded cache: the templates' sentences repeat from one letter to the next.

Lines are not shaped (HarfBuzz): DejaVu needs no contextual glyphs for Latin text nor for Hebrew
without points (niqqud), and shaping every Hebrew line took more than half of a Hebrew letter's
time. One exception: a Hebrew line with a mirrored character (a bracket: U+0028 is drawn as ")" in
a right-to-left run, UAX #9 rule L4) is shaped by fpdf2 with HarfBuzz, which draws the mirror
image while the PDF keeps the character the text has, so that a reader copies "(" and not ")".

Lines are broken here, on spaces, with the font's advance widths (a word longer than a line is
cut), rather than by fpdf2's ``multi_cell``, whose line breaking re-measures the line for every
character; each line is then printed by ``cell``. The same :class:`~pebs.letters.content.LetterData`
gives the same bytes: the creation date is the letter's ``issued_on``.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, time
from functools import lru_cache

from fpdf import FPDF
from fpdf.bidi import BidiParagraph
from fpdf.enums import TextDirection

from pebs.letters import _fonts
from pebs.letters.resolve import Heading, Paragraph, ResolvedLetter, Table

__all__ = ["to_pdf"]

_MARGIN = 20.0  # mm
_BODY, _HEADING, _TITLE, _SMALL = 10.5, 12.0, 15.0, 9.0  # font sizes, pt
_LEADING = 1.4  # line height / font size
_PT = 25.4 / 72  # mm per point
_PADDING = 1.5  # mm, inside table cells
_KEEP_TOGETHER = 4  # a paragraph of up to this many lines is not split across pages
_SLACK = 0.995  # measured widths are unshaped: keep half a percent for shaping differences
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Invisible marks that steer the bidirectional algorithm: not drawn once a line is ordered."""


def _line_height(size: float) -> float:
    return size * _PT * _LEADING


def _width(text: str, size: float, bold: bool) -> float:
    """Width in mm of ``text`` at ``size`` pt (unshaped advance widths)."""
    table = _fonts.widths("B" if bold else "")
    return sum(table.get(ord(char), 600) for char in text) * size / 1000 * _PT


@lru_cache(maxsize=4096)
def _visual(line: str) -> str:
    """A line of a right-to-left paragraph in visual order: its characters from left to right.

    The levels of the bidirectional algorithm (UAX #9) are resolved with a right-to-left
    paragraph direction, the runs reversed (rule L2) and the bidirectional marks dropped. A line
    with a character to mirror (rule L4) is shaped instead (:func:`_mirrors`).
    """
    ordered = BidiParagraph(line, base_direction=TextDirection.RTL).get_reordered_characters()
    return "".join(char.character for char in ordered if char.character not in _BIDI_CONTROLS)


def _mirrors(line: str) -> bool:
    """Whether ``line`` has a character that a right-to-left run draws mirrored (a bracket)."""
    return any(unicodedata.mirrored(char) for char in line)


def _wrap(text: str, width: float, size: float, bold: bool) -> list[str]:
    """``text`` broken into lines no wider than ``width`` mm (its own line breaks kept)."""
    limit = width * _SLACK
    space = _width(" ", size, bold)
    lines: list[str] = []
    for source in text.split("\n"):
        line, used = "", 0.0
        for word in source.split(" "):
            wide = _width(word, size, bold)
            while wide > limit:  # a word longer than a line: cut it
                if line:
                    lines.append(line)
                    line, used = "", 0.0
                cut = len(word)
                while cut > 1 and _width(word[:cut], size, bold) > limit:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
                wide = _width(word, size, bold)
            if line and used + space + wide > limit:
                lines.append(line)
                line, used = word, wide
            else:
                line, used = (f"{line} {word}", used + space + wide) if line else (word, wide)
        lines.append(line)
    return lines


class _Layout:
    """Prints a resolved letter onto an fpdf2 document, one line at a time."""

    def __init__(self, pdf: FPDF, letter: ResolvedLetter) -> None:
        self.pdf = pdf
        self.rtl = letter.direction == "rtl"
        self.width = pdf.w - 2 * _MARGIN
        self.bottom = pdf.h - _MARGIN

    def line(self, width: float, height: float, text: str, **position: str) -> None:
        """Print one line of text in a cell ``width`` mm wide at the current position."""
        pdf = self.pdf
        if not self.rtl:
            pdf.cell(width, height, text, align="L", **position)
        elif not _mirrors(text):
            pdf.cell(width, height, _visual(text), align="R", **position)
        else:  # HarfBuzz draws the mirror image and keeps the character for text extraction
            pdf.set_text_shaping(True, direction="rtl", script="hebr", language="heb")
            pdf.cell(width, height, text, align="R", **position)
            pdf.set_text_shaping(False)

    def room(self, height: float) -> None:
        """Start a new page unless ``height`` mm fit above the bottom margin."""
        if self.pdf.get_y() + height > self.bottom:
            self.pdf.add_page()

    def text(self, text: str, size: float, bold: bool = False, after: float = 0.0) -> None:
        pdf = self.pdf
        pdf.set_font(_fonts.FAMILY, "B" if bold else "", size)
        height = _line_height(size)
        lines = _wrap(text, self.width, size, bold)
        if len(lines) <= _KEEP_TOGETHER:
            self.room(height * len(lines))
        for line in lines:
            self.room(height)
            pdf.set_x(_MARGIN)
            self.line(self.width, height, line, new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(pdf.get_y() + after)

    def table(self, table: Table) -> None:
        pdf = self.pdf
        widths = [share * self.width for share in table.widths]
        starts = [_MARGIN + sum(widths[:index]) for index in range(len(widths))]
        if self.rtl:  # mirrored: the first column on the right
            starts = [pdf.w - start - width for start, width in zip(starts, widths, strict=True)]
        self.row(table.columns, starts, widths, bold=True)
        for row in table.rows:
            self.row(row, starts, widths, bold=False)
        pdf.set_y(pdf.get_y() + 2.0)

    def row(self, cells, starts: list[float], widths: list[float], bold: bool) -> None:
        pdf = self.pdf
        size = _SMALL
        height = _line_height(size)
        pdf.set_font(_fonts.FAMILY, "B" if bold else "", size)
        wrapped = [
            _wrap(text, width - 2 * _PADDING, size, bold)
            for text, width in zip(cells, widths, strict=True)
        ]
        row_height = max(len(lines) for lines in wrapped) * height + _PADDING
        self.room(row_height)
        top = pdf.get_y()
        for lines, start, width in zip(wrapped, starts, widths, strict=True):
            for index, line in enumerate(lines):
                pdf.set_xy(start + _PADDING, top + _PADDING / 2 + index * height)
                self.line(width - 2 * _PADDING, height, line)
        pdf.set_draw_color(160 if bold else 210)
        pdf.line(_MARGIN, top + row_height, _MARGIN + self.width, top + row_height)
        pdf.set_y(top + row_height)


def to_pdf(letter: ResolvedLetter) -> bytes:
    """The PDF bytes of a resolved letter."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(False)
    pdf.set_creation_date(datetime.combine(letter.issued_on, time(), tzinfo=UTC))
    pdf.set_title(letter.title)
    pdf.set_lang(letter.language)
    pdf.set_author(letter.sender[0])
    pdf.set_subject(letter.reference)
    pdf.set_creator("pebs")
    _fonts.install(pdf)
    pdf.add_page()
    layout = _Layout(pdf, letter)
    layout.text("\n".join(letter.sender), _SMALL, after=4.0)
    if letter.recipient:
        layout.text("\n".join(letter.recipient), _BODY, after=4.0)
    layout.text(f"{letter.date}\n{letter.reference}", _SMALL, after=5.0)
    layout.text(letter.title, _TITLE, bold=True, after=3.0)
    for part in letter.parts:
        if isinstance(part, Heading):
            layout.room(_line_height(_HEADING) * 3)  # keep a heading with what follows
            layout.text(part.text, _HEADING, bold=True, after=1.0)
        elif isinstance(part, Paragraph):
            layout.text(part.text, _BODY, after=2.5)
        else:
            layout.table(part)
    _fonts.detach(pdf)
    return bytes(pdf.output())
