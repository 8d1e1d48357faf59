"""Letters to participants and their doctors: templates as data files per language and kind,
rendered to PDF and HTML.

The services gather a letter's facts into a :class:`LetterData`; rendering is a pure function of
it (the same data gives the same bytes). The wording lives in ``templates/<code>.toml``
(:mod:`pebs.letters.templates`); :data:`TEMPLATE_VERSION` names it and is recorded with each
issued letter.

>>> from datetime import date
>>> data = LetterData(kind="recollection", recipient="woman", language="en",
...     issued_on=date(2027, 3, 9), study_id="FR-0001", full_name="Marie Curie", address=None,
...     site=SiteContact("Institut Curie"), kit_id="KIT-42")
>>> letter_title(data)
'Please give a new saliva sample'
>>> render_pdf(data)[:5], "KIT-42" in render_html(data)
(b'%PDF-', True)
"""

from pebs.letters.content import ExamLine, LetterData, ModelInfo, SiteContact
from pebs.letters.html_document import to_html
from pebs.letters.resolve import letter_title, resolve
from pebs.letters.templates import TEMPLATE_VERSION

__all__ = [
    "TEMPLATE_VERSION",
    "ExamLine",
    "LetterData",
    "ModelInfo",
    "SiteContact",
    "letter_title",
    "render_html",
    "render_pdf",
]


def render_pdf(data: LetterData) -> bytes:
    """The letter as PDF bytes (A4, fonts embedded)."""
    from pebs.letters.pdf import to_pdf  # fpdf2 and fontTools load on the first PDF only

    return to_pdf(resolve(data))


def render_html(data: LetterData) -> str:
    """The letter as a complete, self-contained HTML document."""
    return to_html(resolve(data))
