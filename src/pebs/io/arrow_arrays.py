"""numpy arrays to Arrow arrays and back, from their buffers.

pyarrow's own conversions (``pa.array``, ``pa.scalar``, ``Array.to_numpy``, a Python value
given to a compute function) import pandas on first use, which costs a command-line run about a
quarter of a second of CPU time; the streaming CSV commands read and write through these
functions instead and never load pandas.

Floats: NaN <-> null. Booleans: a null reads as False. Text: a list or array of ``str`` (an
object array of them, or numpy ``str_``); ``None`` and NaN are nulls. Labels: integer codes into
a few distinct texts, as an Arrow dictionary array (each text stored once).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

__all__ = [
    "bools", "floats", "from_bools", "from_codes", "from_floats", "from_texts", "text_scalar",
]  # fmt: skip


def _combined(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _bits(buffer: pa.Buffer, offset: int, n: int) -> np.ndarray:
    """(n,) bool: the bits ``offset`` to ``offset + n`` of an Arrow bitmap."""
    if not n:  # an empty array may have no buffer
        return np.zeros(0, dtype=bool)
    packed = np.frombuffer(buffer, dtype=np.uint8)
    return np.unpackbits(packed, count=offset + n, bitorder="little")[offset:].astype(bool)


def _valid(array: pa.Array) -> np.ndarray | None:
    """(n,) bool, False at the nulls; ``None`` when there are none."""
    if not array.null_count:
        return None
    return _bits(array.buffers()[0], array.offset, len(array))


def floats(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A float64 Arrow array as an (n,) float64 array (nulls: NaN)."""
    array = _combined(array)
    if array.type != pa.float64():
        raise TypeError(f"expected float64 values, got {array.type}")
    if not len(array):  # an empty array may have no buffer
        return np.zeros(0)
    data = array.buffers()[1]
    values = np.frombuffer(data, dtype=np.float64, count=len(array), offset=8 * array.offset)
    valid = _valid(array)
    if valid is None:
        return values
    return np.where(valid, values, np.nan)


def bools(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean Arrow array as an (n,) bool array (nulls: False)."""
    array = _combined(array)
    if array.type != pa.bool_():
        raise TypeError(f"expected boolean values, got {array.type}")
    values = _bits(array.buffers()[1], array.offset, len(array))
    valid = _valid(array)
    return values if valid is None else values & valid


def from_floats(values: np.ndarray) -> pa.Array:
    """(n,) numbers as a float64 Arrow array, NaN as null."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    missing = np.isnan(values)
    n_missing = int(np.count_nonzero(missing))
    validity = pa.py_buffer(np.packbits(~missing, bitorder="little")) if n_missing else None
    return pa.Array.from_buffers(
        pa.float64(), len(values), [validity, pa.py_buffer(values)], null_count=n_missing
    )


def from_bools(values: np.ndarray) -> pa.Array:
    """(n,) bool as a boolean Arrow array."""
    values = np.asarray(values, dtype=bool)
    packed = np.packbits(values, bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(packed)])


def _is_null(value: object) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    if isinstance(value, str):
        return False
    raise TypeError(f"expected text, got {type(value).__name__} {value!r}")


def from_texts(values: Sequence[str | None] | np.ndarray) -> pa.Array:
    """Text values as an Arrow string array (``None`` and NaN: null).

    Raises :class:`TypeError` for a value that is neither text nor missing.
    """
    items = values.tolist() if isinstance(values, np.ndarray) else list(values)
    n = len(items)
    validity, n_null = None, 0
    try:
        joined = "\0".join(items)  # the values, NUL between them
    except TypeError:  # nulls (or a value that is not text: refused below)
        valid = np.array([not _is_null(v) for v in items], dtype=bool)
        n_null = n - int(np.count_nonzero(valid))
        validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
        items = [v if ok else "" for v, ok in zip(items, valid.tolist(), strict=True)]
        joined = "\0".join(items)
    encoded = np.frombuffer(joined.encode("utf-8"), dtype=np.uint8)
    if len(encoded) >= 2**31:
        raise ValueError(f"{len(encoded):,} bytes of text: more than one Arrow string array holds")
    separators = np.flatnonzero(encoded == 0)  # UTF-8 has no other zero byte than NUL's
    offsets = np.zeros(n + 1, dtype=np.int32)
    if n and len(separators) == n - 1:
        offsets[1:n] = separators - np.arange(n - 1)  # each value's start without the NULs
        offsets[n] = len(encoded) - (n - 1)
        data = encoded[encoded != 0]
    elif n:  # a value holds NUL itself
        pieces = [item.encode("utf-8") for item in items]
        np.cumsum(np.fromiter(map(len, pieces), dtype=np.int64, count=n), out=offsets[1:])
        data = np.frombuffer(b"".join(pieces), dtype=np.uint8)
    else:
        data = encoded
    return pa.Array.from_buffers(
        pa.string(), n, [validity, pa.py_buffer(offsets), pa.py_buffer(data)], null_count=n_null
    )


def text_scalar(value: str) -> pa.Scalar:
    """``value`` as an Arrow string scalar (for a compute function's argument)."""
    return from_texts([value])[0]


def from_codes(codes: np.ndarray, labels: Sequence[str]) -> pa.DictionaryArray:
    """(n,) integer codes as an Arrow dictionary array of ``labels`` (row ``i``:
    ``labels[codes[i]]``).

    Raises :class:`pyarrow.ArrowIndexError` for a code outside ``0 .. len(labels) - 1``.
    """
    indices = np.ascontiguousarray(codes, dtype=np.int32)
    return pa.DictionaryArray.from_arrays(
        pa.Array.from_buffers(pa.int32(), len(indices), [None, pa.py_buffer(indices)]),
        from_texts(labels),
        safe=True,
    )
