"""The manifest written next to every backup (``FILE.manifest.json``).

It says what the backup holds (pebs version, schema revision, database kind) and pins it: the
SHA-256 and size of the backup file, and the audit chain's head inside the backup. ``pebs db
restore`` refuses a file whose SHA-256 differs, and checks the restored chain against the head; an
auditor can do both by hand (``sha256sum FILE``; ``pebs audit verify --head "<audit_head>"`` on the
restored database).

>>> import tempfile
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> backup = folder / "pebs.db"
>>> _ = backup.write_bytes(b"abc")
>>> digest, size = file_sha256(backup)
>>> digest[:16], size  # SHA-256("abc"), FIPS 180-2 appendix B.1
('ba7816bf8f01cfea', 3)
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from pebs.io.errors import FileAccessError
from pebs.services.operations.errors import BackupRejected

__all__ = ["FORMAT", "BackupManifest", "file_sha256", "manifest_path", "read_manifest"]

FORMAT = "pebs-backup/1"
"""Manifest format name and version."""

_CHUNK = 1 << 20


@dataclass(frozen=True)
class BackupManifest:
    """What ``pebs db backup`` records about one backup file."""

    file: str
    """The backup file's name (without its folder: backups get moved)."""
    backend: str
    """``sqlite`` (a SQLite database file) or ``postgresql`` (a ``pg_dump`` custom archive)."""
    pebs_version: str
    schema_revision: str
    """Alembic revision of the backed-up database."""
    audit_head: str
    """``pebs-audit-head id=N hash=... at=...`` of the chain inside the backup."""
    audit_head_id: int
    audit_head_hash: str
    n_audit_events: int
    audit_chain_ok: bool
    """Whether the chain inside the backup verified when the backup was made."""
    created_at: str
    """When the backup was made, UTC, ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    sha256: str
    """SHA-256 of the backup file (64 hex digits)."""
    size_bytes: int
    source: str
    """The database backed up (its URL without the password)."""
    postgres_schema: str | None = None
    """PostgreSQL only: the schema dumped (a restore recreates it under the same name)."""
    format: str = FORMAT

    def write(self, path: Path) -> None:
        """Write the manifest as JSON (to a temporary file first, then renamed)."""
        text = json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
        try:
            with open(partial, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, path)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise FileAccessError(f"{path}: cannot write the backup manifest: {error}") from None


def manifest_path(backup: Path) -> Path:
    """``FILE.manifest.json`` beside ``FILE``."""
    return backup.with_name(backup.name + ".manifest.json")


def read_manifest(backup: Path) -> BackupManifest:
    """The manifest of ``backup``; :class:`BackupRejected` if it is missing or not a manifest."""
    path = manifest_path(backup)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupRejected(
            f"{path} is missing: a backup is restored only with the manifest 'pebs db backup' "
            "wrote beside it"
        ) from None
    except (OSError, ValueError) as error:
        raise BackupRejected(f"{path}: not a readable backup manifest ({error})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupRejected(f"{path}: not a {FORMAT} manifest")
    try:
        return BackupManifest(**data)
    except TypeError as error:
        raise BackupRejected(f"{path}: not a {FORMAT} manifest ({error})") from None


def file_sha256(path: Path) -> tuple[str, int]:
    """SHA-256 (hex) and size in bytes of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
