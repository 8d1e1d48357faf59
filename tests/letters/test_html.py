"""The HTML letters, read back with the standard library's HTML parser."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from pebs.letters import letter_title, render_html


class _Reader(HTMLParser):
    """Collects the start tags (with attributes) and the text of a document."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_title = tag == "title"

    def handle_endtag(self, tag) -> None:
        self._in_title = False

    def handle_data(self, data) -> None:
        self.text.append(data)
        if self._in_title:
            self.title += data


def _read(document: str) -> _Reader:
    reader = _Reader()
    reader.feed(document)
    reader.close()
    return reader


@pytest.mark.parametrize(("language", "direction"), [("he", "rtl"), ("en", "ltr"), ("es", "ltr")])
def test_language_and_direction(letter, language: str, direction: str) -> None:
    data = letter(language)
    reader = _read(render_html(data))
    html = [attrs for tag, attrs in reader.tags if tag == "html"]
    assert html == [{"lang": language, "dir": direction}]
    assert reader.title == letter_title(data)
    assert ("meta", {"charset": "utf-8"}) in reader.tags


def test_every_value_is_escaped(letter) -> None:
    name = '<script>alert("x")</script> & Co'
    document = render_html(
        letter("en", full_name=name, kind="recollection", kit_id='"><img src=x onerror=alert(1)>')
    )
    reader = _read(document)
    assert [tag for tag, _ in reader.tags if tag in ("script", "img")] == []
    text = "".join(reader.text)
    assert name in text  # shown as text, not run
    assert '"><img src=x onerror=alert(1)>' in text


def test_plan_is_a_table(letter) -> None:
    data = letter("en")
    reader = _read(render_html(data))
    rows = [tag for tag, _ in reader.tags if tag == "tr"]
    assert len(rows) == 1 + len(data.exams)  # header and one row per exam
    text = " ".join(" ".join(reader.text).split())
    assert "1 April 2027" in text
    assert "Breast ultrasound scan" in text
    assert "About 3 in 100 women like you will get breast cancer in the next 5 years." in text
