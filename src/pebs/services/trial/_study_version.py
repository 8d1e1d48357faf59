"""The study a woman is planned under, as its cached values are keyed: key, name and digest.

A stored study configuration never changes without its SHA-256 (``config_sha256``) changing: the
loader writes both, with the study's arms, in one transaction. Values read from the
configuration (risk rules, arm policies) are therefore cached per process by ``(key, digest)``,
and a use case reads only these three columns of the study's row, not its configuration document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from pebs.store.models import Study

__all__ = ["StudyVersion", "study_config", "study_version"]


@dataclass(frozen=True)
class StudyVersion:
    """A loaded study's key, name and configuration digest."""

    id: int
    name: str
    config_sha256: str | None


_VERSION = select(Study.id, Study.name, Study.config_sha256).where(Study.id == bindparam("pk"))
_CONFIG = select(Study.config).where(Study.id == bindparam("pk"))


def study_version(session: Session, study_pk: int) -> StudyVersion:
    """The study with key ``study_pk`` (a foreign key of the caller's row: it exists)."""
    row = session.connection().execute(_VERSION, {"pk": study_pk}).one()
    return StudyVersion(row.id, row.name, row.config_sha256)


def study_config(session: Session, study: Study | StudyVersion) -> dict[str, Any]:
    """The study's stored configuration document (empty if it has none)."""
    if isinstance(study, Study):
        return study.config or {}
    return session.connection().execute(_CONFIG, {"pk": study.id}).scalar() or {}
