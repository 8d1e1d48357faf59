"""Tables usable on a phone: every ``<table`` of every template sits in a scroll container
(``<div class="table-scroll" tabindex="0" role="region" aria-label=...>``), so that at 390 px a
wide table scrolls in its own box and the page never overflows sideways."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib import resources

import pytest

TEMPLATES = sorted(
    entry.name
    for entry in resources.files("pebs.web").joinpath("templates").iterdir()
    if entry.name.endswith(".html")
)
_JINJA = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", re.S)


class _Tables(HTMLParser):
    """The tables of a template and the attributes of the element that holds each."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[tuple[str, dict[str, str | None]]] = []
        self.parents: list[dict[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.parents.append(self.open[-1][1] if self.open else {})
        if tag not in ("input", "br", "meta", "link", "img", "col", "hr"):
            self.open.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i][0] == tag:
                del self.open[i:]
                break


def _parents(template: str) -> list[dict[str, str | None]]:
    text = resources.files("pebs.web").joinpath("templates", template).read_text("utf-8")
    parser = _Tables()
    parser.feed(_JINJA.sub("x", text))  # a Jinja expression stands for some text
    return parser.parents


def test_the_templates_have_tables() -> None:
    assert sum(len(_parents(name)) for name in TEMPLATES) >= 30


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_table_scrolls_in_its_own_labelled_region(template: str) -> None:
    for parent in _parents(template):
        assert "table-scroll" in (parent.get("class") or "").split(), template
        assert parent.get("tabindex") == "0", template
        assert parent.get("role") == "region", template
        assert parent.get("aria-label"), template


def test_the_parser_sees_a_bare_table() -> None:
    parser = _Tables()
    parser.feed('<section><div class="other"><table><tr><td>1</td></tr></table></div></section>')
    assert parser.parents == [{"class": "other"}]


def test_the_stylesheet_lets_the_container_scroll() -> None:
    css = resources.files("pebs.web").joinpath("static", "pebs.css").read_text("utf-8")
    rule = re.search(r"\.table-scroll\s*\{([^}]*)\}", css)
    assert rule is not None
    assert "overflow-x: auto" in rule.group(1)
