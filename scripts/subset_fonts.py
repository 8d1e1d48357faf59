"""Write the letters' bundled fonts ``src/pebs/letters/fonts/`` from the DejaVu Sans files.

The letters embed DejaVu Sans (regular and bold, version 2.37) cut down to the characters the six
shipped languages need, so that every Latin accent and Hebrew prints without the full 700 KB font
files. Reproduce the subset from Debian's ``fonts-dejavu-core`` package::

    sudo apt-get install fonts-dejavu-core      # DejaVu 2.37, /usr/share/fonts/truetype/dejavu
    python scripts/subset_fonts.py              # or --source DIR for another copy of the TTFs

The subset keeps the OpenType layout tables (Hebrew marks are placed by HarfBuzz from them), the
glyph names and every name record (the copyright and licence notices stay inside the files), and
drops the TrueType hinting (the PDF viewer renders at its own resolution) and the MATH table. The
licence text is copied next to the fonts as ``LICENSE-DejaVu.txt``.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from fontTools import subset

SOURCE = Path("/usr/share/fonts/truetype/dejavu")
LICENCE_SOURCE = Path("/usr/share/doc/fonts-dejavu-core/copyright")
TARGET = Path(__file__).resolve().parents[1] / "src" / "pebs" / "letters" / "fonts"
FONTS = {"DejaVuSans.ttf": "DejaVuSans-letters.ttf",
         "DejaVuSans-Bold.ttf": "DejaVuSans-Bold-letters.ttf"}  # fmt: skip
UNICODE_RANGES = (
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x024F),  # Latin-1 Supplement, Latin Extended-A and -B (every accent of fr/it/nl/es)
    (0x0300, 0x036F),  # combining diacritical marks (text in decomposed form)
    (0x0590, 0x05FF),  # Hebrew (letters, points, maqaf, geresh)
    (0x2000, 0x206F),  # general punctuation: dashes, quotes, bullet, narrow no-break space and
    #                    the bidirectional marks (U+200E/F, U+202A-202E, U+2066-2069)
    (0x20A0, 0x20CF),  # currency symbols (euro, new shekel)
    (0x2116, 0x2116),  # numero sign
    (0x2190, 0x2193),  # arrows
    (0xFB1D, 0xFB4F),  # Hebrew presentation forms
)
"""The characters kept (inclusive ranges); a character a template uses must be in one of them
(``tests/letters/test_fonts.py`` checks every template against the bundled fonts)."""


def unicodes() -> list[int]:
    """Every code point of :data:`UNICODE_RANGES`."""
    return [code for first, last in UNICODE_RANGES for code in range(first, last + 1)]


def subset_font(source: Path, target: Path) -> None:
    """Write the subset of one font file."""
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.name_legacy = True
    options.glyph_names = True
    options.notdef_outline = True
    options.recommended_glyphs = True
    options.hinting = False
    options.drop_tables += ["MATH"]  # mathematical layout: letters set no formulas
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes())
    subsetter.subset(font)
    subset.save_font(font, str(target), options)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/subset_fonts.py", description=__doc__)
    parser.add_argument("--source", type=Path, default=SOURCE, help="folder of DejaVu TTFs")
    parser.add_argument("--licence", type=Path, default=LICENCE_SOURCE, help="licence text")
    args = parser.parse_args(argv)
    TARGET.mkdir(parents=True, exist_ok=True)
    for name, subset_name in FONTS.items():
        subset_font(args.source / name, TARGET / subset_name)
        digest = hashlib.sha256((TARGET / subset_name).read_bytes()).hexdigest()
        size = (TARGET / subset_name).stat().st_size
        print(f"{subset_name}: {size:,} bytes, sha256 {digest}")
    (TARGET / "LICENSE-DejaVu.txt").write_bytes(args.licence.read_bytes())
    return 0


if __name__ == "__main__":
    sys.exit(main())
