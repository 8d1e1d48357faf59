"""A CSV file's rows as the bytes they are in the file, a chunk at a time, when each row is its
cells joined by commas.

Such a row holds no quote, no carriage return (other than a ``\\r\\n`` line end) and is not
empty, so that the cells a CSV reader gives for it, written again unquoted with commas between
them, are these very bytes. :class:`RowBytesReader` reads the file a second time alongside the
CSV reader and hands over the bytes of the rows of each chunk that reader gives: as many bytes
as their cells, commas and line ends take, taken only if they are as many lines as rows, with
no quote: the lines are then the rows (an empty line, which is no row, would leave the last
line cut short). The first chunk whose rows are not such rows ends it (a quoted value can span
lines: the reader's rows and the file's lines may no longer match).
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
        n_rows = cells.num_rows
        size = n_rows * cells.num_columns  # the commas and a \\n per row
        for column in cells.columns:
            for chunk in column.chunks:
                ends = np.frombuffer(chunk.buffers()[1], dtype=np.int32)
                size += int(ends[chunk.offset + len(chunk)] - ends[chunk.offset])  # its text
        for line_end in (b"\n", b"\r\n"):
            rows = self._rows(n_rows, size + n_rows * (len(line_end) - 1), line_end)
            if rows is not None:
                return rows
        self._done, self._buffer = True, b""
        return None

    def _rows(self, n_rows: int, size: int, line_end: bytes) -> RowBytes | None:
        """The next ``n_rows`` rows, if the next ``size`` bytes are ``n_rows`` lines ending by
        ``line_end`` (they are then the rows: an empty line among them, which is no row, would
        leave a last line cut short) without quotes or other carriage returns."""
        if not self._fill(size):
            return None
        start, end, data = self._start, self._start + size, self._buffer
        if data[end - 1] != ord("\n") or data.find(b'"', start, end) >= 0:
            return None
        if len(line_end) == 1:
            if data.find(b"\r", start, end) >= 0:
                return None
            rows = memoryview(data)[start:end]  # no copy
        elif data.count(b"\r", start, end) == data.count(line_end, start, end) == n_rows:
            rows = data[start:end].replace(line_end, b"\n")
        else:
            return None
        ends = np.flatnonzero(np.frombuffer(rows, dtype=np.uint8) == ord("\n"))
        if len(ends) != n_rows:
            return None
        self._start = end
        return RowBytes(pa.py_buffer(rows), ends)

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
