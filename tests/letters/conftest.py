"""A letter's facts for the letter tests.

``letter(language, kind=..., recipient=..., **changes)`` gives a complete ``LetterData``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from pebs.letters import ExamLine, LetterData, ModelInfo, SiteContact

SITE = SiteContact(
    name="Centre Léon Bérard",
    address="28 rue Laennec, 69008 Lyon",
    phone="+33 4 78 78 28 28",
    email="etude@example.org",
)
EXAMS = (
    ExamLine(
        date(2027, 4, 1),
        "mammography",
        "Centre Léon Bérard",
        "test-policy",
        "yearly",
        "Yearly mammogram for high risk",
    ),
    ExamLine(
        date(2028, 4, 3),
        "ultrasound",
        "Centre Léon Bérard",
        "test-policy",
        "dense",
        "Ultrasound for dense breasts",
    ),
)
MODEL = ModelInfo("pebs-personalised", "1.2.0", "https://example.org/models/personalised/1.2.0")
KIT_ID = "KIT-2027-0042"


def make_letter(
    language: str, kind: str = "risk_result", recipient: str = "woman", **changes: object
) -> LetterData:
    """A complete letter of ``kind`` in ``language`` with every field a kind may use."""
    data = LetterData(
        kind=kind,
        recipient=recipient,
        language=language,
        issued_on=date(2027, 3, 9),
        study_id="FR-00042-X",
        full_name="רחל כהן" if language == "he" else "Zoë Müller-Françoise",
        address="12 rue de la Paix\n75002 Paris",
        site=SITE,
        level="high",
        five_year_risk=0.0256,
        exams=EXAMS,
        plan_end=date(2031, 3, 9),
        model=MODEL,
        inputs={"age": 52, "bmi": 24.5, "density": "c", "first_degree_relatives": "unknown"},
        components={"rr_classical": 1.31, "rr_prs": 1.8, "rr_density": 1.2},
        kit_id=KIT_ID,
        visit_due=date(2031, 2, 1),
    )
    return replace(data, **changes)


@pytest.fixture
def letter():
    return make_letter
