"""Errors of the operations use cases (backup, restore), in the trial services' families.

They subclass :class:`pebs.services.trial.errors.ServiceError`, so the entry points' one error table
maps them without a new row: a damaged or altered backup is a data error, a missing PostgreSQL
client program an unusable request that names the program and the Debian package to install.
"""

from __future__ import annotations

from pebs.services.trial.errors import ServiceError

__all__ = ["BackupRejected", "SignatureRejected", "ToolFailed", "ToolMissing"]


class BackupRejected(ServiceError):  # noqa: N818 (named for what the user sees)
    """A backup cannot be restored: no manifest, wrong kind, or its SHA-256 does not match."""

    code = "backup_rejected"


class SignatureRejected(BackupRejected):
    """A backup's manifest is unsigned, or not signed by this installation's key as it is."""

    code = "backup_signature_rejected"


class ToolMissing(ServiceError):  # noqa: N818 (named for what the user sees)
    """A program the operation needs (``pg_dump``, ``pg_restore``) is not on ``PATH``."""

    code = "tool_missing"


class ToolFailed(ServiceError):  # noqa: N818 (named for what the user sees)
    """``pg_dump`` or ``pg_restore`` ran and failed; the message carries its own last words."""

    code = "tool_failed"
