"""Validation cohort files: the ``pebs risk assess`` columns plus follow-up and outcome.

A cohort file has every column of :mod:`pebs.io.assessment_csv` (``id``, ``age``, the risk
factors, optionally ``prs_z``) and two more:

================ ==================================================================================
column           values
================ ==================================================================================
follow_up_years  years from the risk assessment (age ``age``) to the diagnosis for a woman with
                 the event, otherwise to the end of her follow-up (death, emigration, loss, end of
                 the study); a number > 0
event            1 if an invasive breast cancer was diagnosed at ``follow_up_years``, 0 if not
================ ==================================================================================

Any other column is ignored by the validation and kept by :func:`write_cohort_csv`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from pebs.io.assessment_csv import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, reject_column
from pebs.io.atomic import atomic_output
from pebs.io.csv_table import write_csv_chunk
from pebs.io.errors import InputFormatError

FOLLOW_UP_COLUMNS = ("follow_up_years", "event")
"""Columns a cohort file has on top of the assessment columns."""
COHORT_COLUMNS = (*REQUIRED_COLUMNS, *FOLLOW_UP_COLUMNS)
"""Required columns of a cohort file (``prs_z`` is optional, as for ``pebs risk assess``)."""
EVENT_VALUES = ("0", "1")


def parse_follow_up(
    table: pd.DataFrame, path: Path, first_line: int
) -> tuple[np.ndarray, np.ndarray]:
    """``follow_up_years`` (float64) and ``event`` (int8) of one chunk of a cohort file.

    Both are required on every row: there is no "unknown" follow-up or outcome.

    Raises
    ------
    InputFormatError
        Naming the line, the column, the value and what is allowed.
    """
    text = table["follow_up_years"].str.strip()
    years = pd.to_numeric(text, errors="coerce").to_numpy(np.float64)
    bad = ~(np.isfinite(years) & (years > 0))
    if bad.any():
        allowed = "a number of years > 0"
        reject_column(path, first_line, "follow_up_years", table["follow_up_years"], bad, allowed)
    event = table["event"].str.strip()
    bad = ~event.isin(EVENT_VALUES).to_numpy()
    if bad.any():
        reject_column(path, first_line, "event", table["event"], bad, "0 (no event) or 1 (event)")
    return years, (event == "1").to_numpy().astype(np.int8)


def write_cohort_csv(path: Path, columns: Mapping[str, np.ndarray]) -> Path:
    """Write a cohort file: :data:`COHORT_COLUMNS` first (and ``prs_z``), then any others.

    Floats are written in full precision, NaN as an empty field (unknown). The file appears
    only when complete.

    Raises
    ------
    InputFormatError
        A required column is missing.
    FileAccessError
        The file cannot be written.
    """
    missing = [name for name in COHORT_COLUMNS if name not in columns]
    if missing:
        raise InputFormatError(f"{path}: cannot write a cohort without column(s) {missing}")
    first = [*REQUIRED_COLUMNS, *(c for c in OPTIONAL_COLUMNS if c in columns), *FOLLOW_UP_COLUMNS]
    order = first + [name for name in columns if name not in first]
    table = pd.DataFrame({name: columns[name] for name in order})
    with atomic_output(Path(path)) as stream:
        write_csv_chunk(table, stream, header=True)
    return Path(path)
