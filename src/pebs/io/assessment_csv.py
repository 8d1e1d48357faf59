"""The ``pebs risk assess`` input file: friendly column names and documented spellings.

========================== ====================================================================
column                     values
========================== ====================================================================
id                         any text (carried through; matched to VCF sample names)
age                        years (fractional allowed)
n_biopsies                 whole number, or unknown
atypical_hyperplasia       yes / no (also 1 / 0, true / false), or unknown
age_menarche               years, or unknown
age_first_birth            years, ``nulliparous`` (no live birth), or unknown
n_first_degree_relatives   whole number (mother, sisters, daughters with breast cancer), or
                           unknown
density                    BI-RADS a, b, c or d, or unknown
prs_z (optional)           standardised PRS313 z-score, or unknown
========================== ====================================================================

Unknown is one of :data:`EXPLICIT_UNKNOWN` (any case), or an empty field. With ``pebs risk
assess --strict`` an empty field is *absent* instead (not answered: the row gets an error naming
its empty fields, see :func:`empty_fields`); the explicit spellings are always unknown.

A column whose values repeat (codes, small whole numbers, spellings: :func:`_per_value`) is
read once per distinct value; a column of plain numbers (ages, z-scores) is parsed at once by
Arrow. Both give what reading every value by the rules above gives.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pebs.io.arrow_arrays import bools, floats, from_bools, from_texts
from pebs.io.errors import column_error
from pebs.risk.density import MISSING as DENSITY_UNKNOWN
from pebs.risk.inputs import RiskInputs

if TYPE_CHECKING:
    import pandas as pd

REQUIRED_COLUMNS = (
    "id", "age", "n_biopsies", "atypical_hyperplasia", "age_menarche", "age_first_birth",
    "n_first_degree_relatives", "density",
)  # fmt: skip
OPTIONAL_COLUMNS = ("prs_z",)
EXPLICIT_UNKNOWN = ("unknown", "na", "n/a", "?")
"""Spellings of "she does not know" (any case): unknown, whatever the mode."""
UNKNOWN_SPELLINGS = ("", *EXPLICIT_UNKNOWN)
"""Unknown by default: an empty field too."""
INPUT_COLUMNS = (
    "n_biopsies", "atypical_hyperplasia", "age_menarche", "age_first_birth",
    "n_first_degree_relatives", "density", "prs_z",
)  # fmt: skip
"""The model's inputs that may be unknown (the names of :data:`pebs.risk.personalised.INPUTS`)."""
NULLIPAROUS_SPELLINGS = ("nulliparous", "none", "never")
YES_SPELLINGS = ("yes", "y", "1", "true")
NO_SPELLINGS = ("no", "n", "0", "false")
DENSITY_SPELLINGS = ("a", "b", "c", "d")


def _arrow(table: pa.Table | pd.DataFrame) -> pa.Table:
    """The columns as Arrow text (a pandas DataFrame of text is converted)."""
    if isinstance(table, pa.Table):
        return table
    return pa.Table.from_pandas(table, preserve_index=False)


_SEPARATORS = tuple(bytes([byte]) for byte in range(0x1C, 0x20))
"""ASCII control characters that Python's strip (and Arrow's utf8 trim) count as whitespace."""


