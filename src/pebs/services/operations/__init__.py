"""Operations use cases: backup, restore and installation qualification (``pebs check``).

- :func:`backup_database`: a consistent online backup (SQLite backup API, or ``pg_dump``) with a
  manifest (version, schema revision, audit chain head, SHA-256) and a ``backup`` audit event;
- :func:`restore_database`: refuses an altered backup or a non-empty target (unless forced),
  restores, verifies the chain against the recorded head and records a ``restore`` event;
- :func:`run_checks`: versions, settings, database reachable and migrated, audit chain intact,
  allocation lists, file permissions.

They take plain values from the entry points (a database URL, an operator name) and raise the
trial services' error families (:mod:`pebs.services.trial.errors`, :mod:`.errors`).
"""

from __future__ import annotations

from pebs.services.operations.backup import BackupResult, backup_database
from pebs.services.operations.check import Check, CheckReport, run_checks
from pebs.services.operations.errors import BackupRejected, ToolFailed, ToolMissing
from pebs.services.operations.manifest import BackupManifest, manifest_path, read_manifest
from pebs.services.operations.restore import RestoreResult, restore_database

__all__ = [
    "BackupManifest",
    "BackupRejected",
    "BackupResult",
    "Check",
    "CheckReport",
    "RestoreResult",
    "ToolFailed",
    "ToolMissing",
    "backup_database",
    "manifest_path",
    "read_manifest",
    "restore_database",
    "run_checks",
]
