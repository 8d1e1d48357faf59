"""Operations use cases: backup, restore and installation qualification (``pebs check``).

- :func:`backup_database`: a consistent online backup (SQLite backup API, or ``pg_dump``) with a
  manifest (version, schema revision, audit chain head, SHA-256) and a ``backup`` audit event;
- :func:`backup_database` signs the manifest with a key derived from the installation's HMAC
  key;
- :func:`restore_database`: refuses an unsigned or altered backup, a database a server is using
  (:func:`hold_serving_lock`, held by ``pebs serve``) or a non-empty target (unless told),
  restores, verifies the chain against the recorded head and the tables against the chain, and
  records a ``restore`` event;
- :func:`run_checks`: versions, settings, database reachable and migrated, audit chain intact,
  tables matching the audit trail, allocation lists, identity keys opening the stored
  identities, file permissions;
- :func:`deep_verify_database`: replays the audit chain and compares every audited table with
  it (``pebs audit verify --deep``).

They take plain values from the entry points (a database URL, an operator name) and raise the
services' error families (:mod:`pebs.services.errors`).
"""

from __future__ import annotations

from pebs.services.operations.backup import BackupResult, backup_database
from pebs.services.operations.check import Check, CheckReport, run_checks
from pebs.services.operations.deep_audit import (
    DeepReport,
    Mismatch,
    TableCheck,
    deep_verify,
    deep_verify_database,
)
from pebs.services.operations.manifest import BackupManifest, manifest_path, read_manifest
from pebs.services.operations.restore import RestoreResult, restore_database
from pebs.services.operations.serving_lock import ServingLock, hold_serving_lock

__all__ = [
    "BackupManifest",
    "BackupResult",
    "Check",
    "CheckReport",
    "DeepReport",
    "Mismatch",
    "RestoreResult",
    "ServingLock",
    "TableCheck",
    "backup_database",
    "deep_verify",
    "deep_verify_database",
    "hold_serving_lock",
    "manifest_path",
    "read_manifest",
    "restore_database",
    "run_checks",
]
