"""Fixtures: the demo study on SQLite and PostgreSQL with a laboratory account (``lab``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from lab_factories import Lab, lab_for


@pytest.fixture
def lab(session_maker: sessionmaker[Session], tmp_path: Path) -> Lab:
    return lab_for(session_maker, tmp_path)
