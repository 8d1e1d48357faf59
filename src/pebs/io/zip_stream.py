"""A ZIP archive written as a stream: each file's bytes are handed on as soon as it is added.

:func:`zip_stream` never holds more than the file being added, so an archive of 10,000 letters
takes the memory of one (the archive's central directory, a few dozen bytes per file, comes
last). Files are *stored*, not deflated: the PDFs it carries are compressed already.

>>> import io, zipfile
>>> data = b"".join(zip_stream([("a.txt", b"first"), ("b.txt", b"second")]))
>>> archive = zipfile.ZipFile(io.BytesIO(data))
>>> archive.namelist(), archive.read("b.txt")
(['a.txt', 'b.txt'], b'second')
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator

__all__ = ["zip_stream"]


class _Pipe(io.RawIOBase):
    """A write-only, unseekable stream whose bytes are taken as they come."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


def zip_stream(files: Iterable[tuple[str, bytes]]) -> Iterator[bytes]:
    """The ZIP of ``files`` ((name, content) pairs), in pieces: one per file, then the end."""
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, content in files:
            archive.writestr(name, content)
            yield pipe.take()
    yield pipe.take()
