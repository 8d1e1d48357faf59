"""Path parameters shared by the page routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

StudyId = Annotated[str, Path(min_length=1, max_length=32, description="Pseudonymous study ID")]
