"""The manifest written next to every backup (``FILE.manifest.json``), signed.

It says what the backup holds (pebs version, schema revision, database kind) and pins it: the
SHA-256 and size of the backup file, and the audit chain's head inside the backup. ``pebs db
restore`` refuses a file whose SHA-256 differs, and checks the restored chain against the head; an
auditor can do both by hand (``sha256sum FILE``; ``pebs audit verify --head "<audit_head>"`` on the
restored database).

A SHA-256 alone proves nothing against someone who edits the backup and then recomputes it, so
the manifest is **signed**: ``signature`` is the HMAC-SHA256 of the manifest's canonical JSON
(every other field, :func:`pebs.store.audit.canonical_json`) under a key that is not in the
backup. That key is derived from the installation's HMAC key (``PEBS_HMAC_KEY``, which never
changes once participants are registered) as ``HMAC-SHA256(PEBS_HMAC_KEY, "pebs backup manifest
signing key v1")`` (:func:`signing_key`); ``signature_key_id`` names it without revealing it, so
that a backup signed by another installation is told apart from an altered one. ``pebs db
restore`` refuses an unsigned manifest (format ``pebs-backup/1``) or a wrong signature.

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
import hmac
import json
import os
import uuid
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from pebs.io.errors import FileAccessError
from pebs.services.errors import BackupRejected, SignatureRejected
from pebs.store.audit import canonical_json

__all__ = [
    "FORMAT",
    "SIGNING_LABEL",
    "BackupManifest",
    "file_sha256",
    "key_id",
    "manifest_path",
    "read_manifest",
    "signing_key",
]

FORMAT = "pebs-backup/2"
"""Manifest format name and version (``/1``: the unsigned manifests of earlier releases)."""
SIGNING_LABEL = b"pebs backup manifest signing key v1"
"""Label of the signing key's derivation from the installation's HMAC key."""
_KEY_ID_LABEL = b"pebs signing key id v1"
_PRIVATE = 0o600

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
    signature_key_id: str = ""
    """:func:`key_id` of the key that signed it."""
    signature: str = ""
    """HMAC-SHA256 (hex) of :meth:`signed_text` under :func:`signing_key`."""

    def signed_text(self) -> bytes:
        """What the signature covers: the canonical JSON of every field but ``signature``."""
        fields = asdict(self)
        del fields["signature"]
        return canonical_json(fields).encode("utf-8")

    def signed(self, installation_key: bytes) -> BackupManifest:
        """This manifest signed with the key derived from ``installation_key``."""
        key = signing_key(installation_key)
        unsigned = replace(self, signature_key_id=key_id(key), signature="")
        return replace(unsigned, signature=_mac(key, unsigned.signed_text()))

    def check_signature(self, installation_key: bytes, path: Path) -> None:
        """:class:`SignatureRejected` unless this installation signed the manifest as it is."""
        key = signing_key(installation_key)
        if not self.signature:
            raise SignatureRejected(
                f"{path}: the manifest is not signed; pebs restores only backups whose "
                "manifest this installation signed ('pebs db backup'); refused"
            )
        if hmac.compare_digest(self.signature, _mac(key, self.signed_text())):
            return
        if self.signature_key_id != key_id(key):
            raise SignatureRejected(
                f"{path}: the manifest is signed with another key (key id "
                f"{self.signature_key_id[:16]!r}; this installation's is {key_id(key)!r}): "
                "another installation's backup, or an altered manifest; refused"
            )
        raise SignatureRejected(
            f"{path}: the manifest's signature does not match its content: the manifest was "
            "altered; refused"
        )

    def write(self, path: Path) -> None:
        """Write the manifest as JSON, readable by its owner only (to a temporary file first,
        then renamed)."""
        text = json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
        try:
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE)
            with open(descriptor, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, path)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise FileAccessError(f"{path}: cannot write the backup manifest: {error}") from None


def signing_key(installation_key: bytes) -> bytes:
    """The manifest signing key: ``HMAC-SHA256(installation_key, SIGNING_LABEL)``.

    ``installation_key`` is the installation's HMAC key (``Settings.hmac_key_bytes()``).
    """
    if len(installation_key) < 16:
        raise ValueError("the installation key must have at least 16 bytes")
    return hmac.new(installation_key, SIGNING_LABEL, hashlib.sha256).digest()


def key_id(key: bytes) -> str:
    """A name for a signing key that does not reveal it (16 hex digits)."""
    return hmac.new(key, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]


def _mac(key: bytes, text: bytes) -> str:
    return hmac.new(key, text, hashlib.sha256).hexdigest()


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
    if isinstance(data, dict) and data.get("format") == "pebs-backup/1":
        raise SignatureRejected(
            f"{path}: an unsigned manifest (pebs-backup/1, from an earlier release); pebs "
            "restores only signed backups: make a new backup with this release; refused"
        )
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
