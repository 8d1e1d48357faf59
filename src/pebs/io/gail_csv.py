"""The ``pebs risk gail`` input file: the R package BCRA's own columns and codes.

Columns ``T1, T2, N_Biop, HypPlas, AgeMen, Age1st, N_Rels, Race`` (:data:`INPUT_COLUMNS`), numbers
coded as in :mod:`pebs.risk.gail.codes` (99 = unknown, ``Age1st`` 98 = nulliparous), so that a
file prepared for the R package works unchanged. Other columns are carried through. Read with
:func:`pebs.io.csv_table.read_csv_chunks` (``INPUT_COLUMNS`` as its numeric columns), then
:func:`bcra_inputs` per chunk.
"""

from __future__ import annotations

from dataclasses import fields

from pebs.io.csv_table import CsvChunk
from pebs.risk.gail import BcraInputs

INPUT_COLUMNS = tuple(f.name for f in fields(BcraInputs))
"""BCRA's column names, in :class:`~pebs.risk.gail.BcraInputs` order."""


def bcra_inputs(chunk: CsvChunk) -> BcraInputs:
    """The model's inputs of a chunk read with :data:`INPUT_COLUMNS` as numeric columns."""
    return BcraInputs(**{name: chunk.numbers[name] for name in INPUT_COLUMNS})
