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
"""

from __future__ import annotations

import functools
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


def _numbers(table: pa.Table, name: str, path: Path, first_line: int, extra=()) -> np.ndarray:
    """Numbers with NaN for unknown; ``extra`` spellings also give NaN (the caller uses them)."""
    text = _normalised(table[name])
    unknown = _is_in(text, UNKNOWN_SPELLINGS + tuple(extra))
    values = np.full(len(text), np.nan)
    values[~unknown] = _parsed(text.filter(from_bools(~unknown)) if unknown.any() else text)
    bad = np.isnan(values) & ~unknown | np.isinf(values)
    if bad.any():
        spelled = f"a number{', ' + ', '.join(extra) if extra else ''}, or unknown (empty)"
        reject_column(path, first_line, name, table[name], bad, spelled)
    return values


def parse_assessment_table(
    table: pa.Table | pd.DataFrame, path: Path, first_line: int
) -> RiskInputs:
    """Convert one chunk of an assessment file (columns as text) into the model's inputs
    (density as BI-RADS codes 0-3 for a-d, :data:`pebs.risk.density.MISSING` when unknown;
    ``prs_z`` unknown when the file has no such column).

    Raises :class:`InputFormatError` naming the line, column, value and the allowed spellings.
    """
    table = _arrow(table)
    hyperplasia = _index_in(
        _normalised(table["atypical_hyperplasia"]),
        YES_SPELLINGS + NO_SPELLINGS + UNKNOWN_SPELLINGS,
    )
    known = hyperplasia >= 0
    if not known.all():
        allowed = "yes, no (or 1, 0, true, false) or unknown (empty)"
        column = table["atypical_hyperplasia"]
        reject_column(path, first_line, "atypical_hyperplasia", column, ~known, allowed)
    density = _index_in(_normalised(table["density"]), DENSITY_SPELLINGS + UNKNOWN_SPELLINGS)
    known = density >= 0
    if not known.all():
        allowed = "a, b, c, d or unknown"
        reject_column(path, first_line, "density", table["density"], ~known, allowed)
    first_birth = _normalised(table["age_first_birth"])
    letter = density < len(DENSITY_SPELLINGS)  # the others are unknown spellings
    density_codes = np.where(letter, density, DENSITY_UNKNOWN).astype(np.int8)  # a-d: 0-3
    n_yes, n_no = len(YES_SPELLINGS), len(NO_SPELLINGS)
    return RiskInputs(
        age=_numbers(table, "age", path, first_line),
        n_biopsies=_numbers(table, "n_biopsies", path, first_line),
        atypical_hyperplasia=np.select(
            [hyperplasia < n_yes, hyperplasia < n_yes + n_no], [1.0, 0.0], np.nan
        ),
        age_at_menarche=_numbers(table, "age_menarche", path, first_line),
        age_at_first_birth=_numbers(
            table, "age_first_birth", path, first_line, extra=NULLIPAROUS_SPELLINGS
        ),
        nulliparous=_is_in(first_birth, NULLIPAROUS_SPELLINGS),
        n_relatives=_numbers(table, "n_first_degree_relatives", path, first_line),
        density=density_codes,
        prs_z=(
            _numbers(table, "prs_z", path, first_line) if "prs_z" in table.column_names else None
        ),
    )


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
            empty[:, j] = _is_in(_normalised(table[name]), ("",))
    no_biopsy = _parsed(_normalised(table["n_biopsies"])) == 0
    empty[:, INPUT_COLUMNS.index("atypical_hyperplasia")] &= ~no_biopsy
    return empty
