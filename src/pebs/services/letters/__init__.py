"""Letters to participants and their doctors, and risk consultations: the use cases.

- :func:`issue_letter` renders her letter as a PDF (:mod:`pebs.letters`) and records it as
  issued; :func:`preview_letter` renders it as HTML (audited, not issued);
  :func:`letter_data` gathers its facts;
- :func:`letters_due` lists the letters not issued yet; :func:`issue_batch` issues them a chunk
  at a time for the caller to write;
- :func:`issued_letters` lists hers; :func:`set_language` changes the language of her letters;
- :func:`record_consultation` and :func:`consultations`: her result explained to her.
"""

from pebs.services.letters.batch import CHUNK, BatchCounts, issue_batch
from pebs.services.letters.consultations import (
    HELD_BY_CHARS,
    QUESTIONS_CHARS,
    ConsultationView,
    consultations,
    record_consultation,
)
from pebs.services.letters.due import END_OF_STUDY_NOTICE_WEEKS, DueLetter, letters_due
from pebs.services.letters.issuing import (
    FORMATS,
    IssuedLetterFile,
    LetterPreview,
    issue_letter,
    letter_data,
    preview_letter,
    render_letter,
)
from pebs.services.letters.language import LanguageSet, set_language
from pebs.services.letters.listing import IssuedLetterView, issued_letters

__all__ = [
    "CHUNK",
    "END_OF_STUDY_NOTICE_WEEKS",
    "FORMATS",
    "HELD_BY_CHARS",
    "QUESTIONS_CHARS",
    "BatchCounts",
    "ConsultationView",
    "DueLetter",
    "IssuedLetterFile",
    "IssuedLetterView",
    "LanguageSet",
    "LetterPreview",
    "consultations",
    "issue_batch",
    "issue_letter",
    "issued_letters",
    "letter_data",
    "letters_due",
    "preview_letter",
    "record_consultation",
    "render_letter",
    "set_language",
]