def _normalised(column) -> pa.Array:
    """Trimmed, lower-case text (Unicode whitespace and case, as Python's strip and lower)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    _, offsets, data = column.buffers()
    ends = np.frombuffer(offsets, dtype=np.int32)[[column.offset, column.offset + len(column)]]
    start, end = int(ends[0]), int(ends[1])
    text = data.slice(start, end - start).to_pybytes() if data is not None else b""
    if text.isascii() and not any(separator in text for separator in _SEPARATORS):
        # the same as the Unicode functions on such text, several times faster
        return pc.ascii_lower(pc.ascii_trim_whitespace(column))
    return pc.utf8_lower(pc.utf8_trim_whitespace(column))


@functools.cache
def _value_set(spellings: tuple[str, ...]) -> pa.Array:
    return from_texts(spellings)


def _is_in(text, spellings) -> np.ndarray:
    """(n,) bool: ``text`` is one of ``spellings``."""
    return bools(pc.is_in(text, value_set=_value_set(tuple(spellings))))


def _index_in(text, spellings) -> np.ndarray:
    """(n,) int32: the position of each value of ``text`` in ``spellings`` (distinct), -1 where
    it is none of them."""
    found = pc.index_in(text, value_set=_value_set(tuple(spellings)))  # null: none of them
    values = np.frombuffer(found.buffers()[1], dtype=np.int32)[
        found.offset : found.offset + len(found)
    ]
    return np.where(bools(found.is_valid()), values, np.int32(-1)) if found.null_count else values


def reject_column(path: Path, first_line: int, name: str, column, bad: np.ndarray, allowed) -> None:
    """Raise :class:`~pebs.io.errors.InputFormatError` for the first ``bad`` value of ``column``
    (an Arrow or pandas column: line, value cut to a readable length, allowed spellings and how
    many such values the chunk has)."""
    row = int(np.flatnonzero(bad)[0])
    value = column.iloc[row] if hasattr(column, "iloc") else column[row].as_py()
    raise column_error(
        path, first_line + row, name, value,
        f"; allowed: {allowed} ({int(bad.sum())} such value(s) in lines {first_line}-"
        f"{first_line + len(column) - 1})",
    )  # fmt: skip


def _parsed(text) -> np.ndarray:
    """Normalised text as float64, NaN where it is not a number (as :func:`pandas.to_numeric`
    with ``errors="coerce"``; Arrow's parser first)."""
    try:
        return floats(pc.cast(text, pa.float64()))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        import pandas as pd

        values = pd.to_numeric(pd.Series(text.to_pylist(), dtype=object), errors="coerce")
        return values.to_numpy(dtype=np.float64, na_value=np.nan)


_SAMPLE = 2048
"""Leading values looked at to decide whether a column repeats its values."""
_FEW = 256
"""At most this many distinct values among them: the column is read per distinct value."""


def _per_value(column, convert: Callable[[pa.Array], tuple[np.ndarray, ...]]):
    """``convert(text)`` (arrays with one entry per value of ``text``) for the values of
    ``column``: for each distinct value once when the column repeats its values."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if column.null_count or len(pc.unique(column.slice(0, _SAMPLE))) > _FEW:
        return convert(column)
    encoded = pc.dictionary_encode(column)
    indices = np.frombuffer(encoded.indices.buffers()[1], dtype=np.int32)
    indices = indices[encoded.indices.offset : encoded.indices.offset + len(column)]
    return tuple(
        np.zeros(len(column), dtype=bool)
        if values.dtype == bool and not values.any()
        else values.take(indices)
        for values in convert(encoded.dictionary)
    )


def _plain_numbers(text: pa.Array) -> np.ndarray | None:
    """Finite numbers, NaN where empty, as Arrow parses them: None when a value is neither
    (a spelling of unknown, a space around a number, ``inf``: :func:`_numbers_of` decides)."""
    if text.null_count:
        return None
    validity, offsets, data = text.buffers()
    ends = np.frombuffer(offsets, dtype=np.int32)[text.offset : text.offset + len(text) + 1]
    empty = ends[1:] == ends[:-1]
    if empty.any():  # empty values as nulls: the same buffers, a validity bitmap
        valid = np.concatenate([np.ones(text.offset, dtype=bool), ~empty])
        validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
        text = pa.Array.from_buffers(pa.string(), len(text), [validity, offsets, data],
                                     offset=text.offset)  # fmt: skip
    try:
        values = floats(pc.cast(text, pa.float64()))  # NaN where empty
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return values if np.isfinite(values[~empty]).all() else None


def _numbers_of(text: pa.Array, extra: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    """(values, bad, is_extra) for each value of ``text``: the number (NaN for unknown and for
    the ``extra`` spellings), whether it is neither a finite number nor a spelling, whether it
    is one of ``extra``."""
    values = _plain_numbers(text)
    if values is not None:
        return values, np.zeros(len(text), dtype=bool), np.zeros(len(text), dtype=bool)
    text = _normalised(text)
    is_extra = _is_in(text, extra) if extra else np.zeros(len(text), dtype=bool)
    unknown = _is_in(text, UNKNOWN_SPELLINGS) | is_extra
    values = np.full(len(text), np.nan)
    values[~unknown] = _parsed(text.filter(from_bools(~unknown)) if unknown.any() else text)
    bad = np.isnan(values) & ~unknown | np.isinf(values)
    return values, bad, is_extra


def _numbers(
    table: pa.Table, name: str, path: Path, first_line: int, extra: tuple[str, ...] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """Numbers with NaN for unknown and for the ``extra`` spellings, and where a value is one of
    ``extra`` (the caller uses them)."""
    values, bad, is_extra = _per_value(table[name], lambda text: _numbers_of(text, extra))
    if bad.any():
        spelled = f"a number{', ' + ', '.join(extra) if extra else ''}, or unknown (empty)"
        reject_column(path, first_line, name, table[name], bad, spelled)
    return values, is_extra


def _spelling(table: pa.Table, name: str, spellings, path, first_line, allowed) -> np.ndarray:
    """(n,) int32: the position of each value of column ``name`` in ``spellings`` (normalised);
    a value that is none of them is refused, naming the ``allowed`` spellings."""
    (found,) = _per_value(table[name], lambda text: (_index_in(_normalised(text), spellings),))
    if (found < 0).any():
        reject_column(path, first_line, name, table[name], found < 0, allowed)
    return found


def parse_assessment_table(
    table: pa.Table | pd.DataFrame, path: Path, first_line: int
) -> RiskInputs:
    """Convert one chunk of an assessment file (columns as text) into the model's inputs
    (density as BI-RADS codes 0-3 for a-d, :data:`pebs.risk.density.MISSING` when unknown;
    ``prs_z`` unknown when the file has no such column).

    Raises :class:`InputFormatError` naming the line, column, value and the allowed spellings.
    """
    table = _arrow(table)
    hyperplasia = _spelling(
        table, "atypical_hyperplasia", YES_SPELLINGS + NO_SPELLINGS + UNKNOWN_SPELLINGS,
        path, first_line, "yes, no (or 1, 0, true, false) or unknown (empty)",
    )  # fmt: skip
    density = _spelling(
        table, "density", DENSITY_SPELLINGS + UNKNOWN_SPELLINGS, path, first_line,
        "a, b, c, d or unknown",
    )  # fmt: skip
    letter = density < len(DENSITY_SPELLINGS)  # the others are unknown spellings
    density_codes = np.where(letter, density, DENSITY_UNKNOWN).astype(np.int8)  # a-d: 0-3
    n_yes, n_no = len(YES_SPELLINGS), len(NO_SPELLINGS)
    first_birth, nulliparous = _numbers(
        table, "age_first_birth", path, first_line, extra=NULLIPAROUS_SPELLINGS
    )
    return RiskInputs(
        age=_numbers(table, "age", path, first_line)[0],
        n_biopsies=_numbers(table, "n_biopsies", path, first_line)[0],
        atypical_hyperplasia=np.select(
            [hyperplasia < n_yes, hyperplasia < n_yes + n_no], [1.0, 0.0], np.nan
        ),
        age_at_menarche=_numbers(table, "age_menarche", path, first_line)[0],
        age_at_first_birth=first_birth,
        nulliparous=nulliparous,
        n_relatives=_numbers(table, "n_first_degree_relatives", path, first_line)[0],
        density=density_codes,
        prs_z=(
            _numbers(table, "prs_z", path, first_line)[0] if "prs_z" in table.column_names else None
        ),
    )


def _is_empty(text: pa.Array) -> tuple[np.ndarray]:
    return (_is_in(_normalised(text), ("",)),)


def empty_fields(table: pa.Table | pd.DataFrame) -> np.ndarray:
    """(n_rows, len(:data:`INPUT_COLUMNS`)) True where that input's field is empty (blank).

    A column absent from the table (``prs_z`` is optional) is never empty. An empty
    ``atypical_hyperplasia`` is not counted for a woman with ``n_biopsies`` 0 (the question is
    asked only after a biopsy).
    """
    table = _arrow(table)
    empty = np.zeros((table.num_rows, len(INPUT_COLUMNS)), dtype=bool)  # (n_rows, n_inputs)
    for j, name in enumerate(INPUT_COLUMNS):
        if name in table.column_names:
            (empty[:, j],) = _per_value(table[name], _is_empty)
    (no_biopsy,) = _per_value(table["n_biopsies"], lambda text: (_numbers_of(text, ())[0] == 0,))
    empty[:, INPUT_COLUMNS.index("atypical_hyperplasia")] &= ~no_biopsy
    return empty
