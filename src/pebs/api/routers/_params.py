"""Path and query parameters shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

StudyId = Annotated[
    str,
    Path(
        min_length=1, max_length=32, description="Pseudonymous study ID", examples=["IT-TO-000001"]
    ),
]
SiteCode = Annotated[str, Path(min_length=1, max_length=16, examples=["IT-TO"])]
