"""Path and query parameters shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from pebs.api.routers._text import Text
from pebs.services.field_rules import SITE_CODE_CHARS, STUDY_ID_CHARS

StudyId = Annotated[
    Text,
    Path(
        min_length=1,
        max_length=STUDY_ID_CHARS,
        description="Pseudonymous study ID",
        examples=["IT-TO-000001"],
    ),
]
MAX_ID = 2**31 - 1
"""The largest row id (ids are 32-bit integers in PostgreSQL): a larger one is refused (422)
rather than failing in the database."""

SiteCode = Annotated[Text, Path(min_length=1, max_length=SITE_CODE_CHARS, examples=["IT-TO"])]
