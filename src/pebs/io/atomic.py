"""Output files that appear whole or not at all.

Every file pebs writes for a user (scored CSVs, exports, letters, simulation outputs, kit
manifests) goes through :func:`atomic_output`: the bytes go to a temporary file in the same
folder, readable by its owner only, which is renamed over the destination once complete. On any
exception, KeyboardInterrupt included, the temporary file is removed and the destination is left
as it was. A destination that exists and is not a regular file or a folder (``/dev/null``, a
named pipe, a terminal) is written in place: renaming over it would replace the device itself.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from pebs.io.errors import FileAccessError


def is_stream_destination(path: Path) -> bool:
    """Whether ``path`` exists and is neither a regular file nor a folder (a device, a pipe)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _open_mode(binary: bool) -> dict:
    return {"mode": "wb"} if binary else {"mode": "w", "encoding": "utf-8", "newline": ""}


@contextlib.contextmanager
def atomic_output(path: Path | None, *, binary: bool = False) -> Iterator[IO]:
    """A stream that becomes ``path`` only when the block completes.

    ``None`` means standard output (which cannot be taken back). A failure to create the
    temporary file or to rename it is a :class:`FileAccessError` naming ``path``; errors raised
    inside the block propagate unchanged.
    """
    if path is None:
        stream = sys.stdout.buffer if binary else sys.stdout
        yield stream
        stream.flush()
        return
    path = Path(path)
    if is_stream_destination(path):
        try:
            handle = open(path, **_open_mode(binary))  # noqa: SIM115 - closed below
        except OSError as error:
            raise FileAccessError(f"{path}: cannot be written ({error.strerror})") from None
        with handle:
            yield handle
        return
    folder = path.parent if str(path.parent) else Path(".")
    try:
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".part", dir=folder
        )
    except OSError as error:
        raise FileAccessError(f"{path}: cannot be written ({error.strerror})") from None
    try:
        with os.fdopen(descriptor, **_open_mode(binary)) as handle:
            yield handle
        try:
            os.replace(temporary, path)
        except OSError as error:
            raise FileAccessError(f"{path}: cannot be written ({error.strerror})") from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def write_atomically(path: Path, write: Callable[[IO], object], *, binary: bool = False) -> Path:
    """Call ``write(stream)`` on :func:`atomic_output` of ``path``; any OS error while writing
    (a full disk, a folder that disappeared) becomes a :class:`FileAccessError` naming ``path``."""
    path = Path(path)
    try:
        with atomic_output(path, binary=binary) as stream:
            write(stream)
    except FileAccessError:
        raise
    except OSError as error:
        raise FileAccessError(f"{path}: cannot be written ({error.strerror or error})") from None
    return path


def write_bytes_atomically(path: Path, chunks) -> Path:
    """Write the byte ``chunks`` (an iterable) to ``path`` whole or not at all."""

    def write(stream: IO[bytes]) -> None:
        for chunk in chunks:
            stream.write(chunk)

    return write_atomically(path, write, binary=True)
