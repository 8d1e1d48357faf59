"""Path parameters shared by the page routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from pebs.services.field_rules import STUDY_ID_CHARS

StudyId = Annotated[
    str, Path(min_length=1, max_length=STUDY_ID_CHARS, description="Pseudonymous study ID")
]
