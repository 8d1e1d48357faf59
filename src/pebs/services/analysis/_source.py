"""Where an analysis reads its data: the live database, or a study-lock snapshot file; the
study's analysis plan and the data cut of a snapshot, as that source records them.

A snapshot (the SQLite file ``pebs study lock`` writes) is opened read-only and immutable
(``file:...?mode=ro&immutable=1``: SQLite neither writes nor locks it), so reading it cannot
change it; its SHA-256 is computed before it is opened and again after it is closed, and an
analysis of a file that changed meanwhile is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, select
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.errors import Conflict, InvalidInput
from pebs.services.trial.study_rules import study_named
from pebs.store.models import StudyLock
from pebs.trial.analysis_plan import AnalysisPlan, AnalysisPlanError, parse_analysis_plan

__all__ = [
    "AnalysisSource",
    "file_sha256",
    "open_snapshot",
    "recorded_lock",
    "snapshot_data_cut",
    "study_plan",
]

_CHUNK = 1 << 20


@dataclass(frozen=True)
class AnalysisSource:
    kind: str
    """``live`` (the installation's database) or ``snapshot`` (a study-lock snapshot file)."""
    name: str
    """The snapshot's file name; ``live``: the database backend (``sqlite``, ``postgresql``)."""
    sha256: str | None
    """SHA-256 (hex) of the snapshot file; ``None`` for the live database."""

    def as_json(self) -> dict[str, str | None]:
        return {"kind": self.kind, "name": self.name, "sha256": self.sha256}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def open_snapshot(path: Path) -> Iterator[tuple[AnalysisSource, sessionmaker[Session]]]:
    """Sessions on the snapshot file ``path``, read-only (module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"{str(path)!r} is not a file", field="snapshot")
    try:
        with open(path, "rb") as handle:
            header = handle.read(16)
    except OSError as error:
        raise InvalidInput(f"{path} cannot be read ({error.strerror})", field="snapshot") from None
    if header != b"SQLite format 3\x00":
        raise InvalidInput(
            f"{path.name} is not a SQLite snapshot (a pg_dump archive is restored "
            "first, then analysed live)",
            field="snapshot",
        )
    before = file_sha256(path)
    uri = f"sqlite:///file:{quote(str(path.resolve()))}?mode=ro&immutable=1&uri=true"
    engine = create_engine(uri)
    try:
        yield AnalysisSource("snapshot", path.name, before), sessionmaker(bind=engine)
    except DatabaseError as error:
        raise InvalidInput(
            f"{path.name} is not a pebs database of this release ({error.orig})", field="snapshot"
        ) from None
    finally:
        engine.dispose()
    if file_sha256(path) != before:
        raise Conflict(f"snapshot {path.name} changed while it was analysed")


def recorded_lock(session: Session, sha256: str) -> StudyLock | None:
    """The study lock whose snapshot has this SHA-256, if the database recorded one."""
    return session.scalars(
        select(StudyLock).where(StudyLock.snapshot_sha256 == sha256).order_by(StudyLock.id)
    ).first()


def study_plan(session: Session, study: str) -> AnalysisPlan:
    """The analysis plan of the study's stored configuration (the defaults without one)."""
    config = study_named(session, study).config or {}
    arms = [arm["name"] for arm in config.get("arms", [])]
    try:
        return parse_analysis_plan(config.get("analysis"), arms=arms)
    except AnalysisPlanError as error:
        raise InvalidInput(str(error), field="analysis") from None


def snapshot_data_cut(session: Session, study_pk: int, study: str) -> date:
    """The data cut of a snapshot: the day (UTC) of its latest lock of the study."""
    locked_at = session.scalar(
        select(StudyLock.locked_at)
        .where(StudyLock.study_id == study_pk)
        .order_by(StudyLock.locked_at.desc())
        .limit(1)
    )
    if locked_at is None:
        raise InvalidInput(
            f"the snapshot holds no lock of study {study!r}: not the snapshot of a study lock",
            field="snapshot",
        )
    return locked_at.date()
