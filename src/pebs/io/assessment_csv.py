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

from pathlib import Path

import numpy as np
import pandas as pd

from pebs.io.errors import column_error
from pebs.risk.inputs import RiskInputs

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


def _normalised(column: pd.Series) -> pd.Series:
    return column.str.strip().str.lower()


def reject_column(
    path: Path, first_line: int, name: str, column: pd.Series, bad: np.ndarray, allowed
) -> None:
    """Raise :class:`~pebs.io.errors.InputFormatError` for the first ``bad`` value of ``column``
    (line, value cut to a readable length, allowed spellings and how many such values the chunk
    has)."""
    row = int(np.flatnonzero(bad)[0])
    raise column_error(
        path, first_line + row, name, column.iloc[row],
        f"; allowed: {allowed} ({int(bad.sum())} such value(s) in lines {first_line}-"
        f"{first_line + len(column) - 1})",
    )  # fmt: skip


def _numbers(table: pd.DataFrame, name: str, path: Path, first_line: int, extra=()) -> np.ndarray:
    """Numbers with NaN for unknown; ``extra`` spellings also give NaN (the caller uses them)."""
    text = _normalised(table[name])
    unknown = text.isin(UNKNOWN_SPELLINGS + tuple(extra)).to_numpy()
    values = pd.to_numeric(text.where(~unknown, "nan"), errors="coerce").to_numpy(np.float64)
    bad = np.isnan(values) & ~unknown | np.isinf(values)
    if bad.any():
        spelled = f"a number{', ' + ', '.join(extra) if extra else ''}, or unknown (empty)"
        reject_column(path, first_line, name, table[name], bad, spelled)
    return values


def parse_assessment_table(table: pd.DataFrame, path: Path, first_line: int) -> RiskInputs:
    """Convert one chunk of an assessment file into the model's inputs (``prs_z`` unknown when
    the file has no such column).

    Raises :class:`InputFormatError` naming the line, column, value and the allowed spellings.
    """
    hyperplasia = _normalised(table["atypical_hyperplasia"])
    known = hyperplasia.isin(YES_SPELLINGS + NO_SPELLINGS + UNKNOWN_SPELLINGS).to_numpy()
    if not known.all():
        allowed = "yes, no (or 1, 0, true, false) or unknown (empty)"
        column = table["atypical_hyperplasia"]
        reject_column(path, first_line, "atypical_hyperplasia", column, ~known, allowed)
    density = _normalised(table["density"])
    known = density.isin(DENSITY_SPELLINGS + UNKNOWN_SPELLINGS).to_numpy()
    if not known.all():
        allowed = "a, b, c, d or unknown"
        reject_column(path, first_line, "density", table["density"], ~known, allowed)
    first_birth = _normalised(table["age_first_birth"])
    return RiskInputs(
        age=_numbers(table, "age", path, first_line),
        n_biopsies=_numbers(table, "n_biopsies", path, first_line),
        atypical_hyperplasia=np.select(
            [hyperplasia.isin(YES_SPELLINGS), hyperplasia.isin(NO_SPELLINGS)], [1.0, 0.0], np.nan
        ),
        age_at_menarche=_numbers(table, "age_menarche", path, first_line),
        age_at_first_birth=_numbers(
            table, "age_first_birth", path, first_line, extra=NULLIPAROUS_SPELLINGS
        ),
        nulliparous=first_birth.isin(NULLIPAROUS_SPELLINGS).to_numpy(),
        n_relatives=_numbers(table, "n_first_degree_relatives", path, first_line),
        density=np.where(density.isin(UNKNOWN_SPELLINGS), "", density).astype(object),
        prs_z=_numbers(table, "prs_z", path, first_line) if "prs_z" in table.columns else None,
    )


def empty_fields(table: pd.DataFrame) -> np.ndarray:
    """(n_rows, len(:data:`INPUT_COLUMNS`)) True where that input's field is empty (blank).

    A column absent from the table (``prs_z`` is optional) is never empty. An empty
    ``atypical_hyperplasia`` is not counted for a woman with ``n_biopsies`` 0 (the question is
    asked only after a biopsy).
    """
    empty = np.zeros((len(table), len(INPUT_COLUMNS)), dtype=bool)  # (n_rows, n_inputs)
    for j, name in enumerate(INPUT_COLUMNS):
        if name in table.columns:
            empty[:, j] = (_normalised(table[name]) == "").to_numpy()
    no_biopsy = (pd.to_numeric(table["n_biopsies"], errors="coerce") == 0).to_numpy()
    empty[:, INPUT_COLUMNS.index("atypical_hyperplasia")] &= ~no_biopsy
    return empty
