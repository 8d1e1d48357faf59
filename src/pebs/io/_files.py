"""Opening input files with one clear message per way it can fail."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from pebs.io.errors import FileAccessError


def open_binary(path: Path, kind: str) -> IO[bytes]:
    """Open ``path`` for reading bytes; ``kind`` names what it should be (e.g. "a VCF file").

    Raises :class:`FileAccessError` for a missing file, a directory or any other OS error.
    """
    try:
        return open(path, "rb")
    except FileNotFoundError as exc:
        raise FileAccessError(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise FileAccessError(f"{path}: is a directory, not {kind}") from exc
    except OSError as exc:
        raise FileAccessError(f"{path}: cannot be read ({exc.strerror})") from exc
