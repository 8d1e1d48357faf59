"""A resolved letter as a self-contained HTML document (a downloadable file, not a site page).

Every value is escaped (:func:`html.escape`); the few style rules are inline so the file needs
nothing else. ``<html lang=.. dir=..>`` carries the language and direction (``rtl`` for Hebrew:
the browser applies the bidirectional algorithm and mirrors the tables).
"""

from __future__ import annotations

from html import escape

from pebs.letters.resolve import Heading, Paragraph, ResolvedLetter, Table

__all__ = ["to_html"]

_STYLE = (
    "body{font-family:'DejaVu Sans',Arial,sans-serif;font-size:11pt;line-height:1.4;"
    "max-width:42em;margin:2em auto;padding:0 1em;color:#111}"
    "h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.4em}"
    "table{border-collapse:collapse;width:100%;font-size:.9em}"
    "th,td{text-align:start;vertical-align:top;padding:.3em .5em;border-bottom:1px solid #ccc}"
    ".meta{color:#444;font-size:.9em}"
)


def _lines(text: str) -> str:
    return "<br>".join(escape(line) for line in text.split("\n"))


def _table(table: Table) -> str:
    head = "".join(f'<th scope="col">{escape(column)}</th>' for column in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in table.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_html(letter: ResolvedLetter) -> str:
    """The HTML text of a resolved letter."""
    parts = []
    for part in letter.parts:
        if isinstance(part, Heading):
            parts.append(f"<h2>{escape(part.text)}</h2>")
        elif isinstance(part, Paragraph):
            parts.append(f"<p>{_lines(part.text)}</p>")
        else:
            parts.append(_table(part))
    recipient = (
        f"<address>{_lines(chr(10).join(letter.recipient))}</address>" if letter.recipient else ""
    )
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(letter.language)}" dir="{escape(letter.direction)}">\n'
        '<head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(letter.title)}</title><style>{_STYLE}</style></head>\n"
        "<body>\n"
        f'<address class="meta">{_lines(chr(10).join(letter.sender))}</address>\n'
        f"{recipient}\n"
        f'<p class="meta">{escape(letter.date)}<br>{escape(letter.reference)}</p>\n'
        f"<h1>{escape(letter.title)}</h1>\n" + "\n".join(parts) + "\n</body>\n</html>\n"
    )
