"""The cursor pager of the lists: a "first page" link when not on it, "next" when there is
more, nothing when there is one page; hrefs escaped once."""

from __future__ import annotations

from pebs.i18n import catalogues
from pebs.web.rendering import _environment


def _pager(first: str | None, following: str | None) -> str:
    template = _environment().from_string(
        '{% from "_macros.html" import pager with context %}'
        '{% set here = "/lab/shipments?study=" ~ ("a&b"|urlq) %}'
        "{{ pager(here if first, here ~ '&after=' ~ following if following) }}"
    )
    return template.render(t=catalogues()["en"].text, first=first, following=following)


def test_one_page_has_no_pager():
    assert _pager(None, None).strip() == ""


def test_first_and_next_links_escape_the_query_once():
    page = _pager("yes", "SH-1")
    assert '<a href="/lab/shipments?study=a%26b">First page</a>' in page
    assert '<a rel="next" href="/lab/shipments?study=a%26b&amp;after=SH-1">' in page
    assert "&amp;amp;" not in page


def test_the_first_page_has_only_next():
    page = _pager(None, "SH-1")
    assert "First page" not in page
    assert 'rel="next"' in page
