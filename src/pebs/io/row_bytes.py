"""A CSV file's rows as the bytes they are in the file, a chunk at a time, when each row is its
cells joined by commas.

Such a row holds no quote, no carriage return (other than a ``\\r\\n`` line end) and is not
empty, so that the cells a CSV reader gives for it, written again unquoted with commas between
them, are these very bytes. :class:`RowBytesReader` reads the file a second time alongside the
CSV reader and hands over the bytes of the rows of each chunk that reader gives. Where those
rows should end follows from their cells' lengths; the bytes are taken only if there is a line
end at each of those places and nowhere else, and no quote: the lines are then the rows. The
first chunk whose rows are not such rows ends it (a quoted value can span lines, an empty line
is no row: the reader's rows and the file's lines may no longer match).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

import numpy as np
import pyarrow as pa

__all__ = ["RowBytes", "RowBytesReader"]

READ_BYTES = 4 * 2**20
"""Bytes read from the file at a time."""


@dataclass(frozen=True)
class RowBytes:
    """Consecutive rows of a CSV file, each its cells joined by commas and ended by ``\\n`` (a
    ``\\r\\n`` of the file is given as ``\\n``)."""

    data: pa.Buffer
    """The rows, one after the other."""
    ends: np.ndarray
    """(n_rows,) int64: the position in :attr:`data` of each row's ``\\n``."""


class RowBytesReader:
    """The rows of ``raw`` from its current position (after the header line), chunk by chunk."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._buffer = b""  # bytes read; those from _start on not yet handed over
        self._start = 0
        self._done = False

    def take(self, cells: pa.Table) -> RowBytes | None:
        """The bytes of the next rows, whose cells (as read, every column text) are ``cells``;
        None (then and from then on) when they are not rows of cells joined by commas."""
        if self._done or not cells.num_rows:
            return None
        sizes = np.full(cells.num_rows, cells.num_columns, dtype=np.int64)  # commas and \\n
        for column in cells.columns:
            at = 0
            for chunk in column.chunks:
                offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)
                offsets = offsets[chunk.offset : chunk.offset + len(chunk) + 1]
                sizes[at : at + len(chunk)] += np.diff(offsets)  # the cells' bytes
                at += len(chunk)
        for line_end in (b"\n", b"\r\n"):
            rows = self._rows(sizes + len(line_end) - 1, line_end)
            if rows is not None:
                return rows
        self._done, self._buffer = True, b""
        return None

    def _rows(self, sizes: np.ndarray, line_end: bytes) -> RowBytes | None:
        """The next rows if they are ``sizes`` bytes long and each ends by ``line_end``."""
        ends = np.cumsum(sizes) - 1  # (n_rows,) each row's \n
        size = int(ends[-1]) + 1
        if not self._fill(size):
            return None
        start, data = self._start, self._buffer
        view = np.frombuffer(data, dtype=np.uint8, count=size, offset=start)
        if data.count(b"\n", start, start + size) != len(ends) or (view[ends] != 10).any():
            return None
        if data.find(b'"', start, start + size) >= 0:
            return None
        if data.count(b"\r", start, start + size) != (len(ends) if len(line_end) == 2 else 0):
            return None
        self._start += size
        if len(line_end) == 2:
            if (view[ends - 1] != 13).any():
                return None
            rows = data[start : start + size].replace(b"\r\n", b"\n")
            return RowBytes(pa.py_buffer(rows), ends - np.arange(len(ends)) - 1)
        return RowBytes(pa.py_buffer(memoryview(data)[start : start + size]), ends)

    def _fill(self, size: int) -> bool:
        """Whether ``size`` bytes are there to take (reading more as needed; a last row without
        a line end is given one)."""
        missing = self._start + size - len(self._buffer)
        if missing <= 0:
            return True
        blocks = [self._buffer[self._start :]]
        try:
            while missing > 0 and (block := self._raw.read(max(missing, READ_BYTES))):
                blocks.append(block)
                missing -= len(block)
        except OSError:  # the CSV reader reports it
            return False
        if missing == 1 and not blocks[-1].endswith(b"\n"):  # the file's last row
            blocks.append(b"\n")
            missing = 0
        self._buffer, self._start = b"".join(blocks), 0
        return missing <= 0
